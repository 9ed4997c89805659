//! Topic hubs: `GET /categories` (every category and tag), `GET /categories/{slug}` and
//! `GET /tags/{slug}`, each a description and a paginated list of its articles.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number};
use std::sync::Arc;

use crate::auth::Visitor;
use crate::db::articles::ArticleCard;
use crate::db::cache::ListKey;
use crate::db::redirects;
use crate::db::settings::SiteSettings;
use crate::db::taxonomy::{Category, Tag};
use crate::db::{self};
use crate::domain::pagination::page_url;
use crate::domain::{PageNumber, Pagination, Slug};
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "topics/index.html")]
struct TopicsPage {
    layout: Layout,
    categories: Vec<Category>,
    tags: Vec<Tag>,
}

pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let cache = Arc::clone(&state.cache);
    let (categories, tags, settings) = db::run(&state.pool, move |conn| {
        Ok((
            Category::list_in_use(conn)?,
            Tag::list_in_use(conn)?,
            cache.settings(conn)?,
        ))
    })
    .await?;
    let page = TopicsPage {
        layout: Layout::new(
            &state.site,
            "/categories",
            "Topics",
            "Browse Guidepost's articles by category and by tag.",
        )
        .with_visitor(&visitor, &settings)
        .in_section("topics"),
        categories,
        tags,
    };
    render(&req, &page)
}

/// A hub page: a category or a tag with its articles.
#[derive(Template)]
#[template(path = "topics/hub.html")]
struct HubPage {
    layout: Layout,
    /// "Category" or "Tag", shown above the name.
    kind: &'static str,
    name: String,
    description: String,
    articles: Vec<ArticleCard>,
    pagination: Pagination,
    total: i64,
}

/// What a hub shows, whichever kind it is.
struct Hub {
    /// "Category" or "Tag".
    kind: &'static str,
    /// The hub's address without a page number.
    base: String,
    name: String,
    description: String,
    articles: Vec<ArticleCard>,
    total: i64,
    settings: SiteSettings,
}

pub async fn category(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let hub = db::run(&state.pool, move |conn| {
        let Some(category) = Category::find_by_slug(conn, slug.as_str())? else {
            return Err(moved(conn, redirects::CATEGORY, slug.as_str())?);
        };
        let (articles, total) = ArticleCard::page(
            conn,
            &cache,
            ListKey::Category(category.id),
            None,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        Ok(Hub {
            kind: "Category",
            base: format!("/categories/{}", category.slug),
            articles,
            total,
            settings: cache.settings(conn)?,
            name: category.name,
            description: category.description,
        })
    })
    .await?;
    render_hub(&req, &state, &visitor, hub, page)
}

pub async fn tag(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let hub = db::run(&state.pool, move |conn| {
        let Some(tag) = Tag::find_by_slug(conn, slug.as_str())? else {
            return Err(moved(conn, redirects::TAG, slug.as_str())?);
        };
        let (articles, total) = ArticleCard::page(
            conn,
            &cache,
            ListKey::Tag(tag.id),
            None,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        Ok(Hub {
            kind: "Tag",
            base: format!("/tags/{}", tag.slug),
            articles,
            total,
            settings: cache.settings(conn)?,
            name: tag.name,
            description: tag.description,
        })
    })
    .await?;
    render_hub(&req, &state, &visitor, hub, page)
}

/// A redirect to where an old topic address now leads, or not found.
fn moved(conn: &mut crate::db::DbConn, kind: &str, old: &str) -> Result<AppError, AppError> {
    Ok(match redirects::moved(conn, kind, old)? {
        Some(path) => AppError::MovedTo(path),
        None => AppError::NotFound,
    })
}

fn render_hub(
    req: &HttpRequest,
    state: &AppState,
    visitor: &Visitor,
    hub: Hub,
    page: PageNumber,
) -> Result<HttpResponse, AppError> {
    let pagination =
        Pagination::new(&hub.base, page, PER_PAGE, hub.total).ok_or(AppError::NotFound)?;
    let title = if pagination.current > 1 {
        format!("{}, page {}", hub.name, pagination.current)
    } else {
        hub.name.clone()
    };
    let meta_description = if hub.description.is_empty() {
        format!("Guidepost articles about {}.", hub.name)
    } else {
        hub.description.clone()
    };
    let page = HubPage {
        layout: Layout::new(
            &state.site,
            &page_url(&hub.base, pagination.current),
            &title,
            &meta_description,
        )
        .with_visitor(visitor, &hub.settings)
        .in_section("topics"),
        kind: hub.kind,
        name: hub.name,
        description: hub.description,
        articles: hub.articles,
        pagination,
        total: hub.total,
    };
    render(req, &page)
}
