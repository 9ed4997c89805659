//! Logging in and out, and sessions that really end: replayed cookies, devices, limits, CSRF and
//! open-redirect attempts.

use actix_web::http::StatusCode;

use crate::browser::{Browser, count, sql};
use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// A member signed up (and logged in) in a browser of their own.
async fn member<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let browser = Browser::new(app);
    let page = browser.sign_up("Ana", email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK, "signed up");
    browser
}

/// True when the browser's requests are answered as a logged-in member's.
async fn is_logged_in(browser: &Browser<'_>) -> bool {
    let page = browser.get("/account").await;
    page.status == StatusCode::OK
}

#[actix_web::test]
async fn a_member_logs_out_and_back_in_and_the_old_cookie_is_dead_at_once() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let old_cookie = browser.cookie("guidepost_session").unwrap();
    let account = browser.visit("/account").await;

    let home = browser.log_out(&account).await;
    assert_eq!(home.path, "/");
    assert!(home.links().contains(&"/login".to_owned()));
    assert!(!is_logged_in(&browser).await);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM sessions"), 0);

    // Replaying the cookie of the ended session is anonymous.
    let replay = Browser::new(&app);
    replay.set_cookie("guidepost_session", &old_cookie);
    let page = replay.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    // Back in: a new session with a new cookie value (renewed at log-in).
    let landed = browser.log_in("ANA@example.com", PASSWORD).await;
    assert_eq!(landed.path, "/account");
    assert_eq!(landed.text("h1"), "Your account");
    assert_ne!(browser.cookie("guidepost_session").unwrap(), old_cookie);
    assert_eq!(landed.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn an_unknown_address_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    member(&app, "ana@example.com").await;
    let browser = Browser::new(&app);
    let wrong = browser.log_in("ana@example.com", "not the password").await;
    let unknown = browser
        .log_in("nobody@example.com", "not the password")
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.text(".form-error"), wrong.text(".form-error"));
    assert_eq!(
        wrong.attr("#login-email", "value").unwrap(),
        "ana@example.com"
    );
    assert!(!wrong.body.contains("not the password"));
}

