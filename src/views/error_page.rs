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
}

/// The page for an error `status`, as HTML, saying `custom` when given instead of the status's
/// usual words. `request_id` is shown for failures on our side.
pub fn error_page(
    site: &Site,
    settings: &SiteSettings,
    status: StatusCode,
    custom: Option<&ErrorMessage>,
    request_id: &str,
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
        show_request_id: status.is_server_error(),
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!(request_id, "error page failed to render: {error}");
        format!("<!DOCTYPE html><title>{heading}</title><h1>{heading}</h1>")
    })
}
