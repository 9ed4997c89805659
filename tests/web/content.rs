//! Drafts stay private everywhere, and what authors write cannot inject markup.

use actix_web::http::StatusCode;

use crate::helpers::{article, import_articles, spawn_app};

const DRAFT_WORD: &str = "zephyrquill";

async fn app_with_a_draft() -> crate::helpers::TestApp {
    let app = spawn_app().await;
    import_articles(
        &app,
        &[(
            "draft.md",
            &article(
                "Unreleased zephyrquill notes",
                "status: draft\ncategory: Databases\ntags: SQL, Zephyrquill\nfeatured: true\n",
                "The zephyrquill body.\n\n## Section\n\nMore.",
            ),
        )],
    );
    app
}

#[actix_web::test]
async fn a_draft_is_invisible_in_every_public_place() {
    let app = app_with_a_draft().await;
    let slug = "unreleased-zephyrquill-notes";

    assert_eq!(
        app.get(&format!("/articles/{slug}")).await.status,
        StatusCode::NOT_FOUND
    );
    for path in [
        "/",
        "/?page=2",
        "/articles",
        "/articles?page=2",
        "/categories",
        "/categories/databases",
        "/tags/sql",
        "/feed.xml",
        "/sitemap.xml",
        "/articles/database-indexes-explained",
        "/articles/relational-databases-for-beginners",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.to_lowercase().contains(DRAFT_WORD),
            "{path} shows the draft"
        );
    }
    let search = app.get(&format!("/search?q={DRAFT_WORD}")).await;
    assert!(search.texts(".results li").is_empty());
    assert!(search.text("[role=status]").starts_with("0 articles"));
    assert_eq!(app.get("/tags/zephyrquill").await.texts(".card").len(), 0);
}

#[actix_web::test]
async fn importing_an_article_again_updates_it_in_place_and_in_search() {
    let app = spawn_app().await;
    import_articles(
        &app,
        &[(
            "a.md",
            &article("Moving target", "", "First wording about walruses."),
        )],
    );
    import_articles(
        &app,
        &[(
            "a.md",
            &article("Moving target", "", "Second wording about narwhals."),
        )],
    );
    let page = app.get("/articles/moving-target").await;
    assert!(page.body.contains("narwhals") && !page.body.contains("walruses"));
    assert!(
        app.get("/search?q=walruses")
            .await
            .texts(".results li")
            .is_empty()
    );
    assert_eq!(
        app.get("/search?q=narwhals")
            .await
            .texts(".results li")
            .len(),
        1
    );
}

#[actix_web::test]
async fn script_and_raw_html_in_an_article_never_reach_the_page() {
    let app = spawn_app().await;
    import_articles(
        &app,
        &[(
            "x.md",
            &article(
                "Hostile markup <b>test</b>",
                "",
                "<script>alert('x')</script>\n\n<iframe src=\"https://example.com\"></iframe>\n\n\
                 [click](javascript:alert(1)) [data](data:text/html,hi) <img src=x onerror=alert(1)>",
            ),
        )],
    );
    let page = app.get("/articles/hostile-markup-b-test-b").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<iframe"));
    assert!(!page.body.contains("<img src=\"x\""));
    assert!(!page.body.contains("javascript:"));
    assert!(!page.body.contains("href=\"data:"));
    assert!(!page.body.contains("<b>test</b>"), "the title is escaped");
    assert!(page.text("h1").contains("<b>test</b>"));
}

#[actix_web::test]
async fn a_cached_page_and_the_feed_show_the_new_version_soon_after_an_import_from_another_process()
{
    let app = spawn_app().await;
    import_articles(
        &app,
        &[(
            "a.md",
            &article("Changing page", "", "It talks about walruses."),
        )],
    );
    let paths = ["/articles/changing-page", "/feed.xml"];
    for path in paths {
        let first = app.get(path).await;
        assert!(first.body.contains("walruses"), "{path}");
        assert_eq!(app.get(path).await.body, first.body, "{path}");
    }

    import_articles(
        &app,
        &[(
            "a.md",
            &article("Changing page", "", "It talks about narwhals."),
        )],
    );
    for path in paths {
        let mut updated = false;
        for _ in 0..50 {
            if app.get(path).await.body.contains("narwhals") {
                updated = true;
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(updated, "{path} kept the old version");
    }
}
