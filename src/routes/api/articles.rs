//! `/api/articles`: lists (filtered by tag, author and saver; the feed of followed authors),
//! single articles, and writing them: editors always, members whose access runs when the setting
//! "members may publish" is on, each member only their own.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, caller, number_param, object_in, optional_caller, reply, stamp, text_in,
};
use crate::content::{ArticleInput, store};
use crate::db::api::{self, ApiArticle, Filter};
use crate::db::article_writes::{SaveTarget, Saved};
use crate::db::articles::{MEMBERS_ONLY, PUBLIC, PUBLISHED};
use crate::db::editing::EditorArticle;
use crate::db::profiles::{self, Profile};
use crate::db::settings::SiteSettings;
use crate::db::taxonomy::Tag;
use crate::db::users::Member;
use crate::db::{self, DbConn, audit};
use crate::domain::Slug;
use crate::error::AppError;
use crate::routes::account::flood_check;
use crate::routes::admin::editor::{ArticleText, check_text};
use crate::routes::forms::FieldErrors;
use crate::views::AppState;

/// The editor's field names as the API calls them.
const FIELDS: &[(&str, &str)] = &[("summary", "description"), ("tags", "tagList")];

/// The JSON of `articles` as `viewer` sees them; with the body (the Markdown, or only the teaser's
/// words of a members-only article the viewer cannot read) when `with_body`.
pub fn articles_json(
    conn: &mut DbConn,
    base: &crate::config::BaseUrl,
    articles: &[ApiArticle],
    viewer: Option<&Member>,
    with_body: bool,
) -> diesel::QueryResult<Vec<Value>> {
    let ids: Vec<i32> = articles.iter().map(|a| a.id).collect();
    let authors: Vec<i32> = articles.iter().map(|a| a.author_id).collect();
    let pictures: Vec<i32> = articles.iter().filter_map(|a| a.author_image_id).collect();
    let tags = api::tag_names(conn, &ids)?;
    let counts = crate::db::comments::save_counts(conn, &ids)?;
    let images = api::image_urls(conn, &pictures)?;
    let (saved, followed) = match viewer {
        Some(member) => (
            crate::db::comments::saved_among(conn, member.id, &ids)?,
            profiles::followed_among(conn, member.id, &authors)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let reads_all = viewer.is_some_and(|m| m.can_read_members_only(db::now()));
    let mut out = Vec::with_capacity(articles.len());
    for article in articles {
        let mut value = json!({
            "slug": article.slug,
            "title": article.title,
            "description": article.summary,
            "tagList": tags.get(&article.id).cloned().unwrap_or_default(),
            "createdAt": stamp(article.published_at.unwrap_or(article.created_at)),
            "updatedAt": stamp(article.updated_at),
            "favorited": saved.contains(&article.id),
            "favoritesCount": counts.get(&article.id).copied().unwrap_or(0),
            "membersOnly": article.is_members_only(),
            "author": {
                "username": article.author_handle,
                "bio": article.author_bio,
                "image": picture(base, &images, article.author_image_id),
                "following": followed.contains(&article.author_id),
            },
        });
        if with_body {
            let markdown = api::markdown_of(conn, article.id)?;
            let whole = !article.is_members_only()
                || reads_all
                || viewer.is_some_and(|m| m.id == article.author_id);
            value["body"] = Value::String(if whole {
                markdown
            } else {
                crate::domain::markdown::render(&markdown).teaser_text
            });
            value["teaserOnly"] = Value::Bool(!whole);
        }
        out.push(value);
    }
    Ok(out)
}

/// A person's picture as an absolute address, or "" when they have none.
pub fn picture(
    base: &crate::config::BaseUrl,
    images: &HashMap<i32, String>,
    id: Option<i32>,
) -> String {
    id.and_then(|id| images.get(&id))
        .map(|path| base.join(path))
        .unwrap_or_default()
}

/// A query value of at most 100 characters.
fn short_param(req: &HttpRequest, name: &str) -> Result<Option<String>, ApiError> {
    match crate::routes::query_param(req, name) {
        Some(value) if value.chars().count() > 100 => {
            Err(ApiError::invalid(name, "must be at most 100 characters"))
        }
        other => Ok(other),
    }
}

/// `GET /api/articles`, newest first, narrowed by `tag`, `author` and `favorited` (a username),
/// `limit` (1 to 100, 20 by default) at `offset`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> ApiResult {
    let viewer = optional_caller(&req, &state).await?.map(|c| c.member);
    let limit = number_param(&req, "limit", 1..=100, 20)?;
    let offset = number_param(&req, "offset", 0..=1_000_000, 0)?;
    let tag = short_param(&req, "tag")?;
    let author = short_param(&req, "author")?;
    let favorited = short_param(&req, "favorited")?;
    let base = state.site.base_url.clone();
    let (articles, total) = db::run(&state.pool, move |conn| {
        let mut filter = Filter::default();
        let mut nothing = false;
        if let Some(tag) = tag {
            match Slug::from_title(&tag) {
                Ok(slug) => match api::tag_id(conn, slug.as_str())? {
                    Some(id) => filter.tag_id = Some(id),
                    None => nothing = true,
                },
                Err(_) => nothing = true,
            }
        }
        if let Some(handle) = author {
            match Profile::by_handle(conn, &handle)? {
                Some(profile) => filter.author_id = Some(profile.id),
                None => nothing = true,
            }
        }
        // What a member saved is theirs alone: only they see the list (to anyone else it is
        // empty, as it is for a name nobody has).
        if let Some(handle) = favorited {
            match Profile::by_handle(conn, &handle)? {
                Some(profile) if viewer.as_ref().is_some_and(|v| v.id == profile.id) => {
                    filter.saved_by = Some(profile.id);
                }
                _ => nothing = true,
            }
        }
        if nothing {
            return Ok((Vec::new(), 0));
        }
        let (page, total) = ApiArticle::page(conn, &filter, offset, limit)?;
        Ok((
            articles_json(conn, &base, &page, viewer.as_ref(), false)?,
            total,
        ))
    })
    .await?;
    Ok(reply(
        StatusCode::OK,
        &json!({"articles": articles, "articlesCount": total}),
    ))
}

/// `GET /api/articles/feed`: the newest articles of the authors the caller follows.
pub async fn feed(req: HttpRequest, state: web::Data<AppState>) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let limit = number_param(&req, "limit", 1..=100, 20)?;
    let offset = number_param(&req, "offset", 0..=1_000_000, 0)?;
    let base = state.site.base_url.clone();
    let (articles, total) = db::run(&state.pool, move |conn| {
        let filter = Filter {
            followed_by: Some(member.id),
            ..Filter::default()
        };
        let (page, total) = ApiArticle::page(conn, &filter, offset, limit)?;
        Ok((
            articles_json(conn, &base, &page, Some(&member), false)?,
            total,
        ))
    })
    .await?;
    Ok(reply(
        StatusCode::OK,
        &json!({"articles": articles, "articlesCount": total}),
    ))
}

