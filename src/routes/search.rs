//! `GET /search?q=`: full-text search over published articles, with highlighted excerpts.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number, query_param};
use crate::db::search::{self, SearchHit};
use crate::db::taxonomy::{Category, Counted};
use crate::db::{self};
use crate::domain::pagination::page_url;
use crate::domain::{Pagination, SearchQuery};
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    /// False when nothing searchable was typed: the page is only the form.
    searched: bool,
    hits: Vec<SearchHit>,
    total: i64,
    pagination: Pagination,
    /// Offered when nothing matched, or nothing was asked.
    categories: Vec<Counted<Category>>,
}

pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let query = SearchQuery::parse(&query_param(&req, "q").unwrap_or_default());
    let page = page_number(&req);
    let searched = !query.is_empty();
    let text = query.text().to_owned();
    let (hits, total, categories) = db::run(&state.pool, move |conn| {
        let total = search::count(conn, &query)?;
        let hits = search::search(conn, &query, page.offset(PER_PAGE), PER_PAGE.into())?;
        let categories = if hits.is_empty() {
            Category::list_in_use(conn)?
        } else {
            Vec::new()
        };
        Ok((hits, total, categories))
    })
    .await?;

    let base = if searched {
        let encoded = serde_urlencoded::to_string([("q", text.as_str())]).unwrap_or_default();
        format!("/search?{encoded}")
    } else {
        "/search".to_owned()
    };
    let pagination = Pagination::new(&base, page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let title = if searched {
        format!("Search: {text}")
    } else {
        "Search".to_owned()
    };
    let page = SearchPage {
        layout: Layout::new(
            &state.site,
            &page_url(&base, pagination.current),
            &title,
            "Search every Guidepost article.",
        )
        .in_section("search")
        .noindex(),
        query: text,
        searched,
        hits,
        total,
        pagination,
        categories,
    };
    render(&req, &page)
}
