//! The editor's list of articles (`GET /admin/articles`, with filters and pages) and the actions on
//! one article that need no form: publish, unpublish and delete (after a page that asks to
//! confirm). Writing and editing live in [`super::editor`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminNav, actor, layout, nav, settings};
use crate::auth::Visitor;
use crate::db::audit;
use crate::db::editing::{self, EditorRow, Filter};
use crate::db::taxonomy::Category;
use crate::db::{self};
use crate::domain::Pagination;
use crate::error::AppError;
use crate::routes::forms::{render_private, see_other};
use crate::routes::{page_number, query_param};
use crate::views::Layout;
use crate::views::format::date_label;

const PER_PAGE: u32 = 25;

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ArticlesPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    rows: Vec<EditorRow>,
    total: i64,
    pagination: Pagination,
    categories: Vec<Category>,
    status: String,
    members_only: bool,
    category: String,
    q: String,
}

impl ArticlesPage {
    fn changed(&self, row: &EditorRow) -> String {
        date_label(row.updated_at)
    }
}

/// `GET /admin/articles`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<crate::views::AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let (member, staff) = super::writer(&state, &visitor).await?;
    let page = page_number(&req);
    let status = query_param(&req, "status").unwrap_or_default();
    let members_only = query_param(&req, "members").is_some_and(|v| v == "yes");
    let category = query_param(&req, "category").unwrap_or_default();
    let q = query_param(&req, "q").unwrap_or_default();
    let filter = Filter {
        status: match status.as_str() {
            "draft" => Some(crate::db::articles::DRAFT),
            "published" => Some(crate::db::articles::PUBLISHED),
            _ => None,
        },
        members_only,
        category_id: category.parse().ok(),
        title: Some(q.trim().to_owned()).filter(|q| !q.is_empty()),
        author_id: (!staff).then_some(member.id),
    };
    let settings = settings(&state).await?;
    let (rows, total, categories) = db::run(&state.pool, move |conn| {
        let (rows, total) = editing::list(conn, &filter, page.offset(PER_PAGE), PER_PAGE.into())?;
        Ok((rows, total, Category::all(conn)?))
    })
    .await?;
    let query = serde_urlencoded::to_string([
        ("status", status.as_str()),
        ("members", if members_only { "yes" } else { "" }),
        ("category", category.as_str()),
        ("q", q.as_str()),
    ])
    .unwrap_or_default();
    let pagination = Pagination::new(&format!("/admin/articles?{query}"), page, PER_PAGE, total)
        .ok_or(AppError::NotFound)?;
    let page = ArticlesPage {
        layout: layout(&state, &visitor, &settings, "/admin/articles", "Articles"),
        nav: nav(&member, "articles"),
        csrf_token: visitor.csrf_token(),
        rows,
        total,
        pagination,
        categories,
        status,
        members_only,
        category,
        q,
    };
    render_private(&page, StatusCode::OK)
}

/// Publishes or unpublishes an article, records it, and clears the cached pages.
async fn set_status(
    state: &crate::views::AppState,
    visitor: &Visitor,
    id: i32,
    body: &[u8],
    publish: bool,
) -> Result<HttpResponse, AppError> {
    let (member, staff, _) = super::posted_by_writer(state, visitor, body).await?;
    super::own_article(state, &member, staff, id).await?;
    if !staff {
        super::limit_member_writes(state, &member)?;
    }
    let who = actor(&member);
    let done = db::run(&state.pool, move |conn| {
        let done = crate::db::write_transaction(conn, |conn| {
            let Some(before) = editing::set_status(conn, id, publish)? else {
                return Ok(None);
            };
            let title = editing::EditorArticle::find(conn, id)?
                .map(|a| a.title)
                .unwrap_or_default();
            let action = if publish { "publish" } else { "unpublish" };
            let after = if publish { "published" } else { "draft" };
            audit::record(
                conn,
                &who,
                action,
                &format!("article #{id} “{title}”"),
                &before,
                after,
            )?;
            Ok::<_, diesel::result::Error>(Some(()))
        })?;
        Ok(done)
    })
    .await?;
    if done.is_none() {
        return Err(AppError::NotFound);
    }
    state.pages.invalidate();
    visitor.flash(if publish {
        "The article is published."
    } else {
        "The article is back to a draft: it is gone from every public page."
    });
    Ok(see_other(&format!("/admin/articles/{id}")))
}

/// `POST /admin/articles/{id}/publish`.
pub async fn publish(
    state: web::Data<crate::views::AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    set_status(&state, &visitor, id.into_inner(), &body, true).await
}

/// `POST /admin/articles/{id}/unpublish`.
pub async fn unpublish(
    state: web::Data<crate::views::AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    set_status(&state, &visitor, id.into_inner(), &body, false).await
}

#[derive(Template)]
#[template(path = "admin/delete_article.html")]
struct DeletePage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    id: i32,
    title: String,
    published: bool,
}

/// `GET /admin/articles/{id}/delete`: asks to confirm.
pub async fn confirm_delete(
    state: web::Data<crate::views::AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let (member, staff) = super::writer(&state, &visitor).await?;
    let id = id.into_inner();
    let settings = settings(&state).await?;
    let article = super::own_article(&state, &member, staff, id).await?;
    let page = DeletePage {
        layout: layout(
            &state,
            &visitor,
            &settings,
            &format!("/admin/articles/{id}/delete"),
            "Delete an article",
        ),
        nav: nav(&member, "articles"),
        csrf_token: visitor.csrf_token(),
        id,
        published: article.status == crate::db::articles::PUBLISHED,
        title: article.title,
    };
    render_private(&page, StatusCode::OK)
}

/// `POST /admin/articles/{id}/delete`.
pub async fn delete(
    state: web::Data<crate::views::AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, staff, _) = super::posted_by_writer(&state, &visitor, &body).await?;
    let id = id.into_inner();
    super::own_article(&state, &member, staff, id).await?;
    if !staff {
        super::limit_member_writes(&state, &member)?;
    }
    let who = actor(&member);
    let deleted = db::run(&state.pool, move |conn| {
        let deleted = crate::db::write_transaction(conn, |conn| {
            let Some(article) = editing::EditorArticle::find(conn, id)? else {
                return Ok(false);
            };
            editing::delete(conn, id)?;
            audit::record(
                conn,
                &who,
                "delete article",
                &format!("article #{id} “{}”", article.title),
                &article.status,
                "deleted",
            )?;
            Ok::<_, diesel::result::Error>(true)
        })?;
        Ok(deleted)
    })
    .await?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    state.pages.invalidate();
    visitor.flash("The article was deleted.");
    Ok(see_other("/admin/articles"))
}
