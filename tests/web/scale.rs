//! What keeps pages fast whatever the size of the site: no stall on compressed responses, one render
//! for a crowd of readers missing the same page, topic counts kept right through every change,
//! and search counts that stay honest without counting every match.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::helpers::{TestApp, article, import_articles, spawn_app, spawn_app_with};

/// The median time of `n` sequential requests for `path` over the client's one keep-alive
/// connection, with the given `Accept-Encoding`.
async fn median_time(app: &TestApp, path: &str, encoding: &str, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let request = app
            .client()
            .get(format!("{}{path}", app.origin))
            .insert_header(("Accept-Encoding", encoding));
        let started = Instant::now();
        let mut response = request.send().await.unwrap();
        let body = response.body().limit(4 * 1024 * 1024).await.unwrap();
        times.push(started.elapsed());
        assert_eq!(response.status(), StatusCode::OK);
        assert!(!body.is_empty());
    }
    times.sort();
    times[n / 2]
}

#[actix_web::test]
async fn an_uncached_compressed_page_does_not_stall_behind_the_clients_delayed_ack() {
    // With the page cache off, every request renders and compresses the page afresh.
    let app = spawn_app_with(|s| s.page_cache_bytes = 0).await;
    let path = "/articles/database-indexes-explained";
    median_time(&app, path, "identity", 3).await;

    let plain = median_time(&app, path, "identity", 15).await;
    let gzip = median_time(&app, path, "gzip", 15).await;

    // Nagle's algorithm holding the body back until the client's delayed ACK costs ~40 ms per
    // response; compressing the page itself costs far less than rendering it.
    assert!(
        gzip <= plain * 2 + Duration::from_millis(2),
        "compressed {gzip:?} against uncompressed {plain:?}"
    );
}

#[actix_web::test]
async fn readers_missing_the_same_page_at_once_share_one_render() {
    let app = spawn_app().await;
    let path = "/articles/database-indexes-explained";
    // A first reader fills the cache; then the content changes and the cache is cleared.
    assert_eq!(app.get(path).await.status, StatusCode::OK);
    app.page_cache.invalidate();
    let before = app.page_cache.renders();

    let requests: Vec<_> = (0..20)
        .map(|_| {
            let request = app
                .client()
                .get(format!("{}{path}", app.origin))
                .insert_header(("Accept-Encoding", "gzip"))
                .send();
            actix_web::rt::spawn(request)
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        app.page_cache.renders() - before,
        1,
        "twenty readers at once cause one render"
    );
}

#[derive(QueryableByName, Debug, PartialEq)]
struct TopicCount {
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = BigInt)]
    stored: i64,
    #[diesel(sql_type = BigInt)]
    counted: i64,
}

/// Every category and tag whose stored count of published articles differs from a fresh count.
fn wrong_counts(app: &TestApp) -> Vec<TopicCount> {
    let pool = guidepost::db::open(&app.database, 1).unwrap();
    let mut pooled = pool.get().unwrap();
    let conn: &mut guidepost::db::DbConn = &mut pooled;
    let mut wrong: Vec<TopicCount> = diesel::sql_query(
        "SELECT slug, CAST(published_articles AS BIGINT) AS stored, (SELECT count(*) FROM articles \
         WHERE category_id = categories.id AND status = 'published') AS counted FROM categories",
    )
    .load(conn)
    .unwrap();
    wrong.extend(
        diesel::sql_query(
            "SELECT slug, CAST(published_articles AS BIGINT) AS stored, (SELECT count(*) FROM article_tags \
             JOIN articles ON articles.id = article_id \
             WHERE tag_id = tags.id AND status = 'published') AS counted FROM tags",
        )
        .load::<TopicCount>(conn)
        .unwrap(),
    );
    wrong.retain(|row| row.stored != row.counted);
    wrong
}

#[actix_web::test]
async fn topic_counts_stay_right_through_publishing_retagging_moving_and_deleting() {
    let app = spawn_app().await;
    assert_eq!(wrong_counts(&app), [], "after the demo import");
    let file = |extra: &str| article("Counting sheep", extra, "Body.");

    import_articles(
        &app,
        &[("a.md", &file("category: Databases\ntags: SQL, Indexes\n"))],
    );
    assert_eq!(wrong_counts(&app), [], "after publishing");
    import_articles(
        &app,
        &[("a.md", &file("category: Testing\ntags: SQL, Debugging\n"))],
    );
    assert_eq!(wrong_counts(&app), [], "after moving and retagging");
    import_articles(
        &app,
        &[(
            "a.md",
            &file("status: draft\ncategory: Testing\ntags: SQL\n"),
        )],
    );
    assert_eq!(wrong_counts(&app), [], "after unpublishing");
    import_articles(
        &app,
        &[("a.md", &file("category: APIs\ntags: HTTP, SQL\n"))],
    );
    assert_eq!(wrong_counts(&app), [], "after publishing again");
    let pool = guidepost::db::open(&app.database, 1).unwrap();
    diesel::sql_query(
        "DELETE FROM articles WHERE slug IN ('counting-sheep', 'database-indexes-explained')",
    )
    .execute(&mut **pool.get().unwrap())
    .unwrap();
    assert_eq!(wrong_counts(&app), [], "after deleting");

    let topics = app.get("/categories").await;
    assert!(topics.text("body").contains("APIs"));
}

#[actix_web::test]
async fn a_word_in_more_articles_than_are_counted_reads_as_more_than_a_thousand() {
    let app = spawn_app_with(|s| s.demo_content = false).await;
    let files: Vec<(String, String)> = (0..1_001)
        .map(|n| {
            (
                format!("{n}.md"),
                article(&format!("Quokka notes {n}"), "", "Quokkas everywhere."),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    import_articles(&app, &files);

    let many = app.get("/search?q=quokka").await;
    assert_eq!(
        many.text("[role=status]"),
        "More than 1,000 articles found."
    );
    assert_eq!(many.texts(".results li").len(), 10);
    let one = app.get("/search?q=quokka+1000").await;
    assert_eq!(one.text("[role=status]"), "1 article found.");
}
