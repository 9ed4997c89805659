//! Articles as Markdown files: the front-matter format, importing a folder of them, and the demo
//! articles built into the binary.
//!
//! A file starts with front matter between `---` lines, one `key: value` a line:
//!
//! ```text
//! ---
//! title: What does a back-end developer do?
//! summary: One or two sentences for lists, search results and meta descriptions.
//! category: Careers
//! tags: Careers, Beginners
//! author: Ada Example <ada@example.com>
//! published: 2026-03-02
//! updated: 2026-04-11        (optional)
//! visibility: public         (or members; default public)
//! status: published          (or draft; default published)
//! featured: true             (optional)
//! slug: custom-slug          (optional; default from the title)
//! ---
//! The body, in Markdown.
//! ```
//!
//! A folder may also hold `categories.txt` and `tags.txt`, one `Name: description` a line, to
//! describe the hubs.

pub mod demo;
pub mod front_matter;

use std::path::Path;

use anyhow::Context;
use diesel::prelude::*;

use crate::db::DbConn;

use crate::db::article_writes::{ArticleChanges, SaveTarget, Saved};
use crate::db::articles::PUBLISHED;
use crate::db::taxonomy::{Category, Tag};
use crate::db::users::Author;
use crate::domain::Slug;
use crate::domain::markdown::{self, RenderedMarkdown};
pub use front_matter::{ArticleSource, Described};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    /// Files that could not be imported, each with the reason.
    pub failed: Vec<String>,
}

/// Articles written per transaction. Rendering happens before a batch's transaction opens, so the
/// write lock is held only for the writes; a batch of this size keeps that under a second while
/// saving the fsync per article that a transaction each would cost.
const BATCH: usize = 250;

/// Reads every `.md` file in `dir` (and the optional descriptions) and imports them, a batch at a
/// time, calling `progress(done, total)` after each batch.
pub fn import_dir(
    conn: &mut DbConn,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<ImportReport> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    let read_descriptions = |name: &str| -> anyhow::Result<Vec<Described>> {
        let path = dir.join(name);
        if !path.exists() {
            return Ok(Vec::new());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        front_matter::parse_descriptions(&text).with_context(|| format!("in {}", path.display()))
    };
    let categories = read_descriptions("categories.txt")?;
    let tags = read_descriptions("tags.txt")?;

    let mut report = ImportReport::default();
    let mut done = 0;
    for batch in files.chunks(BATCH) {
        let mut sources = Vec::with_capacity(batch.len());
        for path in batch {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::read_to_string(path) {
                Ok(text) => sources.push((name, text)),
                Err(error) => report
                    .failed
                    .push(format!("{name}: cannot read the file: {error}")),
            }
        }
        let imported = import_batch(conn, &sources, &categories, &tags)?;
        report.imported += imported.imported;
        report.failed.extend(imported.failed);
        done += batch.len();
        progress(done, files.len());
    }
    Ok(report)
}

/// Imports articles given as `(file name, text)`, a batch at a time. A file that cannot be parsed
/// or saved is reported and leaves nothing of itself behind; the others are imported.
pub fn import(
    conn: &mut DbConn,
    sources: &[(String, String)],
    categories: &[Described],
    tags: &[Described],
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    for batch in sources.chunks(BATCH) {
        let imported = import_batch(conn, batch, categories, tags)?;
        report.imported += imported.imported;
        report.failed.extend(imported.failed);
    }
    Ok(report)
}

/// An article file parsed and rendered, ready to be written.
struct Prepared<'a> {
    name: &'a str,
    source: ArticleSource,
    rendered: RenderedMarkdown,
}

