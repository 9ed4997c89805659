//! The `throttle_events` table: failed log-ins and sign-ups counted per client address and per
//! account, in the database so that limits hold across restarts and across instances. Keys are
//! HMACs made by the caller, never an address or email in the clear.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::throttle_events;

/// Failed log-ins from one client address.
pub const LOGIN_BY_CLIENT: &str = "login_client";
/// Failed log-ins against one account (or one address that has none).
pub const LOGIN_BY_ACCOUNT: &str = "login_account";
/// Accounts created from one client address.
pub const SIGNUP_BY_CLIENT: &str = "signup_client";

/// How many events a key has had since `since`, and when the oldest of them happened.
pub fn recent(
    conn: &mut SqliteConnection,
    bucket: &str,
    key_hash: &str,
    since: PrimitiveDateTime,
) -> QueryResult<(i64, Option<PrimitiveDateTime>)> {
    throttle_events::table
        .filter(throttle_events::bucket.eq(bucket))
        .filter(throttle_events::key_hash.eq(key_hash))
        .filter(throttle_events::at.gt(since))
        .select((count_star(), min(throttle_events::at)))
        .first(conn)
}

pub fn record(conn: &mut SqliteConnection, bucket: &str, key_hash: &str) -> QueryResult<()> {
    diesel::insert_into(throttle_events::table)
        .values((
            throttle_events::bucket.eq(bucket),
            throttle_events::key_hash.eq(key_hash),
            throttle_events::at.eq(super::now()),
        ))
        .execute(conn)
        .map(drop)
}

/// Forgets a key's events in a bucket (a successful log-in or password reset clears its account's
/// failures).
pub fn clear(conn: &mut SqliteConnection, bucket: &str, key_hash: &str) -> QueryResult<()> {
    diesel::delete(
        throttle_events::table
            .filter(throttle_events::bucket.eq(bucket))
            .filter(throttle_events::key_hash.eq(key_hash)),
    )
    .execute(conn)
    .map(drop)
}

/// Removes events older than any limit looks back.
pub fn sweep(conn: &mut SqliteConnection, before: PrimitiveDateTime) -> QueryResult<usize> {
    diesel::delete(throttle_events::table.filter(throttle_events::at.lt(before))).execute(conn)
}
