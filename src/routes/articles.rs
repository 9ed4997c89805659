//! `GET /articles` (every published article, newest first) and `GET /articles/{slug}`.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{PER_PAGE, page_number};
use std::sync::Arc;

use crate::db::articles::{ArticleCard, ArticleDetail};
use crate::db::lists::ListKey;
use crate::db::taxonomy::Tag;
use crate::db::{self};
use crate::domain::pagination::page_url;
use crate::domain::{Pagination, SafeHtml, Slug, TocEntry};
use crate::error::AppError;
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

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = page_number(&req);
    let lists = Arc::clone(&state.lists);
    let (articles, total) = db::run(&state.pool, move |conn| {
        Ok(ArticleCard::page(
            conn,
            &lists,
            ListKey::Newest,
            None,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?)
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
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = Slug::parse(&slug.into_inner()).map_err(|_| AppError::NotFound)?;
    let lists = Arc::clone(&state.lists);
    let (article, tags, related) = db::run(&state.pool, move |conn| {
        let article =
            ArticleDetail::find_published(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
        let tags = Tag::for_article(conn, article.id)?;
        let tag_ids: Vec<i32> = tags.iter().map(|t| t.id).collect();
        let related = ArticleCard::related(conn, &lists, &article, &tag_ids, RELATED)?;
        Ok((article, tags, related))
    })
    .await?;

    let site = &state.site;
    let full_access = !article.is_members_only();
    let page = ArticlePage {
        layout: Layout::new(
            site,
            &format!("/articles/{}", article.slug),
            &article.title,
            &article.summary,
        )
        .in_section("articles")
        .article(),
        body: full_access.then(|| article.body()),
        teaser: article.teaser(),
        toc: if full_access {
            article.toc()
        } else {
            Vec::new()
        },
        json_ld: JsonLd::for_article(&site.base_url, &site.name, &article),
        tags,
        related,
        article,
    };
    render(&req, &page)
}
