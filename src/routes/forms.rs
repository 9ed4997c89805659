//! What every form handler shares: the submitted fields, read leniently (a malformed body reads as
//! empty fields, answered by the form's own messages, never by a parser's), the errors shown beside
//! fields, and the response for a form page (never stored by any cache).

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use crate::error::AppError;

/// A submitted `application/x-www-form-urlencoded` body. Fields the form does not have are ignored
/// by never being asked for.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// True when `name` was submitted (a ticked checkbox).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }
}

/// Messages to show beside fields, by field name.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every field with its message, in the order recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }

    /// The value of `parsed`, or its error recorded against `field`.
    pub fn check<T, E: Into<String>>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }
}

/// A page with a form (or anything personal): rendered with `status`, and `no-store` so neither
/// the browser's history nor any cache keeps what was typed or shown.
pub fn render_private(page: &impl Template, status: StatusCode) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.render()?))
}

/// `303 See Other` to `location`, after a form did what it asked.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `next` when it is a path on this site (`/x`), else `fallback`: never another site, whatever
/// form it takes (`//host`, `/\host`, `https:...`).
pub fn local_path<'a>(next: &'a str, fallback: &'a str) -> &'a str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2_000
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok { next } else { fallback }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_logging_in() {
        assert_eq!(local_path("/articles/x?page=2", "/"), "/articles/x?page=2");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/\tx",
            "/a\\b",
        ] {
            assert_eq!(local_path(hostile, "/account"), "/account", "{hostile:?}");
        }
    }

    #[test]
    fn a_malformed_body_reads_as_empty_fields() {
        let fields = Fields::parse(b"%%%=&&name=Ana&role=admin");
        assert!(fields.get("name").is_empty() || fields.get("name") == "Ana");
        let fields = Fields::parse(b"name=Ana+B&consent=yes");
        assert_eq!(fields.get("name"), "Ana B");
        assert!(fields.has("consent") && !fields.has("other"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn next_is_a_path_on_this_site_or_the_fallback(next in "\\PC{0,80}|/[/\\\\]?\\PC{0,40}") {
                let chosen = local_path(&next, "/account");
                if chosen != "/account" || next == "/account" {
                    prop_assert!(chosen.starts_with('/'));
                    prop_assert!(!chosen.starts_with("//") && !chosen.starts_with("/\\"));
                    prop_assert!(!chosen.chars().any(|c| c.is_control() || c == '\\'));
                }
            }

            #[test]
            fn any_body_reads_as_fields_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..300)) {
                let fields = Fields::parse(&body);
                let _ = fields.get("name");
                let _ = fields.has("consent");
            }

            #[test]
            fn fields_a_browser_encodes_read_back_as_typed(
                fields in proptest::collection::btree_map("[a-z_]{1,10}", "\\PC{0,30}", 0..6)
            ) {
                let encoded = serde_urlencoded::to_string(&fields).unwrap();
                let read = Fields::parse(encoded.as_bytes());
                for (name, value) in &fields {
                    prop_assert_eq!(read.get(name), value.as_str());
                }
            }
        }
    }
}
