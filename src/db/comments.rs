//! Comments under articles, and the articles members save for later.

use std::collections::HashMap;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::DbConn;
use super::schema::{articles, comments, saved_articles, users};

/// How long after posting a comment its writer may still change it.
pub const EDIT_WINDOW: time::Duration = time::Duration::minutes(15);
/// The most comments an article's page shows (the newest are kept when there are more).
pub const SHOWN: i64 = 500;

/// A comment with the name and handle of its writer.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Comment {
    pub id: i32,
    pub article_id: i32,
    pub user_id: i32,
    pub body: String,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
    #[diesel(select_expression = users::handle)]
    #[diesel(select_expression_type = users::handle)]
    pub author_handle: String,
    #[diesel(select_expression = users::bio)]
    #[diesel(select_expression_type = users::bio)]
    pub author_bio: String,
    #[diesel(select_expression = users::image_id)]
    #[diesel(select_expression_type = users::image_id)]
    pub author_image_id: Option<i32>,
}

impl Comment {
    /// True while its writer may still change it.
    pub fn editable_at(&self, now: PrimitiveDateTime) -> bool {
        now < self.created_at + EDIT_WINDOW
    }

    pub fn was_edited(&self) -> bool {
        self.updated_at > self.created_at
    }

    /// The comments under an article, oldest first (the newest [`SHOWN`] when there are more).
    pub fn for_article(conn: &mut DbConn, article_id: i32) -> QueryResult<Vec<Self>> {
        let mut newest: Vec<Self> = comments::table
            .inner_join(users::table)
            .filter(comments::article_id.eq(article_id))
            .order(comments::id.desc())
            .limit(SHOWN)
            .select(Self::as_select())
            .load(conn)?;
        newest.reverse();
        Ok(newest)
    }

    pub fn find(conn: &mut DbConn, article_id: i32, id: i32) -> QueryResult<Option<Self>> {
        comments::table
            .inner_join(users::table)
            .filter(comments::article_id.eq(article_id))
            .filter(comments::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Posts a comment; returns it.
    pub fn create(
        conn: &mut DbConn,
        article_id: i32,
        user_id: i32,
        body: &str,
    ) -> QueryResult<Self> {
        let now = super::now();
        let id: i32 = diesel::insert_into(comments::table)
            .values((
                comments::article_id.eq(article_id),
                comments::user_id.eq(user_id),
                comments::body.eq(body),
                comments::created_at.eq(now),
                comments::updated_at.eq(now),
            ))
            .returning(comments::id)
            .get_result(conn)?;
        Self::find(conn, article_id, id)?.ok_or(diesel::result::Error::NotFound)
    }

    /// Changes the text of comment `id` when `user_id` wrote it less than [`EDIT_WINDOW`] ago;
    /// false when not.
    pub fn edit(conn: &mut DbConn, id: i32, user_id: i32, body: &str) -> QueryResult<bool> {
        let now = super::now();
        diesel::update(
            comments::table
                .filter(comments::id.eq(id))
                .filter(comments::user_id.eq(user_id))
                .filter(comments::created_at.gt(now - EDIT_WINDOW)),
        )
        .set((comments::body.eq(body), comments::updated_at.eq(now)))
        .execute(conn)
        .map(|n| n > 0)
    }

    pub fn delete(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
        diesel::delete(comments::table.find(id))
            .execute(conn)
            .map(|n| n > 0)
    }

    /// How many comments `user_id` wrote, for the account page's warning before deleting it.
    pub fn count_by(conn: &mut DbConn, user_id: i32) -> QueryResult<i64> {
        comments::table
            .filter(comments::user_id.eq(user_id))
            .count()
            .get_result(conn)
    }
}

/// Opens or closes an article's comments.
pub fn set_closed(conn: &mut DbConn, article_id: i32, closed: bool) -> QueryResult<bool> {
    diesel::update(articles::table.find(article_id))
        .set(articles::comments_closed.eq(closed))
        .execute(conn)
        .map(|n| n > 0)
}

pub fn save(conn: &mut DbConn, user_id: i32, article_id: i32) -> QueryResult<()> {
    crate::on_backend!(conn, c => diesel::insert_into(saved_articles::table)
        .values((
            saved_articles::user_id.eq(user_id),
            saved_articles::article_id.eq(article_id),
            saved_articles::created_at.eq(super::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))
    .map(drop)
}

pub fn unsave(conn: &mut DbConn, user_id: i32, article_id: i32) -> QueryResult<()> {
    diesel::delete(saved_articles::table.find((user_id, article_id)))
        .execute(conn)
        .map(drop)
}

/// Of `article_ids`, those `user_id` saved.
pub fn saved_among(conn: &mut DbConn, user_id: i32, article_ids: &[i32]) -> QueryResult<Vec<i32>> {
    if article_ids.is_empty() {
        return Ok(Vec::new());
    }
    saved_articles::table
        .filter(saved_articles::user_id.eq(user_id))
        .filter(saved_articles::article_id.eq_any(article_ids))
        .select(saved_articles::article_id)
        .load(conn)
}

/// How many members saved each of `article_ids` (those nobody saved are left out).
pub fn save_counts(conn: &mut DbConn, article_ids: &[i32]) -> QueryResult<HashMap<i32, i64>> {
    if article_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, i64)> = saved_articles::table
        .filter(saved_articles::article_id.eq_any(article_ids))
        .group_by(saved_articles::article_id)
        .select((saved_articles::article_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// A page of the published articles `user_id` saved, the last saved first, and how many.
pub fn saved_ids(
    conn: &mut DbConn,
    user_id: i32,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<i32>, i64)> {
    let published = articles::status.eq(super::articles::PUBLISHED);
    let total = saved_articles::table
        .inner_join(articles::table)
        .filter(saved_articles::user_id.eq(user_id))
        .filter(published)
        .count()
        .get_result(conn)?;
    let ids = saved_articles::table
        .inner_join(articles::table)
        .filter(saved_articles::user_id.eq(user_id))
        .filter(articles::status.eq(super::articles::PUBLISHED))
        .order((saved_articles::created_at.desc(), articles::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(articles::id)
        .load(conn)?;
    Ok((ids, total))
}

/// What a member's export holds of their taking part: their comments (article slug, text, when),
/// the slugs of the articles they saved, and the handles of the authors they follow.
pub type Contributions = (
    Vec<(String, String, PrimitiveDateTime, PrimitiveDateTime)>,
    Vec<(String, PrimitiveDateTime)>,
    Vec<(String, PrimitiveDateTime)>,
);

pub fn contributions_of(conn: &mut DbConn, user_id: i32) -> QueryResult<Contributions> {
    use super::schema::follows;
    let written = comments::table
        .inner_join(articles::table)
        .filter(comments::user_id.eq(user_id))
        .order(comments::id.asc())
        .select((
            articles::slug,
            comments::body,
            comments::created_at,
            comments::updated_at,
        ))
        .load(conn)?;
    let saved = saved_articles::table
        .inner_join(articles::table)
        .filter(saved_articles::user_id.eq(user_id))
        .order(saved_articles::created_at.asc())
        .select((articles::slug, saved_articles::created_at))
        .load(conn)?;
    let followed = follows::table
        .inner_join(users::table.on(users::id.eq(follows::author_id)))
        .filter(follows::follower_id.eq(user_id))
        .order(follows::created_at.asc())
        .select((users::handle, follows::created_at))
        .load(conn)?;
    Ok((written, saved, followed))
}
