//! SQLite and PostgreSQL side by side: one data model, the same search results. These need both
//! databases, so they run when `GUIDEPOST_TEST_POSTGRES` names a server (as in `.ci/run`).

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use guidepost::db::{Database, DbConn};

use crate::browser::Browser;
use crate::helpers::{database_in, on_sqlite, spawn_app, spawn_app_with};

/// What a database says of its tables, in words both backends share.
#[derive(Debug, Default, PartialEq, Eq)]
struct Catalog {
    /// (table, column, type, nullable, part of the primary key)
    columns: BTreeSet<(String, String, String, bool, bool)>,
    /// (table, columns, unique, partial), primary keys left out (see `columns`)
    indexes: BTreeSet<(String, String, bool, bool)>,
    /// (table, column, referenced table, referenced column, on delete)
    foreign_keys: BTreeSet<(String, String, String, String, String)>,
    /// (table, number of CHECK constraints)
    checks: BTreeSet<(String, usize)>,
}

/// Each backend's own search tables: an FTS5 table (and its shadow tables) on SQLite, a table with
/// generated `tsvector` columns on PostgreSQL. Their columns differ by design.
fn is_search_table(name: &str) -> bool {
    name.starts_with("articles_fts")
}

fn normal_type(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int4" | "int8" => "integer",
        "text" => "text",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "boolean" => "boolean",
        "blob" | "bytea" => "bytes",
        "date" => "date",
        other => return format!("unknown {other}"),
    }
    .to_owned()
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    partial: i32,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Text)]
    to: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn sqlite_catalog(conn: &mut DbConn) -> Catalog {
    let mut catalog = Catalog::default();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '\\_\\_%' ESCAPE '\\'",
    )
    .load(conn)
    .unwrap();
    for Name { name: table } in tables {
        if is_search_table(&table) {
            continue;
        }
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!("PRAGMA table_info({table})"))
            .load(conn)
            .unwrap();
        for column in columns {
            catalog.columns.insert((
                table.clone(),
                column.name,
                normal_type(&column.r#type),
                column.notnull == 0 && column.pk == 0,
                column.pk > 0,
            ));
        }
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!("PRAGMA index_list({table})"))
            .load(conn)
            .unwrap();
        for index in indexes.into_iter().filter(|index| index.origin != "pk") {
            let columns: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                index.name
            ))
            .load(conn)
            .unwrap();
            let columns: Vec<String> = columns.into_iter().map(|c| c.name).collect();
            catalog.indexes.insert((
                table.clone(),
                columns.join(","),
                index.unique == 1,
                index.partial == 1,
            ));
        }
        let keys: Vec<SqliteForeignKey> =
            diesel::sql_query(format!("PRAGMA foreign_key_list({table})"))
                .load(conn)
                .unwrap();
        for key in keys {
            catalog.foreign_keys.insert((
                table.clone(),
                key.from,
                key.table,
                key.to,
                key.on_delete.to_ascii_uppercase(),
            ));
        }
        #[derive(QueryableByName)]
        struct Sql {
            #[diesel(sql_type = Text)]
            sql: String,
        }
        let sql: Sql = diesel::sql_query(format!(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        ))
        .get_result(conn)
        .unwrap();
        catalog
            .checks
            .insert((table.clone(), sql.sql.matches("CHECK (").count()));
    }
    catalog
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = BigInt)]
    in_primary_key: i64,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    unique: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    partial: bool,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    foreign_table: String,
    #[diesel(sql_type = Text)]
    foreign_column: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct PgChecks {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = BigInt)]
    checks: i64,
}

fn postgres_catalog(conn: &mut DbConn) -> Catalog {
    let mut catalog = Catalog::default();
    let site_table = "c.relkind = 'r' AND n.nspname = current_schema() \
                      AND c.relname NOT LIKE 'articles_fts%' AND c.relname NOT LIKE '\\_\\_%'";
    let columns: Vec<PgColumn> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
         format_type(a.atttypid, NULL) AS data_type, \
         CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, \
         (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary \
          AND a.attnum = ANY(i.indkey)) AS in_primary_key \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE {site_table}"
    ))
    .load(conn)
    .unwrap();
    for column in columns {
        catalog.columns.insert((
            column.table_name,
            column.column_name,
            normal_type(&column.data_type),
            column.is_nullable == "YES",
            column.in_primary_key > 0,
        ));
    }
    let indexes: Vec<PgIndex> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
          FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS columns, \
         i.indisunique AS unique, i.indpred IS NOT NULL AS partial \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {site_table} AND NOT i.indisprimary"
    ))
    .load(conn)
    .unwrap();
    for index in indexes {
        catalog
            .indexes
            .insert((index.table_name, index.columns, index.unique, index.partial));
    }
    let keys: Vec<PgForeignKey> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
         f.relname::text AS foreign_table, fa.attname::text AS foreign_column, \
         CASE k.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
         WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_class f ON f.oid = k.confrelid \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1] \
         JOIN pg_attribute fa ON fa.attrelid = f.oid AND fa.attnum = k.confkey[1] \
         WHERE k.contype = 'f' AND {site_table}"
    ))
    .load(conn)
    .unwrap();
    for key in keys {
        catalog.foreign_keys.insert((
            key.table_name,
            key.column_name,
            key.foreign_table,
            key.foreign_column,
            key.on_delete,
        ));
    }
    let checks: Vec<PgChecks> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, \
         (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c') AS checks \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {site_table}"
    ))
    .load(conn)
    .unwrap();
    for check in checks {
        catalog
            .checks
            .insert((check.table_name, usize::try_from(check.checks).unwrap()));
    }
    catalog
}

