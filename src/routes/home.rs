//! `GET /`: the featured article, the latest ones (paginated) and the topics.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number};
use std::sync::Arc;

use crate::auth::Visitor;
use crate::db::cache::ListKey;
use crate::db::{self, articles::ArticleCard, taxonomy::Category};
use crate::domain::Pagination;
use crate::domain::pagination::page_url;
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    featured: Option<ArticleCard>,
    latest: Vec<ArticleCard>,
    pagination: Pagination,
    categories: Vec<Category>,
}

pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let (featured, latest, total, categories, settings) = db::run(&state.pool, move |conn| {
        let featured = ArticleCard::featured(conn, &cache)?;
        let skip = featured.as_ref().map(|f| f.id);
        let (latest, total) = ArticleCard::page(
            conn,
            &cache,
            ListKey::Newest,
            skip,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        let categories = Category::list_in_use(conn)?;
        Ok((featured, latest, total, categories, cache.settings(conn)?))
    })
    .await?;
    let pagination = Pagination::new("/", page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let path = page_url("/", page.get());
    let site = &state.site;
    let page = HomePage {
        layout: Layout::new(site, &path, "", "")
            .with_visitor(&visitor, &settings)
            .in_section("home"),
        featured: featured.filter(|_| pagination.current == 1),
        latest,
        pagination,
        categories,
    };
    render(&req, &page)
}
