//! `GET /search?q=`: full-text search over published articles, with highlighted excerpts.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number, query_param};
use crate::auth::Visitor;
use crate::db::search::{self, SearchHit};
use crate::db::taxonomy::Category;
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
    /// "1 article", "12 articles" or "More than 1,000 articles".
    total_label: String,
    pagination: Pagination,
    /// Offered when nothing matched, or nothing was asked.
    categories: Vec<Category>,
}

pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let query = SearchQuery::parse(&query_param(&req, "q").unwrap_or_default());
    // Reached only when the page cache had no answer: a search costs real work, so a client
    // searching faster than a person would is refused.
    if !query.is_empty() {
        super::account::flood_check(&state.auth.floods.search, &state.auth.clients.key(&req))?;
    }
    let page = page_number(&req);
    let searched = !query.is_empty();
    let text = query.text().to_owned();
    let members_text = visitor
        .member()
        .is_some_and(|m| m.can_read_members_only(db::now()));
    let cache = std::sync::Arc::clone(&state.cache);
    let (results, categories, settings) = db::run(&state.pool, move |conn| {
        let results = search::search(
            conn,
            &query,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
            members_text,
        )?;
        let categories = if results.hits.is_empty() {
            Category::list_in_use(conn)?
        } else {
            Vec::new()
        };
        Ok((results, categories, cache.settings(conn)?))
    })
    .await?;
    let search::SearchResults { hits, total } = results;

    let base = if searched {
        let encoded = serde_urlencoded::to_string([("q", text.as_str())]).unwrap_or_default();
        format!("/search?{encoded}")
    } else {
        "/search".to_owned()
    };
    // Past the counting limit, the pages reach as far as the count does.
    let listed = total.min(search::COUNT_LIMIT);
    let pagination = Pagination::new(&base, page, PER_PAGE, listed).ok_or(AppError::NotFound)?;
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
        .with_visitor(&visitor, &settings)
        .in_section("search")
        .noindex(),
        query: text,
        searched,
        hits,
        total_label: total_label(total),
        pagination,
        categories,
    };
    render(&req, &page)
}

/// How many articles matched, in words: exact up to the counting limit, "more than" past it.
fn total_label(total: i64) -> String {
    if total > search::COUNT_LIMIT {
        format!("More than {} articles", thousands(search::COUNT_LIMIT))
    } else if total == 1 {
        "1 article".to_owned()
    } else {
        format!("{} articles", thousands(total))
    }
}

/// 1000 as "1,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if n < 0 { format!("-{out}") } else { out }
}
