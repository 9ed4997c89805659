//! Members taking part on the pages: comments under articles, saving articles, following authors.
//! Author pages are [`super::authors`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::flood_check;
use super::account_area::posted;
use super::forms::{render_private, see_other};
use crate::auth::Visitor;
use crate::db::articles::ArticleDetail;
use crate::db::comments::{self, Comment};
use crate::db::users::Member;
use crate::db::{self, DbConn};
use crate::domain::{CommentText, SafeHtml, Slug};
use crate::error::AppError;
use crate::views::format::date_label;
use crate::views::{AppState, Layout};

/// A comment as the article's page shows it to one reader.
pub struct CommentView {
    pub id: i32,
    pub author_name: String,
    pub author_handle: String,
    pub html: SafeHtml,
    pub posted_iso: String,
    pub posted_label: String,
    pub edited: bool,
    /// The reader wrote it and may still change it.
    pub can_edit: bool,
    /// The reader wrote it, or edits the site.
    pub can_delete: bool,
}

/// Where the comment form stands for one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// They may comment.
    Open,
    /// Nobody may: an editor closed the comments.
    Closed,
    /// A visitor: log in or start a trial to comment.
    LogIn,
    /// A member whose access ended.
    NoAccess,
}

/// The comments part of an article's page, with the Save button.
pub struct Conversation {
    /// False for a members-only article read without access: its comments stay hidden too.
    pub shown: bool,
    pub comments: Vec<CommentView>,
    pub gate: Gate,
    /// What the comment form holds (kept after a mistake) and the message beside it.
    pub draft: String,
    pub error: Option<String>,
    /// `None` for a visitor; whether the member saved the article.
    pub saved: Option<bool>,
    pub saves: i64,
    pub staff: bool,
    pub closed: bool,
    pub csrf_token: String,
}

/// What a comment form sent back with a mistake.
pub struct Draft {
    pub text: String,
    pub error: String,
}

/// True when `member` may comment at all: their access runs (trial, subscription, grant, staff).
pub fn may_comment(member: &Member) -> bool {
    member.access(db::now()).reads_members_only()
}

/// Reads the conversation under `article` for `member`, in the page's database call.
pub fn conversation(
    conn: &mut DbConn,
    article: &ArticleDetail,
    member: Option<&Member>,
    full_access: bool,
) -> diesel::QueryResult<Conversation> {
    let shown = full_access;
    let now = db::now();
    let list = if shown {
        Comment::for_article(conn, article.id)?
    } else {
        Vec::new()
    };
    let saved = match member {
        Some(m) => Some(!comments::saved_among(conn, m.id, &[article.id])?.is_empty()),
        None => None,
    };
    let saves = comments::save_counts(conn, &[article.id])?
        .get(&article.id)
        .copied()
        .unwrap_or(0);
    let staff = member.is_some_and(Member::is_staff);
    let gate = match member {
        _ if article.comments_closed => Gate::Closed,
        None => Gate::LogIn,
        Some(m) if may_comment(m) && full_access => Gate::Open,
        Some(_) => Gate::NoAccess,
    };
    let comments = list
        .into_iter()
        .map(|c| {
            let own = member.is_some_and(|m| m.id == c.user_id);
            CommentView {
                id: c.id,
                html: SafeHtml::from_stored(crate::domain::community::comment_html(&c.body)),
                posted_iso: crate::views::format::rfc3339(c.created_at),
                posted_label: date_label(c.created_at),
                edited: c.was_edited(),
                can_edit: own && c.editable_at(now),
                can_delete: own || staff,
                author_name: c.author_name,
                author_handle: c.author_handle,
            }
        })
        .collect();
    Ok(Conversation {
        shown,
        comments,
        gate,
        draft: String::new(),
        error: None,
        saved,
        saves,
        staff,
        closed: article.comments_closed,
        csrf_token: String::new(),
    })
}

/// The article behind a comment form's address: published, readable by `member`.
fn readable_article(
    conn: &mut DbConn,
    slug: &str,
    member: &Member,
) -> Result<ArticleDetail, AppError> {
    let article = ArticleDetail::find_published(conn, slug)?.ok_or(AppError::NotFound)?;
    if article.is_members_only() && !member.can_read_members_only(db::now()) {
        return Err(AppError::Forbidden);
    }
    Ok(article)
}

fn parse_slug(slug: &str) -> Result<Slug, AppError> {
    Slug::parse(slug).map_err(|_| AppError::NotFound)
}

/// Forgets the cached copies of the page at `path` here and, at commit, on other instances.
fn page_changed(conn: &mut DbConn, path: &str) -> diesel::QueryResult<()> {
    crate::db::changes::announce(conn, path)
}

