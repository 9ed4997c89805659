//! The `slug_redirects` table: old addresses of articles, categories and tags, answered with a
//! permanent redirect to the current one.

use diesel::prelude::*;

use crate::db::DbConn;

use super::schema::slug_redirects;

pub const ARTICLE: &str = "article";
pub const CATEGORY: &str = "category";
pub const TAG: &str = "tag";
/// An author's old handle.
pub const AUTHOR: &str = "author";

/// Remembers that `old` led to `target_id`. The new slug stops being a redirect, if it was one.
pub fn remember(
    conn: &mut DbConn,
    kind: &str,
    old: &str,
    new: &str,
    target_id: i32,
) -> QueryResult<()> {
    diesel::delete(
        slug_redirects::table
            .filter(slug_redirects::kind.eq(kind))
            .filter(slug_redirects::old_slug.eq(new)),
    )
    .execute(conn)?;
    crate::on_backend!(conn, c => diesel::insert_into(slug_redirects::table)
        .values((
            slug_redirects::kind.eq(kind),
            slug_redirects::old_slug.eq(old),
            slug_redirects::target_id.eq(target_id),
            slug_redirects::created_at.eq(super::now()),
        ))
        .on_conflict((slug_redirects::kind, slug_redirects::old_slug))
        .do_update()
        .set(slug_redirects::target_id.eq(target_id))
        .execute(c))
    .map(drop)
}

/// What an old slug now leads to.
pub fn target(conn: &mut DbConn, kind: &str, old: &str) -> QueryResult<Option<i32>> {
    slug_redirects::table
        .filter(slug_redirects::kind.eq(kind))
        .filter(slug_redirects::old_slug.eq(old))
        .select(slug_redirects::target_id)
        .first(conn)
        .optional()
}

/// Where an old address now is, as a path, when what it led to is still public.
pub fn moved(conn: &mut DbConn, kind: &str, old: &str) -> QueryResult<Option<String>> {
    use super::schema::{articles, categories, tags};
    let Some(id) = target(conn, kind, old)? else {
        return Ok(None);
    };
    Ok(match kind {
        ARTICLE => articles::table
            .filter(articles::id.eq(id))
            .filter(articles::status.eq(super::articles::PUBLISHED))
            .select(articles::slug)
            .first::<String>(conn)
            .optional()?
            .map(|slug| format!("/articles/{slug}")),
        CATEGORY => categories::table
            .find(id)
            .select(categories::slug)
            .first::<String>(conn)
            .optional()?
            .map(|slug| format!("/categories/{slug}")),
        AUTHOR => super::schema::users::table
            .find(id)
            .select(super::schema::users::handle)
            .first::<String>(conn)
            .optional()?
            .map(|handle| format!("/authors/{handle}")),
        _ => tags::table
            .find(id)
            .select(tags::slug)
            .first::<String>(conn)
            .optional()?
            .map(|slug| format!("/tags/{slug}")),
    })
}