#[test]
fn both_backends_have_the_same_tables_columns_types_and_indexes() {
    if on_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = guidepost::db::open(dir.path().join("site.db"), 1).unwrap();
    let postgres = guidepost::db::open(database_in(&dir), 1).unwrap();
    let sqlite = sqlite_catalog(&mut sqlite.get().unwrap());
    let postgres = postgres_catalog(&mut postgres.get().unwrap());
    assert!(sqlite.columns.len() > 100, "{sqlite:?}");
    for (what, left, right) in [
        (
            "columns",
            format!("{:#?}", sqlite.columns),
            format!("{:#?}", postgres.columns),
        ),
        (
            "indexes",
            format!("{:#?}", sqlite.indexes),
            format!("{:#?}", postgres.indexes),
        ),
        (
            "foreign keys",
            format!("{:#?}", sqlite.foreign_keys),
            format!("{:#?}", postgres.foreign_keys),
        ),
        (
            "checks",
            format!("{:#?}", sqlite.checks),
            format!("{:#?}", postgres.checks),
        ),
    ] {
        let only_sqlite: Vec<&str> = left.lines().filter(|l| !right.contains(l)).collect();
        let only_postgres: Vec<&str> = right.lines().filter(|l| !left.contains(l)).collect();
        assert!(
            only_sqlite.is_empty() && only_postgres.is_empty(),
            "{what} differ\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_postgres:#?}"
        );
    }
    assert_eq!(sqlite, postgres);
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[test]
fn both_backends_record_the_same_migration_versions() {
    if on_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut versions = Vec::new();
    for database in [
        Database::Sqlite(dir.path().join("site.db")),
        database_in(&dir),
    ] {
        let pool = guidepost::db::open(database, 1).unwrap();
        let rows: Vec<Version> =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
                .load(&mut **pool.get().unwrap())
                .unwrap();
        versions.push(rows.into_iter().map(|r| r.version).collect::<Vec<_>>());
    }
    assert_eq!(versions[0], versions[1]);
    assert_eq!(versions[0].len(), 10);
}

/// The articles a search finds (every page of it) and the count it says, as `browser` sees them.
async fn found(browser: &Browser<'_>, query: &str) -> (BTreeSet<String>, String) {
    let mut found = BTreeSet::new();
    let mut page = browser
        .get(&format!(
            "/search?{}",
            serde_urlencoded::to_string([("q", query)]).unwrap()
        ))
        .await;
    let count = page
        .text("main h1, main .lede, main .muted")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    loop {
        for link in page
            .doc()
            .select(&crate::helpers::sel(".results > li a[href^='/articles/']"))
        {
            found.insert(link.value().attr("href").unwrap().to_owned());
        }
        if page.attr("a[rel=next]", "href").is_none() {
            break;
        }
        page = browser
            .get(&page.attr("a[rel=next]", "href").unwrap())
            .await;
    }
    (found, count)
}

#[actix_web::test]
async fn search_finds_the_same_articles_on_both_backends_for_readers_and_members() {
    if on_sqlite() {
        return;
    }
    let on_postgres = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.db");
    let on_sqlite =
        spawn_app_with(move |settings| settings.database = Database::Sqlite(file)).await;
    let queries = [
        "developer",
        "back-end developer",
        "the",
        "how to",
        "databa",
        "api design",
        "SQL AND (index* NEAR",
        "caching",
        "interview",
        "nothing matches this zzzz",
    ];
    let readers = [Browser::new(&on_sqlite), Browser::new(&on_postgres)];
    let members = [Browser::new(&on_sqlite), Browser::new(&on_postgres)];
    for member in &members {
        member
            .sign_up("Ana", "ana@example.com", "correct horse battery")
            .await;
    }
    let mut total = 0;
    for query in queries {
        for (who, [sqlite, postgres]) in [("reader", &readers), ("member", &members)] {
            let (left, right) = (found(sqlite, query).await, found(postgres, query).await);
            assert_eq!(left, right, "{who} searching {query:?}");
            total += left.0.len();
        }
    }
    assert!(total > 20, "the searches found something: {total}");
}

#[actix_web::test]
async fn copy_database_moves_a_sqlite_site_into_postgres_and_refuses_a_filled_target() {
    if on_sqlite() {
        return;
    }
    const PASSWORD: &str = "correct horse battery";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.db");
    let source = Database::Sqlite(file.clone());
    let old = spawn_app_with(move |settings| settings.database = Database::Sqlite(file)).await;
    let member = Browser::new(&old);
    member.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let cookie = member.cookie("guidepost_session").unwrap();
    let titles = old.get("/articles").await.texts(".card h2, .card h3");
    drop(old);

    let target = database_in(&tempfile::tempdir().unwrap());
    let copy = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_guidepost"))
            .env_remove("RUST_LOG")
            .arg("--database")
            .arg(&source)
            .arg("copy-database")
            .arg("--to")
            .arg(&target)
            .output()
            .unwrap()
    };
    // The old server lets go of its file as it stops.
    let mut copied = copy();
    for _ in 0..100 {
        if !String::from_utf8_lossy(&copied.stderr).contains("a server is running") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        copied = copy();
    }
    let said = String::from_utf8_lossy(&copied.stdout).into_owned();
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(said.contains("every table's count matches"), "{said}");

    let moved = target.clone();
    let new = spawn_app_with(move |settings| settings.database = moved).await;
    // The same pages, the member's session and password, and new rows after the copied ones.
    assert_eq!(
        new.get("/articles").await.texts(".card h2, .card h3"),
        titles
    );
    let returning = Browser::new(&new);
    returning.set_cookie("guidepost_session", &cookie);
    assert!(
        returning
            .visit("/account")
            .await
            .text("main")
            .contains("Ana")
    );
    let again = Browser::new(&new);
    again.log_in("ana@example.com", PASSWORD).await;
    assert!(again.visit("/account").await.text("main").contains("Ana"));
    let newcomer = Browser::new(&new);
    newcomer.sign_up("Ben", "ben@example.com", PASSWORD).await;
    assert!(
        newcomer
            .visit("/account")
            .await
            .text("main")
            .contains("Ben")
    );

    // A target that holds a site is refused, and left as it was.
    let refused = copy();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(why.contains("the target database is not empty"), "{why}");
    assert!(
        returning
            .visit("/account")
            .await
            .text("main")
            .contains("Ana")
    );
}

