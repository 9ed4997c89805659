//! Every limit of the site, in one place, and what each one counts.
//!
//! **Log-ins** are counted so that strangers cannot turn a limit against a member:
//! - a browser that has logged in to an account before carries a signed *device cookie* for it
//!   (see [`crate::auth::known_device`]); its attempts count only against itself
//!   ([`LOGIN_PER_DEVICE`] failures in [`LOGIN_WINDOW`]), so nobody else's failures ever refuse it;
//! - any other browser is counted per client address ([`LOGIN_PER_CLIENT`]), per account and
//!   client address ([`LOGIN_PER_ACCOUNT_AND_CLIENT`]), and per account: after
//!   [`ACCOUNT_FREE_FAILURES`] failures within an hour, each further attempt waits a little longer
//!   since the last (2 s, 4 s, 8 s, ... never more than [`ACCOUNT_LONGEST_WAIT`]): guessing one
//!   account's password from many addresses slows to a crawl, while its owner waits at most half
//!   a minute.
//!
//! Every attempt is reserved before its password is checked, so parallel requests cannot slip
//! past a limit; a right password gives its reservation back.
//!
//! **Current passwords** typed on the account page count too: after [`PASSWORD_CHECKS`] wrong ones
//! within [`LOGIN_WINDOW`] the session ends. **Mail** that forms send is capped per address and
//! per client address a day. **Floods** of requests that cost real work (uncached searches,
//! sign-ups, log-ins, reset requests, comments, the JSON API) are limited per client address in
//! memory ([`Floods`]), comments per member and the API per token as well:
//! pages served from the cache are never limited.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use time::Duration;

use crate::auth::Secrets;
use crate::db::throttle::{self, Check, Rule};

/// Failed log-ins are counted over this window.
pub const LOGIN_WINDOW: Duration = Duration::minutes(15);
/// Failed log-ins from one client address, at any accounts.
pub const LOGIN_PER_CLIENT: i64 = 20;
/// Failed log-ins at one account from one client address.
pub const LOGIN_PER_ACCOUNT_AND_CLIENT: i64 = 5;
/// Failed log-ins at one account from a browser that logged in to it before.
pub const LOGIN_PER_DEVICE: i64 = 5;
/// Failed log-ins at one account within an hour before each attempt has to wait.
pub const ACCOUNT_FREE_FAILURES: i64 = 10;
/// The first wait, doubled with each further failure...
pub const ACCOUNT_FIRST_WAIT: Duration = Duration::seconds(2);
/// ...up to this: the longest a member logging in from a new browser ever waits.
pub const ACCOUNT_LONGEST_WAIT: Duration = Duration::seconds(30);
/// Wrong current passwords on the account page before the session ends.
pub const PASSWORD_CHECKS: i64 = 5;
/// Mail of one kind sent from forms to one address in a day (sign-up mail: see [`Mail`])...
pub const MAIL_PER_ADDRESS: i64 = 5;
/// ...and mail of any kind because of one client address.
pub const MAIL_PER_CLIENT: i64 = 20;
/// Sign-ups are counted per client address over this window (the limit is a setting).
pub const SIGNUP_WINDOW: Duration = Duration::hours(1);

/// The checks of one log-in attempt at the account typed as `email` (normalised), from a client
/// counted as `client` (see [`crate::client::limit_key`]); `device` is the id of a device cookie
/// that proved this browser logged in to that account before.
pub fn login_checks(
    secrets: &Secrets,
    email: &str,
    client: &str,
    device: Option<&str>,
) -> Vec<Check> {
    let window = LOGIN_WINDOW;
    if let Some(device) = device {
        return vec![Check {
            bucket: throttle::LOGIN_BY_DEVICE,
            key: device_key(secrets, email, device),
            rule: Rule::Count {
                max: LOGIN_PER_DEVICE,
                window,
            },
        }];
    }
    vec![
        Check {
            bucket: throttle::LOGIN_BY_CLIENT,
            key: client_key(secrets, client),
            rule: Rule::Count {
                max: LOGIN_PER_CLIENT,
                window,
            },
        },
        Check {
            bucket: throttle::LOGIN_BY_ACCOUNT_AND_CLIENT,
            key: account_and_client_key(secrets, email, client),
            rule: Rule::Count {
                max: LOGIN_PER_ACCOUNT_AND_CLIENT,
                window,
            },
        },
        Check {
            bucket: throttle::LOGIN_BY_ACCOUNT,
            key: account_key(secrets, email),
            rule: Rule::Spacing {
                free: ACCOUNT_FREE_FAILURES,
                window: Duration::hours(1),
                first: ACCOUNT_FIRST_WAIT,
                longest: ACCOUNT_LONGEST_WAIT,
            },
        },
    ]
}

