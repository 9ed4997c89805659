//! The `articles` table and the article bodies beside it: the row types read by public pages and
//! the queries behind them. Every public query starts from published articles only, so a draft
//! cannot reach a reader by any path.
//!
//! Lists are read in two steps: the ids of one page, a slice of the list kept in memory by
//! [`super::cache`] (read from an index in list order by the SQL in [`cache::list_sql`], whose query plans
//! a test checks), then the cards of those ids by primary key. The cost of a page does not grow
//! with the number of articles, however deep the page.

use diesel::dsl;
use diesel::prelude::*;

use crate::db::DbConn;
use time::PrimitiveDateTime;

use super::cache::{self, ContentCache, ListKey};
use super::schema::{article_bodies, article_tags, articles, categories, images, users};
use crate::domain::{SafeHtml, TocEntry};

pub const PUBLISHED: &str = "published";
pub const DRAFT: &str = "draft";
pub const MEMBERS_ONLY: &str = "members";
pub const PUBLIC: &str = "public";

/// The category an article is filed under, as a page links to it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CategoryRef {
    pub slug: String,
    pub name: String,
}

/// An article's cover image, as pages link to it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = images, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CoverRef {
    pub hash: String,
    pub content_type: String,
}

impl CoverRef {
    pub fn url(&self) -> String {
        format!(
            "/images/{}.{}",
            self.hash,
            super::images::extension_of(&self.content_type)
        )
    }
}

/// What a list of articles shows of each one.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ArticleCard {
    pub id: i32,
    pub category_id: Option<i32>,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub visibility: String,
    pub reading_minutes: i32,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
    #[diesel(select_expression = users::handle)]
    #[diesel(select_expression_type = users::handle)]
    pub author_handle: String,
    #[diesel(embed)]
    pub category: Option<CategoryRef>,
    #[diesel(embed)]
    pub cover: Option<CoverRef>,
    pub cover_alt: String,
    /// How many comments it has: read apart, by [`ArticleCard::by_ids`], after the cards.
    #[diesel(select_expression = diesel::IntoSql::into_sql::<diesel::sql_types::BigInt>(0_i64))]
    #[diesel(select_expression_type = dsl::AsExprOf<i64, diesel::sql_types::BigInt>)]
    pub comments: i64,
}

/// A whole published article, as its own page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ArticleDetail {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[diesel(select_expression = article_bodies::body_html)]
    #[diesel(select_expression_type = article_bodies::body_html)]
    pub body_html: String,
    #[diesel(select_expression = article_bodies::teaser_html)]
    #[diesel(select_expression_type = article_bodies::teaser_html)]
    pub teaser_html: String,
    #[diesel(select_expression = article_bodies::toc_json)]
    #[diesel(select_expression_type = article_bodies::toc_json)]
    pub toc_json: String,
    pub category_id: Option<i32>,
    pub visibility: String,
    pub reading_minutes: i32,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
    pub author_id: i32,
    #[diesel(select_expression = users::handle)]
    #[diesel(select_expression_type = users::handle)]
    pub author_handle: String,
    #[diesel(embed)]
    pub category: Option<CategoryRef>,
    #[diesel(embed)]
    pub cover: Option<CoverRef>,
    pub cover_alt: String,
    pub comments_closed: bool,
}

/// What the Atom feed carries of an article.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct FeedEntry {
    pub slug: String,
    pub title: String,
    pub summary: String,
    #[diesel(select_expression = article_bodies::body_html)]
    #[diesel(select_expression_type = article_bodies::body_html)]
    pub body_html: String,
    #[diesel(select_expression = article_bodies::teaser_html)]
    #[diesel(select_expression_type = article_bodies::teaser_html)]
    pub teaser_html: String,
    pub visibility: String,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
}

/// An article's address and last change, for the sitemap.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SitemapEntry {
    pub slug: String,
    pub updated_at: PrimitiveDateTime,
}

type Source = dsl::LeftJoin<
    dsl::LeftJoin<dsl::InnerJoin<articles::table, users::table>, categories::table>,
    images::table,
>;
type IsPublished = dsl::Eq<articles::status, &'static str>;

