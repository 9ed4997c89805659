//! `GET /articles` (every published article, newest first) and `GET /articles/{slug}`.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number};
use std::sync::Arc;

use crate::auth::Visitor;
use crate::db::articles::{ArticleCard, ArticleDetail};
use crate::db::cache::ListKey;
use crate::db::redirects;
use crate::db::taxonomy::Tag;
use crate::db::{self};
use crate::domain::pagination::page_url;
use crate::domain::{Pagination, SafeHtml, Slug, TocEntry};
use crate::error::AppError;
use crate::views::format::date_label;
use crate::views::json_ld::JsonLd;
use crate::views::{AppState, Layout, render};

/// Related articles shown under an article.
const RELATED: usize = 3;

#[derive(Template)]
#[template(path = "articles/list.html")]
struct ArticleListPage {
    layout: Layout,
    articles: Vec<ArticleCard>,
    pagination: Pagination,
    total: i64,
}

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let (articles, total, settings) = db::run(&state.pool, move |conn| {
        let (articles, total) = ArticleCard::page(
            conn,
            &cache,
            ListKey::Newest,
            None,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        Ok((articles, total, cache.settings(conn)?))
    })
    .await?;
    let pagination =
        Pagination::new("/articles", page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let title = if pagination.current > 1 {
        format!("All articles, page {}", pagination.current)
    } else {
        "All articles".to_owned()
    };
    let page = ArticleListPage {
        layout: Layout::new(
            &state.site,
            &page_url("/articles", pagination.current),
            &title,
            "Every article on Guidepost, newest first: back-end development, databases, APIs, \
             security, testing and careers.",
        )
        .with_visitor(&visitor, &settings)
        .in_section("articles"),
        articles,
        pagination,
        total,
    };
    render(&req, &page)
}

#[derive(Template)]
#[template(path = "articles/show.html")]
struct ArticlePage {
    layout: Layout,
    article: ArticleDetail,
    /// The whole body, or `None` when the reader only gets the teaser.
    body: Option<SafeHtml>,
    teaser: SafeHtml,
    toc: Vec<TocEntry>,
    tags: Vec<Tag>,
    related: Vec<ArticleCard>,
    json_ld: JsonLd,
    /// For a member whose trial ended: the day it did, said beside the teaser.
    /// Why a logged-in member without access sees the teaser ("Your free trial ended on …").
    gate_reason: Option<String>,
    /// The plans such a member may choose, when payments are on, and their form token.
    offers: Vec<crate::billing::Offer>,
    csrf_token: String,
    /// `next=` back to this article, for the log-in and sign-up links of the teaser.
    next_query: String,
    /// Set when an editor previews the article: the way back to the form, and on to saving.
    preview: Option<PreviewBar>,
    /// The comments and the Save button; none in a preview.
    conversation: Option<super::community::Conversation>,
}

/// The bar above a previewed article: the form's values, hidden, with buttons to go back to
/// editing or to save.
pub struct PreviewBar {
    pub action: String,
    pub csrf_token: String,
    pub fields: Vec<(&'static str, String)>,
}

/// An article not saved yet, exactly as readers would see it in full, with the preview bar.
pub fn preview(
    state: &AppState,
    visitor: &Visitor,
    settings: &crate::db::settings::SiteSettings,
    article: ArticleDetail,
    tags: Vec<Tag>,
    bar: PreviewBar,
) -> Result<HttpResponse, AppError> {
    let site = &state.site;
    let path = format!("/articles/{}", article.slug);
    let mut layout = Layout::new(site, &path, &article.title, &article.summary)
        .with_visitor(visitor, settings)
        .in_section("articles")
        .article()
        .noindex();
    layout.flash = Some(
        "Preview: this is the article as readers will see it. Nothing is saved yet.".to_owned(),
    );
    let page = ArticlePage {
        gate_reason: None,
        offers: Vec::new(),
        csrf_token: String::new(),
        next_query: String::new(),
        preview: Some(bar),
        conversation: None,
        body: Some(article.body()),
        teaser: article.teaser(),
        toc: article.toc(),
        json_ld: JsonLd::for_article(&site.base_url, &settings.site_title, &article),
        tags,
        related: Vec::new(),
        layout,
        article,
    };
    super::forms::render_private(&page, actix_web::http::StatusCode::OK)
}

/// `GET /articles/{slug}`. A members-only article reads in full for staff and for members whose
/// trial runs, decided here at every request; others get its teaser.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    page(&req, &state, &visitor, slug, None).await
}

/// The article's page; with a comment form sent back with a mistake (`draft`), answered 422 with
/// the text kept and the message beside the form.
pub async fn page(
    req: &HttpRequest,
    state: &AppState,
    visitor: &Visitor,
    slug: Slug,
    draft: Option<super::community::Draft>,
) -> Result<HttpResponse, AppError> {
    let cache = Arc::clone(&state.cache);
    let now = db::now();
    let reader = visitor.member().cloned();
    let reads_all = reader
        .as_ref()
        .is_some_and(|m| m.can_read_members_only(now));
    let (article, tags, related, settings, mut conversation) = db::run(&state.pool, move |conn| {
        let Some(article) = ArticleDetail::find_published(conn, slug.as_str())? else {
            return Err(
                match redirects::moved(conn, redirects::ARTICLE, slug.as_str())? {
                    Some(path) => AppError::MovedTo(path),
                    None => AppError::NotFound,
                },
            );
        };
        let tags = Tag::for_article(conn, article.id)?;
        let tag_ids: Vec<i32> = tags.iter().map(|t| t.id).collect();
        let related = ArticleCard::related(conn, &cache, &article, &tag_ids, RELATED)?;
        let full_access = !article.is_members_only() || reads_all;
        let conversation =
            super::community::conversation(conn, &article, reader.as_ref(), full_access)?;
        Ok((article, tags, related, cache.settings(conn)?, conversation))
    })
    .await?;

    let site = &state.site;
    let member = visitor.member();
    let full_access =
        !article.is_members_only() || member.is_some_and(|m| m.can_read_members_only(now));
    let gate_reason = member.filter(|_| !full_access).map(|m| gate_reason(m, now));
    let offers = match (&gate_reason, super::billing::offered(state, &settings)) {
        (Some(_), Some((_, plans))) => plans.offers(),
        _ => Vec::new(),
    };
    let csrf_token = if offers.is_empty() {
        String::new()
    } else {
        visitor.csrf_token()
    };
    let path = format!("/articles/{}", article.slug);
    let mut layout = Layout::new(site, &path, &article.title, &article.summary)
        .with_visitor(visitor, &settings)
        .in_section("articles")
        .article();
    layout.og_image = article.cover.as_ref().map(|c| site.base_url.join(&c.url()));
    if member.is_some() {
        conversation.csrf_token = visitor.csrf_token();
    }
    let status = match draft {
        Some(draft) => {
            conversation.draft = draft.text;
            conversation.error = Some(draft.error);
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
        }
        None => actix_web::http::StatusCode::OK,
    };
    let page = ArticlePage {
        conversation: Some(conversation),
        gate_reason,
        offers,
        csrf_token,
        next_query: serde_urlencoded::to_string([("next", path.as_str())]).unwrap_or_default(),
        preview: None,
        layout,
        body: full_access.then(|| article.body()),
        teaser: article.teaser(),
        toc: if full_access {
            article.toc()
        } else {
            Vec::new()
        },
        json_ld: JsonLd::for_article(&site.base_url, &settings.site_title, &article),
        tags,
        related,
        article,
    };
    if status == actix_web::http::StatusCode::OK {
        render(req, &page)
    } else {
        super::forms::render_private(&page, status)
    }
}

/// Why `member` reads only the opening of members-only guides, in words.
fn gate_reason(member: &crate::db::users::Member, now: time::PrimitiveDateTime) -> String {
    use crate::db::billing::{CANCELED, PAST_DUE};
    match member.paid_status.as_deref() {
        Some(PAST_DUE | "unpaid") => {
            return "Your last payment did not go through, so members-only guides show their \
                    opening only. Update your card from your account to read on."
                .to_owned();
        }
        Some(CANCELED | "incomplete_expired") => {
            return "Your membership has ended, so members-only guides show their opening only."
                .to_owned();
        }
        _ => {}
    }
    if let Some(until) = member.complimentary_until.filter(|until| *until <= now) {
        return format!(
            "Your complimentary access ended on {}, so members-only guides show their opening only.",
            date_label(until)
        );
    }
    match member.trial_ends_at {
        Some(end) => format!(
            "Your free trial ended on {}, so members-only guides show their opening only.",
            date_label(end)
        ),
        None => "Members-only guides show their opening only.".to_owned(),
    }
}