/// The key an account's failures are counted under (and cleared by a password reset).
pub fn account_key(secrets: &Secrets, email: &str) -> String {
    secrets.sign(&["account", email])
}

pub fn account_and_client_key(secrets: &Secrets, email: &str, client: &str) -> String {
    secrets.sign(&["account-client", email, client])
}

pub fn device_key(secrets: &Secrets, email: &str, device: &str) -> String {
    secrets.sign(&["account-device", email, device])
}

pub fn client_key(secrets: &Secrets, client: &str) -> String {
    secrets.sign(&["client", client])
}

/// The check of a current password typed by member `id` on their account page.
pub fn password_check(secrets: &Secrets, id: i32) -> Check {
    Check {
        bucket: throttle::PASSWORD_CHECK,
        key: secrets.sign(&["password-check", &id.to_string()]),
        rule: Rule::Count {
            max: PASSWORD_CHECKS,
            window: LOGIN_WINDOW,
        },
    }
}

/// What kind of mail a form sends: each kind is capped on its own, so that mail a stranger can
/// set off (sign-up notes) never uses up the share of mail a member asks for (a reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mail {
    /// A sign-up's link, or the note to an address that has an account: 3 a day.
    SignUp,
    /// A password reset: 3 a day at once, then one every 15 minutes, 30, then an hour at most,
    /// so a reset link is never more than an hour away, whoever else asks for them.
    Reset,
    /// A link to confirm a new address, or the account's address: 5 a day.
    Confirmation,
}

/// The checks of one mail of `kind` a form sends to `address` because of `client`.
pub fn mail_checks(secrets: &Secrets, kind: Mail, address: &str, client: &str) -> Vec<Check> {
    let window = Duration::days(1);
    let (name, rule) = match kind {
        Mail::SignUp => ("signup", Rule::Count { max: 3, window }),
        Mail::Reset => (
            "reset",
            Rule::Spacing {
                free: 3,
                window,
                first: Duration::minutes(15),
                longest: Duration::hours(1),
            },
        ),
        Mail::Confirmation => (
            "confirmation",
            Rule::Count {
                max: MAIL_PER_ADDRESS,
                window,
            },
        ),
    };
    vec![
        Check {
            bucket: throttle::MAIL_BY_ADDRESS,
            key: secrets.sign(&["mail-to", name, address]),
            rule,
        },
        Check {
            bucket: throttle::MAIL_BY_CLIENT,
            key: client_key(secrets, client),
            rule: Rule::Count {
                max: MAIL_PER_CLIENT,
                window,
            },
        },
    ]
}

/// The check of a sign-up from `client`, `limit` an hour.
pub fn signup_check(secrets: &Secrets, client: &str, limit: u32) -> Check {
    Check {
        bucket: throttle::SIGNUP_BY_CLIENT,
        key: client_key(secrets, client),
        rule: Rule::Count {
            max: i64::from(limit),
            window: SIGNUP_WINDOW,
        },
    }
}

/// "30 seconds", "1 minute", "15 minutes": a wait as a person reads it.
pub fn wait_label(seconds: i64) -> String {
    match seconds {
        1 => "1 second".to_owned(),
        s if s < 60 => format!("{s} seconds"),
        s => match (s + 59) / 60 {
            1 => "1 minute".to_owned(),
            m => format!("{m} minutes"),
        },
    }
}