/// Published articles with their author and category: the only starting point of public queries.
fn published() -> dsl::Filter<Source, IsPublished> {
    articles::table
        .inner_join(users::table)
        .left_join(categories::table)
        .left_join(images::table)
        .filter(articles::status.eq(PUBLISHED))
}

type ById<'a> = dsl::Filter<
    dsl::Filter<Source, dsl::EqAny<articles::id, &'a [i32]>>,
    diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
>;

/// Published articles among `ids`, looked up by primary key. The status is tested with SQLite's
/// unary `+`, which keeps the planner from walking the index on status (every published article)
/// instead of looking up the ten ids of a page: without statistics it guesses that an equality on
/// an index's first column matches a handful of rows.
/// PostgreSQL's planner has statistics and needs no such hint (nor has a unary `+` for text).
fn published_by_id(kind: super::Kind, ids: &[i32]) -> ById<'_> {
    articles::table
        .inner_join(users::table)
        .left_join(categories::table)
        .left_join(images::table)
        .filter(articles::id.eq_any(ids))
        .filter(dsl::sql::<diesel::sql_types::Bool>(match kind {
            super::Kind::Sqlite => "+articles.status = 'published'",
            super::Kind::Postgres => "articles.status = 'published'",
        }))
}

type WithBody = dsl::InnerJoin<Source, article_bodies::table>;

/// Published articles with their body as well.
fn published_with_body() -> dsl::Filter<WithBody, IsPublished> {
    articles::table
        .inner_join(users::table)
        .left_join(categories::table)
        .left_join(images::table)
        .inner_join(article_bodies::table)
        .filter(articles::status.eq(PUBLISHED))
}

type Newest = (dsl::Desc<articles::published_at>, dsl::Desc<articles::id>);

fn newest_first() -> Newest {
    (articles::published_at.desc(), articles::id.desc())
}

impl ArticleCard {
    pub fn is_members_only(&self) -> bool {
        self.visibility == MEMBERS_ONLY
    }

    /// A page of a list of published articles, leaving out `skip` (the featured one on the home
    /// page), and how many articles the list holds without it.
    pub fn page(
        conn: &mut DbConn,
        cache: &ContentCache,
        list: ListKey,
        skip: Option<i32>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<Self>, i64)> {
        let ids = cache.get(conn, list)?;
        let (page, total) = cache::page(&ids, skip, offset, limit);
        Ok((Self::by_ids(conn, &page)?, total))
    }

    /// The article the home page leads with: the newest one marked featured, else the newest.
    pub fn featured(conn: &mut DbConn, cache: &ContentCache) -> QueryResult<Option<Self>> {
        Ok(match cache.featured(conn)? {
            Some(id) => Self::by_ids(conn, &[id])?.pop(),
            None => None,
        })
    }