/// Limits comment writing per member and per client address.
fn comment_floods(state: &AppState, req: &HttpRequest, member: &Member) -> Result<(), AppError> {
    flood_check(
        &state.auth.floods.comment_member,
        &format!("member {}", member.id),
    )?;
    flood_check(
        &state.auth.floods.comment_client,
        &state.auth.clients.key(req),
    )
}

/// `POST /articles/{slug}/comments`: posts a comment, back to it on the page; a mistake shows the
/// page again with the text kept and the message beside the form.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let slug = parse_slug(&slug.into_inner())?;
    let (member, fields) = posted(&visitor, &body)?;
    if !may_comment(&member) {
        return Err(AppError::Forbidden);
    }
    let text = match CommentText::parse(fields.get("comment")) {
        Ok(text) => text,
        Err(message) => {
            let draft = Draft {
                text: fields.get("comment").to_owned(),
                error: message.to_owned(),
            };
            return super::articles::page(&req, &state, &visitor, slug, Some(draft)).await;
        }
    };
    comment_floods(&state, &req, &member)?;
    let path = format!("/articles/{slug}");
    let announced = path.clone();
    let posted = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let article = readable_article(conn, slug.as_str(), &member)?;
            if article.comments_closed {
                return Ok(None);
            }
            let comment = Comment::create(conn, article.id, member.id, text.as_str())?;
            page_changed(conn, &announced)?;
            // A first comment makes the member's page public.
            page_changed(conn, &format!("/authors/{}", comment.author_handle))?;
            Ok::<_, AppError>(Some((comment.id, comment.author_handle)))
        })
    })
    .await?;
    state.pages.invalidate_path(&path);
    if let Some((_, handle)) = &posted {
        state.pages.invalidate_path(&format!("/authors/{handle}"));
    }
    match posted.map(|(id, _)| id) {
        Some(id) => {
            visitor.flash("Your comment is posted.");
            Ok(see_other(&format!("{path}#comment-{id}")))
        }
        None => {
            visitor.flash("Comments on this article are closed.");
            Ok(see_other(&path))
        }
    }
}

#[derive(Template)]
#[template(path = "articles/edit_comment.html")]
struct EditCommentPage {
    layout: Layout,
    csrf_token: String,
    article_title: String,
    article_path: String,
    action: String,
    text: String,
    error: Option<String>,
}

/// The comment `id` under the article `slug`, when `member` wrote it and may still change it.
async fn own_editable_comment(
    state: &AppState,
    member: &Member,
    slug: &str,
    id: i32,
) -> Result<(ArticleDetail, Comment), AppError> {
    let (slug, member) = (slug.to_owned(), member.clone());
    db::run(&state.pool, move |conn| {
        let article = readable_article(conn, &slug, &member)?;
        let comment = Comment::find(conn, article.id, id)?.ok_or(AppError::NotFound)?;
        if comment.user_id != member.id || !comment.editable_at(db::now()) {
            return Err(AppError::Forbidden);
        }
        Ok((article, comment))
    })
    .await
}

async fn edit_page(
    state: &AppState,
    visitor: &Visitor,
    article: &ArticleDetail,
    comment_id: i32,
    text: String,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let settings = super::account::settings(state).await?;
    let article_path = format!("/articles/{}", article.slug);
    let page = EditCommentPage {
        layout: Layout::new(
            &state.site,
            &format!("{article_path}/comments/{comment_id}/edit"),
            "Edit your comment",
            "Change a comment you wrote.",
        )
        .with_visitor(visitor, &settings)
        .in_section("articles")
        .noindex(),
        csrf_token: visitor.csrf_token(),
        article_title: article.title.clone(),
        action: format!("{article_path}/comments/{comment_id}/edit"),
        article_path,
        text,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_private(&page, status)
}

/// `GET /articles/{slug}/comments/{id}/edit`: the form to change one's comment, within
/// [`comments::EDIT_WINDOW`] of posting it.
pub async fn edit_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let member = visitor.require_member()?.clone();
    let (article, comment) = own_editable_comment(&state, &member, &slug, id).await?;
    edit_page(&state, &visitor, &article, id, comment.body, None).await
}

