//! People's pages: handles (unique whatever their case, old ones redirected), bios and pictures,
//! who has a public page, and follows.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::DbConn;
use super::articles::PUBLISHED;
use super::schema::{articles, comments, follows, handle_redirects, images, users};
use crate::domain::Handle;

/// A person as their page and the API show them.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Profile {
    pub id: i32,
    pub name: String,
    pub handle: String,
    pub bio: String,
    pub image_id: Option<i32>,
}

impl Profile {
    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The person with this handle, matched exactly first and then whatever its case.
    pub fn by_handle(conn: &mut DbConn, handle: &str) -> QueryResult<Option<Self>> {
        if let Some(found) = users::table
            .filter(users::handle.eq(handle))
            .select(Self::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(Some(found));
        }
        users::table
            .filter(users::handle_key.eq(handle.to_ascii_lowercase()))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The address of their picture, if they chose one.
    pub fn image_url(&self, conn: &mut DbConn) -> QueryResult<Option<String>> {
        let Some(id) = self.image_id else {
            return Ok(None);
        };
        Ok(images::table
            .find(id)
            .select((images::hash, images::content_type))
            .first::<(String, String)>(conn)
            .optional()?
            .map(|(hash, kind)| format!("/images/{hash}.{}", super::images::extension_of(&kind))))
    }

    /// True when the person has a public page: they wrote a published article or a comment.
    pub fn is_public(&self, conn: &mut DbConn) -> QueryResult<bool> {
        let wrote: bool = diesel::select(diesel::dsl::exists(
            articles::table
                .filter(articles::author_id.eq(self.id))
                .filter(articles::status.eq(PUBLISHED)),
        ))
        .get_result(conn)?;
        if wrote {
            return Ok(true);
        }
        diesel::select(diesel::dsl::exists(
            comments::table.filter(comments::user_id.eq(self.id)),
        ))
        .get_result(conn)
    }
}

/// True when another person than `except` has `handle`, whatever its case.
pub fn handle_taken(conn: &mut DbConn, handle: &Handle, except: Option<i32>) -> QueryResult<bool> {
    let mut query = users::table
        .filter(users::handle_key.eq(handle.key()))
        .select(users::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.first::<i32>(conn).optional()?.is_some())
}

/// `wanted`, or the first of `wanted-2`, `wanted-3`, … nobody has. Call it in the transaction that
/// stores the handle.
pub fn free_handle(conn: &mut DbConn, wanted: &Handle, except: Option<i32>) -> QueryResult<Handle> {
    if !handle_taken(conn, wanted, except)? {
        return Ok(wanted.clone());
    }
    // A few numbers in order (ada-2, ada-3), then random ones: a common name costs a few
    // lookups of the index, never a walk through every number taken.
    for n in 2..6 {
        let numbered = wanted.numbered(n);
        if !handle_taken(conn, &numbered, except)? {
            return Ok(numbered);
        }
    }
    loop {
        let numbered = wanted.numbered(rand_suffix());
        if !handle_taken(conn, &numbered, except)? {
            return Ok(numbered);
        }
    }
}

fn rand_suffix() -> u32 {
    let mut bytes = [0u8; 4];
    rand::fill(&mut bytes);
    10_000 + u32::from_le_bytes(bytes) % 100_000_000
}

/// Why a profile could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("the handle is taken")]
    HandleTaken,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Gives the person `handle` and `bio`; the old handle keeps leading to their page. Call it in a
/// write transaction. Returns true when the handle changed.
pub fn set_profile(
    conn: &mut DbConn,
    id: i32,
    handle: &Handle,
    bio: &str,
) -> Result<bool, ProfileError> {
    if handle_taken(conn, handle, Some(id))? {
        return Err(ProfileError::HandleTaken);
    }
    let old: String = users::table.find(id).select(users::handle).first(conn)?;
    if old != handle.as_str() {
        claim(conn, handle)?;
        if !old.eq_ignore_ascii_case(handle.as_str()) {
            crate::on_backend!(conn, c => diesel::insert_into(handle_redirects::table)
                .values((
                    handle_redirects::old_handle.eq(old.to_ascii_lowercase()),
                    handle_redirects::user_id.eq(id),
                    handle_redirects::created_at.eq(super::now()),
                ))
                .on_conflict(handle_redirects::old_handle)
                .do_update()
                .set(handle_redirects::user_id.eq(id))
                .execute(c))?;
        }
    }
    diesel::update(users::table.find(id))
        .set((
            users::handle.eq(handle.as_str()),
            users::handle_key.eq(handle.key()),
            users::bio.eq(bio),
            users::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(old != handle.as_str())
}

/// Tells the caches that the person's page changed (their bio or picture), in the caller's
/// transaction; returns its path. A new handle is announced as a change of everything
/// ([`super::changes::content_changed`]): bylines show it.
pub fn page_changed(conn: &mut DbConn, id: i32, renamed: bool) -> QueryResult<String> {
    let handle: String = users::table.find(id).select(users::handle).first(conn)?;
    let path = format!("/authors/{handle}");
    if renamed {
        super::changes::content_changed(conn)?;
    } else {
        super::changes::announce(conn, &path)?;
    }
    Ok(path)
}

/// Makes `handle` nobody's old handle any more: it is someone's own now.
pub fn claim(conn: &mut DbConn, handle: &Handle) -> QueryResult<()> {
    diesel::delete(
        handle_redirects::table
            .filter(handle_redirects::old_handle.eq(handle.as_str().to_ascii_lowercase())),
    )
    .execute(conn)
    .map(drop)
}

/// The current handle of the person who had `old` before, if they are still here.
pub fn moved_handle(conn: &mut DbConn, old: &str) -> QueryResult<Option<String>> {
    handle_redirects::table
        .inner_join(users::table)
        .filter(handle_redirects::old_handle.eq(old.to_ascii_lowercase()))
        .select(users::handle)
        .first(conn)
        .optional()
}

/// Sets or clears the person's picture; the picture they uploaded before goes, unless something
/// else shows it: then its address is returned, for the caller to forget its cached copy (other
/// instances are told at commit).
pub fn set_image(conn: &mut DbConn, id: i32, image_id: Option<i32>) -> QueryResult<Option<String>> {
    let before: Option<i32> = users::table
        .find(id)
        .select(users::image_id)
        .first(conn)
        .optional()?
        .flatten();
    diesel::update(users::table.find(id))
        .set(users::image_id.eq(image_id))
        .execute(conn)?;
    match before.filter(|old| Some(*old) != image_id) {
        Some(old) => forget_picture(conn, id, old),
        None => Ok(None),
    }
}

/// Deletes image `image_id` when it is a picture `user_id` uploaded of themselves that no person
/// and no article shows any more.
pub fn forget_picture(
    conn: &mut DbConn,
    user_id: i32,
    image_id: i32,
) -> QueryResult<Option<String>> {
    let shown_by_someone = users::table
        .filter(users::image_id.eq(image_id))
        .filter(users::id.ne(user_id));
    let in_use: bool = diesel::select(diesel::dsl::exists(shown_by_someone)).get_result(conn)?;
    let cover: bool = diesel::select(diesel::dsl::exists(
        articles::table.filter(articles::cover_image_id.eq(image_id)),
    ))
    .get_result(conn)?;
    if in_use || cover {
        return Ok(None);
    }
    let deleted: Option<(String, String)> = diesel::delete(
        images::table
            .filter(images::id.eq(image_id))
            .filter(images::uploaded_by.eq(user_id))
            .filter(images::name.eq(super::images::picture_name(user_id))),
    )
    .returning((images::hash, images::content_type))
    .get_result(conn)
    .optional()?;
    let Some((hash, kind)) = deleted else {
        return Ok(None);
    };
    let path = format!("/images/{hash}.{}", super::images::extension_of(&kind));
    super::changes::announce(conn, &path)?;
    Ok(Some(path))
}

/// Gives people still called `member-{id}` (everyone who existed before handles) a handle made
/// from their name, once; returns how many. Runs at start-up, after the migrations.
pub fn derive_handles(conn: &mut DbConn) -> QueryResult<usize> {
    super::write_transaction(conn, |conn| {
        let unnamed: Vec<(i32, String, String)> = users::table
            .filter(users::handle.like("member-%"))
            .select((users::id, users::name, users::handle))
            .load(conn)?;
        let mut changed = 0;
        for (id, name, handle) in unnamed {
            if handle != format!("member-{id}") {
                continue;
            }
            let wanted = Handle::from_name(&name);
            let free = free_handle(conn, &wanted, Some(id))?;
            diesel::update(users::table.find(id))
                .set((
                    users::handle.eq(free.as_str()),
                    users::handle_key.eq(free.key()),
                ))
                .execute(conn)?;
            changed += 1;
        }
        Ok(changed)
    })
}

/// `follower` follows `author` (again: nothing changes). False when `author` is `follower`.
pub fn follow(conn: &mut DbConn, follower: i32, author: i32) -> QueryResult<bool> {
    if follower == author {
        return Ok(false);
    }
    crate::on_backend!(conn, c => diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower),
            follows::author_id.eq(author),
            follows::created_at.eq(super::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(true)
}

pub fn unfollow(conn: &mut DbConn, follower: i32, author: i32) -> QueryResult<()> {
    diesel::delete(follows::table.find((follower, author)))
        .execute(conn)
        .map(drop)
}

pub fn is_following(conn: &mut DbConn, follower: i32, author: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(follows::table.find((follower, author)))).get_result(conn)
}

/// Of `authors`, those `follower` follows.
pub fn followed_among(conn: &mut DbConn, follower: i32, authors: &[i32]) -> QueryResult<Vec<i32>> {
    if authors.is_empty() {
        return Ok(Vec::new());
    }
    follows::table
        .filter(follows::follower_id.eq(follower))
        .filter(follows::author_id.eq_any(authors))
        .select(follows::author_id)
        .load(conn)
}

pub fn followers(conn: &mut DbConn, author: i32) -> QueryResult<i64> {
    follows::table
        .filter(follows::author_id.eq(author))
        .count()
        .get_result(conn)
}

/// The people `follower` follows, by name, each with whether their page is public (a private
/// one is shown by its handle only).
pub fn followed(conn: &mut DbConn, follower: i32) -> QueryResult<Vec<(Profile, bool)>> {
    let people: Vec<Profile> = follows::table
        .inner_join(users::table.on(users::id.eq(follows::author_id)))
        .filter(follows::follower_id.eq(follower))
        .order(users::name.asc())
        .select(Profile::as_select())
        .load(conn)?;
    people
        .into_iter()
        .map(|p| p.is_public(conn).map(|public| (p, public)))
        .collect()
}

/// People with a public page and when it last changed, for the sitemap: authors of published
/// articles (commenters' pages are public but not listed).
pub fn sitemap(conn: &mut DbConn) -> QueryResult<Vec<(String, PrimitiveDateTime)>> {
    let rows: Vec<(String, Option<PrimitiveDateTime>)> = users::table
        .inner_join(articles::table.on(articles::author_id.eq(users::id)))
        .filter(articles::status.eq(PUBLISHED))
        .group_by((users::id, users::handle))
        .select((users::handle, diesel::dsl::max(articles::updated_at)))
        .order(users::handle.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(handle, at)| at.map(|at| (handle, at)))
        .collect())
}