    /// Published articles among `ids`, in the order of `ids`.
    pub fn by_ids(conn: &mut DbConn, ids: &[i32]) -> QueryResult<Vec<Self>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // On each backend's own connection, so PostgreSQL keeps the statement prepared (its
        // `= ANY($1)` has one parameter however many ids) and plans it once, not per page; there
        // the status is tested plainly (SQLite's planner hint would make the statement uncached).
        let mut found: Vec<Self> = match conn {
            DbConn::Sqlite(c) => published_by_id(super::Kind::Sqlite, ids)
                .select(Self::as_select())
                .load(c)?,
            DbConn::Postgres(c) => articles::table
                .inner_join(users::table)
                .left_join(categories::table)
                .left_join(images::table)
                .filter(articles::id.eq_any(ids))
                .filter(articles::status.eq(PUBLISHED))
                .select(Self::as_select())
                .load(c)?,
        };
        found.sort_by_key(|card| ids.iter().position(|id| *id == card.id));
        let counts = comment_counts(conn, ids)?;
        for card in &mut found {
            card.comments = counts.get(&card.id).copied().unwrap_or(0);
        }
        Ok(found)
    }

    /// Up to `limit` other published articles that share the category or tags of `article`,
    /// most shared first (the same category counts as two shared tags), then newest. Candidates
    /// are the newest few of the article's category and of each of its tags, each read from an
    /// index, so the cost does not grow with the size of a tag.
    pub fn related(
        conn: &mut DbConn,
        cache: &ContentCache,
        article: &ArticleDetail,
        tag_ids: &[i32],
        limit: usize,
    ) -> QueryResult<Vec<Self>> {
        /// Candidates taken from the category and from each tag.
        const PER_TOPIC: usize = 12;
        let mut candidates: Vec<i32> = Vec::new();
        let topics = article
            .category_id
            .map(ListKey::Category)
            .into_iter()
            .chain(tag_ids.iter().copied().map(ListKey::Tag));
        for topic in topics {
            let ids = cache.get(conn, topic)?;
            candidates.extend(ids.iter().take(PER_TOPIC));
        }
        candidates.retain(|id| *id != article.id);
        candidates.sort_unstable();
        candidates.dedup();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let shared: Vec<i32> = crate::on_backend!(conn, c => article_tags::table
            .filter(article_tags::article_id.eq_any(&candidates))
            .filter(article_tags::tag_id.eq_any(tag_ids))
            .select(article_tags::article_id)
            .load(c))?;
        let mut cards: Vec<(usize, Self)> = Self::by_ids(conn, &candidates)?
            .into_iter()
            .map(|card| {
                let tags = shared.iter().filter(|id| **id == card.id).count();
                let category =
                    if card.category_id.is_some() && card.category_id == article.category_id {
                        2
                    } else {
                        0
                    };
                (tags + category, card)
            })
            .collect();
        cards.sort_by(|(a_score, a), (b_score, b)| {
            b_score
                .cmp(a_score)
                .then(b.published_at.cmp(&a.published_at))
                .then(b.id.cmp(&a.id))
        });
        Ok(cards
            .into_iter()
            .take(limit)
            .map(|(_, card)| card)
            .collect())
    }
}

impl ArticleDetail {
    pub fn find_published(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Self>> {
        published_with_body()
            .filter(articles::slug.eq(slug))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn is_members_only(&self) -> bool {
        self.visibility == MEMBERS_ONLY
    }

    pub fn body(&self) -> SafeHtml {
        SafeHtml::from_stored(self.body_html.clone())
    }

    pub fn teaser(&self) -> SafeHtml {
        SafeHtml::from_stored(self.teaser_html.clone())
    }

    /// The stored table of contents; a value that does not parse shows as no table at all.
    pub fn toc(&self) -> Vec<TocEntry> {
        serde_json::from_str(&self.toc_json).unwrap_or_default()
    }
}

impl FeedEntry {
    pub fn latest(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Self>> {
        published_with_body()
            .order(newest_first())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

impl SitemapEntry {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        published()
            .order(newest_first())
            .select(Self::as_select())
            .load(conn)
    }
}

/// The SQL of the queries that read articles by key (cards by id, an article by slug), for the
/// query-plan test.
#[cfg(test)]
pub(crate) fn lookup_queries() -> Vec<(&'static str, &'static str, String)> {
    use diesel::debug_query;
    use diesel::sqlite::Sqlite;
    let ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    vec![
        (
            "cards by id",
            "SEARCH articles USING INTEGER PRIMARY KEY",
            debug_query::<Sqlite, _>(
                &published_by_id(super::Kind::Sqlite, &ids).select(ArticleCard::as_select()),
            )
            .to_string(),
        ),
        (
            "article by slug",
            "SEARCH articles USING INDEX sqlite_autoindex_articles_1 (slug=?)",
            debug_query::<Sqlite, _>(
                &published_with_body()
                    .filter(articles::slug.eq("a-slug"))
                    .select(ArticleDetail::as_select())
                    .limit(1),
            )
            .to_string(),
        ),
    ]
}

/// How many comments each of the articles `ids` has (those without any are left out).
fn comment_counts(
    conn: &mut DbConn,
    ids: &[i32],
) -> QueryResult<std::collections::HashMap<i32, i64>> {
    use super::schema::comments;
    let rows: Vec<(i32, i64)> = comments::table
        .filter(comments::article_id.eq_any(ids))
        .group_by(comments::article_id)
        .select((comments::article_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// How many articles the database holds, drafts included.
pub fn count_all(conn: &mut DbConn) -> QueryResult<i64> {
    articles::table.count().get_result(conn)
}
