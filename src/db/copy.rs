//! `guidepost copy-database --to postgres://…`: moves a SQLite site into an empty PostgreSQL
//! database. Everything is copied (articles, members, sessions, images, settings, mail, the audit
//! log, payments), in one read transaction of the source and one write transaction of the target,
//! so the copy is of one moment and is all there or not at all. The row counts of every table are
//! compared before the target's transaction commits.
//!
//! Rows travel as JSON: each batch is read from SQLite as one JSON array of rows (every value as
//! text, blobs as hex) and inserted on PostgreSQL by one statement that casts each value to its
//! column's type, so no table needs code of its own here.

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{Database, DbConn};

/// The tables in an order that respects their foreign keys. A table of the source missing here
/// stops the copy, so one added later is never left behind without a word.
const TABLES: &[&str] = &[
    "users",
    "categories",
    "tags",
    "images",
    "articles",
    "article_bodies",
    "article_tags",
    "articles_fts",
    "comments",
    "saved_articles",
    "follows",
    "handle_redirects",
    "sessions",
    "throttle_events",
    "email_tokens",
    "outbox",
    "settings",
    "slug_redirects",
    "page_views",
    "audit_log",
    "pending_signups",
    "derived_data",
    "content_version",
    "subscriptions",
    "payments",
    "stripe_events",
];

/// Rows per statement.
const BATCH: i64 = 500;

/// What was copied: each table and its rows.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(String, i64)>,
}

