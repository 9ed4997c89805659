//! The `throttle_events` table: attempts counted against limits (log-ins, password checks,
//! sign-ups, mail sent from forms), in the database so that limits hold across restarts and
//! across instances. Keys are HMACs made by the caller, never an address or email in the clear.
//!
//! An attempt is *reserved* before the work it limits is done ([`reserve`]): the limits are read
//! and the event written in one write transaction, so parallel requests cannot all pass a limit
//! that only one of them should have. An attempt that turns out not to count (a right password)
//! gives its reservation back with [`release`].

use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use crate::db::DbConn;
use time::{Duration, PrimitiveDateTime};

use super::schema::throttle_events;

/// Failed log-ins from one client address (browsers that never logged in to the account).
pub const LOGIN_BY_CLIENT: &str = "login_client";
/// Failed log-ins against one account (or one address that has none), from any browser that
/// never logged in to it.
pub const LOGIN_BY_ACCOUNT: &str = "login_account";
/// Failed log-ins against one account from one client address.
pub const LOGIN_BY_ACCOUNT_AND_CLIENT: &str = "login_account_client";
/// Failed log-ins against one account from one browser that logged in to it before.
pub const LOGIN_BY_DEVICE: &str = "login_device";
/// Wrong current passwords typed on a member's account page.
pub const PASSWORD_CHECK: &str = "password_check";
/// Sign-up attempts from one client address.
pub const SIGNUP_BY_CLIENT: &str = "signup_client";
/// Mail sent by forms to one address...
pub const MAIL_BY_ADDRESS: &str = "mail_address";
/// ...and because of one client address.
pub const MAIL_BY_CLIENT: &str = "mail_client";

/// How a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// At most `max` events within `window`.
    Count { max: i64, window: Duration },
    /// `free` events within `window` pass at once; after them each attempt waits since the last
    /// one, `first` for the first and twice as long each time after, never more than `longest`.
    Spacing {
        free: i64,
        window: Duration,
        first: Duration,
        longest: Duration,
    },
}

impl Rule {
    fn window(&self) -> Duration {
        match self {
            Self::Count { window, .. } | Self::Spacing { window, .. } => *window,
        }
    }
}

/// One limit to check: a bucket, the key counted in it, and the rule.
#[derive(Debug, Clone)]
pub struct Check {
    pub bucket: &'static str,
    pub key: String,
    pub rule: Rule,
}

/// Attempts written by [`reserve`], to give back with [`release`] when they did not count.
#[derive(Debug, Clone, Default)]
pub struct Reservation {
    ids: Vec<i32>,
    /// Per check, the events counted including this one.
    pub counts: Vec<i64>,
}

/// A limit said no: try again after this long (at least a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
    /// The bucket that refused.
    pub bucket: &'static str,
}

impl Refused {
    /// Whole seconds to wait, at least one.
    pub fn seconds(&self) -> i64 {
        let partial = i64::from(self.retry_after.subsec_nanoseconds() > 0);
        (self.retry_after.whole_seconds() + partial).max(1)
    }
}

/// Reads every limit and, when none is reached, records one event for each, in one write
/// transaction (nested in the caller's, if any).
pub fn reserve(conn: &mut DbConn, checks: &[Check]) -> QueryResult<Result<Reservation, Refused>> {
    super::write_transaction(conn, |conn| {
        let now = super::now();
        let mut counts = Vec::with_capacity(checks.len());
        for check in checks {
            let since = now - check.rule.window();
            let (count, newest): (i64, Option<PrimitiveDateTime>) = throttle_events::table
                .filter(throttle_events::bucket.eq(check.bucket))
                .filter(throttle_events::key_hash.eq(&check.key))
                .filter(throttle_events::at.gt(since))
                .select((count_star(), max(throttle_events::at)))
                .first(conn)?;
            let free_at = match check.rule {
                Rule::Count { max, window } if count >= max => {
                    // The event whose leaving the window brings the count under the limit.
                    let leaving: PrimitiveDateTime = throttle_events::table
                        .filter(throttle_events::bucket.eq(check.bucket))
                        .filter(throttle_events::key_hash.eq(&check.key))
                        .filter(throttle_events::at.gt(since))
                        .order(throttle_events::at.asc())
                        .offset(count - max)
                        .select(throttle_events::at)
                        .first(conn)?;
                    Some(leaving + window)
                }
                Rule::Spacing {
                    free,
                    first,
                    longest,
                    ..
                } if count >= free => {
                    newest.map(|last| last + spacing(count - free, first, longest))
                }
                _ => None,
            };
            if let Some(free_at) = free_at.filter(|at| *at > now) {
                crate::metrics::refusal(check.bucket);
                return Ok(Err(Refused {
                    retry_after: free_at - now,
                    bucket: check.bucket,
                }));
            }
            counts.push(count + 1);
        }
        let mut ids = Vec::with_capacity(checks.len());
        for check in checks {
            ids.push(
                diesel::insert_into(throttle_events::table)
                    .values((
                        throttle_events::bucket.eq(check.bucket),
                        throttle_events::key_hash.eq(&check.key),
                        throttle_events::at.eq(now),
                    ))
                    .returning(throttle_events::id)
                    .get_result(conn)?,
            );
        }
        Ok(Ok(Reservation { ids, counts }))
    })
}

/// The wait after the `n`th attempt past the free ones: `first`, doubled each time, at most
/// `longest`.
fn spacing(n: i64, first: Duration, longest: Duration) -> Duration {
    let factor = 1_i32 << n.clamp(0, 20);
    (first * factor).min(longest)
}

/// Gives back a reservation: the attempt did not count against the limits.
pub fn release(conn: &mut DbConn, reservation: &Reservation) -> QueryResult<()> {
    diesel::delete(throttle_events::table.filter(throttle_events::id.eq_any(&reservation.ids)))
        .execute(conn)
        .map(drop)
}

/// Forgets a key's events in a bucket (a right password clears the failures of its account from
/// that client; a password reset clears the account's).
pub fn clear(conn: &mut DbConn, bucket: &str, key_hash: &str) -> QueryResult<()> {
    diesel::delete(
        throttle_events::table
            .filter(throttle_events::bucket.eq(bucket))
            .filter(throttle_events::key_hash.eq(key_hash)),
    )
    .execute(conn)
    .map(drop)
}

/// Removes events older than any limit looks back.
pub fn sweep(conn: &mut DbConn, before: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(throttle_events::table.filter(throttle_events::at.lt(before))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_first_and_stops_at_the_longest() {
        let (first, longest) = (Duration::seconds(2), Duration::seconds(30));
        let waits: Vec<i64> = (0..7)
            .map(|n| spacing(n, first, longest).whole_seconds())
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(spacing(10_000, first, longest), longest);
    }
}