/// The article with `slug` as `viewer` may see it: published, or a draft of their own or for
/// staff.
pub fn visible(
    conn: &mut DbConn,
    slug: &str,
    viewer: Option<&Member>,
) -> Result<ApiArticle, ApiError> {
    let article = ApiArticle::by_slug(conn, slug)?.ok_or_else(|| ApiError::not_found("article"))?;
    let shown = article.status == PUBLISHED
        || viewer.is_some_and(|m| m.is_staff() || m.id == article.author_id);
    if !shown {
        return Err(ApiError::not_found("article"));
    }
    Ok(article)
}

/// `{"article": ...}` for the article with `slug`, as `viewer` sees it.
pub async fn article_reply(
    state: &AppState,
    slug: String,
    viewer: Option<Member>,
    status: StatusCode,
) -> ApiResult {
    let base = state.site.base_url.clone();
    let value = db::run(&state.pool, move |conn| {
        let article = match visible(conn, &slug, viewer.as_ref()) {
            Ok(article) => article,
            Err(error) => return Ok(Err(error)),
        };
        let mut values = articles_json(conn, &base, &[article], viewer.as_ref(), true)?;
        Ok(Ok(values.pop().unwrap_or(Value::Null)))
    })
    .await??;
    Ok(reply(status, &json!({ "article": value })))
}

