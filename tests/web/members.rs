//! Signing up for the free trial: the journey from a members-only article, every refused input,
//! races, bots and limits.

use actix_web::http::StatusCode;

use crate::browser::{Browser, count, sql};
use crate::helpers::{spawn_app, spawn_app_with};

const MEMBERS_ONLY: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";
const PASSWORD: &str = "correct horse battery";

#[actix_web::test]
async fn a_reader_signs_up_from_a_members_only_article_and_reads_it_in_full() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);

    // The teaser invites a free trial and keeps the way back.
    let article = browser.visit(MEMBERS_ONLY).await;
    assert!(article.text(".gate h2").contains("for members"));
    let start = article.attr(".gate a.button", "href").unwrap();
    assert_eq!(
        start,
        "/signup?next=%2Farticles%2Fyour-first-back-end-portfolio-project-step-by-step"
    );

    // The sign-up form, filled in.
    let form = browser.visit(&start).await;
    assert_eq!(form.header("cache-control"), Some("no-store"));
    let welcome = browser
        .submit(
            &form,
            "form[action='/signup']",
            &[
                ("name", "Ana Silva"),
                ("email", "  Ana.Silva@Example.com "),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;

    // A welcome page that says when the trial ends, and leads back to the article.
    assert_eq!(welcome.status, StatusCode::OK);
    assert_eq!(welcome.text("h1"), "Welcome, Ana Silva");
    let ends = time::OffsetDateTime::now_utc() + time::Duration::days(14);
    assert!(
        welcome
            .text(".lede")
            .contains(&format!("{} {} {}", ends.day(), ends.month(), ends.year())),
        "{}",
        welcome.text(".lede")
    );
    let back = welcome.attr("a.button", "href").unwrap();
    assert_eq!(back, MEMBERS_ONLY);

    // The article reads in full; the header shows the account instead of the trial button.
    let article = browser.visit(&back).await;
    assert!(article.texts(".gate").is_empty(), "no gate for a member");
    assert!(article.text(".prose").split_whitespace().count() > 300);
    assert!(article.links().contains(&"/account".to_owned()));
    assert!(!article.text(".site-header").contains("Start free trial"));
    assert!(
        article.texts(".cta").is_empty(),
        "no invitation for a member in a trial"
    );
    assert_eq!(article.header("cache-control"), Some("private, no-cache"));

    // Stored normalised, with a trial of the default length and a welcome mail queued.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana.silva@example.com' AND role = 'member'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE kind = 'welcome' AND to_address = 'ana.silva@example.com'"
        ),
        1
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM sessions"), 1);
}

/// Submits the sign-up form with `values` over a valid set; returns the answer.
async fn sign_up_with(browser: &Browser<'_>, values: &[(&str, &str)]) -> crate::helpers::Page {
    let form = browser.visit("/signup").await;
    let mut all: Vec<(&str, &str)> = vec![
        ("name", "Ana"),
        ("email", "ana@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("consent", "yes"),
    ];
    for (name, value) in values {
        all.retain(|(n, _)| n != name);
        all.push((name, value));
    }
    browser.submit(&form, "form[action='/signup']", &all).await
}

#[actix_web::test]
async fn every_bad_sign_up_input_is_answered_422_beside_its_field_with_the_input_kept() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let long_email = format!("{}@example.com", "a".repeat(250));
    let too_long_password = "é".repeat(37);
    let long_name = "x".repeat(101);
    // The fields changed from a valid form, the field whose message shows, and a part of it.
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("name", "  ")], "name", "Enter your name"),
        (vec![("name", &long_name)], "name", "at most 100"),
        (vec![("name", "Ana\u{7}Bell")], "name", "control characters"),
        (vec![("email", "ana@")], "email", "such as name@example.com"),
        (vec![("email", &long_email)], "email", "too long"),
        (
            vec![("password", "short"), ("password_confirm", "short")],
            "password",
            "at least 8",
        ),
        (
            vec![
                ("password", &too_long_password),
                ("password_confirm", &too_long_password),
            ],
            "password",
            "at most 72 bytes",
        ),
        (
            vec![
                ("password", "Password123"),
                ("password_confirm", "Password123"),
            ],
            "password",
            "most common",
        ),
        (
            vec![("password_confirm", "something else")],
            "password_confirm",
            "do not match",
        ),
        (vec![("consent", "")], "consent", "privacy notice"),
    ];
    for (values, field, message) in cases {
        let page = sign_up_with(&browser, &values).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{values:?}");
        let error = page.text(&format!(
            "#signup-{}-error",
            field.replace("password_confirm", "confirm")
        ));
        assert!(error.contains(message), "{values:?}: {error}");
        assert!(
            !page.body.contains(PASSWORD),
            "the password is never sent back"
        );
        let kept_email = page.attr("#signup-email", "value").unwrap();
        if field != "email" {
            assert_eq!(kept_email, "ana@example.com", "{values:?}");
        }
        for secret in ["SELECT", "serde", "panicked", "diesel"] {
            assert!(!page.body.contains(secret), "{values:?} shows {secret}");
        }
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );
}

