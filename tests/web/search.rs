//! Search and pagination take any input a visitor can type without failing.

use actix_web::http::StatusCode;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn search_survives_fts_syntax_and_other_hostile_queries() {
    let app = spawn_app().await;
    let hostile = [
        "\"",
        "\"\"",
        "'",
        "AND (",
        "OR",
        "NOT",
        "*",
        "a*",
        "NEAR(sql index)",
        "title:sql",
        "sql^2",
        "-sql",
        "(",
        ")",
        "{}",
        "[",
        "%",
        "\\",
        "\u{0}",
        "🦀",
        "<script>alert(1)</script>",
        "sql\" OR \"1\"=\"1",
        "'; DROP TABLE articles; --",
        &"x".repeat(5000),
        &"sql ".repeat(300),
    ];
    for q in hostile {
        let path = format!(
            "/search?{}",
            serde_urlencoded::to_string([("q", q)]).unwrap()
        );
        let page = app.get(&path).await;
        // A NUL byte is refused as an address that cannot be read; anything else is searched.
        let expected = if q.contains('\0') {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(page.status, expected, "{q:?}");
        assert!(!page.body.contains("<script>alert"), "{q:?} is escaped");
    }
    // The articles are all still there.
    assert_eq!(app.get("/articles?page=2").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn search_results_page_through_many_matches() {
    let app = spawn_app().await;
    let first = app.get("/search?q=the").await;
    assert_eq!(first.texts(".results > li").len(), 10);
    let second = app.follow(&first, "a[rel=next]").await;
    assert!(!second.texts(".results > li").is_empty());
    assert_eq!(
        second.attr("#search-q", "value").unwrap(),
        "the",
        "the query is kept"
    );
    assert_eq!(
        app.get("/search?q=the&page=99").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_search_with_no_results_says_so_and_offers_topics() {
    let app = spawn_app().await;
    let page = app.get("/search?q=xylophonics").await;
    assert!(page.body.contains("No articles match"));
    assert!(page.links().iter().any(|l| l.starts_with("/categories/")));
    let empty = app.get("/search").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.text("h1"), "Search");
}

#[actix_web::test]
async fn search_excerpts_of_members_only_articles_do_not_reveal_their_body() {
    let app = spawn_app().await;
    // A phrase only in the locked part of a members-only article.
    let page = app.get("/search?q=reviewers+look").await;
    assert!(
        page.texts(".card-title")
            .contains(&"Your first back-end portfolio project, step by step".to_owned())
    );
    assert!(
        !page.body.contains("What reviewers look at"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn bad_page_numbers_get_a_sensible_page_never_an_error() {
    let app = spawn_app().await;
    for list in [
        "/",
        "/articles",
        "/categories/databases",
        "/tags/sql",
        "/search?q=sql",
    ] {
        let sep = if list.contains('?') { '&' } else { '?' };
        for (value, expected) in [
            ("abc", StatusCode::OK),
            ("-1", StatusCode::OK),
            ("0", StatusCode::OK),
            ("", StatusCode::OK),
            ("1.5", StatusCode::OK),
            ("99999999", StatusCode::NOT_FOUND),
            ("999999999999999999999999", StatusCode::NOT_FOUND),
        ] {
            let path = format!("{list}{sep}page={value}");
            let page = app.get(&path).await;
            assert_eq!(page.status, expected, "{path}");
            assert!(page.body.contains("</html>"), "{path} is a whole page");
        }
    }
}
