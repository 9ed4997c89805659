//! The `settings` table: what an administrator can change while the site runs. Missing or
//! unreadable values fall back to the defaults here, so a bad row never stops the site.

use diesel::prelude::*;

use crate::db::DbConn;

use super::schema::settings;

/// The settings the site runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSettings {
    /// The site's name, in every page's header and title.
    pub site_title: String,
    /// A line under the name, in the home page's title.
    pub site_tagline: String,
    /// What the site is, for search engines and link previews of the home page.
    pub site_description: String,
    /// Length of the free trial.
    pub trial_days: i64,
    /// False when sign-ups are closed.
    pub signups_open: bool,
    /// Sessions end after this many days without use...
    pub session_idle_days: i64,
    /// ...and after this many days in any case.
    pub session_absolute_days: i64,
    /// Days a member whose payment failed keeps reading while Stripe retries.
    pub grace_days: i64,
    /// The paid plans, once `guidepost stripe setup` made them.
    pub plans: Option<crate::billing::Plans>,
    /// When true, members whose access runs may publish articles of their own (through the JSON
    /// API); editors keep the power to unpublish them.
    pub members_may_publish: bool,
    /// Origins (`https://app.example.com`) whose scripts may call the JSON API from a browser;
    /// none by default.
    pub api_origins: Vec<String>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            site_title: "Guidepost".to_owned(),
            site_tagline: "Articles for back-end developers and the people becoming one".to_owned(),
            site_description: "Guidepost publishes practical articles on back-end development, \
                               databases, APIs, security, testing and careers on the web, with a \
                               free trial for members-only guides."
                .to_owned(),
            trial_days: 14,
            signups_open: true,
            session_idle_days: 14,
            session_absolute_days: 30,
            grace_days: 7,
            plans: None,
            members_may_publish: false,
            api_origins: Vec::new(),
        }
    }
}

impl SiteSettings {
    pub fn load(conn: &mut DbConn) -> QueryResult<Self> {
        let rows: Vec<(String, String)> = settings::table
            .select((settings::key, settings::value))
            .load(conn)?;
        let mut loaded = Self::default();
        let mut stripe = std::collections::HashMap::new();
        for (key, value) in rows {
            let days = || {
                value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (1..=3650).contains(d))
            };
            let text = || {
                let text = value.trim();
                (!text.is_empty()).then(|| text.to_owned())
            };
            match key.as_str() {
                "site_title" => loaded.site_title = text().unwrap_or(loaded.site_title),
                "site_tagline" => loaded.site_tagline = text().unwrap_or(loaded.site_tagline),
                "site_description" => {
                    loaded.site_description = text().unwrap_or(loaded.site_description);
                }
                "trial_days" => loaded.trial_days = days().unwrap_or(loaded.trial_days),
                "signups_open" => loaded.signups_open = value.trim() != "false",
                "session_idle_days" => {
                    loaded.session_idle_days = days().unwrap_or(loaded.session_idle_days);
                }
                "session_absolute_days" => {
                    loaded.session_absolute_days = days().unwrap_or(loaded.session_absolute_days);
                }
                "grace_days" => {
                    loaded.grace_days = value
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|d| (0..=60).contains(d))
                        .unwrap_or(loaded.grace_days);
                }
                MEMBERS_MAY_PUBLISH => loaded.members_may_publish = value.trim() == "true",
                API_ORIGINS => {
                    loaded.api_origins = value.split_whitespace().map(str::to_owned).collect();
                }
                key if key.starts_with("stripe_") => {
                    stripe.insert(key.to_owned(), value.trim().to_owned());
                }
                _ => {}
            }
        }
        loaded.plans = plans(&stripe);
        Ok(loaded)
    }

    /// Stores the plans `guidepost stripe setup` made.
    pub fn set_plans(conn: &mut DbConn, plans: &crate::billing::Plans) -> QueryResult<()> {
        super::write_transaction(conn, |conn| {
            Self::set(conn, "stripe_currency", &plans.currency)?;
            Self::set(conn, "stripe_monthly_amount", &plans.monthly.to_string())?;
            Self::set(conn, "stripe_yearly_amount", &plans.yearly.to_string())?;
            Self::set(conn, "stripe_product", &plans.product)?;
            Self::set(conn, "stripe_monthly_price", &plans.monthly_price)?;
            Self::set(conn, "stripe_yearly_price", &plans.yearly_price)
        })
    }

    /// The id of the webhook endpoint `guidepost stripe setup` made, if it made one.
    pub fn webhook_endpoint(conn: &mut DbConn) -> QueryResult<Option<String>> {
        settings::table
            .find("stripe_webhook_endpoint")
            .select(settings::value)
            .first(conn)
            .optional()
    }

    /// Whether `fingerprint` (an HMAC under the site's key, never the key) is the one the first
    /// instance stored; stored when none is. Instances sharing a database must share the key.
    pub fn same_key(conn: &mut DbConn, fingerprint: &str) -> QueryResult<bool> {
        super::write_transaction(conn, |conn| {
            let stored: Option<String> = settings::table
                .find(KEY_CHECK)
                .select(settings::value)
                .first(conn)
                .optional()?;
            match stored {
                Some(stored) => Ok(stored == fingerprint),
                None => Self::set(conn, KEY_CHECK, fingerprint).map(|()| true),
            }
        })
    }

    /// Stores one setting.
    pub fn set(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
        let now = super::now();
        crate::on_backend!(conn, c => diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(value),
                settings::updated_at.eq(now),
            ))
            .on_conflict(settings::key)
            .do_update()
            .set((settings::value.eq(value), settings::updated_at.eq(now)))
            .execute(c))
        .map(drop)
    }
}

/// The setting that holds the fingerprint of the instances' key (see [`SiteSettings::same_key`]).
pub const KEY_CHECK: &str = "instance_key_check";
/// The setting that lets members publish (`true` or `false`).
pub const MEMBERS_MAY_PUBLISH: &str = "members_may_publish";
/// The setting of the origins the API answers cross-origin requests from, space-separated.
pub const API_ORIGINS: &str = "api_origins";

/// An origin as browsers send it: `https://host` or `http://host:port`, nothing after it. `None`
/// for anything else.
pub fn parse_origin(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/');
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))?;
    let ok = !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| raw.to_ascii_lowercase())
}

/// The plans among the stored settings, when all of them are there.
fn plans(stored: &std::collections::HashMap<String, String>) -> Option<crate::billing::Plans> {
    let get = |key: &str| stored.get(key).filter(|v| !v.is_empty()).cloned();
    let amount = |key: &str| get(key)?.parse::<i64>().ok().filter(|a| *a > 0);
    Some(crate::billing::Plans {
        currency: get("stripe_currency")?,
        monthly: amount("stripe_monthly_amount")?,
        yearly: amount("stripe_yearly_amount")?,
        product: get("stripe_product")?,
        monthly_price: get("stripe_monthly_price")?,
        yearly_price: get("stripe_yearly_price")?,
    })
}
