//! A reader's journey: home → article → category → tag → search → next page → back to the article.

use crate::browser::{DESKTOP, Journey, PHONE, Viewport};

async fn reader_journey(viewport: Viewport) {
    let mut j = Journey::start("reader", viewport).await;

    j.open("/").await;
    assert_eq!(
        j.text("h1").await,
        "Learn the craft of back-end development"
    );
    j.shot("home").await;

    j.click(".featured .card-title a").await;
    let article = j.path().await;
    assert_eq!(j.text("h1").await, "What does a back-end developer do?");
    assert!(
        j.count(".toc a").await >= 3,
        "the table of contents is shown"
    );
    j.shot("article").await;

    j.click(".breadcrumbs a[href^='/categories/']").await;
    assert_eq!(j.text("h1").await, "Careers");
    j.shot("category").await;

    j.back().await;
    j.click(".tag-list a[href='/tags/sql']").await;
    assert_eq!(j.text("h1").await, "#SQL");
    j.shot("tag").await;

    j.click(".main-nav a[href='/search']").await;
    j.search_for("#search-q", "the").await;
    assert!(j.text("h1").await.contains("the"));
    assert_eq!(j.count(".results > li").await, 10);
    j.shot("search-results").await;

    j.click("a[rel=next]").await;
    assert!(j.path().await.ends_with("page=2"));
    assert!(j.count(".results > li").await >= 1);
    j.shot("search-next-page").await;

    // Back through the browser's history, as a reader would: results, search, tag, article.
    for _ in 0..4 {
        j.back().await;
    }
    assert_eq!(j.path().await, article);
    assert_eq!(j.text("h1").await, "What does a back-end developer do?");
    j.shot("back-to-article").await;

    j.finish().await;
}

#[tokio::test]
async fn a_reader_browses_on_a_phone() {
    reader_journey(PHONE).await;
}

#[tokio::test]
async fn a_reader_browses_on_a_desktop() {
    reader_journey(DESKTOP).await;
}