#[actix_web::test]
async fn an_address_already_registered_in_any_case_gets_a_friendly_answer_and_no_second_account() {
    let app = spawn_app().await;
    Browser::new(&app)
        .sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    let other = Browser::new(&app);
    let page = sign_up_with(&other, &[("email", "ANA@example.COM")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("#signup-email-error")
            .contains("already registered: log in, or reset your password")
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        1
    );
}

#[actix_web::test]
async fn two_sign_ups_racing_for_one_address_make_exactly_one_account() {
    let app = spawn_app().await;
    let (first, second) = (Browser::new(&app), Browser::new(&app));
    let (form_a, form_b) = (first.visit("/signup").await, second.visit("/signup").await);
    let values = [
        ("name", "Ana"),
        ("email", "race@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("consent", "yes"),
    ];
    let (a, b) = futures_join(
        first.submit(&form_a, "form[action='/signup']", &values),
        second.submit(&form_b, "form[action='/signup']", &values),
    )
    .await;
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'race@example.com'"
        ),
        1
    );
}

/// Runs two futures at once on this thread.
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let std::task::Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let std::task::Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

#[actix_web::test]
async fn extra_fields_cannot_make_an_admin_or_lengthen_the_trial() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let page = sign_up_with(
        &browser,
        &[
            ("role", "admin"),
            ("trial_ends_at", "2099-01-01 00:00:00"),
            ("status", "active"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com' AND role = 'member' AND trial_ends_at < '2027-12-31'"
        ),
        1
    );
}

#[actix_web::test]
async fn a_bot_filling_the_hidden_field_makes_no_account() {
    let app = spawn_app().await;
    let page = sign_up_with(&Browser::new(&app), &[("website", "http://spam.example")]).await;
    assert_eq!(page.path, "/");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );
    let form = Browser::new(&app).visit("/signup").await;
    assert!(
        form.body.contains("<div hidden>"),
        "the field is hidden from people and screen readers"
    );
}

#[actix_web::test]
async fn visitors_who_only_look_at_the_forms_leave_nothing_in_the_database() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let browser = Browser::new(&app);
        browser.visit("/signup").await;
        browser.visit("/login").await;
        browser.visit("/password/forgot").await;
    }
    for table in [
        "users WHERE role = 'member'",
        "sessions",
        "throttle_events",
        "outbox",
        "email_tokens",
    ] {
        assert_eq!(
            count(&app, &format!("SELECT count(*) AS n FROM {table}")),
            0,
            "{table}"
        );
    }
}

#[actix_web::test]
async fn accounts_per_client_address_are_limited_and_refused_forms_do_not_count() {
    let app = spawn_app_with(|s| s.signup_limit = 2).await;
    for _ in 0..3 {
        let refused = sign_up_with(&Browser::new(&app), &[("password", "short")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    for n in 0..2 {
        let page = sign_up_with(
            &Browser::new(&app),
            &[("email", &format!("n{n}@example.com"))],
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "account {n}");
    }
    let third = sign_up_with(&Browser::new(&app), &[("email", "n3@example.com")]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(third.text("main").to_lowercase().contains("try again in"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        2
    );
}

#[actix_web::test]
async fn closed_sign_ups_say_so_and_create_nothing() {
    let app = spawn_app().await;
    sql(
        &app,
        "UPDATE settings SET value = 'false' WHERE key = 'signups_open'",
    );
    let browser = Browser::new(&app);
    let form = browser.visit("/signup").await;
    assert!(form.text("main").contains("sign-ups are closed"));
    assert!(form.texts("form[action='/signup']").is_empty());
    // A form opened before they closed still creates nothing (its token comes from another form
    // of the same visitor).
    let login = browser.visit("/login").await;
    let token = login.attr("input[name=csrf_token]", "value").unwrap();
    let answer = browser
        .post(
            "/signup",
            &[
                ("csrf_token", &token),
                ("name", "Ana"),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.text("main").contains("sign-ups are closed"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );
}

#[actix_web::test]
async fn the_trial_length_on_every_invitation_comes_from_the_settings() {
    let app = spawn_app().await;
    sql(
        &app,
        "UPDATE settings SET value = '30' WHERE key = 'trial_days'",
    );
    let browser = Browser::new(&app);
    // The page cache notices the change within half a second.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let home = browser.visit("/").await;
    assert!(
        home.text(".cta").contains("free for 30 days"),
        "{}",
        home.text(".cta")
    );
    let article = browser.visit(MEMBERS_ONLY).await;
    assert!(article.text(".gate").contains("free 30-day trial"));
    let welcome = browser.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let ends = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(welcome.text(".lede").contains(&format!(
        "{} {} {}",
        ends.day(),
        ends.month(),
        ends.year()
    )));
}
