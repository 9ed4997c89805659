//! The error page: what a visitor sees for a missing page, a refused method or form, a limit
//! reached or a failure on our side. Rendered by the request middleware, so every error looks the
//! same wherever it came from.

use actix_web::http::StatusCode;
use askama::Template;

use crate::db::settings::SiteSettings;
use crate::error::ErrorMessage;
use crate::views::{Layout, Site};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
    request_id: String,
    /// Show the request id: only for failures on our side, which someone may report.
    show_request_id: bool,
    kept: Option<KeptForm>,
}

/// A form given back on a page that says it was not saved: what was typed, ready to send again
/// (passwords excepted: they are asked for again, never shown).
#[derive(Debug, Clone)]
pub struct KeptForm {
    pub action: String,
    pub fields: Vec<KeptField>,
}

#[derive(Debug, Clone)]
pub struct KeptField {
    pub name: String,
    pub label: String,
    pub value: String,
    /// `hidden`, `text`, `textarea` or `password`.
    pub kind: &'static str,
}

/// Fields a person does not type: sent back as they were, out of sight.
const TECHNICAL_FIELDS: &[&str] = &[
    "csrf_token",
    "intent",
    "version",
    "next",
    "website",
    "consent",
    "confirm",
    "author_id",
    "category_id",
    "visibility",
    "status",
    "role",
    "featured",
    "cover_image_id",
    "action",
    "kind",
    "signups_open",
    "members_may_publish",
];

/// Password fields of the site's forms: asked for again, never given back.
const PASSWORD_FIELDS: &[&str] = &[
    "password",
    "password_confirm",
    "current_password",
    "new_password",
    "new_password_confirm",
    "email_password",
    "delete_password",
];

/// Labels of the fields people type, by name.
const LABELS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("email", "Email address"),
    ("new_email", "New email address"),
    ("title", "Title"),
    ("summary", "Summary"),
    ("body", "Text"),
    ("slug", "Address"),
    ("tags", "Tags"),
    ("cover_alt", "Cover image description"),
    ("description", "Description"),
    ("site_title", "Site title"),
    ("site_tagline", "Tagline"),
    ("site_description", "Site description"),
    ("days", "Days"),
    ("trial_days", "Length of the free trial, in days"),
    ("session_idle_days", "Days a session lasts without use"),
    ("session_absolute_days", "Days a session lasts at most"),
    (
        "api_origins",
        "Origins that may call the API from a browser",
    ),
    ("comment", "Your comment"),
    ("handle", "Handle"),
    ("bio", "Bio"),
];

impl KeptForm {
    /// The form posted to `action` with `body` (`application/x-www-form-urlencoded`). Only the
    /// fields of the site's own forms are given back, by their own labels, and only to an address
    /// of this site: a form posted from elsewhere cannot make this page ask for a password or send
    /// one anywhere.
    pub fn new(action: &str, body: &[u8]) -> Option<Self> {
        let local = action.starts_with('/')
            && !action.starts_with("//")
            && !action.contains('\\')
            && !action.chars().any(char::is_control);
        if !local {
            return None;
        }
        let pairs = crate::requests::decode_pairs(body).ok()?;
        let fields: Vec<KeptField> = pairs
            .into_iter()
            .filter(|(name, _)| {
                PASSWORD_FIELDS.contains(&name.as_str())
                    || TECHNICAL_FIELDS.contains(&name.as_str())
                    || LABELS.iter().any(|(known, _)| known == name)
            })
            .map(|(name, value)| {
                let kind = if PASSWORD_FIELDS.contains(&name.as_str()) {
                    "password"
                } else if TECHNICAL_FIELDS.contains(&name.as_str()) {
                    "hidden"
                } else if value.contains('\n')
                    || value.chars().count() > 80
                    || matches!(name.as_str(), "body" | "comment" | "bio")
                {
                    "textarea"
                } else {
                    "text"
                };
                let label = LABELS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, label)| (*label).to_owned())
                    .unwrap_or_else(|| humanise(&name));
                let label = if kind == "password" {
                    "Your password, again".to_owned()
                } else {
                    label
                };
                KeptField {
                    value: if kind == "password" {
                        String::new()
                    } else {
                        value
                    },
                    name,
                    label,
                    kind,
                }
            })
            .collect();
        fields.iter().any(|f| f.kind != "hidden").then(|| Self {
            action: action.to_owned(),
            fields,
        })
    }
}

/// `new_password_confirm` as "New password confirm".
fn humanise(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The page for an error `status`, as HTML, saying `custom` when given instead of the status's
/// usual words. `request_id` is shown for failures on our side; `kept` gives a form back.
pub fn error_page(
    site: &Site,
    settings: &SiteSettings,
    status: StatusCode,
    custom: Option<&ErrorMessage>,
    request_id: &str,
    kept: Option<KeptForm>,
) -> String {
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => (
            "We couldn’t find that page",
            "The address may be mistyped, or the page may have moved or been taken down.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "That action isn’t available here",
            "This address can be read, but not changed this way.",
        ),
        StatusCode::FORBIDDEN => (
            "You can’t do that here",
            "This page or action isn’t available to your account.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many attempts",
            "Please wait a few minutes and try again.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "We’re a little overloaded",
            "The site is busy right now. Please try again in a moment.",
        ),
        s if s.is_server_error() => (
            "Something went wrong on our side",
            "We couldn’t show this page. The problem has been logged; please try again in a moment.",
        ),
        _ => (
            "We couldn’t handle that request",
            "Please check the address and try again.",
        ),
    };
    let (heading, message) = match custom {
        Some(custom) => (custom.heading, custom.message.clone()),
        None => (heading, message.to_owned()),
    };
    let mut layout = Layout::new(site, "/", heading, &message).noindex();
    layout.name_site(settings);
    layout.canonical.clear();
    let page = ErrorPage {
        layout,
        status: status.as_u16(),
        heading,
        message,
        request_id: request_id.to_owned(),
        show_request_id: status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE,
        kept,
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(request_id, "error page failed to render: {error}");
        format!("<!DOCTYPE html><title>{heading}</title><h1>{heading}</h1>")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_form_shows_what_was_typed_and_never_a_password() {
        let kept = KeptForm::new(
            "/account/email",
            b"csrf_token=t&new_email=ana%40example.com&email_password=hunter22",
        )
        .unwrap();
        let kinds: Vec<(&str, &str, &str)> = kept
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.kind, f.value.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("csrf_token", "hidden", "t"),
                ("new_email", "text", "ana@example.com"),
                ("email_password", "password", "")
            ]
        );
        assert_eq!(kept.fields[1].label, "New email address");
        assert_eq!(kept.fields[2].label, "Your password, again");
        // A form of nothing but hidden fields has nothing to give back.
        assert!(KeptForm::new("/logout", b"csrf_token=t").is_none());
    }

    #[test]
    fn a_form_from_elsewhere_gets_nothing_it_could_use_to_ask_for_a_password() {
        assert!(KeptForm::new("//evil.example/login", b"name=x").is_none());
        assert!(KeptForm::new("/\\evil.example", b"name=x").is_none());
        let kept = KeptForm::new(
            "/login",
            b"name=Ana&please_re_enter_your_password=&note=%3Cb%3Ehi%3C%2Fb%3E",
        )
        .unwrap();
        let names: Vec<&str> = kept.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["name"], "fields of no form of ours are dropped");
    }
}
