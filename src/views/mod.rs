//! What every page shares: the application state handlers receive ([`AppState`]: the database
//! pool, the site's identity, the content cache, the account machinery), the [`Layout`] each page
//! struct carries for `base.html`, and [`render`], which turns a page into a response with an ETag
//! so that a browser revalidating an unchanged page gets a `304 Not Modified`. The error page
//! lives here too, used by the request middleware.

pub mod error_page;
pub mod format;
pub mod json_ld;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::assets;
use crate::auth::{Auth, Visitor};
use crate::config::BaseUrl;
use crate::db::DbPool;
use crate::db::cache::ContentCache;
use crate::db::settings::SiteSettings;
use crate::error::AppError;
use crate::etag::{etag_for, etag_matches};

/// Shared state of the application, one per server.
pub struct AppState {
    pub pool: DbPool,
    pub site: Site,
    /// Lists of published articles and the settings, kept in memory while the content is unchanged.
    pub cache: Arc<ContentCache>,
    pub auth: Auth,
    /// Wakes the mail sender when a message was queued.
    pub mail: Arc<tokio::sync::Notify>,
    /// The cache of finished pages: cleared at once after an editor's or admin's change.
    pub pages: Arc<crate::page_cache::PageCache>,
    /// Where mail is saved when no SMTP server is configured (see [`crate::mail::mail_folder`]).
    pub mail_folder: std::path::PathBuf,
    /// The database, for the health check's probe (of the disk beside a SQLite file).
    pub database: crate::db::Database,
    /// Stripe, when paid memberships are on.
    pub billing: Option<crate::billing::stripe::Stripe>,
}

/// Where the site is. Its name, tagline and description are settings (see
/// [`SiteSettings`]), which every page's [`Layout`] takes from the content cache.
#[derive(Debug, Clone)]
pub struct Site {
    pub base_url: BaseUrl,
}

impl Site {
    pub fn new(base_url: BaseUrl) -> Self {
        Self { base_url }
    }
}

/// The part of `base.html` that varies by page: title, meta tags, canonical link, navigation.
#[derive(Debug, Clone)]
pub struct Layout {
    pub site_name: String,
    /// The whole `<title>`.
    pub title: String,
    /// The page's own title, "" for the home page (which shows the site's name and tagline).
    page_title: String,
    pub description: String,
    pub canonical: String,
    /// Open Graph type: `website` or `article`.
    pub og_type: &'static str,
    /// Which navigation link is the current section (`home`, `articles`, `topics`, `search`).
    pub section: &'static str,
    /// `noindex` for pages search engines should not list (search results, errors).
    pub robots: Option<&'static str>,
    pub css_url: &'static str,
    pub icon_url: &'static str,
    pub year: i32,
    /// Set for a logged-in member: the header shows their account and a log-out button.
    pub account: Option<AccountNav>,
    /// A one-time message after an action ("Your name was changed.").
    pub flash: Option<String>,
    /// Length of the free trial, for the invitations.
    pub trial_days: i64,
    /// The absolute address of the image link previews show (an article's cover).
    pub og_image: Option<String>,
}

/// The header's account links for a logged-in member.
#[derive(Debug, Clone)]
pub struct AccountNav {
    /// The token of the log-out form.
    pub csrf_token: String,
    /// Editors and admins get a link to the admin area.
    pub staff: bool,
}

impl Layout {
    /// A page at `path` (which starts with `/`, and may carry a page number) titled `title`.
    pub fn new(site: &Site, path: &str, title: &str, description: &str) -> Self {
        let mut layout = Self {
            site_name: String::new(),
            title: String::new(),
            page_title: title.to_owned(),
            description: description.to_owned(),
            canonical: site.base_url.join(path),
            og_type: "website",
            section: "",
            robots: None,
            css_url: assets::url("css/site.css"),
            icon_url: assets::url("img/favicon.svg"),
            year: time::OffsetDateTime::now_utc().year(),
            account: None,
            flash: None,
            trial_days: SiteSettings::default().trial_days,
            og_image: None,
        };
        layout.name_site(&SiteSettings::default());
        layout
    }

    /// The site's name and tagline from `settings`, in the header and the title.
    pub fn name_site(&mut self, settings: &SiteSettings) {
        self.site_name = settings.site_title.clone();
        self.title = if self.page_title.is_empty() {
            format!("{} — {}", settings.site_title, settings.site_tagline)
        } else {
            format!("{} — {}", self.page_title, settings.site_title)
        };
        if self.description.is_empty() {
            self.description = settings.site_description.clone();
        }
    }

    /// The page as `visitor` sees it: their account in the header, a message left for them, and
    /// the trial length from the settings.
    pub fn with_visitor(mut self, visitor: &Visitor, settings: &SiteSettings) -> Self {
        self.trial_days = settings.trial_days;
        self.name_site(settings);
        if let Some(member) = visitor.member() {
            self.account = Some(AccountNav {
                csrf_token: visitor.csrf_token(),
                staff: member.is_staff(),
            });
            self.flash = visitor.take_flash();
        }
        self
    }

    pub fn in_section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    pub fn article(mut self) -> Self {
        self.og_type = "article";
        self
    }

    pub fn noindex(mut self) -> Self {
        self.robots = Some("noindex");
        self
    }
}

/// Renders a page as `200 OK` HTML with an ETag, or `304 Not Modified` when the browser already
/// holds this exact page.
pub fn render(req: &HttpRequest, page: &impl Template) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    Ok(conditional(req, body, "text/html; charset=utf-8"))
}

/// A response whose ETag is a hash of its body, answered with 304 when `If-None-Match` matches.
/// Pages are revalidated on every visit (`no-cache`), which a 304 makes cheap. The ETag is weak
/// because the same page goes out gzip-compressed or not under it: the same content, not
/// the same bytes.
pub fn conditional(req: &HttpRequest, body: String, content_type: &'static str) -> HttpResponse {
    let etag = etag_for(body.as_bytes());
    respond(req, body, &etag, content_type)
}

/// [`conditional`] for a body whose ETag is already known.
pub fn respond(
    req: &HttpRequest,
    body: impl MessageBody + 'static,
    etag: &str,
    content_type: &'static str,
) -> HttpResponse {
    if etag_matches(req, etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}