/// Copies the SQLite database `from` into the PostgreSQL database `to` (migrated first), which
/// must hold no site yet. `progress` hears of each table as it is done.
pub fn copy(
    from: &Database,
    to: &Database,
    mut progress: impl FnMut(&str, i64),
) -> anyhow::Result<Copied> {
    let (Database::Sqlite(_), Database::Postgres(_)) = (from, to) else {
        anyhow::bail!(
            "copy-database copies a SQLite database (--database FILE) into PostgreSQL \
             (--to postgres://…)"
        );
    };
    let Some(path) = from.sqlite_path().filter(|path| path.exists()) else {
        anyhow::bail!("there is no database at {from} to copy");
    };
    to.check().map_err(anyhow::Error::msg)?;
    // What a running server wrote during the copy would not be in it.
    let _lock = super::backup::ServerLock::exclusive(path).map_err(|_| {
        anyhow::anyhow!("a server is running on {from}: stop it before copying the site")
    })?;
    let mut source = super::establish(from).with_context(|| format!("cannot open {from}"))?;
    source
        .batch_execute("PRAGMA busy_timeout = 5000;")
        .context("cannot use the source database")?;
    // The source is brought to the schema of this version of Guidepost, as the target will be.
    super::migrate(&mut source)?;
    let DbConn::Sqlite(mut source) = source else {
        anyhow::bail!("{from} is not a SQLite database");
    };
    let pool = super::open(to, 1)?;
    let mut target = pool
        .get()
        .context("cannot connect to the target database")?;

    let tables = source_tables(&mut source)?;
    if let Some(unknown) = tables.iter().find(|t| !TABLES.contains(&t.as_str())) {
        anyhow::bail!("the source has a table this version cannot copy: {unknown}");
    }
    // One moment of the source: a read transaction for the whole copy.
    source.transaction(|source| {
        super::write_transaction(&mut target, |target| {
            refuse_unless_empty(target)?;
            // What the migrations put in an empty site comes from the source instead.
            target.batch_execute(
                "DELETE FROM settings; DELETE FROM derived_data; DELETE FROM content_version;",
            )?;
            let mut copied = Copied::default();
            for table in TABLES.iter().filter(|t| tables.iter().any(|s| s == *t)) {
                let rows = copy_table(source, target, table)?;
                progress(table, rows);
                copied.tables.push(((*table).to_owned(), rows));
            }
            finish(target)?;
            check_counts(source, target, &copied)?;
            Ok(copied)
        })
    })
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The source's site tables: not SQLite's own, not FTS5's shadow tables, not Diesel's record.
fn source_tables(source: &mut SqliteConnection) -> anyhow::Result<Vec<String>> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name NOT LIKE '\\_\\_%' ESCAPE '\\' AND name NOT LIKE 'articles\\_fts\\_%' ESCAPE '\\'",
    )
    .load(source)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn refuse_unless_empty(target: &mut DbConn) -> anyhow::Result<()> {
    for table in TABLES {
        if matches!(*table, "settings" | "derived_data" | "content_version") {
            continue;
        }
        let count: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result(target)?;
        if count.n > 0 {
            anyhow::bail!(
                "the target database is not empty ({table} has {} row(s)): copy-database only \
                 fills a new, empty database",
                count.n
            );
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct Batch {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    rows: Option<String>,
}

/// Copies one table, batch by batch in rowid order; the number of rows copied.
fn copy_table(
    source: &mut SqliteConnection,
    target: &mut DbConn,
    table: &str,
) -> anyhow::Result<i64> {
    // The target's columns that hold data (generated ones follow it), in order.
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT column_name::text AS name, data_type::text AS data_type \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(target)?;
    let read: Vec<String> = columns
        .iter()
        .map(|c| {
            // The search table's article id is FTS5's rowid.
            let name = if table == "articles_fts" && c.name == "article_id" {
                "rowid"
            } else {
                c.name.as_str()
            };
            if c.data_type == "bytea" {
                format!("hex(\"{name}\")")
            } else {
                format!("CAST(\"{name}\" AS TEXT)")
            }
        })
        .collect();
    let written: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c.data_type.as_str() {
            "bytea" => format!("decode(r->>{i}, 'hex')"),
            other => format!("(r->>{i})::{other}"),
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    // Images are large: a few at a time.
    let batch = if table == "images" { 8 } else { BATCH };
    let select = format!(
        "SELECT json_group_array(json_array({})) AS rows FROM \
         (SELECT *, rowid FROM \"{table}\" WHERE rowid > ? ORDER BY rowid LIMIT {batch})",
        read.join(", ")
    );
    let last_rowid = format!(
        "SELECT CAST(rowid AS INTEGER) AS n FROM \"{table}\" WHERE rowid > ? ORDER BY rowid \
         LIMIT 1 OFFSET {}",
        batch - 1
    );
    let insert = format!(
        "INSERT INTO \"{table}\" ({}) SELECT {} FROM json_array_elements($1::json) AS r",
        names.join(", "),
        written.join(", ")
    );
    let (mut after, mut copied) = (i64::MIN, 0_i64);
    loop {
        let batch: Batch = diesel::sql_query(&select)
            .bind::<BigInt, _>(after)
            .get_result(source)?;
        let rows = batch.rows.unwrap_or_else(|| "[]".to_owned());
        let inserted = diesel::sql_query(&insert)
            .bind::<Text, _>(&rows)
            .execute(target)?;
        copied += i64::try_from(inserted).unwrap_or(i64::MAX);
        let next: Option<Count> = diesel::sql_query(&last_rowid)
            .bind::<BigInt, _>(after)
            .get_result(source)
            .optional()?;
        match next {
            Some(Count { n }) if inserted > 0 => after = n,
            _ => break,
        }
    }
    Ok(copied)
}

/// After the copy: identity columns go on from the highest id copied, and the topic counts are
/// counted again (the target's triggers counted the copied rows on top of the copied counts).
fn finish(target: &mut DbConn) -> anyhow::Result<()> {
    let identities: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'",
    )
    .load(target)?;
    for Name { name } in identities {
        target.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), \
             coalesce((SELECT max(id) FROM \"{name}\"), 0) + 1, false)"
        ))?;
    }
    target.batch_execute(
        "UPDATE categories SET published_articles = (
             SELECT count(*) FROM articles
             WHERE articles.category_id = categories.id AND articles.status = 'published');
         UPDATE tags SET published_articles = (
             SELECT count(*) FROM article_tags JOIN articles ON articles.id = article_tags.article_id
             WHERE article_tags.tag_id = tags.id AND articles.status = 'published');",
    )?;
    Ok(())
}

fn check_counts(
    source: &mut SqliteConnection,
    target: &mut DbConn,
    copied: &Copied,
) -> anyhow::Result<()> {
    for (table, _) in &copied.tables {
        let query = format!("SELECT count(*) AS n FROM \"{table}\"");
        let there: Count = diesel::sql_query(&query).get_result(source)?;
        let here: Count = diesel::sql_query(&query).get_result(target)?;
        if there.n != here.n {
            anyhow::bail!(
                "{table}: {} row(s) in the source but {} copied; nothing was kept",
                there.n,
                here.n
            );
        }
    }
    Ok(())
}
