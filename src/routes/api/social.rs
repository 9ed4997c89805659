//! Profiles and follows, favourites (the site's saved articles), comments and tags in the API.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::articles::{article_reply, picture, visible};
use super::{ApiError, ApiResult, caller, object_in, optional_caller, reply, stamp, text_in};
use crate::db::comments::{self, Comment};
use crate::db::profiles::{self, Profile};
use crate::db::users::Member;
use crate::db::{self, DbConn, api};
use crate::domain::CommentText;
use crate::routes::account::flood_check;
use crate::routes::community::may_comment;
use crate::views::AppState;

/// The person with `handle` as `viewer` may see them: whole when their page is public (they
/// wrote an article or a comment) or their own; to another logged-in member, a private page shows
/// its handle only (which anyone may learn by trying to take it), without bio or picture; to a
/// visitor, it does not exist.
fn visible_profile(
    conn: &mut DbConn,
    handle: &str,
    viewer: Option<&Member>,
) -> Result<Profile, ApiError> {
    let mut profile =
        Profile::by_handle(conn, handle)?.ok_or_else(|| ApiError::not_found("profile"))?;
    if viewer.is_some_and(|m| m.id == profile.id) || profile.is_public(conn)? {
        return Ok(profile);
    }
    if viewer.is_none() {
        return Err(ApiError::not_found("profile"));
    }
    profile.bio.clear();
    profile.image_id = None;
    Ok(profile)
}

fn profile_json(
    conn: &mut DbConn,
    base: &crate::config::BaseUrl,
    profile: &Profile,
    viewer: Option<&Member>,
) -> diesel::QueryResult<Value> {
    let following = match viewer {
        Some(member) => profiles::is_following(conn, member.id, profile.id)?,
        None => false,
    };
    Ok(json!({
        "username": profile.handle,
        "bio": profile.bio,
        "image": profile.image_url(conn)?.map(|path| base.join(&path)).unwrap_or_default(),
        "following": following,
    }))
}

/// `GET /api/profiles/{username}`.
pub async fn profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    handle: web::Path<String>,
) -> ApiResult {
    let viewer = optional_caller(&req, &state).await?.map(|c| c.member);
    follow_reply(&state, handle.into_inner(), viewer, None).await
}

/// Follows or stops following (`follow`), then answers with the profile; or only answers.
async fn follow_reply(
    state: &AppState,
    handle: String,
    viewer: Option<Member>,
    follow: Option<bool>,
) -> ApiResult {
    let base = state.site.base_url.clone();
    let (value, page) = db::run(&state.pool, move |conn| {
        let profile = match visible_profile(conn, &handle, viewer.as_ref()) {
            Ok(profile) => profile,
            Err(error) => return Ok(Err(error)),
        };
        let page = format!("/authors/{}", profile.handle);
        if let (Some(keep), Some(member)) = (follow, &viewer) {
            if member.id == profile.id {
                return Ok(Err(ApiError::invalid(
                    "username",
                    "is you: nobody follows themselves",
                )));
            }
            db::write_transaction(conn, |conn| {
                if keep {
                    profiles::follow(conn, member.id, profile.id)?;
                } else {
                    profiles::unfollow(conn, member.id, profile.id)?;
                }
                crate::db::changes::announce(conn, &page)
            })?;
        }
        Ok(Ok((
            profile_json(conn, &base, &profile, viewer.as_ref())?,
            page,
        )))
    })
    .await??;
    if follow.is_some() {
        state.pages.invalidate_path(&page);
    }
    Ok(reply(StatusCode::OK, &json!({ "profile": value })))
}

/// `POST /api/profiles/{username}/follow`.
pub async fn follow(
    req: HttpRequest,
    state: web::Data<AppState>,
    handle: web::Path<String>,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    follow_reply(&state, handle.into_inner(), Some(member), Some(true)).await
}

/// `DELETE /api/profiles/{username}/follow`.
pub async fn unfollow(
    req: HttpRequest,
    state: web::Data<AppState>,
    handle: web::Path<String>,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    follow_reply(&state, handle.into_inner(), Some(member), Some(false)).await
}

/// Saves the article for the caller, or forgets it, and answers with the article.
async fn favorite_reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: String,
    keep: bool,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let viewer = member.clone();
    let path = format!("/articles/{slug}");
    let announced = path.clone();
    let wanted = slug.clone();
    db::run(&state.pool, move |conn| {
        let article = match visible(conn, &wanted, Some(&member)) {
            Ok(article) => article,
            Err(error) => return Ok(Err(error)),
        };
        db::write_transaction(conn, |conn| {
            if keep {
                comments::save(conn, member.id, article.id)?;
            } else {
                comments::unsave(conn, member.id, article.id)?;
            }
            crate::db::changes::announce(conn, &announced)
        })?;
        Ok(Ok(()))
    })
    .await??;
    state.pages.invalidate_path(&path);
    article_reply(&state, slug, Some(viewer), StatusCode::OK).await
}

