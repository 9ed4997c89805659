//! Topic hubs: `GET /categories` (every category and tag), `GET /categories/{slug}` and
//! `GET /tags/{slug}`, each a description and a paginated list of its articles.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number};
use crate::db::articles::ArticleCard;
use crate::db::taxonomy::{Category, Counted, Tag};
use crate::db::{self};
use crate::domain::pagination::page_url;
use crate::domain::{Pagination, Slug};
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "topics/index.html")]
struct TopicsPage {
    layout: Layout,
    categories: Vec<Counted<Category>>,
    tags: Vec<Counted<Tag>>,
}

pub async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (categories, tags) = db::run(&state.pool, |conn| {
        Ok((Category::list_in_use(conn)?, Tag::list_in_use(conn)?))
    })
    .await?;
    let page = TopicsPage {
        layout: Layout::new(
            &state.site,
            "/categories",
            "Topics",
            "Browse Guidepost's articles by category and by tag.",
        )
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

pub async fn category(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    let page = page_number(&req);
    let (category, articles, total) = db::run(&state.pool, move |conn| {
        let category = Category::find_by_slug(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
        let articles =
            ArticleCard::in_category(conn, category.id, page.offset(PER_PAGE), PER_PAGE.into())?;
        let total = ArticleCard::count_in_category(conn, category.id)?;
        Ok((category, articles, total))
    })
    .await?;
    let base = format!("/categories/{}", category.slug);
    hub(
        &req,
        &state,
        "Category",
        &base,
        category.name,
        category.description,
        articles,
        total,
        page,
    )
}

pub async fn tag(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    let page = page_number(&req);
    let (tag, articles, total) = db::run(&state.pool, move |conn| {
        let tag = Tag::find_by_slug(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
        let articles = ArticleCard::with_tag(conn, tag.id, page.offset(PER_PAGE), PER_PAGE.into())?;
        let total = ArticleCard::count_with_tag(conn, tag.id)?;
        Ok((tag, articles, total))
    })
    .await?;
    let base = format!("/tags/{}", tag.slug);
    hub(
        &req,
        &state,
        "Tag",
        &base,
        tag.name,
        tag.description,
        articles,
        total,
        page,
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call per hub kind, each naming every part"
)]
fn hub(
    req: &HttpRequest,
    state: &AppState,
    kind: &'static str,
    base: &str,
    name: String,
    description: String,
    articles: Vec<ArticleCard>,
    total: i64,
    page: crate::domain::PageNumber,
) -> Result<HttpResponse, AppError> {
    let pagination = Pagination::new(base, page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let title = if pagination.current > 1 {
        format!("{name}, page {}", pagination.current)
    } else {
        name.clone()
    };
    let meta_description = if description.is_empty() {
        format!("Guidepost articles about {name}.")
    } else {
        description.clone()
    };
    let page = HubPage {
        layout: Layout::new(
            &state.site,
            &page_url(base, pagination.current),
            &title,
            &meta_description,
        )
        .in_section("topics"),
        kind,
        name,
        description,
        articles,
        pagination,
        total,
    };
    render(req, &page)
}