/// `GET /api/articles/{slug}`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult {
    let viewer = optional_caller(&req, &state).await?.map(|c| c.member);
    article_reply(&state, slug.into_inner(), viewer, StatusCode::OK).await
}

/// True when `member` may write articles at all.
fn may_write(member: &Member, settings: &SiteSettings) -> bool {
    member.is_staff()
        || (settings.members_may_publish && member.access(db::now()).reads_members_only())
}

fn refused_writing(settings: &SiteSettings) -> ApiError {
    if settings.members_may_publish {
        ApiError::forbidden(
            "article",
            "can be written by members whose trial or membership runs",
        )
    } else {
        ApiError::forbidden("article", "can be written by the site's editors only")
    }
}

/// The tag names under `tagList`, if given; 422 when it is not a list of text.
fn tag_list(object: &serde_json::Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    match object.get("tagList") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| ApiError::invalid("tagList", "must be a list of tag names")),
        Some(_) => Err(ApiError::invalid("tagList", "must be a list of tag names")),
    }
}

/// Checks the text of an article by the editor's rules; 422 with every problem otherwise.
fn checked(
    title: &str,
    summary: &str,
    body: &str,
    tags: &[String],
) -> Result<ArticleText, ApiError> {
    let mut errors = FieldErrors::default();
    let text = check_text(title, summary, body, tags, &mut errors);
    if errors.is_empty() {
        Ok(text)
    } else {
        Err(ApiError::from_fields(&errors, FIELDS))
    }
}

/// `POST /api/articles`: published at once, under the caller's handle, public (editors may send
/// `"membersOnly": true`).
pub async fn create(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let settings = crate::routes::account::settings(&state).await?;
    if !may_write(&member, &settings) {
        return Err(refused_writing(&settings));
    }
    let article = object_in(&body, "article")?;
    let tags = tag_list(&article)?.unwrap_or_default();
    let text = checked(
        &text_in(&article, "title")?.unwrap_or_default(),
        &text_in(&article, "description")?.unwrap_or_default(),
        &text_in(&article, "body")?.unwrap_or_default(),
        &tags,
    )?;
    let slug = Slug::from_title(&text.title)
        .map_err(|_| ApiError::invalid("title", "cannot be made into an article's address"))?;
    let members_only = matches!(article.get("membersOnly"), Some(Value::Bool(true)));
    if members_only && !member.is_staff() {
        return Err(ApiError::forbidden(
            "membersOnly",
            "is for editors to choose",
        ));
    }
    flood_check(&state.auth.floods.publish, &format!("member {}", member.id))?;
    let rendered = crate::domain::markdown::render(&text.body);
    let author = member.clone();
    let written = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let free = api::free_slug(conn, &slug)?;
            let slug = Slug::parse(&free).map_err(|_| AppError::NotFound)?;
            let tag_ids = Tag::find_or_create_all(conn, &text.tags)?;
            let now = db::now();
            let input = ArticleInput {
                slug: &slug,
                title: &text.title,
                summary: &text.summary,
                body: &text.body,
                author_id: author.id,
                category_id: None,
                tag_ids: &tag_ids,
                status: PUBLISHED,
                visibility: if members_only { MEMBERS_ONLY } else { PUBLIC },
                featured: false,
                published_at: Some(now),
                updated_at: now,
            };
            let Saved::Written(id) = store(conn, &input, &rendered, SaveTarget::New)? else {
                return Err(AppError::NotFound);
            };
            audit::record(
                conn,
                &audit_actor(&author),
                "publish article through the API",
                &format!("article #{id} “{}”", text.title),
                "",
                PUBLISHED,
            )?;
            Ok(free)
        })
    })
    .await?;
    state.pages.invalidate();
    article_reply(&state, written, Some(member), StatusCode::CREATED).await
}

fn audit_actor(member: &Member) -> audit::Actor {
    audit::Actor {
        id: member.id,
        name: member.name.clone(),
    }
}