/// `POST /api/articles/{slug}/favorite`.
pub async fn favorite(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult {
    favorite_reply(req, state, slug.into_inner(), true).await
}

/// `DELETE /api/articles/{slug}/favorite`.
pub async fn unfavorite(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult {
    favorite_reply(req, state, slug.into_inner(), false).await
}

fn comment_json(
    base: &crate::config::BaseUrl,
    comment: &Comment,
    images: &std::collections::HashMap<i32, String>,
    followed: &[i32],
) -> Value {
    json!({
        "id": comment.id,
        "createdAt": stamp(comment.created_at),
        "updatedAt": stamp(comment.updated_at),
        "body": comment.body,
        "author": {
            "username": comment.author_handle,
            "bio": comment.author_bio,
            "image": picture(base, images, comment.author_image_id),
            "following": followed.contains(&comment.user_id),
        },
    })
}

/// The published article with `slug` whose comments `viewer` may read: a public one, or a
/// members-only one for members with access (401 for a visitor, 403 for a member without).
fn readable(
    conn: &mut DbConn,
    slug: &str,
    viewer: Option<&Member>,
) -> Result<crate::db::api::ApiArticle, ApiError> {
    let article = visible(conn, slug, viewer)?;
    if article.is_members_only() && !viewer.is_some_and(|m| m.can_read_members_only(db::now())) {
        return Err(match viewer {
            None => ApiError::unauthorized(),
            Some(_) => ApiError::forbidden(
                "comments",
                "of members-only articles are for members whose trial or membership runs",
            ),
        });
    }
    Ok(article)
}

/// `GET /api/articles/{slug}/comments`, oldest first.
pub async fn comments(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult {
    let viewer = optional_caller(&req, &state).await?.map(|c| c.member);
    let base = state.site.base_url.clone();
    let slug = slug.into_inner();
    let list = db::run(&state.pool, move |conn| {
        let article = match readable(conn, &slug, viewer.as_ref()) {
            Ok(article) => article,
            Err(error) => return Ok(Err(error)),
        };
        let list = Comment::for_article(conn, article.id)?;
        let pictures: Vec<i32> = list.iter().filter_map(|c| c.author_image_id).collect();
        let writers: Vec<i32> = list.iter().map(|c| c.user_id).collect();
        let images = api::image_urls(conn, &pictures)?;
        let followed = match &viewer {
            Some(member) => profiles::followed_among(conn, member.id, &writers)?,
            None => Vec::new(),
        };
        Ok(Ok(list
            .iter()
            .map(|c| comment_json(&base, c, &images, &followed))
            .collect::<Vec<_>>()))
    })
    .await??;
    Ok(reply(StatusCode::OK, &json!({ "comments": list })))
}

/// `POST /api/articles/{slug}/comments`: as the comment form, with its rules and limits.
pub async fn add_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let comment = object_in(&body, "comment")?;
    let text = CommentText::parse(&text_in(&comment, "body")?.unwrap_or_default())
        .map_err(|message| ApiError::invalid("body", message))?;
    if !may_comment(&member) {
        return Err(ApiError::forbidden(
            "comments",
            "are for members whose trial or membership runs",
        ));
    }
    flood_check(
        &state.auth.floods.comment_member,
        &format!("member {}", member.id),
    )?;
    flood_check(
        &state.auth.floods.comment_client,
        &state.auth.clients.key(&req),
    )?;
    let base = state.site.base_url.clone();
    let slug = slug.into_inner();
    let path = format!("/articles/{slug}");
    let announced = path.clone();
    let posted = db::run(&state.pool, move |conn| {
        let article = match readable(conn, &slug, Some(&member)) {
            Ok(article) => article,
            Err(error) => return Ok(Err(error)),
        };
        if article.status != crate::db::articles::PUBLISHED {
            return Ok(Err(ApiError::not_found("article")));
        }
        let closed = crate::db::articles::ArticleDetail::find_published(conn, &slug)?
            .is_none_or(|a| a.comments_closed);
        if closed {
            return Ok(Err(ApiError::forbidden(
                "comments",
                "are closed on this article",
            )));
        }
        let comment = db::write_transaction(conn, |conn| {
            let comment = Comment::create(conn, article.id, member.id, text.as_str())?;
            crate::db::changes::announce(conn, &announced)?;
            crate::db::changes::announce(conn, &format!("/authors/{}", comment.author_handle))?;
            Ok::<_, diesel::result::Error>(comment)
        })?;
        let images = api::image_urls(
            conn,
            &comment.author_image_id.into_iter().collect::<Vec<_>>(),
        )?;
        Ok(Ok((
            comment_json(&base, &comment, &images, &[]),
            comment.author_handle,
        )))
    })
    .await??;
    let (posted, handle) = posted;
    state.pages.invalidate_path(&path);
    state.pages.invalidate_path(&format!("/authors/{handle}"));
    Ok(reply(StatusCode::OK, &json!({ "comment": posted })))
}

/// `DELETE /api/articles/{slug}/comments/{id}`: one's own, or any for editors and admins.
pub async fn delete_comment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult {
    let member = caller(&req, &state).await?.member;
    let (slug, id) = path.into_inner();
    let id: i32 = id.parse().map_err(|_| ApiError::not_found("comment"))?;
    let page = format!("/articles/{slug}");
    let announced = page.clone();
    let writer = db::run(&state.pool, move |conn| {
        let article = match visible(conn, &slug, Some(&member)) {
            Ok(article) => article,
            Err(error) => return Ok(Err(error)),
        };
        let Some(comment) = Comment::find(conn, article.id, id)? else {
            return Ok(Err(ApiError::not_found("comment")));
        };
        if comment.user_id != member.id && !member.is_staff() {
            return Ok(Err(ApiError::forbidden(
                "comment",
                "belongs to someone else",
            )));
        }
        let writer = db::write_transaction(conn, |conn| {
            crate::routes::community::delete_comment(conn, &comment, &member, &announced)
        })?;
        Ok(Ok(writer))
    })
    .await??;
    state.pages.invalidate_path(&page);
    state.pages.invalidate_path(&writer);
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/tags`: the tags of published articles, by name.
pub async fn tags(state: web::Data<AppState>) -> ApiResult {
    let tags = db::run(&state.pool, move |conn| Ok(api::tags_in_use(conn)?)).await?;
    Ok(reply(StatusCode::OK, &json!({ "tags": tags })))
}
