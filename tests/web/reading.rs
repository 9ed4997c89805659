//! A reader browsing the site: home, articles, topics, the members-only teaser, pagination.

use actix_web::http::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_reader_walks_from_home_to_an_article_its_category_its_tag_and_search() {
    let app = spawn_app().await;

    // Home shows the featured article and invites a free trial.
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(
        home.text(".featured .card-title"),
        "What does a back-end developer do?"
    );
    assert!(
        home.links().iter().any(|l| l == "/signup"),
        "home has a free-trial call to action"
    );

    // The featured article, in full, with its table of contents.
    let article = app.follow(&home, ".featured .card-title a").await;
    assert_eq!(article.text("h1"), "What does a back-end developer do?");
    assert!(article.text(".byline").contains("Maya Okafor"));
    assert!(article.text(".byline").contains("min read"));
    assert!(
        article
            .text(".byline")
            .contains("Published 3 February 2026")
    );
    assert!(
        article
            .text(".byline")
            .contains("Updated 14 September 2026")
    );
    let toc = article.texts(".toc a");
    assert!(toc.contains(&"Following one request".to_owned()), "{toc:?}");
    let anchor = article.attr(".toc a", "href").unwrap();
    assert!(
        article.body.contains(&format!("id=\"{}\"", &anchor[1..])),
        "the contents link to headings"
    );
    assert!(article.body.contains("<ol>"), "the body's lists render");
    assert!(
        !article.texts(".related .card-title").is_empty(),
        "related articles are offered"
    );
    assert!(article.links().iter().any(|l| l == "/signup"));

    // Breadcrumbs lead to the category hub.
    let category = app
        .follow(&article, ".breadcrumbs a[href^='/categories/']")
        .await;
    assert_eq!(category.text("h1"), "Careers");
    assert!(
        category
            .text(".lede")
            .contains("What back-end developers do")
    );
    assert!(
        category
            .texts(".card-title")
            .contains(&"What does a back-end developer do?".to_owned())
    );

    // A tag from the article leads to the tag hub.
    let tag = app.follow(&article, ".tag-list a[href='/tags/sql']").await;
    assert_eq!(tag.text("h1"), "#SQL");
    assert!(
        tag.texts(".card-title")
            .contains(&"Database indexes explained".to_owned())
    );

    // The search page, from the main navigation, finds articles.
    let search = app.follow(&tag, ".main-nav a[href='/search']").await;
    let results = app
        .submit_get_form(&search, "form[role=search]", &[("q", "index")])
        .await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(
        results
            .texts(".results .card-title")
            .contains(&"Database indexes explained".to_owned())
    );
    assert!(
        !results.texts(".results mark").is_empty(),
        "matched words are highlighted"
    );

    // And the feed is linked from every page.
    assert!(results.body.contains(r#"href="/feed.xml""#));
}

#[actix_web::test]
async fn the_article_list_pages_through_every_published_article() {
    let app = spawn_app().await;
    let first = app.get("/articles").await;
    assert_eq!(first.texts(".card-title").len(), 10);
    assert_eq!(first.text(".pagination-status"), "Page 1 of 2");
    let second = app.follow(&first, "a[rel=next]").await;
    assert_eq!(second.texts(".card-title").len(), 2);
    assert!(second.attr("a[rel=next]", "href").is_none());
    let back = app.follow(&second, "a[rel=prev]").await;
    assert_eq!(back.path, "/articles");
    assert_eq!(
        second.attr("link[rel=canonical]", "href").unwrap(),
        format!("{}/articles?page=2", app.origin)
    );
}

#[actix_web::test]
async fn a_members_only_article_shows_its_teaser_and_an_invitation_not_its_body() {
    let app = spawn_app().await;
    let page = app
        .get("/articles/your-first-back-end-portfolio-project-step-by-step")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text(".teaser")
            .contains("Hiring managers see a lot of to-do list apps")
    );
    assert!(
        !page.body.contains("What reviewers look at"),
        "the locked part is not sent"
    );
    assert!(!page.body.contains("CHECK (slot_end > slot_start)"));
    assert!(
        page.texts(".toc").is_empty(),
        "no table of contents for locked sections"
    );
    let gate: Vec<String> = page.links();
    assert!(gate.contains(&"/signup".to_owned()) && gate.contains(&"/login".to_owned()));
    assert!(page.text(".gate h2").contains("for members"));
}

#[actix_web::test]
async fn topics_list_every_category_and_tag_in_use() {
    let app = spawn_app().await;
    let topics = app.get("/categories").await;
    assert_eq!(topics.texts(".topic-list > li > a").len(), 6);
    assert!(topics.texts(".tag-list a").len() >= 10);
    for link in topics
        .links()
        .into_iter()
        .filter(|l| l.starts_with("/tags/") || l.starts_with("/categories/"))
    {
        assert_eq!(app.get(&link).await.status, StatusCode::OK, "{link}");
    }
}

#[actix_web::test]
async fn every_link_a_reader_finds_leads_somewhere_and_account_pages_ask_them_to_log_in() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    let mut queue = vec!["/".to_owned()];
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let page = app.get(&path).await;
        if path.starts_with("/account") {
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
            assert!(page.header("location").unwrap().starts_with("/login?next="));
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{path}");
        if !page
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
        {
            continue;
        }
        for link in page.links() {
            let link = link.split('#').next().unwrap_or_default().to_owned();
            let internal = link.starts_with('/') && !link.starts_with("//");
            if internal && !link.is_empty() && !seen.contains(&link) {
                queue.push(link);
            }
        }
    }
    assert!(seen.len() > 30, "crawled {} pages", seen.len());
}

#[actix_web::test]
async fn canonical_links_use_the_configured_base_url_whatever_the_host_header() {
    let app =
        spawn_app_with(|s| s.base_url = crate::helpers::base_url("https://articles.example.org/"))
            .await;
    let request = app
        .client()
        .get(format!("{}/articles", app.origin))
        .insert_header(("Host", "evil.example"));
    let page = app.request(request, "/articles").await;
    assert_eq!(
        page.attr("link[rel=canonical]", "href").unwrap(),
        "https://articles.example.org/articles"
    );
    assert_eq!(
        page.attr("meta[property='og:url']", "content").unwrap(),
        "https://articles.example.org/articles"
    );
}

#[actix_web::test]
async fn an_article_page_carries_meta_tags_and_structured_data() {
    let app = spawn_app().await;
    let page = app.get("/articles/database-indexes-explained").await;
    assert_eq!(page.text("title"), "Database indexes explained — Guidepost");
    assert!(
        page.attr("meta[name=description]", "content")
            .unwrap()
            .starts_with("Why some queries")
    );
    assert_eq!(
        page.attr("meta[property='og:type']", "content").unwrap(),
        "article"
    );
    let json = page.text("script[type='application/ld+json']");
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    let graph = data["@graph"].as_array().unwrap();
    assert_eq!(graph[0]["@type"], "Article");
    assert_eq!(graph[0]["headline"], "Database indexes explained");
    assert_eq!(graph[1]["@type"], "BreadcrumbList");
    assert_eq!(graph[1]["itemListElement"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn an_empty_site_still_has_a_working_home_page() {
    let app = spawn_app_with(|s| s.demo_content = false).await;
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("No articles have been published yet."));
    assert_eq!(app.get("/articles").await.status, StatusCode::OK);
    assert_eq!(app.get("/feed.xml").await.status, StatusCode::OK);
}
