//! What the editor reads and changes of articles, drafts included: the list with its filters, one
//! article with everything its form shows, publishing, unpublishing, deleting and the cover image.
//! Saving goes through `crate::content::store`, the one path imports take too.

use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::articles::{DRAFT, MEMBERS_ONLY, PUBLISHED};
use super::schema::{article_bodies, article_tags, articles, categories, tags, users};

/// An article as the editor's list shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EditorRow {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub status: String,
    pub visibility: String,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
    #[diesel(select_expression = categories::name.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<categories::name>)]
    pub category_name: Option<String>,
}

/// Everything the editor's form holds of an article.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EditorArticle {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[diesel(select_expression = article_bodies::body_markdown)]
    #[diesel(select_expression_type = article_bodies::body_markdown)]
    pub body_markdown: String,
    pub author_id: i32,
    pub category_id: Option<i32>,
    pub status: String,
    pub visibility: String,
    pub featured: bool,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    pub version: i32,
    pub cover_image_id: Option<i32>,
    pub cover_alt: String,
}

/// What the editor's list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `draft` or `published`.
    pub status: Option<&'static str>,
    pub members_only: bool,
    pub category_id: Option<i32>,
    /// Part of the title.
    pub title: Option<String>,
    /// Only this author's articles (a member writing their own).
    pub author_id: Option<i32>,
}

/// A page of the editor's list, most recently changed first, and how many match in all.
pub fn list(
    conn: &mut DbConn,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<EditorRow>, i64)> {
    let narrowed = || {
        let mut query = articles::table
            .inner_join(users::table)
            .left_join(categories::table)
            .into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(articles::status.eq(status));
        }
        if filter.members_only {
            query = query.filter(articles::visibility.eq(MEMBERS_ONLY));
        }
        if let Some(category) = filter.category_id {
            query = query.filter(articles::category_id.eq(category));
        }
        if let Some(author) = filter.author_id {
            query = query.filter(articles::author_id.eq(author));
        }
        if let Some(title) = &filter.title {
            let pattern = format!(
                "%{}%",
                title
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            query = query.filter(articles::title.like(pattern).escape('\\'));
        }
        query
    };
    let rows = narrowed()
        .order((articles::updated_at.desc(), articles::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(EditorRow::as_select())
        .load(conn)?;
    let total = narrowed().count().get_result(conn)?;
    Ok((rows, total))
}

impl EditorArticle {
    pub fn find(conn: &mut DbConn, id: i32) -> QueryResult<Option<Self>> {
        articles::table
            .inner_join(article_bodies::table)
            .filter(articles::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The names of its tags, in order.
    pub fn tag_names(conn: &mut DbConn, id: i32) -> QueryResult<Vec<String>> {
        tags::table
            .inner_join(article_tags::table)
            .filter(article_tags::article_id.eq(id))
            .order(tags::name.asc())
            .select(tags::name)
            .load(conn)
    }
}

/// The article using `slug`, if any.
pub fn slug_owner(conn: &mut DbConn, slug: &str) -> QueryResult<Option<i32>> {
    articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first(conn)
        .optional()
}

/// Publishes an article (keeping its first publication date) or takes it back to a draft.
/// Returns the status it had, or `None` when there is no such article.
pub fn set_status(conn: &mut DbConn, id: i32, publish: bool) -> QueryResult<Option<String>> {
    let Some((before, published_at)) = articles::table
        .find(id)
        .select((articles::status, articles::published_at))
        .first::<(String, Option<PrimitiveDateTime>)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let now = super::now();
    diesel::update(articles::table.find(id))
        .set((
            articles::status.eq(if publish { PUBLISHED } else { DRAFT }),
            articles::published_at.eq(if publish {
                Some(published_at.unwrap_or(now))
            } else {
                published_at
            }),
            articles::version.eq(articles::version + 1),
        ))
        .execute(conn)?;
    Ok(Some(before))
}

/// Deletes an article with its body, tags, views and search entry.
pub fn delete(conn: &mut DbConn, id: i32) -> QueryResult<bool> {
    diesel::delete(articles::table.find(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// Sets (or clears) an article's cover image and its alt text.
pub fn set_cover(conn: &mut DbConn, id: i32, image_id: Option<i32>, alt: &str) -> QueryResult<()> {
    diesel::update(articles::table.find(id))
        .set((
            articles::cover_image_id.eq(image_id),
            articles::cover_alt.eq(alt),
        ))
        .execute(conn)
        .map(drop)
}

/// The people who may be named as an article's author: editors, admins, and anyone already
/// credited on an article.
pub fn authors(conn: &mut DbConn) -> QueryResult<Vec<(i32, String)>> {
    let credited = articles::table.select(articles::author_id);
    users::table
        .filter(
            users::role
                .eq_any([super::users::EDITOR, super::users::ADMIN])
                .or(users::id.eq_any(credited)),
        )
        .order(users::name.asc())
        .select((users::id, users::name))
        .load(conn)
}

/// How many articles (drafts included) name this user as their author.
pub fn count_by_author(conn: &mut DbConn, user_id: i32) -> QueryResult<i64> {
    articles::table
        .filter(articles::author_id.eq(user_id))
        .count()
        .get_result(conn)
}