/// `POST /articles/{slug}/comments/{id}/edit`.
pub async fn edit(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let (member, fields) = posted(&visitor, &body)?;
    let (article, _) = own_editable_comment(&state, &member, &slug, id).await?;
    let text = match CommentText::parse(fields.get("comment")) {
        Ok(text) => text,
        Err(message) => {
            let typed = fields.get("comment").to_owned();
            return edit_page(
                &state,
                &visitor,
                &article,
                id,
                typed,
                Some(message.to_owned()),
            )
            .await;
        }
    };
    let path = format!("/articles/{}", article.slug);
    let announced = path.clone();
    let changed = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let changed = Comment::edit(conn, id, member.id, text.as_str())?;
            page_changed(conn, &announced)?;
            Ok::<_, AppError>(changed)
        })
    })
    .await?;
    state.pages.invalidate_path(&path);
    visitor.flash(if changed {
        "Your comment was changed."
    } else {
        "Comments can be changed for 15 minutes after posting; this one was not changed."
    });
    Ok(see_other(&format!("{path}#comment-{id}")))
}

/// `POST /articles/{slug}/comments/{id}/delete`: by its writer, or by an editor or admin.
pub async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let (member, _) = posted(&visitor, &body)?;
    let slug = parse_slug(&slug)?;
    let path = format!("/articles/{slug}");
    let announced = path.clone();
    let writer_page = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let article =
                ArticleDetail::find_published(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
            let comment = Comment::find(conn, article.id, id)?.ok_or(AppError::NotFound)?;
            if comment.user_id != member.id && !member.is_staff() {
                return Err(AppError::Forbidden);
            }
            Ok(delete_comment(conn, &comment, &member, &announced)?)
        })
    })
    .await?;
    state.pages.invalidate_path(&path);
    state.pages.invalidate_path(&writer_page);
    visitor.flash("The comment was deleted.");
    Ok(see_other(&format!("{path}#comments")))
}

/// Deletes `comment` for `member` (its writer, or an editor or admin, as the caller checked) in
/// the caller's transaction: someone else's is recorded in the audit log. The article's page at
/// `path` and the writer's page (which may turn private again) are announced as changed; the
/// writer's page's path is returned for the caller to forget its own copy.
pub fn delete_comment(
    conn: &mut DbConn,
    comment: &Comment,
    member: &Member,
    path: &str,
) -> diesel::QueryResult<String> {
    Comment::delete(conn, comment.id)?;
    if comment.user_id != member.id {
        let actor = crate::db::audit::Actor {
            id: member.id,
            name: member.name.clone(),
        };
        crate::db::audit::record(
            conn,
            &actor,
            "delete comment",
            &crate::db::audit::member_subject(comment.user_id),
            &comment.body,
            "",
        )?;
    }
    page_changed(conn, path)?;
    let writer = format!("/authors/{}", comment.author_handle);
    page_changed(conn, &writer)?;
    Ok(writer)
}

/// `POST /articles/{slug}/comments/close` and `.../open`: editors and admins.
pub async fn close(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (slug, action) = path.into_inner();
    let closed = match action.as_str() {
        "close" => true,
        "open" => false,
        _ => return Err(AppError::NotFound),
    };
    let (member, _) = posted(&visitor, &body)?;
    if !member.is_staff() {
        return Err(AppError::Forbidden);
    }
    let slug = parse_slug(&slug)?;
    let path = format!("/articles/{slug}");
    db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let article =
                ArticleDetail::find_published(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
            comments::set_closed(conn, article.id, closed)?;
            Ok(())
        })
    })
    .await?;
    // The article's row changed: every cached page that shows it is forgotten.
    state.pages.invalidate();
    visitor.flash(if closed {
        "Comments are closed: those written stay, and nobody can add one."
    } else {
        "Comments are open again."
    });
    Ok(see_other(&format!("{path}#comments")))
}

/// `POST /articles/{slug}/save` and `.../unsave`: any logged-in member.
pub async fn save(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (slug, action) = path.into_inner();
    let keep = match action.as_str() {
        "save" => true,
        "unsave" => false,
        _ => return Err(AppError::NotFound),
    };
    let (member, fields) = posted(&visitor, &body)?;
    let slug = parse_slug(&slug)?;
    let path = format!("/articles/{slug}");
    let announced = path.clone();
    db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let article =
                ArticleDetail::find_published(conn, slug.as_str())?.ok_or(AppError::NotFound)?;
            if keep {
                comments::save(conn, member.id, article.id)?;
            } else {
                comments::unsave(conn, member.id, article.id)?;
            }
            page_changed(conn, &announced)?;
            Ok(())
        })
    })
    .await?;
    state.pages.invalidate_path(&path);
    visitor.flash(if keep {
        "Saved. You find it under Your saved articles."
    } else {
        "Removed from your saved articles."
    });
    // Back where the button was: the article, or the list of saved articles.
    let back = super::forms::local_path(fields.get("next"), &path).to_owned();
    Ok(see_other(&back))
}
