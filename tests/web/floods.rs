//! Floods: requests that cost real work are limited per client address, pages from the cache
//! never are, and nothing a client sends can push readers off the cache: not a cookie whose
//! session ended, not one that is not ours, not an `Accept-Encoding` or a query parameter no page
//! reads.

use actix_web::http::StatusCode;

use crate::browser::Browser;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const ARTICLE: &str = "/articles/database-indexes-explained";

/// Fetches `path` with `headers` and returns the status and how many pages were rendered for it.
async fn renders_for(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (StatusCode, u64) {
    let before = app.page_cache.renders();
    let mut request = app.client().get(format!("{}{path}", app.origin));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let page = app.request(request, path).await;
    (page.status, app.page_cache.renders() - before)
}

#[actix_web::test]
async fn a_cookie_whose_session_ended_is_served_from_the_cache_and_told_to_go() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser
        .sign_up("Ana", "ana@example.com", "correct horse battery")
        .await;
    let old = browser.cookie("guidepost_session").unwrap();
    let account = browser.visit("/account").await;
    browser.log_out(&account).await;
    app.get(ARTICLE).await;

    let cookie = format!("guidepost_session={old}; guidepost_csrf=x");
    for _ in 0..5 {
        let (status, rendered) = renders_for(&app, ARTICLE, &[("Cookie", &cookie)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(rendered, 0, "served from the cache");
    }
    let page = app
        .request(
            app.client()
                .get(format!("{}{ARTICLE}", app.origin))
                .insert_header(("Cookie", cookie.as_str())),
            ARTICLE,
        )
        .await;
    let removal = page.header("set-cookie").unwrap_or_default();
    assert!(
        removal.starts_with("guidepost_session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
    assert!(
        page.texts(".header-actions a[href='/account']").is_empty(),
        "anonymous"
    );
}

#[actix_web::test]
async fn cookies_not_ours_odd_encodings_and_unknown_parameters_all_hit_the_cache() {
    let app = spawn_app().await;
    app.get(ARTICLE).await;
    let gzip = app
        .request(
            app.client()
                .get(format!("{}{ARTICLE}", app.origin))
                .insert_header(("Accept-Encoding", "gzip")),
            ARTICLE,
        )
        .await;
    assert_eq!(gzip.status, StatusCode::OK);
    for n in 0..10 {
        let garbage = format!("guidepost_session=forged{n}");
        let encoding = format!("gzip, made-up-{n}");
        let path = format!("{ARTICLE}?utm_source=x{n}");
        for (path, headers) in [
            (ARTICLE.to_owned(), vec![("Cookie", garbage.as_str())]),
            (
                ARTICLE.to_owned(),
                vec![("Accept-Encoding", encoding.as_str())],
            ),
            (path, vec![]),
        ] {
            let (status, rendered) = renders_for(&app, &path, &headers).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(rendered, 0, "{path} {headers:?} was rendered");
        }
    }
}

#[actix_web::test]
async fn one_address_flooding_uncached_searches_is_limited_and_nobody_else() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = guidepost::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let flooder = Browser::at(&app, "203.0.113.66");
    let mut refused = Vec::new();
    for n in 0..40 {
        let page = flooder.get(&format!("/search?q=index{n}")).await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            refused.push(page);
        } else {
            assert_eq!(page.status, StatusCode::OK);
        }
    }
    assert!(refused.len() >= 15, "{} refused", refused.len());
    let retry: u64 = refused[0].header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert!(refused[0].text("main").contains("faster than a person"));
    // Another reader searches as usual; a search already answered is served from the cache even
    // to the flooder.
    let reader = Browser::at(&app, "198.51.100.23");
    assert_eq!(reader.get("/search?q=index").await.status, StatusCode::OK);
    assert_eq!(flooder.get("/search?q=index").await.status, StatusCode::OK);
    // Pages are never limited.
    for _ in 0..50 {
        assert_eq!(flooder.get(ARTICLE).await.status, StatusCode::OK);
    }
}