/// Requests that cost real work, limited per client address in this process's memory (a write
/// per request would make the protection a flood of its own). Each client has a bucket of
/// `burst` requests refilled at `per_minute`.
#[derive(Debug)]
pub struct Floods {
    pub search: RateLimiter,
    pub login: RateLimiter,
    pub signup: RateLimiter,
    pub reset: RateLimiter,
    /// Checkouts and billing-portal visits opened at Stripe, per member.
    pub checkout: RateLimiter,
    /// Comments posted, per member (on the pages and through the API)...
    pub comment_member: RateLimiter,
    /// ...and per client address.
    pub comment_client: RateLimiter,
    /// Articles written through the API, per member.
    pub publish: RateLimiter,
    /// Changes to a member's page (handle, bio, picture), per member.
    pub profile: RateLimiter,
    /// Requests to the JSON API, per client address...
    pub api_client: RateLimiter,
    /// ...and per token, wherever it is used from.
    pub api_token: RateLimiter,
}

impl Default for Floods {
    fn default() -> Self {
        Self {
            search: RateLimiter::new("flood_search", 20, 60),
            login: RateLimiter::new("flood_login", 30, 30),
            signup: RateLimiter::new("flood_signup", 10, 10),
            reset: RateLimiter::new("flood_reset", 10, 10),
            checkout: RateLimiter::new("flood_checkout", 10, 4),
            comment_member: RateLimiter::new("flood_comment_member", 5, 2),
            comment_client: RateLimiter::new("flood_comment_client", 20, 10),
            profile: RateLimiter::new("flood_profile", 5, 2),
            publish: RateLimiter::new("flood_publish", 10, 4),
            api_client: RateLimiter::new("flood_api_client", 300, 600),
            api_token: RateLimiter::new("flood_api_token", 200, 300),
        }
    }
}

/// A token bucket per client.
#[derive(Debug)]
pub struct RateLimiter {
    name: &'static str,
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Clients remembered at most; past it, those whose bucket has refilled are forgotten.
const MAX_CLIENTS: usize = 65_536;

impl RateLimiter {
    /// A limiter called `name` (in metrics) of `burst` requests refilled at `per_minute`.
    pub fn new(name: &'static str, burst: u32, per_minute: u32) -> Self {
        Self {
            name,
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Takes one request for `client`; `Err` says how many seconds until one is allowed.
    pub fn take(&self, client: &str) -> Result<(), i64> {
        self.take_at(client, Instant::now())
    }

    fn take_at(&self, client: &str, now: Instant) -> Result<(), i64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(client) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= MAX_CLIENTS {
                // Still full of clients being limited: the half seen least recently goes, never
                // all of them (a flood of new addresses must not free the ones already limited).
                let mut seen: Vec<Instant> = buckets.values().map(|b| b.at).collect();
                seen.sort_unstable();
                let cut = seen[seen.len() / 2];
                buckets.retain(|_, b| b.at > cut);
            }
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refilled = (bucket.tokens
            + now.duration_since(bucket.at).as_secs_f64() * self.per_second)
            .min(self.burst);
        bucket.at = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            // Whole seconds until the bucket holds one request again.
            let wait = ((1.0 - refilled) / self.per_second).ceil();
            Err(wait.clamp(1.0, 3_600.0) as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_refill() {
        let limiter = RateLimiter::new("test", 3, 60);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take_at("a", start), Ok(()));
        }
        assert_eq!(limiter.take_at("a", start), Err(1));
        assert_eq!(
            limiter.take_at("b", start),
            Ok(()),
            "another client is apart"
        );
        let later = start + std::time::Duration::from_millis(1_100);
        assert_eq!(limiter.take_at("a", later), Ok(()));
    }

    #[test]
    fn waits_read_as_a_person_says_them() {
        assert_eq!(wait_label(1), "1 second");
        assert_eq!(wait_label(30), "30 seconds");
        assert_eq!(wait_label(60), "1 minute");
        assert_eq!(wait_label(61), "2 minutes");
        assert_eq!(wait_label(900), "15 minutes");
    }
}