/// Parses and renders `sources`, then writes them in one transaction, each article in a savepoint
/// of its own.
fn import_batch(
    conn: &mut DbConn,
    sources: &[(String, String)],
    categories: &[Described],
    tags: &[Described],
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut prepared = Vec::with_capacity(sources.len());
    for (name, text) in sources {
        match ArticleSource::parse(text) {
            Ok(source) => prepared.push(Prepared {
                name,
                rendered: markdown::render(&source.body),
                source,
            }),
            Err(error) => report.failed.push(format!("{name}: {error}")),
        }
    }
    if prepared.is_empty() {
        return Ok(report);
    }
    crate::db::write_transaction(conn, |conn| -> QueryResult<()> {
        for article in &prepared {
            match conn.transaction(|conn| save(conn, article, categories, tags)) {
                Ok(_) => report.imported += 1,
                Err(error) => report
                    .failed
                    .push(format!("{}: cannot be saved: {error}", article.name)),
            }
        }
        Ok(())
    })
    .context("cannot write the articles to the database")?;
    Ok(report)
}

fn description<'a>(described: &'a [Described], name: &str) -> Option<&'a str> {
    described
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .map(|d| d.description.as_str())
}

fn save(
    conn: &mut DbConn,
    article: &Prepared<'_>,
    categories: &[Described],
    tags: &[Described],
) -> QueryResult<i32> {
    let Prepared {
        source, rendered, ..
    } = article;
    let author = Author::find_or_create(conn, &source.author_email, &source.author_name)?;
    let category = match &source.category {
        Some((slug, name)) => Some(Category::upsert(
            conn,
            slug,
            name,
            description(categories, name),
        )?),
        None => None,
    };
    let mut tag_ids = Vec::with_capacity(source.tags.len());
    for (slug, name) in &source.tags {
        tag_ids.push(Tag::upsert(conn, slug, name, description(tags, name))?.id);
    }
    let input = ArticleInput {
        slug: &source.slug,
        title: &source.title,
        summary: &source.summary,
        body: &source.body,
        author_id: author.id,
        category_id: category.map(|c| c.id),
        tag_ids: &tag_ids,
        status: source.status,
        visibility: source.visibility,
        featured: source.featured,
        published_at: (source.status == PUBLISHED).then_some(source.published),
        updated_at: source.updated.unwrap_or(source.published),
    };
    match store(conn, &input, rendered, SaveTarget::BySlug)? {
        Saved::Written(id) => Ok(id),
        // Only a save by id checks versions.
        Saved::Conflict => Err(diesel::result::Error::RollbackTransaction),
    }
}

/// An article as it is saved, whether it comes from a file or from the editor.
#[derive(Debug)]
pub struct ArticleInput<'a> {
    pub slug: &'a Slug,
    pub title: &'a str,
    pub summary: &'a str,
    /// The Markdown source.
    pub body: &'a str,
    pub author_id: i32,
    pub category_id: Option<i32>,
    pub tag_ids: &'a [i32],
    pub status: &'a str,
    pub visibility: &'a str,
    pub featured: bool,
    pub published_at: Option<time::PrimitiveDateTime>,
    pub updated_at: time::PrimitiveDateTime,
}

/// The one path by which articles are saved: `rendered` (the body through the Markdown,
/// sanitising, reading-time and table-of-contents pipeline of [`markdown::render`]) with the
/// article's fields and tags, and its search index entry. Call it inside a transaction.
pub fn store(
    conn: &mut DbConn,
    input: &ArticleInput<'_>,
    rendered: &RenderedMarkdown,
    target: SaveTarget,
) -> QueryResult<Saved> {
    let toc_json = serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned());
    let saved = ArticleChanges {
        slug: input.slug.as_str(),
        title: input.title,
        summary: input.summary,
        body_markdown: input.body,
        body_html: rendered.html.as_str(),
        teaser_html: rendered.teaser.as_str(),
        teaser_text: &rendered.teaser_text,
        body_text: &rendered.text,
        toc_json: &toc_json,
        author_id: input.author_id,
        category_id: input.category_id,
        status: input.status,
        visibility: input.visibility,
        featured: input.featured,
        reading_minutes: rendered.reading_minutes,
        published_at: input.published_at,
        updated_at: input.updated_at,
    }
    .save(conn, target)?;
    if let Saved::Written(id) = saved {
        Tag::set_for_article(conn, id, input.tag_ids)?;
    }
    Ok(saved)
}
