//! The reads behind the JSON API's articles: a page of published articles filtered as the API
//! allows (tag, author, saved by, followed authors; the author pages and the followed authors'
//! list use the same filter), and what each article carries there.

use std::collections::HashMap;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::DbConn;
use super::articles::PUBLISHED;
use super::schema::{article_bodies, article_tags, articles, follows, saved_articles, tags, users};

/// An article as the API shows it, without its body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiArticle {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub visibility: String,
    pub status: String,
    pub published_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    pub author_id: i32,
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

/// What a list may be narrowed to.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub tag_id: Option<i32>,
    pub author_id: Option<i32>,
    pub saved_by: Option<i32>,
    pub followed_by: Option<i32>,
}

type Boxed<'a> = articles::BoxedQuery<'a, super::connection::MultiBackend>;

fn filtered(filter: &Filter) -> Boxed<'static> {
    let mut query = articles::table
        .filter(articles::status.eq(PUBLISHED))
        .into_boxed();
    if let Some(tag) = filter.tag_id {
        query = query.filter(
            articles::id.eq_any(
                article_tags::table
                    .filter(article_tags::tag_id.eq(tag))
                    .select(article_tags::article_id),
            ),
        );
    }
    if let Some(author) = filter.author_id {
        query = query.filter(articles::author_id.eq(author));
    }
    if let Some(member) = filter.saved_by {
        query = query.filter(
            articles::id.eq_any(
                saved_articles::table
                    .filter(saved_articles::user_id.eq(member))
                    .select(saved_articles::article_id),
            ),
        );
    }
    if let Some(member) = filter.followed_by {
        query = query.filter(
            articles::author_id.eq_any(
                follows::table
                    .filter(follows::follower_id.eq(member))
                    .select(follows::author_id),
            ),
        );
    }
    query
}

/// The ids of a page of the published articles `filter` keeps, newest first, and how many it
/// keeps: the API's lists, an author's page, the member's list of followed authors' articles.
pub fn page_ids(
    conn: &mut DbConn,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<i32>, i64)> {
    let total: i64 = filtered(filter).count().get_result(conn)?;
    let ids: Vec<i32> = filtered(filter)
        .order((articles::published_at.desc(), articles::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(articles::id)
        .load(conn)?;
    Ok((ids, total))
}

impl ApiArticle {
    /// A page of the published articles `filter` keeps, newest first, and how many it keeps.
    pub fn page(
        conn: &mut DbConn,
        filter: &Filter,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let (ids, total) = page_ids(conn, filter, offset, limit)?;
        Ok((Self::by_ids(conn, &ids)?, total))
    }

    /// The articles with `ids`, drafts too (the caller decides), in the order of `ids`.
    pub fn by_ids(conn: &mut DbConn, ids: &[i32]) -> QueryResult<Vec<Self>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<Self> = articles::table
            .inner_join(users::table)
            .filter(articles::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)?;
        found.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
        Ok(found)
    }

    pub fn by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Self>> {
        articles::table
            .inner_join(users::table)
            .filter(articles::slug.eq(slug))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn is_members_only(&self) -> bool {
        self.visibility == super::articles::MEMBERS_ONLY
    }
}

/// The Markdown of an article.
pub fn markdown_of(conn: &mut DbConn, id: i32) -> QueryResult<String> {
    article_bodies::table
        .find(id)
        .select(article_bodies::body_markdown)
        .first(conn)
}

/// The names of each article's tags, sorted.
pub fn tag_names(conn: &mut DbConn, ids: &[i32]) -> QueryResult<HashMap<i32, Vec<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, String)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(ids))
        .select((article_tags::article_id, tags::name))
        .load(conn)?;
    let mut names: HashMap<i32, Vec<String>> = HashMap::new();
    for (id, name) in rows {
        names.entry(id).or_default().push(name);
    }
    for list in names.values_mut() {
        list.sort();
    }
    Ok(names)
}

/// Every tag of a published article, by name.
pub fn tags_in_use(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    tags::table
        .filter(tags::published_articles.gt(0))
        .order(tags::name.asc())
        .select(tags::name)
        .load(conn)
}

/// The id of the tag called `name` (matched by its address, as the pages do).
pub fn tag_id(conn: &mut DbConn, slug: &str) -> QueryResult<Option<i32>> {
    tags::table
        .filter(tags::slug.eq(slug))
        .select(tags::id)
        .first(conn)
        .optional()
}

/// The addresses of pictures, by image id.
pub fn image_urls(conn: &mut DbConn, ids: &[i32]) -> QueryResult<HashMap<i32, String>> {
    use super::schema::images;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, String, String)> = images::table
        .filter(images::id.eq_any(ids))
        .select((images::id, images::hash, images::content_type))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, hash, kind)| {
            (
                id,
                format!("/images/{hash}.{}", super::images::extension_of(&kind)),
            )
        })
        .collect())
}

/// A slug made from `base` that no article has: `base`, `base-2`, `base-3`, …
pub fn free_slug(conn: &mut DbConn, base: &crate::domain::Slug) -> QueryResult<String> {
    let taken = |conn: &mut DbConn, slug: &str| -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            articles::table.filter(articles::slug.eq(slug)),
        ))
        .get_result(conn)
    };
    if !taken(conn, base.as_str())?
        && super::redirects::target(conn, super::redirects::ARTICLE, base.as_str())?.is_none()
    {
        return Ok(base.as_str().to_owned());
    }
    // Room for the number within a slug's length.
    let stem = base.as_str()[..base.as_str().len().min(crate::domain::Slug::MAX_LEN - 9)]
        .trim_end_matches('-')
        .to_owned();
    for n in 2..1_000 {
        let candidate = format!("{stem}-{n}");
        if !taken(conn, &candidate)? {
            return Ok(candidate);
        }
    }
    Ok(format!("{stem}-{}", crate::auth::random_hex(4)))
}