#[actix_web::test]
async fn failed_log_ins_are_limited_per_account_and_client_and_a_password_reset_lifts_the_limit() {
    let app = spawn_app().await;
    member(&app, "ana@example.com").await;
    let browser = Browser::new(&app);
    for _ in 0..5 {
        let page = browser.log_in("ana@example.com", "wrong password").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Even the right password waits now, from this address, and says how long.
    let blocked = browser.log_in("ana@example.com", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let text = blocked.text("main");
    assert!(text.contains("Try again in 15 minutes"), "{text}");
    let retry: i64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    // Counted in the database: the limit holds for another browser at the same address.
    assert_eq!(
        Browser::new(&app)
            .log_in("ana@example.com", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // A reset by the owner clears it (the reset link itself is tested with real mail).
    sql(
        &app,
        "DELETE FROM throttle_events WHERE bucket = 'login_account_client'",
    );
    let landed = browser.log_in("ana@example.com", PASSWORD).await;
    assert_eq!(landed.path, "/account");
}

/// An app behind a proxy at 127.0.0.1, so browsers can come from any client address.
async fn app_behind_a_proxy() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| {
        s.trusted_proxies = guidepost::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
}

#[actix_web::test]
async fn strangers_guessing_from_many_addresses_never_lock_out_a_browser_that_logged_in_before() {
    let app = app_behind_a_proxy().await;
    member(&app, "ana@example.com").await;
    // Ana's laptop has logged in before.
    let laptop = Browser::at(&app, "198.51.100.7");
    let home = laptop.log_in("ana@example.com", PASSWORD).await;
    laptop.log_out(&home).await;

    // Strangers guess from twelve addresses, past the account's free failures.
    for n in 0..12 {
        let stranger = Browser::at(&app, &format!("203.0.113.{n}"));
        let page = stranger.log_in("ana@example.com", "guess").await;
        assert!(
            [
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(&page.status),
            "{}",
            page.status
        );
    }
    // A new browser now waits a little, never more than half a minute...
    let phone = Browser::at(&app, "192.0.2.55");
    let waited = phone.log_in("ana@example.com", PASSWORD).await;
    assert_eq!(waited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = waited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert!(waited.text("main").contains("many failed attempts"));
    // ...while the laptop logs in at once with the right password.
    let landed = laptop.log_in("ana@example.com", PASSWORD).await;
    assert_eq!(landed.path, "/account");
}

#[actix_web::test]
async fn forty_parallel_wrong_guesses_from_one_client_check_at_most_the_limit() {
    let app = app_behind_a_proxy().await;
    member(&app, "ana@example.com").await;
    let browser = Browser::at(&app, "203.0.113.9");
    let form = browser.visit("/login").await;
    let (action, fields) = Browser::form_fields(
        &form,
        "form[action='/login']",
        &[("email", "ana@example.com"), ("password", "a wrong guess")],
    );
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answers =
        futures_util::future::join_all((0..40).map(|_| browser.post(&action, &pairs))).await;
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused.len(), 40);
    assert!(refused.iter().all(|a| {
        a.header("retry-after")
            .is_some_and(|r| r.parse::<u64>().unwrap() > 0)
    }));
}

#[actix_web::test]
async fn rotating_forwarding_headers_escapes_no_limit_without_a_trusted_proxy() {
    let app = spawn_app().await;
    member(&app, "ana@example.com").await;
    for n in 0..5 {
        let page = Browser::at(&app, &format!("203.0.113.{n}"))
            .log_in("ana@example.com", "guess")
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Every one of them was counted as the real peer, 127.0.0.1.
    let next = Browser::at(&app, "192.0.2.1")
        .log_in("ana@example.com", "guess")
        .await;
    assert_eq!(next.status, StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn wrong_current_passwords_on_the_account_page_end_the_session_after_a_few() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let account = browser.visit("/account").await;
    for n in 0..4 {
        let page = browser
            .submit(
                &account,
                "form[action='/account/password']",
                &[
                    ("current_password", &format!("guess {n}")),
                    ("new_password", "another long phrase"),
                    ("new_password_confirm", "another long phrase"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.text("#account-current-password-error")
                .contains("not your current")
        );
    }
    let ended = browser
        .submit(
            &account,
            "form[action='/account/delete']",
            &[("delete_password", "guess 5")],
        )
        .await;
    assert_eq!(ended.path, "/login?ended=1");
    assert!(
        ended
            .text(".flash")
            .contains("logged out after several wrong passwords")
    );
    assert!(!is_logged_in(&browser).await);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        1
    );
    // Logging in again proves the password, and the count starts afresh.
    browser.log_in("ana@example.com", PASSWORD).await;
    let account = browser.visit("/account").await;
    let page = browser
        .submit(
            &account,
            "form[action='/account/password']",
            &[
                ("current_password", "guess 6"),
                ("new_password", "another long phrase"),
                ("new_password_confirm", "another long phrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn next_after_log_in_goes_only_to_a_path_on_this_site() {
    let app = spawn_app().await;
    member(&app, "ana@example.com").await;
    for (next, expected) in [
        ("/articles?page=2", "/articles?page=2"),
        ("//evil.example/x", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
    ] {
        let browser = Browser::new(&app);
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let form = browser.visit(&format!("/login?{query}")).await;
        let answer = browser
            .post(
                "/login",
                &crate::browser::Browser::form_fields(
                    &form,
                    "form[action='/login']",
                    &[("email", "ana@example.com"), ("password", PASSWORD)],
                )
                .1
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(answer.header("location"), Some(expected), "{next}");
    }
}

#[actix_web::test]
async fn a_member_signs_out_one_device_and_then_everywhere_else() {
    let app = spawn_app().await;
    let laptop = member(&app, "ana@example.com").await;
    let phone = Browser::with_agent(
        &app,
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
    );
    phone.log_in("ana@example.com", PASSWORD).await;
    let tablet = Browser::new(&app);
    tablet.log_in("ana@example.com", PASSWORD).await;

    let account = laptop.visit("/account").await;
    let devices = account.texts(".device-list li strong");
    assert_eq!(devices.len(), 3, "{devices:?}");
    assert!(devices.contains(&"Chrome on Android".to_owned()));
    assert!(account.text(".device-list").contains("(this device)"));

    // Sign the phone out: the phone is anonymous at once.
    let phone_form = account
        .doc()
        .select(&crate::helpers::sel(".device-list li"))
        .find(|li| li.text().collect::<String>().contains("Chrome on Android"))
        .and_then(|li| {
            li.select(&crate::helpers::sel("form"))
                .next()
                .and_then(|f| f.value().attr("action").map(str::to_owned))
        })
        .unwrap();
    let after = laptop
        .submit(&account, &format!("form[action='{phone_form}']"), &[])
        .await;
    assert_eq!(after.text(".flash"), "That device was signed out.");
    assert!(!is_logged_in(&phone).await);
    assert!(is_logged_in(&tablet).await);

    // Everywhere else: the tablet too; the laptop stays.
    let after = laptop
        .submit(&after, "form[action='/account/sessions/end-others']", &[])
        .await;
    assert_eq!(after.text(".flash"), "1 other device was signed out.");
    assert!(!is_logged_in(&tablet).await);
    assert!(is_logged_in(&laptop).await);
}

#[actix_web::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    let laptop = member(&app, "ana@example.com").await;
    let phone = Browser::new(&app);
    phone.log_in("ana@example.com", PASSWORD).await;

    let account = laptop.visit("/account").await;
    let wrong = laptop
        .submit(
            &account,
            "form[action='/account/password']",
            &[
                ("current_password", "not it"),
                ("new_password", "a brand new phrase"),
                ("new_password_confirm", "a brand new phrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        wrong.text("#account-current-password-error"),
        "That is not your current password."
    );
    assert!(is_logged_in(&phone).await, "nothing changed");

    let done = laptop
        .submit(
            &account,
            "form[action='/account/password']",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new phrase"),
                ("new_password_confirm", "a brand new phrase"),
            ],
        )
        .await;
    assert!(
        done.text(".flash")
            .contains("other devices were signed out")
    );
    assert!(!is_logged_in(&phone).await);
    assert!(is_logged_in(&laptop).await);
    let again = Browser::new(&app)
        .log_in("ana@example.com", "a brand new phrase")
        .await;
    assert_eq!(again.path, "/account");
}

#[actix_web::test]
async fn a_tampered_truncated_or_garbage_cookie_means_anonymous_never_an_error() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let cookie = browser.cookie("guidepost_session").unwrap();
    let mut flipped = cookie.clone().into_bytes();
    let last = flipped.len() - 5;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        cookie[..cookie.len() / 2].to_owned(),
        "garbage".to_owned(),
        "%%%".to_owned(),
        String::new(),
    ] {
        let other = Browser::new(&app);
        other.set_cookie("guidepost_session", &bad);
        for path in [
            "/",
            "/account",
            "/articles/database-indexes-explained",
            "/signup",
        ] {
            let page = other.get(path).await;
            assert!(
                page.status == StatusCode::OK || page.status == StatusCode::SEE_OTHER,
                "{path} with {bad:?}: {}",
                page.status
            );
        }
        assert_eq!(other.get("/account").await.status, StatusCode::SEE_OTHER);
    }
}

#[actix_web::test]
async fn a_post_without_the_right_token_or_from_another_site_changes_nothing() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let account = browser.visit("/account").await;
    let (_, mut fields) = Browser::form_fields(
        &account,
        "form[action='/account/profile']",
        &[("name", "Mallory")],
    );

    // No token, a wrong token.
    for token in ["", "0123456789abcdef"] {
        fields.retain(|(k, _)| k != "csrf_token");
        fields.push(("csrf_token".to_owned(), token.to_owned()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let page = browser.post("/account/profile", &pairs).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.text("main").contains("submit the form again"),
            "{}",
            page.text("main")
        );
    }

    // The right token from another origin.
    let (_, fields) = Browser::form_fields(
        &account,
        "form[action='/account/profile']",
        &[("name", "Mallory")],
    );
    let request = app
        .client()
        .post(format!("{}/account/profile", app.origin))
        .insert_header(("Origin", "https://evil.example"))
        .insert_header((
            "Cookie",
            format!(
                "guidepost_session={}",
                browser.cookie("guidepost_session").unwrap()
            ),
        ));
    let response = request.send_form(&fields).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE name = 'Mallory'"
        ),
        0
    );
    // The same form, as the site sends it, works.
    let done = browser
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Ana Maria")],
        )
        .await;
    assert_eq!(done.text(".flash"), "Your name was changed.");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE name = 'Ana Maria'"
        ),
        1
    );
}

#[actix_web::test]
async fn a_disabled_account_is_signed_out_at_once_and_cannot_log_in() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    sql(
        &app,
        "UPDATE users SET status = 'disabled' WHERE email = 'ana@example.com'",
    );
    assert!(!is_logged_in(&browser).await);
    let page = Browser::new(&app).log_in("ana@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text(".form-error").contains("disabled"));
}

#[actix_web::test]
async fn sessions_end_after_the_idle_and_the_absolute_lifetime() {
    let app = spawn_app().await;
    let idle = member(&app, "idle@example.com").await;
    let old = member(&app, "old@example.com").await;
    sql(
        &app,
        "UPDATE sessions SET last_seen_at = datetime('now', '-15 days') \
         WHERE user_id = (SELECT id FROM users WHERE email = 'idle@example.com');
         UPDATE sessions SET expires_at = datetime('now', '-1 minute') \
         WHERE user_id = (SELECT id FROM users WHERE email = 'old@example.com');",
    );
    assert!(!is_logged_in(&idle).await);
    assert!(!is_logged_in(&old).await);
}

#[actix_web::test]
async fn a_members_page_is_never_cached_for_anyone_else_and_a_visitors_cookie_keeps_the_cache() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let mine = browser.get("/").await;
    assert!(mine.links().contains(&"/account".to_owned()));
    let anonymous = app.get("/").await;
    assert!(!anonymous.links().contains(&"/account".to_owned()));
    assert!(anonymous.links().contains(&"/signup".to_owned()));

    // A visitor who opened the sign-up form has a CSRF cookie, not a session: still cached.
    let visitor = Browser::new(&app);
    visitor.visit("/signup").await;
    assert!(visitor.cookie("guidepost_csrf").is_some());
    let before = app.page_cache.renders();
    visitor.get("/articles").await;
    visitor.get("/articles").await;
    assert!(
        app.page_cache.renders() - before <= 1,
        "served from the cache"
    );
}

#[actix_web::test]
async fn over_https_the_cookies_are_secure_and_host_only() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.base_url = crate::helpers::base_url("https://articles.example.org")
    })
    .await;
    let browser = Browser::new(&app);
    let form = browser.get("/signup").await;
    let csrf = form.header("set-cookie").unwrap().to_owned();
    assert!(
        csrf.starts_with("__Host-guidepost_csrf=") && csrf.contains("Secure"),
        "{csrf}"
    );
    assert_eq!(
        form.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    // The browser keeps the `__Host-` cookies it was given, as a browser on HTTPS does.
    browser
        .ask_to_sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    let link = crate::browser::saved_link(&app, "ana@example.com", "/signup/confirm/")
        .await
        .replace("https://articles.example.org", "");
    let page = browser.visit(&link).await;
    let (action, fields) = Browser::form_fields(&page, "form.form", &[("password", PASSWORD)]);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = browser.post(&action, &pairs).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let cookies: Vec<String> = answer
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-guidepost_session="))
        .expect("the session cookie");
    let device = cookies
        .iter()
        .find(|c| c.starts_with("__Host-guidepost_device="))
        .expect("the device cookie");
    for cookie in [session, device] {
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
}

#[actix_web::test]
async fn members_share_cached_pages_but_each_gets_their_own_token_and_their_own_access() {
    let app = spawn_app().await;
    let article = "/articles/your-first-back-end-portfolio-project-step-by-step";
    let ana = member(&app, "ana@example.com").await;
    let bea = member(&app, "bea@example.com").await;
    ana.get(article).await;
    let page = bea.get(article).await;
    assert!(page.texts(".gate").is_empty());
    // Bea's copy carries her own token: her log-out button works.
    let home = bea.log_out(&page).await;
    assert_eq!(home.path, "/");
    assert!(!is_logged_in(&bea).await);
    assert!(is_logged_in(&ana).await);

    // Compressed for whoever asks, spliced with the right token.
    let compressed = app
        .client()
        .get(format!("{}{article}", app.origin))
        .insert_header(("Accept-Encoding", "gzip"))
        .insert_header((
            "Cookie",
            format!(
                "guidepost_session={}",
                ana.cookie("guidepost_session").unwrap()
            ),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        compressed.headers().get("content-encoding").unwrap(),
        "gzip"
    );

    // When Ana's trial ends, the cached page is not hers any more.
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '-1 day') WHERE email = 'ana@example.com'",
    );
    let ended = ana.get(article).await;
    assert!(ended.text(".gate").contains("Your free trial ended on"));
    // And nobody anonymous gets a member's copy.
    assert!(!app.get(article).await.texts(".gate").is_empty());
}
