//! The JSON API beyond the RealWorld suite (which `.ci/run` runs): who reads members-only bodies,
//! tokens ended with sessions, permissions, limits, CORS and every error's shape.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use serde_json::{Value, json};

use crate::browser::{Browser, count, sql};
use crate::helpers::{TestApp, spawn_app};

const MEMBERS_ONLY: &str = "your-first-back-end-portfolio-project-step-by-step";
const PUBLIC: &str = "what-does-a-back-end-developer-do";
const PASSWORD: &str = "a long enough passphrase";

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

/// One API request, with a token when given and a JSON body when given.
pub async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let url = format!("{}/api{path}", app.origin);
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client().request(method, url);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Token {token}")));
    }
    let mut response = match body {
        Some(body) => request.send_json(&body).await.unwrap(),
        None => request.send().await.unwrap(),
    };
    let bytes = response.body().limit(4 * 1024 * 1024).await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        json,
    }
}

/// Registers `username` and returns its token.
pub async fn register(app: &TestApp, username: &str) -> String {
    let answer = api(
        app,
        "POST",
        "/users",
        None,
        Some(json!({"user": {
            "username": username,
            "email": format!("{username}@example.com"),
            "password": PASSWORD,
        }})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    answer.json["user"]["token"].as_str().unwrap().to_owned()
}

/// Posts `body` as a comment under the public article with `token`.
async fn comment(app: &TestApp, token: &str, body: &str) -> Answer {
    api(
        app,
        "POST",
        &format!("/articles/{PUBLIC}/comments"),
        Some(token),
        Some(json!({"comment": {"body": body}})),
    )
    .await
}

#[actix_web::test]
async fn registering_logging_in_and_reading_the_user_give_one_member() {
    let app = spawn_app().await;
    let token = register(&app, "Reader_1").await;
    let me = api(&app, "GET", "/user", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["username"], "Reader_1");
    assert_eq!(me.json["user"]["email"], "reader_1@example.com");
    assert_eq!(me.json["user"]["bio"], "");
    assert_eq!(me.json["user"]["image"], "");
    assert!(me.headers.get("set-cookie").is_none());
    assert_eq!(me.headers.get("cache-control").unwrap(), "no-store");

    let login = api(
        &app,
        "POST",
        "/users/login",
        None,
        Some(json!({"user": {"email": "READER_1@example.com", "password": PASSWORD}})),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_ne!(login.json["user"]["token"], me.json["user"]["token"]);
    // The member is the site's: they log in on the pages with the same password.
    let browser = Browser::new(&app);
    let account = browser.log_in("reader_1@example.com", PASSWORD).await;
    assert_eq!(account.path, "/account");
    let devices = account.texts(".account-section li");
    assert_eq!(
        devices
            .iter()
            .filter(|d| d.contains("An app using the API"))
            .count(),
        2,
        "{devices:?}"
    );

    // The handle, bio and picture change; the address and password do not change here.
    let changed = api(
        &app,
        "PUT",
        "/user",
        Some(&token),
        Some(json!({"user": {"username": "reader-one", "bio": "Learning Rust."}})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(changed.json["user"]["username"], "reader-one");
    assert_eq!(changed.json["user"]["bio"], "Learning Rust.");
    for (body, field) in [
        (json!({"user": {"email": "new@example.com"}}), "email"),
        (
            json!({"user": {"password": "another long passphrase"}}),
            "password",
        ),
        (
            json!({"user": {"image": "https://elsewhere.example/x.png"}}),
            "image",
        ),
        // Somebody else's picture, or a library image, is not one's own.
        (
            json!({"user": {"image": "/images/0123456789abcdef0123456789abcdef.png"}}),
            "image",
        ),
        (
            json!({"user": {"username": "no spaces allowed"}}),
            "username",
        ),
        (json!({"user": {"bio": 12}}), "bio"),
    ] {
        let refused = api(&app, "PUT", "/user", Some(&token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            refused.json["errors"][field][0].is_string(),
            "{}",
            refused.json
        );
    }
}

#[actix_web::test]
async fn bad_registrations_get_a_message_per_field() {
    let app = spawn_app().await;
    register(&app, "taken").await;
    let cases = [
        (json!({}), vec!["body"]),
        (json!({"user": "x"}), vec!["body"]),
        (json!({"user": {}}), vec!["email", "password", "username"]),
        (
            json!({"user": {"username": "Taken", "email": "a@example.com", "password": PASSWORD}}),
            vec!["username"],
        ),
        (
            json!({"user": {"username": "fresh", "email": "taken@example.com", "password": PASSWORD}}),
            vec!["email"],
        ),
        (
            json!({"user": {"username": "fresh", "email": "f@example.com", "password": "password1234"}}),
            vec!["password"],
        ),
        (
            json!({"user": {"username": ["x"], "email": "f@example.com", "password": PASSWORD}}),
            vec!["username"],
        ),
    ];
    for (body, fields) in cases {
        let answer = api(&app, "POST", "/users", None, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let errors = answer.json["errors"].as_object().unwrap();
        let mut named: Vec<&str> = errors.keys().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(named, fields, "{body}: {}", answer.json);
        let text = answer.json.to_string();
        assert!(
            !text.contains("serde") && !text.contains("line 1"),
            "{text}"
        );
    }
    // A body that is not JSON at all.
    let raw = app
        .client()
        .post(format!("{}/api/users", app.origin))
        .insert_header(("Content-Type", "application/json"))
        .send_body("{\"user\": ")
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        1
    );
}

#[actix_web::test]
async fn members_only_bodies_come_back_only_to_members_with_access() {
    let app = spawn_app().await;
    let path = format!("/articles/{MEMBERS_ONLY}");
    let anonymous = api(&app, "GET", &path, None, None).await;
    assert_eq!(anonymous.json["article"]["teaserOnly"], true);
    assert_eq!(anonymous.json["article"]["membersOnly"], true);
    let teaser = anonymous.json["article"]["body"]
        .as_str()
        .unwrap()
        .to_owned();

    let token = register(&app, "trialist").await;
    let member = api(&app, "GET", &path, Some(&token), None).await;
    assert_eq!(member.json["article"]["teaserOnly"], false);
    let whole = member.json["article"]["body"].as_str().unwrap().to_owned();
    assert!(
        whole.len() > teaser.len() * 2,
        "{} vs {}",
        whole.len(),
        teaser.len()
    );
    assert!(whole.contains("## "), "the Markdown itself");
    // Lists never carry bodies.
    let list = api(&app, "GET", "/articles?limit=100", Some(&token), None).await;
    assert!(
        list.json["articles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a.get("body").is_none())
    );

    // The trial ends: the teaser again, and the comments are closed to them.
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '-1 day') WHERE handle = 'trialist'",
    );
    let ended = api(&app, "GET", &path, Some(&token), None).await;
    assert_eq!(ended.json["article"]["teaserOnly"], true);
    assert_eq!(ended.json["article"]["body"], teaser.as_str());
    let comments = api(&app, "GET", &format!("{path}/comments"), Some(&token), None).await;
    assert_eq!(comments.status, StatusCode::FORBIDDEN);
    let anonymous_comments = api(&app, "GET", &format!("{path}/comments"), None, None).await;
    assert_eq!(anonymous_comments.status, StatusCode::UNAUTHORIZED);
    let posted = comment(&app, &token, "Hello").await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_token_ends_from_the_device_list_and_with_a_password_change() {
    let app = spawn_app().await;
    let first = register(&app, "ana").await;
    let login = |password: &'static str| {
        let app = &app;
        async move {
            api(
                app,
                "POST",
                "/users/login",
                None,
                Some(json!({"user": {"email": "ana@example.com", "password": password}})),
            )
            .await
        }
    };
    let second = login(PASSWORD).await.json["user"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new(&app);
    let account = browser.log_in("ana@example.com", PASSWORD).await;
    // Ending one device from the account page ends that token only.
    let form = account
        .doc()
        .select(&crate::helpers::sel(".device-list li"))
        .find(|li| {
            li.text()
                .collect::<String>()
                .contains("An app using the API")
        })
        .and_then(|li| li.select(&crate::helpers::sel("form")).next())
        .map(|f| f.value().attr("action").unwrap().to_owned())
        .unwrap();
    let token = account.attr("input[name='csrf_token']", "value").unwrap();
    browser.post(&form, &[("csrf_token", &token)]).await;
    let statuses = [
        api(&app, "GET", "/user", Some(&first), None).await.status,
        api(&app, "GET", "/user", Some(&second), None).await.status,
    ];
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count(),
        1,
        "{statuses:?}"
    );

    // A password change on the account page ends every other session, tokens included.
    let account = browser.visit("/account").await;
    browser
        .submit(
            &account,
            "form[action='/account/password']",
            &[
                ("current_password", PASSWORD),
                ("new_password", "an entirely new passphrase"),
                ("new_password_confirm", "an entirely new passphrase"),
            ],
        )
        .await;
    for token in [&first, &second] {
        let answer = api(&app, "GET", "/user", Some(token), None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.headers.get("www-authenticate").unwrap(), "Token");
        assert!(answer.json["errors"]["token"][0].is_string());
    }
    assert_eq!(login(PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // The browser's own session cookie is no token.
    let cookie = browser.cookie("guidepost_session").unwrap();
    let with_cookie = app
        .client()
        .get(format!("{}/api/user", app.origin))
        .insert_header(("Cookie", format!("guidepost_session={cookie}")))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn articles_are_written_by_editors_and_by_members_only_when_the_setting_says() {
    let app = spawn_app().await;
    let member = register(&app, "writer").await;
    let article = json!({"article": {
        "title": "A guide to caching",
        "description": "What to cache and when to forget it.",
        "body": "## Why\n\nBecause reading twice costs twice.",
        "tagList": ["Performance", "caching", "caching"],
    }});
    let refused = api(
        &app,
        "POST",
        "/articles",
        Some(&member),
        Some(article.clone()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.json["errors"]["article"][0]
            .as_str()
            .unwrap()
            .contains("editors")
    );

    sql(
        &app,
        "INSERT INTO settings (key, value, updated_at) VALUES ('members_may_publish', 'true', datetime('now'))",
    );
    let created = api(
        &app,
        "POST",
        "/articles",
        Some(&member),
        Some(article.clone()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["article"]["slug"], "a-guide-to-caching");
    // An existing tag keeps its name; the list comes back sorted, without repeats.
    assert_eq!(
        created.json["article"]["tagList"],
        json!(["Caching", "Performance"])
    );
    assert_eq!(created.json["article"]["author"]["username"], "writer");
    let again = api(
        &app,
        "POST",
        "/articles",
        Some(&member),
        Some(article.clone()),
    )
    .await;
    assert_eq!(again.json["article"]["slug"], "a-guide-to-caching-2");

    // On the pages at once, under the member's handle, with its own author page.
    let reader = Browser::new(&app);
    let page = reader.visit("/articles/a-guide-to-caching").await;
    assert_eq!(page.text("h1"), "A guide to caching");
    assert_eq!(
        page.attr(".byline a.author", "href").as_deref(),
        Some("/authors/writer")
    );
    assert_eq!(reader.visit("/authors/writer").await.status, StatusCode::OK);

    // Bad input, by the editor's rules.
    let bad = api(
        &app,
        "POST",
        "/articles",
        Some(&member),
        Some(json!({"article": {"title": "", "description": "", "body": " ", "tagList": "x"}})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json["errors"]["tagList"][0].is_string());
    let bad = api(
        &app,
        "POST",
        "/articles",
        Some(&member),
        Some(json!({"article": {"title": "", "description": "", "body": " "}})),
    )
    .await;
    let mut fields: Vec<&String> = bad.json["errors"].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["body", "description", "title"]);

    // Someone else may not change or delete it; an editor may.
    let other = register(&app, "other").await;
    let change = json!({"article": {"body": "Mine now"}});
    let path = "/articles/a-guide-to-caching";
    assert_eq!(
        api(&app, "PUT", path, Some(&other), Some(change.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api(&app, "DELETE", path, Some(&other), None).await.status,
        StatusCode::FORBIDDEN
    );
    let updated = api(
        &app,
        "PUT",
        path,
        Some(&member),
        Some(json!({"article": {"body": "Shorter."}})),
    )
    .await;
    assert_eq!(updated.json["article"]["body"], "Shorter.");
    assert_eq!(updated.json["article"]["slug"], "a-guide-to-caching");
    sql(
        &app,
        "UPDATE users SET role = 'editor' WHERE handle = 'other'",
    );
    assert_eq!(
        api(&app, "DELETE", path, Some(&other), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api(&app, "GET", path, None, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reader.get("/articles/a-guide-to-caching").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn comments_and_saves_made_in_the_api_are_the_pages_own() {
    let app = spawn_app().await;
    let token = register(&app, "commenter").await;
    let posted = comment(&app, &token, "<b>Bold</b> claim").await;
    assert_eq!(posted.status, StatusCode::OK);
    let reader = Browser::new(&app);
    let page = reader.visit(&format!("/articles/{PUBLIC}")).await;
    assert_eq!(page.text(".comment-body"), "<b>Bold</b> claim");
    assert_eq!(page.text(".comment-meta a"), "commenter");

    // A comment posted on the page shows in the API.
    let browser = Browser::new(&app);
    browser.log_in("commenter@example.com", PASSWORD).await;
    let article = browser.visit(&format!("/articles/{PUBLIC}")).await;
    browser
        .submit(
            &article,
            "form.comment-form",
            &[("comment", "From the page")],
        )
        .await;
    let listed = api(
        &app,
        "GET",
        &format!("/articles/{PUBLIC}/comments"),
        None,
        None,
    )
    .await;
    let bodies: Vec<&str> = listed.json["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["<b>Bold</b> claim", "From the page"]);

    // Favourites are saved articles.
    let favorited = api(
        &app,
        "POST",
        &format!("/articles/{PUBLIC}/favorite"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(favorited.json["article"]["favorited"], true);
    assert_eq!(favorited.json["article"]["favoritesCount"], 1);
    let saved = browser.visit("/account/saved").await;
    assert_eq!(
        saved.texts(".card-title a"),
        ["What does a back-end developer do?"]
    );
    // What a member saved is listed to them alone.
    let own = api(
        &app,
        "GET",
        "/articles?favorited=commenter",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(own.json["articlesCount"], 1);
    let anyone = api(&app, "GET", "/articles?favorited=commenter", None, None).await;
    assert_eq!(anyone.json["articlesCount"], 0);

    // Someone else's comment cannot be deleted; a missing one is 404.
    let stranger = register(&app, "stranger").await;
    let id = posted.json["comment"]["id"].as_i64().unwrap();
    let path = format!("/articles/{PUBLIC}/comments/{id}");
    assert_eq!(
        api(&app, "DELETE", &path, Some(&stranger), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = format!("/articles/{PUBLIC}/comments/99999");
    assert_eq!(
        api(&app, "DELETE", &missing, Some(&token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, "DELETE", &path, Some(&token), None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn errors_keep_the_specs_shape_everywhere() {
    let app = spawn_app().await;
    let token = register(&app, "checker").await;
    let cases = [
        ("GET", "/user".to_owned(), None, StatusCode::UNAUTHORIZED),
        (
            "GET",
            "/articles/feed".to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "GET",
            "/articles/no-such-article".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/profiles/nobody-here".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/no/such/path".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/articles?limit=0".to_owned(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/articles?limit=abc".to_owned(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/articles?offset=-1".to_owned(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            format!("/articles?tag={}", "x".repeat(101)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/articles".to_owned(),
            Some(json!({"article": {}})),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (method, path, body, status) in cases {
        let answer = api(&app, method, &path, None, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.json);
        assert!(answer.json["errors"].is_object(), "{path}: {}", answer.json);
        assert!(
            answer.json["errors"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string))),
            "{}",
            answer.json
        );
        assert!(answer.headers.get("set-cookie").is_none());
    }
    // A token that is not one, and one that never was.
    for header in [
        "Token abc",
        "Basic Zm9vOmJhcg==",
        &format!("Token {}", "0".repeat(64)),
    ] {
        let answer = app
            .client()
            .get(format!("{}/api/articles", app.origin))
            .insert_header(("Authorization", header))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    // A body too large for a form's worth, refused as JSON.
    let large = json!({"user": {"bio": "x".repeat(100_000)}});
    let answer = api(&app, "PUT", "/user", Some(&token), Some(large)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.json["errors"]["request"][0].is_string());
    // A wrong password is 401, with one message for both fields.
    let wrong = api(
        &app,
        "POST",
        "/users/login",
        None,
        Some(json!({"user": {"email": "checker@example.com", "password": "not the one at all"}})),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json,
        json!({"errors": {"email or password": ["is invalid"]}})
    );
}

#[actix_web::test]
async fn a_client_past_the_apis_limit_is_told_when_to_come_back() {
    let app = spawn_app().await;
    let mut last = None;
    for _ in 0..320 {
        let answer = api(&app, "GET", "/tags", None, None).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            last = Some(answer);
            break;
        }
    }
    let refused = last.expect("the limit was reached");
    assert!(refused.headers.get("retry-after").is_some());
    assert!(refused.json["errors"]["requests"][0].is_string());
    // The pages are not the API: they go on.
    assert_eq!(app.get("/").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn cross_origin_calls_are_allowed_only_from_the_origins_in_the_settings() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.client()
                .request(
                    actix_web::http::Method::OPTIONS,
                    format!("{}/api/articles", app.origin),
                )
                .insert_header(("Origin", origin))
                .insert_header(("Access-Control-Request-Method", "POST"))
                .send()
                .await
                .unwrap()
        }
    };
    let closed = preflight("https://app.example.com").await;
    assert!(
        closed
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    sql(
        &app,
        "INSERT INTO settings (key, value, updated_at) VALUES ('api_origins', 'https://app.example.com', datetime('now'))",
    );
    let open = preflight("https://app.example.com").await;
    assert_eq!(open.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        open.headers().get("access-control-allow-origin").unwrap(),
        "https://app.example.com"
    );
    assert!(
        open.headers()
            .get("access-control-allow-headers")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let other = preflight("https://evil.example.com").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
