//! Writing articles: the one path that saves an article (its row, its body and its search entry,
//! in the caller's transaction), and the teasers derived again when the code that makes them
//! changes. Reading them is [`super::articles`].

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::DbConn;
use super::articles::MEMBERS_ONLY;
use super::schema::{article_bodies, articles};

/// Everything saved for an article, rendered from its Markdown by the caller.
#[derive(Debug)]
pub struct ArticleChanges<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub teaser_html: &'a str,
    /// The body as plain text, for the search index.
    pub body_text: &'a str,
    /// The teaser as plain text: all of a members-only article that searches by readers without
    /// access may match.
    pub teaser_text: &'a str,
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

/// The `articles` row of [`ArticleChanges`].
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = articles)]
struct ArticleRow<'a> {
    slug: &'a str,
    title: &'a str,
    summary: &'a str,
    author_id: i32,
    category_id: Option<i32>,
    status: &'a str,
    visibility: &'a str,
    featured: bool,
    reading_minutes: i32,
    published_at: Option<PrimitiveDateTime>,
    updated_at: PrimitiveDateTime,
}

/// The `article_bodies` row of [`ArticleChanges`].
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = article_bodies)]
struct BodyRow<'a> {
    article_id: i32,
    toc_json: &'a str,
    teaser_html: &'a str,
    body_html: &'a str,
    body_markdown: &'a str,
}

/// Which article a save writes.
#[derive(Debug, Clone, Copy)]
pub enum SaveTarget {
    /// The article with this slug, or a new one (an import).
    BySlug,
    /// The article with this id, if it is still at `version` (the editor: a save made from an
    /// older version is refused rather than overwriting someone else's).
    ById { id: i32, version: i32 },
    /// A new article (the editor's "new article").
    New,
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Written; the article's id.
    Written(i32),
    /// The article changed since the form was opened: nothing was written.
    Conflict,
}

impl ArticleChanges<'_> {
    /// Inserts or updates the article (see [`SaveTarget`]) with its body and its entry in the
    /// search index; every update raises its version. Call it inside a transaction: it writes
    /// three tables.
    pub fn save(&self, conn: &mut DbConn, target: SaveTarget) -> QueryResult<Saved> {
        let row = ArticleRow {
            slug: self.slug,
            title: self.title,
            summary: self.summary,
            author_id: self.author_id,
            category_id: self.category_id,
            status: self.status,
            visibility: self.visibility,
            featured: self.featured,
            reading_minutes: self.reading_minutes,
            published_at: self.published_at,
            updated_at: self.updated_at,
        };
        let existing: Option<i32> = match target {
            SaveTarget::BySlug => articles::table
                .filter(articles::slug.eq(self.slug))
                .select(articles::id)
                .first(conn)
                .optional()?,
            SaveTarget::ById { id, .. } => Some(id),
            SaveTarget::New => None,
        };
        let id = match existing {
            Some(id) => {
                let mut update = diesel::update(articles::table.find(id)).into_boxed();
                if let SaveTarget::ById { version, .. } = target {
                    update = update.filter(articles::version.eq(version));
                }
                let updated: Option<i32> = update
                    .set((&row, articles::version.eq(articles::version + 1)))
                    .returning(articles::id)
                    .get_result(conn)
                    .optional()?;
                match updated {
                    Some(id) => id,
                    None => return Ok(Saved::Conflict),
                }
            }
            None => diesel::insert_into(articles::table)
                .values((&row, articles::created_at.eq(self.updated_at)))
                .returning(articles::id)
                .get_result(conn)?,
        };
        let body = BodyRow {
            article_id: id,
            toc_json: self.toc_json,
            teaser_html: self.teaser_html,
            body_html: self.body_html,
            body_markdown: self.body_markdown,
        };
        crate::on_backend!(conn, c => diesel::insert_into(article_bodies::table)
            .values(&body)
            .on_conflict(article_bodies::article_id)
            .do_update()
            .set(&body)
            .execute(c))?;
        super::search::index(
            conn,
            id,
            self.title,
            self.summary,
            &super::search::IndexedText::split(
                self.visibility == MEMBERS_ONLY,
                self.body_text,
                self.teaser_text,
            ),
        )?;
        Ok(Saved::Written(id))
    }
}

/// Which version of [`crate::domain::markdown::teaser`] made the stored teasers and search entries;
/// raised whenever that code changes what it keeps.
pub const TEASER_VERSION: i32 = 1;

/// Makes the teaser and search entry of every article again from its Markdown when they were
/// made by an older version of the code (see [`TEASER_VERSION`]), in one transaction; returns how
/// many articles it rewrote. Runs at start-up, after the migrations.
pub fn rederive_teasers(conn: &mut DbConn) -> QueryResult<usize> {
    use super::schema::derived_data;
    super::write_transaction(conn, |conn| {
        let version: Option<i32> = derived_data::table
            .find("teasers")
            .select(derived_data::version)
            .first(conn)
            .optional()?;
        if version.is_some_and(|v| v >= TEASER_VERSION) {
            return Ok(0);
        }
        let all: Vec<(i32, String, String, String, String)> = articles::table
            .inner_join(article_bodies::table)
            .select((
                articles::id,
                articles::title,
                articles::summary,
                articles::visibility,
                article_bodies::body_markdown,
            ))
            .load(conn)?;
        for (id, title, summary, visibility, markdown) in &all {
            let rendered = crate::domain::markdown::render(markdown);
            diesel::update(article_bodies::table.find(id))
                .set(article_bodies::teaser_html.eq(rendered.teaser.as_str()))
                .execute(conn)?;
            let text = super::search::IndexedText::split(
                visibility == MEMBERS_ONLY,
                &rendered.text,
                &rendered.teaser_text,
            );
            super::search::index(conn, *id, title, summary, &text)?;
        }
        crate::on_backend!(conn, c => diesel::insert_into(derived_data::table)
            .values((
                derived_data::name.eq("teasers"),
                derived_data::version.eq(TEASER_VERSION),
            ))
            .on_conflict(derived_data::name)
            .do_update()
            .set(derived_data::version.eq(TEASER_VERSION))
            .execute(c))?;
        Ok(all.len())
    })
}