/// The article with `slug` when `member` may change it: their own (while they may write), or any
/// for editors and admins.
fn changeable(
    conn: &mut DbConn,
    slug: &str,
    member: &Member,
    settings: &SiteSettings,
) -> Result<EditorArticle, ApiError> {
    let found = visible(conn, slug, Some(member))?;
    if !member.is_staff() {
        if found.author_id != member.id {
            return Err(ApiError::forbidden("article", "belongs to someone else"));
        }
        if !may_write(member, settings) {
            return Err(refused_writing(settings));
        }
    }
    EditorArticle::find(conn, found.id)?.ok_or_else(|| ApiError::not_found("article"))
}

/// `PUT /api/articles/{slug}`: any of title, description, body and tagList; the address stays.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let settings = crate::routes::account::settings(&state).await?;
    flood_check(&state.auth.floods.publish, &format!("member {}", member.id))?;
    let changes = object_in(&body, "article")?;
    let title = text_in(&changes, "title")?;
    let summary = text_in(&changes, "description")?;
    let markdown = text_in(&changes, "body")?;
    let tags = tag_list(&changes)?;
    let slug = slug.into_inner();
    let author = member.clone();
    let written = db::run(&state.pool, move |conn| {
        let current = match changeable(conn, &slug, &author, &settings) {
            Ok(current) => current,
            Err(error) => return Ok(Err(error)),
        };
        let tags = match tags {
            Some(tags) => tags,
            None => EditorArticle::tag_names(conn, current.id)?,
        };
        let text = match checked(
            title.as_deref().unwrap_or(&current.title),
            summary.as_deref().unwrap_or(&current.summary),
            markdown.as_deref().unwrap_or(&current.body_markdown),
            &tags,
        ) {
            Ok(text) => text,
            Err(error) => return Ok(Err(error)),
        };
        let rendered = crate::domain::markdown::render(&text.body);
        let saved = db::write_transaction(conn, |conn| {
            let slug = Slug::parse(&current.slug).map_err(|_| AppError::NotFound)?;
            let tag_ids = Tag::find_or_create_all(conn, &text.tags)?;
            let input = ArticleInput {
                slug: &slug,
                title: &text.title,
                summary: &text.summary,
                body: &text.body,
                author_id: current.author_id,
                category_id: current.category_id,
                tag_ids: &tag_ids,
                status: &current.status,
                visibility: &current.visibility,
                featured: current.featured,
                published_at: current.published_at,
                updated_at: db::now(),
            };
            let target = SaveTarget::ById {
                id: current.id,
                version: current.version,
            };
            let saved = store(conn, &input, &rendered, target)?;
            if saved == Saved::Conflict {
                return Ok(Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "article",
                    "was changed by someone else meanwhile: read it again",
                )));
            }
            audit::record(
                conn,
                &audit_actor(&author),
                "change article through the API",
                &format!("article #{} “{}”", current.id, text.title),
                "",
                "",
            )?;
            Ok::<_, AppError>(Ok(current.slug.clone()))
        })?;
        Ok(saved)
    })
    .await??;
    state.pages.invalidate();
    article_reply(&state, written, Some(member), StatusCode::OK).await
}

/// `DELETE /api/articles/{slug}`: the author's own, or any for editors and admins.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let settings = crate::routes::account::settings(&state).await?;
    flood_check(&state.auth.floods.publish, &format!("member {}", member.id))?;
    let slug = slug.into_inner();
    db::run(&state.pool, move |conn| {
        let current = match changeable(conn, &slug, &member, &settings) {
            Ok(current) => current,
            Err(error) => return Ok(Err(error)),
        };
        db::write_transaction(conn, |conn| {
            crate::db::editing::delete(conn, current.id)?;
            audit::record(
                conn,
                &audit_actor(&member),
                "delete article through the API",
                &format!("article #{} “{}”", current.id, current.title),
                &current.status,
                "deleted",
            )
        })?;
        Ok(Ok(()))
    })
    .await??;
    state.pages.invalidate();
    Ok(HttpResponse::NoContent().finish())
}
