//! The editor and admin area under `/admin`. Editors manage articles, images, categories and
//! tags; admins also manage members and settings, and read the dashboard's member figures and the
//! audit log. Every route checks the role on the server (an anonymous visitor is sent to log in
//! and comes back; anyone else gets a 403 page), every page is `no-store`, every change is a POST
//! with a CSRF token that records who did what in the audit log.

pub mod articles;
pub mod dashboard;
pub mod editor;
pub mod images;
pub mod members;
pub mod preview;
pub mod settings;
pub mod topics;

use std::sync::Arc;

use crate::auth::Visitor;
use crate::db::audit::Actor;
use crate::db::settings::SiteSettings;
use crate::db::users::{ADMIN, Member};
use crate::db::{self};
use crate::error::AppError;
use crate::routes::forms::Fields;
use crate::views::{AppState, Layout};

/// Who may use a part of the area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Editors and admins.
    Staff,
    /// Admins only.
    Admin,
}

/// The member behind an admin request, if they may use this part.
pub fn allowed(visitor: &Visitor, need: Need) -> Result<Member, AppError> {
    match need {
        Need::Staff => visitor.require_staff().cloned(),
        Need::Admin => visitor.require_admin().cloned(),
    }
}

/// An admin POST: the member (with the role `need` asks), the fields, the CSRF token checked.
/// Who may write articles: editors and admins (`true`), and, while the setting "members may
/// publish" is on, members whose access runs (`false`), each limited to their own articles.
pub async fn writer(state: &AppState, visitor: &Visitor) -> Result<(Member, bool), AppError> {
    let member = visitor.require_member()?.clone();
    if member.is_staff() {
        return Ok((member, true));
    }
    let settings = settings(state).await?;
    if settings.members_may_publish && member.access(db::now()).reads_members_only() {
        Ok((member, false))
    } else {
        Err(AppError::Forbidden)
    }
}

/// Members' article writes (each clears every cached page) are limited: a burst, then a few a
/// minute.
pub fn limit_member_writes(state: &AppState, member: &Member) -> Result<(), AppError> {
    crate::routes::account::flood_check(
        &state.auth.floods.publish,
        &format!("member {}", member.id),
    )
}

/// [`writer`] for a form's submission, with its CSRF token checked.
pub async fn posted_by_writer(
    state: &AppState,
    visitor: &Visitor,
    body: &[u8],
) -> Result<(Member, bool, Fields), AppError> {
    let (member, staff) = writer(state, visitor).await?;
    let fields = Fields::parse(body);
    visitor.check_csrf(fields.get(crate::auth::csrf::FIELD))?;
    Ok((member, staff, fields))
}

/// The article `id` as `member` may change it: any for staff, their own for a member.
pub async fn own_article(
    state: &AppState,
    member: &Member,
    staff: bool,
    id: i32,
) -> Result<crate::db::editing::EditorArticle, AppError> {
    let article = db::run(&state.pool, move |conn| {
        Ok(crate::db::editing::EditorArticle::find(conn, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    if !staff && article.author_id != member.id {
        return Err(AppError::NotFound);
    }
    Ok(article)
}

pub fn posted(visitor: &Visitor, need: Need, body: &[u8]) -> Result<(Member, Fields), AppError> {
    let member = allowed(visitor, need)?;
    let fields = Fields::parse(body);
    visitor.check_csrf(fields.get(crate::auth::csrf::FIELD))?;
    Ok((member, fields))
}

pub fn actor(member: &Member) -> Actor {
    Actor {
        id: member.id,
        name: member.name.clone(),
    }
}

/// The navigation of the area, with the current part.
#[derive(Debug, Clone)]
pub struct AdminNav {
    pub current: &'static str,
    pub admin: bool,
    /// False for a member writing their own articles: they see those only.
    pub staff: bool,
}

/// The layout of an admin page, with the area's navigation.
pub fn layout(
    state: &AppState,
    visitor: &Visitor,
    settings: &SiteSettings,
    path: &str,
    title: &str,
) -> Layout {
    Layout::new(&state.site, path, title, "The editor and admin area.")
        .with_visitor(visitor, settings)
        .in_section("admin")
        .noindex()
}

pub fn nav(member: &Member, current: &'static str) -> AdminNav {
    AdminNav {
        current,
        admin: member.role == ADMIN,
        staff: member.is_staff(),
    }
}

/// The settings, through the content cache.
pub async fn settings(state: &AppState) -> Result<SiteSettings, AppError> {
    let cache = Arc::clone(&state.cache);
    db::run(&state.pool, move |conn| Ok(cache.settings(conn)?)).await
}