#[test]
fn times_booleans_and_kinds_come_back_as_they_were_written_on_both_backends() {
    use guidepost::db::schema::{articles, users};
    if on_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for database in [
        Database::Sqlite(dir.path().join("site.db")),
        database_in(&dir),
    ] {
        let pool = guidepost::db::open(database.clone(), 1).unwrap();
        let mut pooled = pool.get().unwrap();
        let conn: &mut guidepost::db::DbConn = &mut pooled;
        let at = guidepost::db::now();
        let id: i32 = diesel::insert_into(users::table)
            .values((
                users::email.eq("kinds@example.com"),
                users::name.eq("Kinds"),
                users::role.eq("editor"),
                users::status.eq("disabled"),
                users::created_at.eq(at),
                users::updated_at.eq(at),
                users::trial_ends_at.eq(Some(at)),
            ))
            .returning(users::id)
            .get_result(conn)
            .unwrap();
        let (role, status, created, trial): (
            String,
            String,
            time::PrimitiveDateTime,
            Option<time::PrimitiveDateTime>,
        ) = users::table
            .find(id)
            .select((
                users::role,
                users::status,
                users::created_at,
                users::trial_ends_at,
            ))
            .first(conn)
            .unwrap();
        assert_eq!(
            (role.as_str(), status.as_str()),
            ("editor", "disabled"),
            "{database}"
        );
        assert_eq!((created, trial), (at, Some(at)), "{database}");
        for (n, featured) in [(1, true), (2, false)] {
            let article: i32 = diesel::insert_into(articles::table)
                .values((
                    articles::slug.eq(format!("kinds-{n}")),
                    articles::title.eq("Kinds"),
                    articles::summary.eq(""),
                    articles::author_id.eq(id),
                    articles::featured.eq(featured),
                    articles::reading_minutes.eq(1),
                    articles::updated_at.eq(at),
                    articles::created_at.eq(at),
                ))
                .returning(articles::id)
                .get_result(conn)
                .unwrap();
            let read: bool = articles::table
                .find(article)
                .select(articles::featured)
                .first(conn)
                .unwrap();
            assert_eq!(read, featured, "{database}");
        }
        // An enum column refuses what is not one of its values, on both.
        let refused = diesel::update(users::table.find(id))
            .set(users::role.eq("owner"))
            .execute(conn);
        assert!(refused.is_err(), "{database}");
    }
}
