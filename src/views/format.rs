//! How dates and counts read on the page.

use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::db::articles::{ArticleCard, ArticleDetail};

/// "3 March 2026".
pub fn date_label(at: PrimitiveDateTime) -> String {
    at.format(format_description!(
        "[day padding:none] [month repr:long] [year]"
    ))
    .unwrap_or_default()
}

/// "2026-03-03", for `<time datetime>`.
pub fn date_iso(at: PrimitiveDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// RFC 3339 in UTC, for feeds, sitemaps and structured data.
pub fn rfc3339(at: PrimitiveDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

impl ArticleCard {
    pub fn date_label(&self) -> String {
        date_label(self.published_at.unwrap_or(self.updated_at))
    }

    pub fn date_iso(&self) -> String {
        date_iso(self.published_at.unwrap_or(self.updated_at))
    }
}

impl ArticleDetail {
    pub fn published(&self) -> PrimitiveDateTime {
        self.published_at.unwrap_or(self.updated_at)
    }

    pub fn published_label(&self) -> String {
        date_label(self.published())
    }

    pub fn published_iso(&self) -> String {
        date_iso(self.published())
    }

    /// True when the article changed on a later day than it was published.
    pub fn was_updated(&self) -> bool {
        self.updated_at.date() > self.published().date()
    }

    pub fn updated_label(&self) -> String {
        date_label(self.updated_at)
    }

    pub fn updated_iso(&self) -> String {
        date_iso(self.updated_at)
    }
}

/// `one` for a count of 1, `many` otherwise: "1 sign-up", "3 sign-ups", "0 sign-ups".
pub fn plural<'a>(n: i64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
