//! Signing up for the free trial: the journey from a members-only article, every refused input,
//! races, bots and limits.

use actix_web::http::StatusCode;

use crate::browser::{Browser, count, saved_link, saved_mail, sql};
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

    // The sign-up form, filled in: no account yet, a link in the mail.
    let form = browser.visit(&start).await;
    assert_eq!(form.header("cache-control"), Some("no-store"));
    let sent = browser
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
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(sent.text("h1"), "Check your inbox");
    assert!(sent.text(".lede").contains("ana.silva@example.com"));
    assert!(!sent.body.contains(PASSWORD));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM sessions"), 0);

    // The link opens a page with a button; a mail scanner following it makes nothing.
    let link = saved_link(&app, "ana.silva@example.com", "/signup/confirm/").await;
    let scanner = Browser::new(&app);
    let opened = scanner.visit(&link).await;
    assert_eq!(opened.text("h1"), "Start your free trial");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );
    let welcome = browser.confirm_sign_up(&link, PASSWORD).await;

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

    // Stored normalised and confirmed, the confirmation mail now the member's own, the sign-up
    // gone; the link worked once.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana.silva@example.com' AND role = 'member' AND email_verified_at IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE kind = 'signup_confirm' AND user_id IS NOT NULL"
        ),
        1
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM pending_signups"), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM sessions"), 1);
    assert_eq!(scanner.visit(&link).await.status, StatusCode::GONE);
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
    assert_eq!(count(&app, "SELECT count(*) AS n FROM pending_signups"), 0);
}

/// The main text of a page, without what differs from one response to the next (the form token).
fn main_text(page: &crate::helpers::Page) -> String {
    page.text("main")
}

#[actix_web::test]
async fn signing_up_with_a_registered_address_answers_the_same_and_mails_its_owner() {
    let app = spawn_app().await;
    Browser::new(&app)
        .sign_up("Ana", "ana@example.com", PASSWORD)
        .await;

    // A stranger tries the address in another case; someone else a new address.
    let taken = sign_up_with(&Browser::new(&app), &[("email", "ANA@example.COM")]).await;
    let fresh = sign_up_with(&Browser::new(&app), &[("email", "ana@example.COM")]).await;
    let new = sign_up_with(&Browser::new(&app), &[("email", "bo@example.com")]).await;
    assert_eq!(taken.status, StatusCode::OK);
    assert_eq!(taken.status, new.status);
    assert_eq!(
        main_text(&taken),
        main_text(&new).replace("bo@example.com", "ana@example.com"),
        "the page says the same either way"
    );
    assert_eq!(main_text(&taken), main_text(&fresh));

    // Only the owner learns of it, by mail, with a way in.
    let notice = saved_mail(&app, "ana@example.com", "Someone tried to sign up").await;
    assert!(notice.contains("already have an account"));
    assert!(notice.contains(&format!("{}/login", app.origin)));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM pending_signups WHERE email = 'ana@example.com'"
        ),
        0
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
    assert_eq!([a.status, b.status], [StatusCode::OK, StatusCode::OK]);
    // Each got its own link; both are pressed at once.
    let folder = app.mail_folder.clone();
    let links: Vec<String> = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let found: Vec<String> = std::fs::read_dir(&folder)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                        .filter(|t| t.contains("/signup/confirm/"))
                        .map(|t| {
                            crate::browser::link_in(
                                &crate::browser::decode_mime(&t),
                                &app.origin,
                                "/signup/confirm/",
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if found.len() == 2 || std::time::Instant::now() > deadline {
                break found;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    assert_eq!(links.len(), 2);
    let (page_a, page_b) = (first.visit(&links[0]).await, second.visit(&links[1]).await);
    let (a, b) = futures_join(
        first.submit(&page_a, "form.form", &[("password", PASSWORD)]),
        second.submit(&page_b, "form.form", &[("password", PASSWORD)]),
    )
    .await;
    assert!(
        [a.path.as_str(), b.path.as_str()].contains(&"/welcome"),
        "one of them made the account"
    );
    assert!(
        [a.status, b.status]
            .iter()
            .any(|s| *s == StatusCode::CONFLICT || *s == StatusCode::GONE),
        "the other is told its link no longer makes an account"
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
pub async fn futures_join<A: std::future::Future, B: std::future::Future>(
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
    let link = saved_link(&app, "ana@example.com", "/signup/confirm/").await;
    browser.confirm_sign_up(&link, PASSWORD).await;
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
    assert!(third.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM pending_signups"), 2);
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

#[actix_web::test]
async fn a_link_from_a_sign_up_someone_else_made_cannot_make_the_account_with_their_password() {
    let app = spawn_app().await;
    // A stranger signs up first with Ana's address and a password of their choosing.
    Browser::new(&app)
        .ask_to_sign_up("Not Ana", "ana@example.com", "the stranger's phrase")
        .await;
    let link = saved_link(&app, "ana@example.com", "/signup/confirm/").await;
    // Ana opens the mail and, not knowing that password, cannot make the account with it.
    let ana = Browser::new(&app);
    let page = ana.visit(&link).await;
    assert!(page.text(".lede").contains("Type the password you chose"));
    for n in 0..4 {
        let refused = ana
            .submit(
                &page,
                "form.form",
                &[("password", &format!("{PASSWORD} {n}"))],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .text("#confirm-password-error")
                .contains("not the password")
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        0
    );
    // The link proves the address is hers: she chooses her own password on the same page.
    let welcome = ana
        .submit(
            &page,
            "form.choose-form",
            &[
                ("new_password", PASSWORD),
                ("new_password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(welcome.path, "/welcome");
    assert_eq!(
        Browser::new(&app)
            .log_in("ana@example.com", "the stranger's phrase")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the stranger's password does nothing"
    );
    assert_eq!(
        Browser::new(&app)
            .log_in("ana@example.com", PASSWORD)
            .await
            .path,
        "/account"
    );
}

#[actix_web::test]
async fn a_confirmation_link_typed_at_with_wrong_passwords_is_dropped_after_five() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser
        .ask_to_sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    let link = saved_link(&app, "ana@example.com", "/signup/confirm/").await;
    let page = browser.visit(&link).await;
    for n in 0..4 {
        let refused = browser
            .submit(
                &page,
                "form.form",
                &[("password", &format!("wrong {n} guess"))],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let gone = browser
        .submit(&page, "form.form", &[("password", "a last guess here")])
        .await;
    assert_eq!(gone.status, StatusCode::GONE, "the sign-up is dropped");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM pending_signups"), 0);
}

#[actix_web::test]
async fn strangers_sign_ups_with_an_address_never_use_up_its_reset_mail() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = guidepost::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    Browser::new(&app)
        .sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    for n in 0..6 {
        Browser::at(&app, &format!("203.0.113.{n}"))
            .ask_to_sign_up("Eve", " Ana@Example.com", PASSWORD)
            .await;
    }
    let notes = count(
        &app,
        "SELECT count(*) AS n FROM outbox WHERE kind = 'signup_attempt'",
    );
    assert!(notes <= 3, "{notes} notes: strangers' sign-ups are capped");
    let ana = Browser::at(&app, "198.51.100.1");
    let form = ana.visit("/password/forgot").await;
    ana.submit(
        &form,
        "form[action='/password/forgot']",
        &[("email", "ana@example.com")],
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE kind = 'password_reset'"
        ),
        1,
        "her reset went out"
    );
}
