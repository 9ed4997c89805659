//! HTTP behaviour every page shares: headers, errors, methods, caching, feeds.

use actix_web::http::StatusCode;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let css = app
        .get("/")
        .await
        .attr("link[rel=stylesheet]", "href")
        .unwrap();
    for path in [
        "/",
        "/articles/database-indexes-explained",
        "/no-such-page",
        "/feed.xml",
        "/healthz",
        css.as_str(),
    ] {
        let page = app.get(path).await;
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(page.header("referrer-policy").is_some(), "{path}");
        assert!(page.header("server").is_none(), "{path} reveals its server");
        assert!(page.header("x-request-id").is_some(), "{path}");
    }
}

#[actix_web::test]
async fn an_unknown_address_gets_a_real_not_found_page_with_a_way_back() {
    let app = spawn_app().await;
    for path in [
        "/no-such-page",
        "/articles/no-such-article",
        "/articles/UPPER",
        "/categories/nope",
        "/tags/nope",
        "/static/nope.css",
        "/articles/..%2f..%2fetc",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.text("h1"), "We couldn’t find that page", "{path}");
        assert!(page.links().contains(&"/".to_owned()), "{path}");
        assert_eq!(
            page.attr("meta[name=robots]", "content").as_deref(),
            Some("noindex")
        );
    }
}

#[actix_web::test]
async fn a_method_a_page_does_not_accept_gets_405_and_the_allowed_methods() {
    let app = spawn_app().await;
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let request = app
            .client()
            .request(method.parse().unwrap(), format!("{}/articles", app.origin));
        let page = app.request(request, "/articles").await;
        assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(page.header("allow"), Some("GET, HEAD"));
        assert!(page.body.contains("</html>"));
    }
}

#[actix_web::test]
async fn head_requests_get_the_headers_without_a_body() {
    let app = spawn_app().await;
    let request = app.client().head(format!("{}/articles", app.origin));
    let page = app.request(request, "/articles").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.is_empty());
}

#[actix_web::test]
async fn an_unchanged_page_revalidates_with_304() {
    let app = spawn_app().await;
    let page = app.get("/articles/database-indexes-explained").await;
    let etag = page.header("etag").unwrap().to_owned();
    assert!(
        etag.starts_with("W/\""),
        "one tag covers every encoding, so it is weak: {etag}"
    );
    let again = app
        .client()
        .get(format!(
            "{}/articles/database-indexes-explained",
            app.origin
        ))
        .insert_header(("If-None-Match", etag.as_str()));
    let revalidated = app.request(again, "/").await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
    let stale = app
        .client()
        .get(format!("{}/articles", app.origin))
        .insert_header(("If-None-Match", "\"other\""));
    assert_eq!(app.request(stale, "/articles").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn static_files_have_fingerprinted_names_cached_for_a_year() {
    let app = spawn_app().await;
    let css = app
        .get("/")
        .await
        .attr("link[rel=stylesheet]", "href")
        .unwrap();
    assert!(
        css.starts_with("/static/css/site.")
            && css.ends_with(".css")
            && css != "/static/css/site.css"
    );
    let file = app.get(&css).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.header("content-type").unwrap().starts_with("text/css"));
    assert!(file.header("cache-control").unwrap().contains("immutable"));
    let plain = app.get("/static/css/site.css").await;
    assert_eq!(plain.body, file.body);
    assert!(!plain.header("cache-control").unwrap().contains("immutable"));
}

#[actix_web::test]
async fn html_is_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let request = app
        .client()
        .get(format!("{}/", app.origin))
        .insert_header(("Accept-Encoding", "gzip"));
    let response = request.send().await.unwrap();
    assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
}

#[actix_web::test]
async fn the_feed_and_sitemap_are_well_formed_and_list_every_published_article() {
    let app = spawn_app().await;
    let articles: Vec<String> = {
        let mut all = app.get("/articles").await.texts(".card-title");
        all.extend(app.get("/articles?page=2").await.texts(".card-title"));
        all
    };
    assert_eq!(articles.len(), 12);

    let feed = app.get("/feed.xml").await;
    assert!(
        feed.header("content-type")
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let doc = roxmltree::Document::parse(&feed.body).expect("the feed is well-formed XML");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .filter_map(|e| {
            e.children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
        })
        .collect();
    for title in &articles {
        assert!(
            titles.contains(&title.as_str()),
            "{title} is missing from the feed"
        );
    }
    assert!(
        !feed.body.contains("What reviewers look at"),
        "members-only bodies stay out of the feed"
    );

    let sitemap = app.get("/sitemap.xml").await;
    let doc = roxmltree::Document::parse(&sitemap.body).expect("the sitemap is well-formed XML");
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .filter_map(|n| n.text())
        .collect();
    let article_locs = locs.iter().filter(|l| l.contains("/articles/")).count();
    assert_eq!(article_locs, 12);
    assert!(locs.contains(&format!("{}/categories/databases", app.origin).as_str()));
}

#[actix_web::test]
async fn robots_and_health_answer_for_machines() {
    let app = spawn_app().await;
    let robots = app.get("/robots.txt").await;
    assert!(
        robots
            .body
            .contains(&format!("Sitemap: {}/sitemap.xml", app.origin))
    );
    for private in [
        "/account",
        "/admin",
        "/password/",
        "/verify-email/",
        "/signup/confirm/",
    ] {
        assert!(
            robots.body.contains(&format!("Disallow: {private}\n")),
            "robots.txt leaves {private} to crawlers"
        );
    }
    // No "Allow: /" that a crawler reading the first match would take for "everything".
    assert!(!robots.body.contains("Allow: /\n"), "{}", robots.body);
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["database"], "ok");
    assert_eq!(json["writes"], "ok");
    // The feed says its language.
    let feed = app.get("/feed.xml").await;
    assert!(
        feed.body
            .contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">")
    );
}

#[actix_web::test]
async fn a_failure_on_our_side_shows_a_generic_page_with_a_reference_and_no_detail() {
    let app = spawn_app().await;
    // Break the database under the running site.
    let pool = guidepost::db::open(&app.database, 1).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut **pool.get().unwrap(),
        "DROP TABLE article_tags; DROP TABLE tags;",
    )
    .unwrap();

    let page = app.get("/tags/sql").await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(page.text("h1"), "Something went wrong on our side");
    let id = page.header("x-request-id").unwrap();
    assert_eq!(page.text("code"), id, "the page shows the request id");
    for secret in ["no such table", "SELECT", "diesel", "sqlite", "panicked"] {
        assert!(
            !page.body.to_lowercase().contains(&secret.to_lowercase()),
            "the page reveals {secret:?}"
        );
    }
    assert_eq!(page.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn metrics_are_served_on_their_own_address_and_never_on_the_public_one() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    app.get("/").await;
    app.get("/").await;
    assert_eq!(app.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let url = app.metrics.clone().unwrap();
    let mut response = app.client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
    for name in [
        "guidepost_http_requests_total{route=\"home\",status=\"200\"}",
        "guidepost_cache_lookups_total{cache=\"page\",outcome=\"hit\"}",
        "guidepost_outbox_messages{status=\"pending\"}",
        "# TYPE guidepost_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(name), "{name}");
    }
}
