//! Author pages (`/authors/{handle}`), following, and the member's lists: saved articles and
//! the newest from the authors they follow.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::sync::Arc;

use super::account_area::posted;
use super::forms::{render_private, see_other};
use super::{PER_PAGE, page_number};
use crate::auth::Visitor;
use crate::db::articles::ArticleCard;
use crate::db::profiles::{self, Profile};
use crate::db::{self};
use crate::domain::Pagination;
use crate::domain::pagination::page_url;
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "authors/show.html")]
struct AuthorPage {
    layout: Layout,
    profile: Profile,
    image_url: Option<String>,
    articles: Vec<ArticleCard>,
    pagination: Pagination,
    total: i64,
    followers: i64,
    /// `None` for a visitor and on one's own page; whether the member follows this author.
    following: Option<bool>,
    own: bool,
    /// False while the page is the member's own and nobody else can see it yet.
    public: bool,
    csrf_token: String,
}

impl AuthorPage {
    fn bio_paragraphs(&self) -> Vec<&str> {
        self.profile
            .bio
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }
}

/// `GET /authors/{handle}`: an author's bio and published articles, newest first. Public once they
/// wrote a published article or a comment; before that, only they see it.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    handle: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let handle = handle.into_inner();
    if handle.is_empty() || handle.len() > 64 {
        return Err(AppError::NotFound);
    }
    let page = page_number(&req);
    let viewer = visitor.member().map(|m| m.id);
    let cache = Arc::clone(&state.cache);
    let wanted = handle.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(profile) = Profile::by_handle(conn, &wanted)? else {
            return Err(match profiles::moved_handle(conn, &wanted)? {
                Some(handle) => AppError::MovedTo(format!("/authors/{handle}")),
                None => AppError::NotFound,
            });
        };
        if profile.handle != wanted {
            return Err(AppError::MovedTo(format!("/authors/{}", profile.handle)));
        }
        let public = profile.is_public(conn)?;
        let own = viewer == Some(profile.id);
        if !public && !own {
            return Err(AppError::NotFound);
        }
        let (ids, total) = crate::db::api::page_ids(
            conn,
            &crate::db::api::Filter {
                author_id: Some(profile.id),
                ..Default::default()
            },
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        let articles = ArticleCard::by_ids(conn, &ids)?;
        let followers = profiles::followers(conn, profile.id)?;
        let following = match viewer {
            Some(id) if id != profile.id => Some(profiles::is_following(conn, id, profile.id)?),
            _ => None,
        };
        let image_url = profile.image_url(conn)?;
        Ok((
            profile,
            image_url,
            articles,
            total,
            followers,
            following,
            own,
            public,
            cache.settings(conn)?,
        ))
    })
    .await?;
    let (profile, image_url, articles, total, followers, following, own, public, settings) = found;
    let base = format!("/authors/{}", profile.handle);
    let pagination = Pagination::new(&base, page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let description = if profile.bio.is_empty() {
        format!("Articles by {} on {}.", profile.name, settings.site_title)
    } else {
        profile.bio.chars().take(160).collect()
    };
    let mut layout = Layout::new(
        &state.site,
        &page_url(&base, pagination.current),
        &profile.name,
        &description,
    )
    .with_visitor(&visitor, &settings)
    .in_section("articles");
    if !public {
        layout = layout.noindex();
    }
    let page = AuthorPage {
        layout,
        csrf_token: if visitor.member().is_some() {
            visitor.csrf_token()
        } else {
            String::new()
        },
        profile,
        image_url,
        articles,
        pagination,
        total,
        followers,
        following,
        own,
        public,
    };
    render(&req, &page)
}

/// `POST /authors/{handle}/follow` and `.../unfollow`.
pub async fn follow(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (handle, action) = path.into_inner();
    let keep = match action.as_str() {
        "follow" => true,
        "unfollow" => false,
        _ => return Err(AppError::NotFound),
    };
    let (member, fields) = posted(&visitor, &body)?;
    let (name, page) = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let profile = Profile::by_handle(conn, &handle)?.ok_or(AppError::NotFound)?;
            if profile.id != member.id && !profile.is_public(conn)? {
                return Err(AppError::NotFound);
            }
            let page = format!("/authors/{}", profile.handle);
            if keep {
                profiles::follow(conn, member.id, profile.id)?;
            } else {
                profiles::unfollow(conn, member.id, profile.id)?;
            }
            crate::db::changes::announce(conn, &page)?;
            Ok((profile.name, page))
        })
    })
    .await?;
    state.pages.invalidate_path(&page);
    visitor.flash(&if keep {
        format!("You follow {name}: their new articles appear under From authors you follow.")
    } else {
        format!("You no longer follow {name}.")
    });
    let back = super::forms::local_path(fields.get("next"), &page).to_owned();
    Ok(see_other(&back))
}

#[derive(Template)]
#[template(path = "account/saved.html")]
struct SavedPage {
    layout: Layout,
    articles: Vec<ArticleCard>,
    pagination: Pagination,
    total: i64,
    csrf_token: String,
    next: String,
}

/// `GET /account/saved`: the member's saved articles, the last saved first.
pub async fn saved(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let (articles, total, settings) = db::run(&state.pool, move |conn| {
        let (ids, total) = crate::db::comments::saved_ids(
            conn,
            member.id,
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        Ok((
            ArticleCard::by_ids(conn, &ids)?,
            total,
            cache.settings(conn)?,
        ))
    })
    .await?;
    let pagination =
        Pagination::new("/account/saved", page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let path = page_url("/account/saved", pagination.current);
    let page = SavedPage {
        layout: Layout::new(
            &state.site,
            &path,
            "Your saved articles",
            "The articles you saved to read later.",
        )
        .with_visitor(&visitor, &settings)
        .in_section("account")
        .noindex(),
        csrf_token: visitor.csrf_token(),
        next: path,
        articles,
        pagination,
        total,
    };
    render_private(&page, actix_web::http::StatusCode::OK)
}

#[derive(Template)]
#[template(path = "account/following.html")]
struct FollowingPage {
    layout: Layout,
    authors: Vec<(Profile, bool)>,
    articles: Vec<ArticleCard>,
    pagination: Pagination,
    csrf_token: String,
}

/// `GET /account/following`: the authors the member follows, and their newest articles.
pub async fn following(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let page = page_number(&req);
    let cache = Arc::clone(&state.cache);
    let (authors, articles, total, settings) = db::run(&state.pool, move |conn| {
        let authors = profiles::followed(conn, member.id)?;
        let (ids, total) = crate::db::api::page_ids(
            conn,
            &crate::db::api::Filter {
                followed_by: Some(member.id),
                ..Default::default()
            },
            page.offset(PER_PAGE),
            PER_PAGE.into(),
        )?;
        // An empty list still has its one page.
        Ok((
            authors,
            ArticleCard::by_ids(conn, &ids)?,
            total,
            cache.settings(conn)?,
        ))
    })
    .await?;
    let pagination =
        Pagination::new("/account/following", page, PER_PAGE, total).ok_or(AppError::NotFound)?;
    let page = FollowingPage {
        layout: Layout::new(
            &state.site,
            &page_url("/account/following", pagination.current),
            "From authors you follow",
            "The newest articles of the authors you follow.",
        )
        .with_visitor(&visitor, &settings)
        .in_section("account")
        .noindex(),
        csrf_token: visitor.csrf_token(),
        authors,
        articles,
        pagination,
    };
    render_private(&page, actix_web::http::StatusCode::OK)
}
