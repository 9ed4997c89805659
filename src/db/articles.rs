//! The `articles` table: the row types read by public pages and the queries behind them. Every
//! public query goes through [`published`], so a draft cannot reach a reader by any path.

use diesel::dsl;
use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::{article_tags, articles, categories, users};
use crate::domain::{SafeHtml, TocEntry};

pub const PUBLISHED: &str = "published";
pub const DRAFT: &str = "draft";
pub const MEMBERS_ONLY: &str = "members";
pub const PUBLIC: &str = "public";

/// The category an article is filed under, as a page links to it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::sqlite::Sqlite))]
pub struct CategoryRef {
    pub slug: String,
    pub name: String,
}

/// What a list of articles shows of each one.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite))]
pub struct ArticleCard {
    pub id: i32,
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
    #[diesel(embed)]
    pub category: Option<CategoryRef>,
}

/// A whole published article, as its own page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite))]
pub struct ArticleDetail {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_html: String,
    pub teaser_html: String,
    pub toc_json: String,
    pub category_id: Option<i32>,
    pub visibility: String,
    pub reading_minutes: i32,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
    #[diesel(select_expression = users::name)]
    #[diesel(select_expression_type = users::name)]
    pub author_name: String,
    #[diesel(embed)]
    pub category: Option<CategoryRef>,
}

/// What the Atom feed carries of an article.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite))]
pub struct FeedEntry {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_html: String,
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
#[diesel(table_name = articles, check_for_backend(diesel::sqlite::Sqlite))]
pub struct SitemapEntry {
    pub slug: String,
    pub updated_at: PrimitiveDateTime,
}

/// Everything saved for an article, rendered from its Markdown by the caller.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = articles)]
pub struct ArticleChanges<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub teaser_html: &'a str,
    pub body_text: &'a str,
    pub toc_json: &'a str,
    pub author_id: i32,
    pub category_id: Option<i32>,
    pub status: &'a str,
    pub visibility: &'a str,
    pub featured: bool,
    pub reading_minutes: i32,
    pub published_at: Option<PrimitiveDateTime>,
    pub updated_at: PrimitiveDateTime,
}

type Source = dsl::LeftJoin<dsl::InnerJoin<articles::table, users::table>, categories::table>;
type IsPublished = dsl::Eq<articles::status, &'static str>;

