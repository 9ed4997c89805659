//! Two instances of the site on one database, as behind a load balancer: what one does, the other
//! knows at once. Runs on SQLite (two processes' worth of caches on one file) and, in `.ci/run`, on
//! PostgreSQL.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;

use crate::browser::{Browser, sql};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";
/// How soon the other instance must know (the change feed's promise).
const PROMPTLY: Duration = Duration::from_millis(100);

/// A second instance on `first`'s database (with the same key unless `adjust` changes it).
async fn second_instance(
    first: &TestApp,
    adjust: impl FnOnce(&mut guidepost::config::Settings),
) -> TestApp {
    let database = first.database.clone();
    spawn_app_with(move |settings| {
        settings.database = database;
        adjust(settings);
    })
    .await
}

/// An admin, signed up and logged in on `app`.
async fn admin(app: &TestApp) -> Browser<'_> {
    let browser = Browser::new(app);
    assert_eq!(
        browser
            .sign_up("Site Owner", "owner@example.com", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    sql(
        app,
        "UPDATE users SET role = 'admin' WHERE email = 'owner@example.com'",
    );
    browser
}

/// Asks `check` every few milliseconds until it holds, and says how long that took from `since`;
/// gives up after a second.
async fn time_until(since: Instant, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    while since.elapsed() < Duration::from_secs(1) {
        if check().await {
            return Some(since.elapsed());
        }
        actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

async fn change_title(admin: &Browser<'_>, title: &str) -> Instant {
    let form = admin.visit("/admin/settings").await;
    let saved = admin
        .submit(
            &form,
            "form[action='/admin/settings']",
            &[("site_title", title)],
        )
        .await;
    assert_eq!(saved.text(".flash"), "The settings are saved and in use.");
    Instant::now()
}

#[actix_web::test]
async fn a_change_on_one_instance_reaches_the_other_within_a_tenth_of_a_second() {
    let one = spawn_app().await;
    // Signed up before the second instance starts, which could otherwise send (into its own mail
    // folder) the mail that confirms it: each mail goes out once, from either instance.
    let owner = admin(&one).await;
    let two = second_instance(&one, |_| {}).await;

    // A session made on one instance is good on the other.
    let on_two = Browser::new(&two);
    on_two.set_cookie(
        "guidepost_session",
        &owner.cookie("guidepost_session").unwrap(),
    );
    assert_eq!(on_two.get("/admin").await.status, StatusCode::OK);

    // A setting changed through one is on the other's pages, cached there before.
    assert!(two.get("/").await.text(".brand").contains("Guidepost"));
    assert!(two.get("/").await.text(".brand").contains("Guidepost"));
    let changed = change_title(&owner, "Backend Weekly").await;
    let took = time_until(changed, async || {
        two.get("/").await.text(".brand").contains("Backend Weekly")
    })
    .await;
    assert!(took.is_some_and(|took| took < PROMPTLY), "{took:?}");

    // A publish (here, taking an article down) through one: gone from the other's pages.
    let list = owner.visit("/admin/articles").await;
    let article = list.attr("td a[href^='/articles/']", "href").unwrap();
    assert_eq!(two.get(&article).await.status, StatusCode::OK);
    let unpublished = owner.submit(&list, "form[action$='/unpublish']", &[]).await;
    assert!(
        unpublished.status.is_success() || unpublished.status.is_redirection(),
        "{}",
        unpublished.status
    );
    let changed = Instant::now();
    let took = time_until(changed, async || {
        two.get(&article).await.status == StatusCode::NOT_FOUND
    })
    .await;
    assert!(took.is_some_and(|took| took < PROMPTLY), "{took:?}");

    // A log-out on one ends the session on the other.
    let account = owner.visit("/account").await;
    owner.log_out(&account).await;
    let changed = Instant::now();
    let took = time_until(changed, async || {
        on_two.get("/account").await.status == StatusCode::SEE_OTHER
    })
    .await;
    assert!(took.is_some_and(|took| took < PROMPTLY), "{took:?}");
}

#[actix_web::test]
async fn without_the_change_feed_the_other_instance_goes_on_serving_what_it_had() {
    // The negative control of the test above: with the feed switched off on the second
    // instance, nothing tells its page cache, and it serves the old page. (Its cached sessions
    // are read again after any write of its own, so they cannot show it as surely.)
    let one = spawn_app().await;
    let owner = admin(&one).await;
    let two = second_instance(&one, |settings| settings.change_feed = false).await;
    assert!(two.get("/").await.text(".brand").contains("Guidepost"));
    assert!(one.get("/").await.text(".brand").contains("Guidepost"));

    change_title(&owner, "Backend Weekly").await;
    actix_web::rt::time::sleep(PROMPTLY * 3).await;
    assert!(one.get("/").await.text(".brand").contains("Backend Weekly"));
    assert!(two.get("/").await.text(".brand").contains("Guidepost"));
}

#[actix_web::test]
async fn an_instance_with_another_key_is_refused_on_postgres() {
    if crate::helpers::on_sqlite() {
        return;
    }
    let one = spawn_app().await;
    let mut settings = guidepost::config::Settings::from_cli(
        &<guidepost::config::Cli as clap::Parser>::parse_from([
            "guidepost",
            "--bind",
            "127.0.0.1:0",
        ]),
    )
    .unwrap();
    settings.database = one.database.clone();
    settings.secret_key = Some(guidepost::config::Secret::new("another key ".repeat(8)));
    settings.bcrypt_cost = 4;
    let refused = guidepost::startup::Application::build(settings).await;
    let Err(error) = refused else {
        panic!("an instance with another key started");
    };
    assert!(
        error
            .to_string()
            .contains("GUIDEPOST_SECRET_KEY differs from the key the other instances"),
        "{error:#}"
    );
}

#[actix_web::test]
async fn a_session_is_good_only_on_instances_with_the_same_key() {
    // On SQLite (PostgreSQL refuses such an instance: see above).
    if !crate::helpers::on_sqlite() {
        return;
    }
    let one = spawn_app().await;
    let owner = admin(&one).await;
    let other_key = second_instance(&one, |settings| {
        settings.secret_key = Some(guidepost::config::Secret::new("another key ".repeat(8)));
    })
    .await;
    let elsewhere = Browser::new(&other_key);
    elsewhere.set_cookie(
        "guidepost_session",
        &owner.cookie("guidepost_session").unwrap(),
    );
    assert_eq!(
        elsewhere.get("/account").await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn failed_log_ins_count_against_the_account_on_every_instance() {
    let one = spawn_app().await;
    Browser::new(&one)
        .sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    let two = second_instance(&one, |_| {}).await;
    // Wrong guesses from one client, by turns on each instance.
    let mut refused = None;
    for attempt in 0..12 {
        let app = if attempt % 2 == 0 { &one } else { &two };
        let page = Browser::new(app)
            .log_in("ana@example.com", "wrong password")
            .await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(attempt);
            break;
        }
    }
    // The limit per account and client is five, whichever instance counted them.
    assert_eq!(refused, Some(5));
}
