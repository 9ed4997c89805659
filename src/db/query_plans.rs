//! Checks the query plan of every list query: each must read an index in list order, so that no
//! later change (a dropped index, a reworded query) quietly brings back a scan of every article or
//! a sort at request time. The plans are read from SQLite with `EXPLAIN QUERY PLAN` on a database
//! made by the real migrations and filled with the demo articles.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::cache::list_sql;

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

fn plan(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<PlanRow>(conn)
        .unwrap_or_else(|error| panic!("cannot explain {sql}: {error}"))
        .into_iter()
        .map(|row| row.detail)
        .collect()
}

fn demo_database() -> (tempfile::TempDir, SqliteConnection) {
    let dir = tempfile::tempdir().unwrap();
    let pool = super::open(dir.path().join("plans.db"), 1).unwrap();
    let mut conn = pool.get().unwrap();
    crate::content::demo::import_demo(&mut conn).unwrap();
    drop(conn);
    let url = dir.path().join("plans.db").to_string_lossy().into_owned();
    (dir, SqliteConnection::establish(&url).unwrap())
}

#[test]
fn every_list_query_reads_an_index_in_list_order_without_scanning_or_sorting() {
    let (_dir, mut conn) = demo_database();
    for (name, sql) in list_sql::ALL {
        let steps = plan(&mut conn, sql);
        assert!(
            steps
                .iter()
                .any(|step| step.contains("USING COVERING INDEX")),
            "{name}: not answered from an index alone: {steps:?}"
        );
        assert!(
            !steps
                .iter()
                .any(|step| step.starts_with("SCAN") || step.contains("TEMP B-TREE")),
            "{name}: scans a table or sorts at request time: {steps:?}"
        );
    }
}

#[test]
fn cards_and_articles_are_read_by_primary_key_or_unique_slug() {
    let (_dir, mut conn) = demo_database();
    for (name, expected, query) in super::articles::lookup_queries() {
        let sql = query.split(" -- binds:").next().unwrap_or_default();
        let steps = plan(&mut conn, sql);
        assert!(
            steps.first().is_some_and(|step| step.starts_with(expected)),
            "{name}: expected {expected:?} first: {steps:?}"
        );
        assert!(
            !steps.iter().any(|step| step.starts_with("SCAN")),
            "{name}: scans a table: {steps:?}"
        );
    }
}
