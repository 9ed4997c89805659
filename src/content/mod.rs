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

use crate::db::articles::{ArticleChanges, PUBLISHED};
use crate::db::taxonomy::{Category, Tag};
use crate::db::users::Author;
use crate::domain::markdown;
pub use front_matter::{ArticleSource, Described};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    /// Files that could not be imported, each with the reason.
    pub failed: Vec<String>,
}

/// Reads every `.md` file in `dir` (and the optional descriptions) and imports them.
pub fn import_dir(conn: &mut SqliteConnection, dir: &Path) -> anyhow::Result<ImportReport> {
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

    let mut sources = Vec::new();
    let mut report = ImportReport::default();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((name, text)),
            Err(error) => report
                .failed
                .push(format!("{name}: cannot read the file: {error}")),
        }
    }
    let imported = import(conn, &sources, &categories, &tags)?;
    report.imported = imported.imported;
    report.failed.extend(imported.failed);
    Ok(report)
}

/// Imports articles given as `(file name, text)`. Each article is saved in its own transaction,
/// so a bad file leaves nothing of itself behind and does not stop the others.
pub fn import(
    conn: &mut SqliteConnection,
    sources: &[(String, String)],
    categories: &[Described],
    tags: &[Described],
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    for (name, text) in sources {
        let source = match ArticleSource::parse(text) {
            Ok(source) => source,
            Err(error) => {
                report.failed.push(format!("{name}: {error}"));
                continue;
            }
        };
        conn.immediate_transaction(|conn| save(conn, &source, categories, tags))
            .with_context(|| format!("cannot save {name}"))?;
        report.imported += 1;
    }
    Ok(report)
}

fn description<'a>(described: &'a [Described], name: &str) -> Option<&'a str> {
    described
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .map(|d| d.description.as_str())
}

fn save(
    conn: &mut SqliteConnection,
    source: &ArticleSource,
    categories: &[Described],
    tags: &[Described],
) -> QueryResult<i32> {
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
    let rendered = markdown::render(&source.body);
    let toc_json = serde_json::to_string(&rendered.toc).unwrap_or_else(|_| "[]".to_owned());
    let id = ArticleChanges {
        slug: source.slug.as_str(),
        title: &source.title,
        summary: &source.summary,
        body_markdown: &source.body,
        body_html: rendered.html.as_str(),
        teaser_html: rendered.teaser.as_str(),
        body_text: &rendered.text,
        toc_json: &toc_json,
        author_id: author.id,
        category_id: category.map(|c| c.id),
        status: source.status,
        visibility: source.visibility,
        featured: source.featured,
        reading_minutes: rendered.reading_minutes,
        published_at: (source.status == PUBLISHED).then_some(source.published),
        updated_at: source.updated.unwrap_or(source.published),
    }
    .save(conn)?;
    Tag::set_for_article(conn, id, &tag_ids)?;
    Ok(id)
}