/// Published articles with their author and category: the only starting point of public queries.
fn published() -> dsl::Filter<Source, IsPublished> {
    articles::table
        .inner_join(users::table)
        .left_join(categories::table)
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

    pub fn count_published(conn: &mut SqliteConnection) -> QueryResult<i64> {
        published().count().get_result(conn)
    }

    /// A page of published articles, newest first, leaving out `skip` (the featured one).
    pub fn latest(
        conn: &mut SqliteConnection,
        skip: Option<i32>,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        published()
            .filter(articles::id.ne(skip.unwrap_or(0)))
            .order(newest_first())
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// The article the home page leads with: the newest one marked featured, else the newest.
    pub fn featured(conn: &mut SqliteConnection) -> QueryResult<Option<Self>> {
        published()
            .order((
                articles::featured.desc(),
                articles::published_at.desc(),
                articles::id.desc(),
            ))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn count_in_category(conn: &mut SqliteConnection, category_id: i32) -> QueryResult<i64> {
        published()
            .filter(articles::category_id.eq(category_id))
            .count()
            .get_result(conn)
    }

    pub fn in_category(
        conn: &mut SqliteConnection,
        category_id: i32,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        published()
            .filter(articles::category_id.eq(category_id))
            .order(newest_first())
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn count_with_tag(conn: &mut SqliteConnection, tag_id: i32) -> QueryResult<i64> {
        published()
            .filter(articles::id.eq_any(tagged(tag_id)))
            .count()
            .get_result(conn)
    }

    pub fn with_tag(
        conn: &mut SqliteConnection,
        tag_id: i32,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        published()
            .filter(articles::id.eq_any(tagged(tag_id)))
            .order(newest_first())
            .offset(offset)
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Published articles among `ids`, in the order of `ids`.
    pub fn by_ids(conn: &mut SqliteConnection, ids: &[i32]) -> QueryResult<Vec<Self>> {
        let mut found: Vec<Self> = published()
            .filter(articles::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)?;
        found.sort_by_key(|card| ids.iter().position(|id| *id == card.id));
        Ok(found)
    }

    /// Up to `limit` other published articles that share the category or tags of `article`,
    /// most shared first: the same category counts as two shared tags.
    pub fn related(
        conn: &mut SqliteConnection,
        article: &ArticleDetail,
        tag_ids: &[i32],
        limit: usize,
    ) -> QueryResult<Vec<Self>> {
        /// Enough recent candidates to rank; older ones rarely win and are not worth reading.
        const CANDIDATES: i64 = 60;
        let sharing_tags: Vec<(i32, i32)> = article_tags::table
            .filter(article_tags::tag_id.eq_any(tag_ids))
            .filter(article_tags::article_id.ne(article.id))
            .select((article_tags::article_id, article_tags::tag_id))
            .load(conn)?;
        let tagged_ids: Vec<i32> = sharing_tags.iter().map(|(id, _)| *id).collect();
        let category = article.category_id.unwrap_or(-1);
        let mut candidates: Vec<(i32, i64, Self)> = published()
            .filter(articles::id.ne(article.id))
            .filter(
                articles::category_id
                    .eq(category)
                    .or(articles::id.eq_any(&tagged_ids)),
            )
            .order(newest_first())
            .limit(CANDIDATES)
            .select((articles::category_id, Self::as_select()))
            .load::<(Option<i32>, Self)>(conn)?
            .into_iter()
            .enumerate()
            .map(|(recency, (category_id, card))| {
                let shared = sharing_tags.iter().filter(|(id, _)| *id == card.id).count();
                let score = shared
                    + if category_id == article.category_id {
                        2
                    } else {
                        0
                    };
                (
                    i32::try_from(score).unwrap_or(i32::MAX),
                    recency as i64,
                    card,
                )
            })
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        Ok(candidates
            .into_iter()
            .take(limit)
            .map(|(_, _, card)| card)
            .collect())
    }
}

/// Ids of the articles that carry a tag.
fn tagged(
    tag_id: i32,
) -> dsl::Select<
    dsl::Filter<article_tags::table, dsl::Eq<article_tags::tag_id, i32>>,
    article_tags::article_id,
> {
    article_tags::table
        .filter(article_tags::tag_id.eq(tag_id))
        .select(article_tags::article_id)
}

impl ArticleDetail {
    pub fn find_published(conn: &mut SqliteConnection, slug: &str) -> QueryResult<Option<Self>> {
        published()
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
    pub fn latest(conn: &mut SqliteConnection, limit: i64) -> QueryResult<Vec<Self>> {
        published()
            .order(newest_first())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

impl SitemapEntry {
    pub fn all(conn: &mut SqliteConnection) -> QueryResult<Vec<Self>> {
        published()
            .order(newest_first())
            .select(Self::as_select())
            .load(conn)
    }
}

impl ArticleChanges<'_> {
    /// Inserts the article, or updates the one with the same slug; returns its id.
    pub fn save(&self, conn: &mut SqliteConnection) -> QueryResult<i32> {
        let existing: Option<i32> = articles::table
            .filter(articles::slug.eq(self.slug))
            .select(articles::id)
            .first(conn)
            .optional()?;
        match existing {
            Some(id) => diesel::update(articles::table.find(id))
                .set(self)
                .returning(articles::id)
                .get_result(conn),
            None => diesel::insert_into(articles::table)
                .values((self, articles::created_at.eq(self.updated_at)))
                .returning(articles::id)
                .get_result(conn),
        }
    }
}

/// How many articles the database holds, drafts included.
pub fn count_all(conn: &mut SqliteConnection) -> QueryResult<i64> {
    articles::table.count().get_result(conn)
}
