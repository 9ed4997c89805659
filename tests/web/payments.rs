//! Paid memberships against a Stripe stand-in that keeps to Stripe's published contract: setting
//! the plans up with the command line, subscribing with days of the trial left and after it
//! ended, renewals paid and declined, cancelling, the webhook's signature and idempotency, the
//! return page, the portal, deletion, export, complimentary grants and the publisher's figures.

use std::process::Command;

use actix_web::http::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, count, saved_mail, sql};
use crate::helpers::{Page, TestApp, database_in, free_port, spawn_app, spawn_app_in};
use crate::stripe::standin::{SECRET_KEY, StandIn};

const PASSWORD: &str = "correct horse battery";
const MEMBERS_ONLY: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";

/// The app with payments on: the stand-in, `guidepost stripe setup` run against it through the
/// command line, then the server with the webhook secret the command printed.
struct Paid {
    app: TestApp,
    standin: StandIn,
}

fn setup_command(database: &guidepost::db::Database, origin: &str, api: &str) -> Command {
    setup_command_for(database, origin, api, "9.00")
}

fn setup_command_for(
    database: &guidepost::db::Database,
    origin: &str,
    api: &str,
    monthly: &str,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guidepost"));
    command
        .env_remove("RUST_LOG")
        .env("GUIDEPOST_STRIPE_SECRET_KEY", SECRET_KEY)
        .env("GUIDEPOST_STRIPE_API_BASE", api)
        .arg("--database")
        .arg(database)
        .args(["--base-url", origin])
        .args([
            "stripe",
            "setup",
            "--currency",
            "eur",
            "--monthly",
            monthly,
            "--yearly",
            "90.00",
        ]);
    command
}

/// Runs a command off the test's runtime thread, so the stand-in can answer it.
async fn output(mut command: Command) -> std::process::Output {
    actix_web::web::block(move || command.output().unwrap())
        .await
        .unwrap()
}

async fn spawn_paid_app() -> Paid {
    let standin = StandIn::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let setup = output(setup_command(&database_in(&dir), &origin, &standin.url)).await;
    let stdout = String::from_utf8_lossy(&setup.stdout).into_owned();
    assert!(
        setup.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let secret = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("GUIDEPOST_STRIPE_WEBHOOK_SECRET="))
        .expect("the secret is printed once")
        .to_owned();
    assert_eq!(standin.webhook_secret().as_deref(), Some(secret.as_str()));
    let api = standin.url.clone();
    let app = spawn_app_in(dir, move |settings| {
        settings.bind = format!("127.0.0.1:{port}").parse().unwrap();
        settings.stripe = Some(guidepost::billing::StripeSettings {
            secret_key: guidepost::config::Secret::new(SECRET_KEY),
            webhook_secret: Some(guidepost::config::Secret::new(secret)),
            api_base: api,
        });
    })
    .await;
    Paid { app, standin }
}

impl Paid {
    /// A signed-up member on the account page.
    async fn member(&self, email: &str) -> Browser<'_> {
        let browser = Browser::new(&self.app);
        let welcome = browser.sign_up("Ada Member", email, PASSWORD).await;
        assert_eq!(welcome.status, StatusCode::OK);
        browser
    }

    /// Presses a plan's Subscribe button on `page`; returns the checkout's id at the stand-in.
    async fn subscribe(&self, browser: &Browser<'_>, page: &Page, plan: &str) -> String {
        let form = format!("form[action='/account/subscribe']:has(input[value='{plan}'])");
        let (action, fields) = Browser::form_fields(page, &form, &[]);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = browser.post(&action, &pairs).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let location = answer.header("location").unwrap().to_owned();
        let prefix = format!("{}/checkout/", self.standin.url);
        location
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("not to checkout: {location}"))
            .to_owned()
    }

    /// A new member who chose `plan` on their account page; the checkout's id.
    async fn checkout(&self, email: &str, plan: &str) -> (Browser<'_>, String) {
        let member = self.member(email).await;
        let account = member.visit("/account").await;
        let session = self.subscribe(&member, &account, plan).await;
        (member, session)
    }

    /// Pays on the stand-in's checkout page and follows it back to this site.
    async fn pay(&self, browser: &Browser<'_>, session: &str) -> Page {
        let client = awc::Client::builder().disable_redirects().finish();
        let page = client
            .get(format!("{}/checkout/{session}", self.standin.url))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let paid = client
            .post(format!("{}/checkout/{session}/pay", self.standin.url))
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status(), StatusCode::SEE_OTHER);
        let back = paid
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let path = back
            .strip_prefix(&self.app.origin)
            .expect("back to this site")
            .to_owned();
        browser.visit(&path).await
    }

    fn subscription(&self) -> Value {
        let ids = self.standin.ids("sub");
        self.standin.object(ids.last().expect("a subscription"))
    }

    /// Every webhook delivery so far was answered 200, and the contract was kept.
    fn assert_all_delivered(&self) {
        let deliveries = self.standin.deliveries();
        assert!(
            deliveries.iter().all(|(_, status)| *status == 200),
            "{deliveries:?}"
        );
        self.assert_contract_kept();
    }

    fn assert_contract_kept(&self) {
        assert_eq!(self.standin.violations(), Vec::<String>::new());
    }
}

/// Ends `email`'s free trial, as if its days had run out.
fn end_trial(app: &TestApp, email: &str) {
    sql(
        app,
        &format!("UPDATE users SET trial_ends_at = '2020-01-01 00:00:00' WHERE email = '{email}'"),
    );
}

/// The account page, once its membership section says `words`.
async fn assert_membership(browser: &Browser<'_>, words: &str) -> Page {
    let account = browser.visit("/account").await;
    let said = membership(&account);
    assert!(said.contains(words), "{said}");
    account
}

/// Keeps `page` in `target/page-snapshots/payments-NAME.html`, for the page checks (Nu, axe) of
/// `scripts/check-pages`, which cannot reach pages that need Stripe.
fn snapshot(name: &str, page: &Page) {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/page-snapshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("payments-{name}.html")), &page.body).unwrap();
}

fn membership(page: &Page) -> String {
    page.text("#membership")
}

fn reads_in_full(page: &Page) -> bool {
    !page.body.contains("class=\"gate\"")
}

#[actix_web::test]
async fn stripe_setup_makes_the_plans_and_the_webhook_and_prints_its_secret_once() {
    let paid = spawn_paid_app().await;
    let requests = paid.standin.requests();
    for call in [
        "POST /v1/products",
        "POST /v1/prices",
        "POST /v1/webhook_endpoints",
    ] {
        assert!(requests.iter().any(|r| r == call), "{call} in {requests:?}");
    }
    let endpoint = paid.standin.object(&paid.standin.ids("we")[0]);
    assert_eq!(
        endpoint["url"],
        format!("{}/stripe/webhook", paid.app.origin)
    );
    assert_eq!(endpoint["api_version"], guidepost::billing::API_VERSION);
    assert_eq!(endpoint["enabled_events"].as_array().unwrap().len(), 7);

    let admin = paid.member("owner@example.com").await;
    sql(
        &paid.app,
        "UPDATE users SET role = 'admin' WHERE email = 'owner@example.com'",
    );
    let settings = admin.visit("/admin/settings").await;
    assert!(settings.body.contains("Monthly: 9.00 € a month"));
    assert!(settings.body.contains("Yearly: 90.00 € a year"));
    assert!(!settings.body.contains("whsec_"));

    // Run again with new prices: new prices, the same product and endpoint, no secret shown.
    let again = output(setup_command(
        &paid.app.database,
        &paid.app.origin,
        &paid.standin.url,
    ))
    .await;
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success());
    assert!(!stdout.contains("whsec_"), "{stdout}");
    assert_eq!(paid.standin.ids("prod").len(), 1);
    assert_eq!(paid.standin.ids("we").len(), 1);
    assert_eq!(paid.standin.ids("price").len(), 4);
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn stripe_setup_refuses_bad_amounts_and_a_missing_key_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let bad = setup_command_for(
        &database_in(&dir),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "9,00",
    );
    let out = output(bad).await;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("is not an amount such as 9.00"), "{said}");
    let mut keyless = setup_command(
        &database_in(&dir),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
    );
    keyless.env_remove("GUIDEPOST_STRIPE_SECRET_KEY");
    let out = output(keyless).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GUIDEPOST_STRIPE_SECRET_KEY is not set")
    );
}

#[actix_web::test]
async fn without_stripe_no_page_offers_a_plan() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let welcome = browser
        .sign_up("Ada Member", "ada@example.com", PASSWORD)
        .await;
    assert!(!welcome.body.contains("Subscribe"));
    let account = browser.visit("/account").await;
    assert!(!account.body.contains("Subscribe") && !account.body.contains("id=\"membership\""));
    end_trial(&app, "ada@example.com");
    let gate = browser.visit(MEMBERS_ONLY).await;
    assert!(
        gate.body.contains("Your free trial ended on"),
        "{}",
        gate.text("main")
    );
    assert!(!gate.body.contains("Subscribe"));
    let token = gate
        .attr("form[action='/logout'] input[name='csrf_token']", "value")
        .unwrap();
    let refused = browser
        .post(
            "/account/subscribe",
            &[("csrf_token", &token), ("plan", "monthly")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let webhook = browser.post("/stripe/webhook", &[]).await;
    assert_eq!(webhook.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_trial_member_subscribes_is_charged_when_the_trial_ends_keeps_reading_through_a_declined_renewal_and_loses_access_when_cancelled()
 {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    let welcome = ada.visit("/welcome").await;
    assert!(welcome.body.contains("Keep reading after your trial"));
    snapshot("welcome", &welcome);
    let account = ada.visit("/account").await;
    snapshot("account-plans", &account);
    let offer = membership(&account);
    assert!(
        offer.contains("9.00 € a month") && offer.contains("90.00 € a year"),
        "{offer}"
    );

    // Subscribing with fourteen days left: the subscription's trial ends with the free trial.
    let session = paid.subscribe(&ada, &account, "monthly").await;
    let trial_end = {
        use diesel::prelude::*;
        use guidepost::db::schema::users;
        users::table
            .filter(users::email.eq("ada@example.com"))
            .select(users::trial_ends_at)
            .first::<Option<time::PrimitiveDateTime>>(&mut crate::browser::database(&paid.app))
            .unwrap()
            .unwrap()
            .assume_utc()
            .unix_timestamp()
    };
    assert_eq!(
        paid.standin.object(&session)["trial_end"].as_i64(),
        Some(trial_end)
    );
    let back = paid.pay(&ada, &session).await;
    assert_eq!(back.status, StatusCode::OK);
    snapshot("subscribed", &back);
    assert!(
        back.body
            .contains("nothing is charged before your free trial ends"),
        "{}",
        back.body
    );
    let account = assert_membership(&ada, "Trial until").await;
    assert!(membership(&account).contains("then 9.00 € a month"));
    assert!(!account.body.contains("Subscribe monthly"));

    // The free trial ends: the paid trial reads on. Stripe charges the card: active.
    end_trial(&paid.app, "ada@example.com");
    assert!(reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    let sub = paid.subscription()["id"].as_str().unwrap().to_owned();
    paid.standin.renew(&sub, true).await;
    assert_membership(&ada, "9.00 € a month; next payment").await;
    assert_eq!(
        count(
            &paid.app,
            "SELECT COUNT(*) AS n FROM payments WHERE status = 'paid' AND amount = 900"
        ),
        1
    );

    // A declined renewal: past due, a mail with a way to update the card, access kept.
    paid.standin.renew(&sub, false).await;
    let account = assert_membership(&ada, "payment failed — update your card").await;
    snapshot("account-past-due", &account);
    assert!(account.body.contains("Manage billing"));
    let mail = saved_mail(&paid.app, "ada@example.com", "did not go through").await;
    assert!(mail.contains("/account#membership"), "{mail}");
    assert!(reads_in_full(&ada.visit(MEMBERS_ONLY).await));

    // Stripe gives up and cancels: access ends, and the plans are offered again.
    paid.standin.cancel(&sub).await;
    let gate = ada.visit(MEMBERS_ONLY).await;
    assert!(!reads_in_full(&gate));
    assert!(gate.body.contains("Your membership has ended"));
    assert!(gate.body.contains("Subscribe monthly"));
    snapshot("gate-with-plans", &gate);
    assert_membership(&ada, "ended on").await;
    paid.assert_all_delivered();
}

#[actix_web::test]
async fn a_member_whose_trial_ended_subscribes_from_the_article_and_pays_at_once() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    end_trial(&paid.app, "ada@example.com");
    let gate = ada.visit(MEMBERS_ONLY).await;
    assert!(gate.body.contains("Your free trial ended on"));
    let session = paid.subscribe(&ada, &gate, "yearly").await;
    assert!(paid.standin.object(&session)["trial_end"].is_null());
    let back = paid.pay(&ada, &session).await;
    assert!(
        back.body.contains("your payment went through"),
        "{}",
        back.body
    );
    assert!(back.body.contains("Your membership is running"));
    assert_eq!(paid.subscription()["status"], "active");
    assert!(reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    let account = ada.visit("/account").await;
    assert!(membership(&account).contains("90.00 € a year; next payment"));
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn with_under_48_hours_of_trial_left_the_member_pays_at_once() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    sql(
        &paid.app,
        "UPDATE users SET trial_ends_at = datetime('now', '+47 hours') WHERE email = 'ada@example.com'",
    );
    let account = ada.visit("/account").await;
    let session = paid.subscribe(&ada, &account, "monthly").await;
    assert!(paid.standin.object(&session)["trial_end"].is_null());
    sql(
        &paid.app,
        "UPDATE users SET trial_ends_at = datetime('now', '+49 hours') WHERE email = 'ada@example.com'",
    );
    let session = paid.subscribe(&ada, &account, "monthly").await;
    assert!(paid.standin.object(&session)["trial_end"].is_i64());
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn the_same_event_twice_acts_once_and_an_update_before_the_create_stores_the_latest_state() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.standin.hold();
    paid.pay(&ada, &session).await;
    let sub = paid.subscription()["id"].as_str().unwrap().to_owned();
    paid.standin.renew(&sub, true).await; // updated, then invoice.paid
    // Held: created, checkout completed, invoice (0), updated, invoice (9.00). Sent newest
    // first, each twice.
    paid.standin.release(&[4, 4, 3, 3, 2, 1, 0, 0]).await;
    paid.assert_all_delivered();
    assert_eq!(
        count(
            &paid.app,
            "SELECT COUNT(*) AS n FROM payments WHERE amount = 900"
        ),
        1
    );
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM subscriptions"),
        1
    );
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM stripe_events"),
        5
    );
    assert_membership(&ada, "next payment").await;
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn stale_tampered_and_unsigned_deliveries_are_refused_and_unknown_types_are_acknowledged() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.standin.hold();
    paid.pay(&ada, &session).await;
    let held = paid.standin.release(&[]).await;
    let body = serde_json::to_vec(&held[0]).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(paid.standin.send_raw(&body, now - 301).await, 400, "stale");
    assert_eq!(
        paid.standin.send_raw(&body, now + 301).await,
        400,
        "from the future"
    );
    let url = format!("{}/stripe/webhook", paid.app.origin);
    let secret = paid.standin.webhook_secret().unwrap();
    let header = guidepost::billing::signature::header(&secret, now, &body);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'9').unwrap_or(10);
    tampered[at] = b'1';
    assert_eq!(
        paid.standin.post_signed(&url, &tampered, &header).await,
        400,
        "tampered"
    );
    let forged = guidepost::billing::signature::header("whsec_guessed", now, &body);
    assert_eq!(
        paid.standin.post_signed(&url, &body, &forged).await,
        400,
        "another secret"
    );
    assert_eq!(
        paid.standin.post_signed(&url, &body, "").await,
        400,
        "no signature"
    );
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM stripe_events"),
        0
    );
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM subscriptions"),
        0
    );

    let unknown = serde_json::json!({"id": "evt_unknown_1", "object": "event", "type": "customer.created", "data": {"object": {}}});
    assert_eq!(paid.standin.send(&unknown).await, 200);
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM stripe_events"),
        0
    );
    assert_eq!(paid.standin.send(&held[0]).await, 200, "the real one");
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM subscriptions"),
        1
    );
}

#[actix_web::test]
async fn the_return_page_shows_only_the_members_own_checkout_and_grants_nothing_itself() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    let bob = paid.member("bob@example.com").await;
    let account = ada.visit("/account").await;
    let session = paid.subscribe(&ada, &account, "monthly").await;
    let bobs = bob
        .visit(&format!("/account/subscribed?session_id={session}"))
        .await;
    assert_eq!(bobs.status, StatusCode::NOT_FOUND);
    for bad in ["", "../v1/customers", "cs_nothing_here"] {
        let page = ada
            .visit(&format!("/account/subscribed?session_id={bad}"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
    // Ada's own, before paying: not completed, and no access from the visit.
    let own = ada
        .visit(&format!("/account/subscribed?session_id={session}"))
        .await;
    assert!(own.body.contains("has not started"), "{}", own.body);
    end_trial(&paid.app, "ada@example.com");
    assert!(!reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn manage_billing_opens_the_portal_and_cancelling_there_shows_when_it_ends() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.pay(&ada, &session).await;
    let account = ada.visit("/account").await;
    let (action, fields) = Browser::form_fields(&account, "form[action='/account/billing']", &[]);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = ada.post(&action, &pairs).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let portal = answer.header("location").unwrap().to_owned();
    assert!(portal.starts_with(&format!("{}/portal/", paid.standin.url)));
    let client = awc::Client::builder().disable_redirects().finish();
    let cancelled = client
        .post(format!("{portal}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    assert_membership(&ada, "cancels on").await;
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn deleting_the_account_cancels_the_subscription_at_stripe_first() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    let account = ada.visit("/account").await;
    end_trial(&paid.app, "ada@example.com");
    let session = paid.subscribe(&ada, &account, "yearly").await;
    paid.pay(&ada, &session).await;
    let account = ada.visit("/account").await;
    assert!(account.body.contains("cancelled at Stripe first"));
    let export = ada.get("/account/export").await;
    let document: Value = serde_json::from_str(&export.body).unwrap();
    let membership = &document["membership"];
    assert_eq!(membership["subscriptions"][0]["plan"], "yearly");
    assert_eq!(membership["payments"][0]["amount"], 9000);
    assert!(!export.body.contains("whsec_") && !export.body.contains("sk_test"));

    let gone = ada.delete_account(&account, PASSWORD).await;
    assert_eq!(gone.status, StatusCode::OK);
    assert_eq!(paid.subscription()["status"], "canceled");
    assert!(
        paid.standin
            .requests()
            .iter()
            .any(|r| r.starts_with("DELETE /v1/subscriptions/"))
    );
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM subscriptions"),
        0
    );
    assert_eq!(count(&paid.app, "SELECT COUNT(*) AS n FROM payments"), 0);
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn the_trial_will_end_notice_mails_the_member_the_first_payment_date() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.pay(&ada, &session).await;
    let sub = paid.subscription()["id"].as_str().unwrap().to_owned();
    assert_eq!(paid.standin.trial_will_end(&sub).await, 200);
    let mail = saved_mail(&paid.app, "ada@example.com", "first payment").await;
    assert!(mail.contains("9.00 € a month"), "{mail}");
}

#[actix_web::test]
async fn an_admin_gives_complimentary_access_until_a_date_and_ends_it() {
    let app = spawn_app().await;
    let admin = Browser::new(&app);
    admin.sign_up("Owner", "owner@example.com", PASSWORD).await;
    sql(
        &app,
        "UPDATE users SET role = 'admin' WHERE email = 'owner@example.com'",
    );
    let ada = Browser::new(&app);
    ada.sign_up("Ada Member", "ada@example.com", PASSWORD).await;
    end_trial(&app, "ada@example.com");
    assert!(!reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    let id = count(
        &app,
        "SELECT id AS n FROM users WHERE email = 'ada@example.com'",
    );
    let page = admin.visit(&format!("/admin/members/{id}")).await;

    let form = "form[action$='/complimentary']";
    let refused = admin
        .submit(
            &page,
            form,
            &[("until", "next tuesday"), ("action", "give")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    snapshot("admin-member-grant-errors", &refused);
    assert!(
        refused
            .text("#member-until-error")
            .contains("Enter a date such as")
    );
    assert_eq!(
        refused.attr("#member-until", "value").as_deref(),
        Some("next tuesday")
    );
    let past = admin
        .submit(&page, form, &[("until", "2020-01-01"), ("action", "give")])
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    let far = admin
        .submit(&page, form, &[("until", "9999-12-31"), ("action", "give")])
        .await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);

    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .date()
        .to_string();
    let given = admin
        .submit(&page, form, &[("until", &until), ("action", "give")])
        .await;
    assert_eq!(given.status, StatusCode::OK);
    assert!(
        given.body.contains("Complimentary access until"),
        "{}",
        given.body
    );
    crate::browser::wait_until_noticed(&app);
    assert!(reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    assert!(
        ada.visit("/account")
            .await
            .body
            .contains("complimentary access")
    );
    let members = admin.visit("/admin/members").await;
    assert!(members.body.contains("complimentary"));

    let ended = admin.submit(&given, form, &[("action", "end")]).await;
    assert_eq!(ended.status, StatusCode::OK);
    crate::browser::wait_until_noticed(&app);
    assert!(!reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    let audit = admin.visit("/admin/audit").await;
    assert!(audit.body.contains("give complimentary access"));
    assert!(audit.body.contains("end complimentary access"));
}

#[actix_web::test]
async fn the_dashboard_adds_monthly_recurring_revenue_counts_and_conversions() {
    let paid = spawn_paid_app().await;
    let owner = paid.member("owner@example.com").await;
    sql(
        &paid.app,
        "UPDATE users SET role = 'admin' WHERE email = 'owner@example.com'",
    );
    for (email, plan) in [
        ("ada@example.com", "monthly"),
        ("bob@example.com", "yearly"),
        ("cy@example.com", "monthly"),
    ] {
        let member = paid.member(email).await;
        end_trial(&paid.app, email);
        let account = member.visit("/account").await;
        let session = paid.subscribe(&member, &account, plan).await;
        paid.pay(&member, &session).await;
    }
    // One of them stays in a trial at Stripe: not counted.
    let dashboard = owner.visit("/admin").await;
    snapshot("admin-dashboard", &dashboard);
    snapshot("admin-settings", &owner.visit("/admin/settings").await);
    let members = owner.visit("/admin/members").await;
    snapshot("admin-members", &members);
    assert!(members.text("table").contains("active"));
    // 9.00 + 90.00 / 12 + 9.00 = 25.50
    assert!(
        dashboard.body.contains("25.50 €"),
        "{}",
        dashboard.text("main")
    );
    assert!(dashboard.text("main").contains("3 active"));
    assert!(
        dashboard.body.contains("3 conversions to paid"),
        "{}",
        dashboard.text("main")
    );
    paid.assert_contract_kept();
}

/// A call to the stand-in's API as a third party with the same Stripe account would make it.
async fn stripe_api(standin: &StandIn, path: &str, form: &[(&str, &str)]) -> Value {
    let mut response = awc::Client::default()
        .post(format!("{}{path}", standin.url))
        .insert_header(("Authorization", format!("Bearer {SECRET_KEY}")))
        .insert_header(("Stripe-Version", guidepost::billing::API_VERSION))
        .insert_header((
            "Idempotency-Key",
            format!("third-party-{path}-{}", form.len()),
        ))
        .send_form(&form)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[actix_web::test]
async fn subscriptions_of_another_customer_or_another_product_give_no_access() {
    let paid = spawn_paid_app().await;
    let (ada, _) = paid.checkout("ada@example.com", "monthly").await;
    end_trial(&paid.app, "ada@example.com");
    let ada_id = count(
        &paid.app,
        "SELECT id AS n FROM users WHERE email = 'ada@example.com'",
    )
    .to_string();
    let price = paid.standin.ids("price")[0].clone();

    // Another site on the same Stripe account (or a payment link) names Ada's member number.
    let stranger = stripe_api(
        &paid.standin,
        "/v1/customers",
        &[("email", "x@example.com"), ("metadata[member_id]", &ada_id)],
    )
    .await;
    let session = stripe_api(
        &paid.standin,
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("customer", stranger["id"].as_str().unwrap()),
            ("client_reference_id", &ada_id),
            ("line_items[0][price]", &price),
            ("line_items[0][quantity]", "1"),
            ("success_url", "https://elsewhere.example/ok"),
            ("subscription_data[metadata][member_id]", &ada_id),
        ],
    )
    .await;
    paid.standin.pay(session["id"].as_str().unwrap()).await;
    assert!(!reads_in_full(&ada.visit(MEMBERS_ONLY).await));

    // Ada's own customer, but another product's price.
    let ada_customer = paid.standin.ids("cus")[0].clone();
    let product = stripe_api(&paid.standin, "/v1/products", &[("name", "Something else")]).await;
    let other = stripe_api(
        &paid.standin,
        "/v1/prices",
        &[
            ("product", product["id"].as_str().unwrap()),
            ("currency", "eur"),
            ("unit_amount", "100"),
            ("recurring[interval]", "month"),
        ],
    )
    .await;
    let session = stripe_api(
        &paid.standin,
        "/v1/checkout/sessions",
        &[
            ("mode", "subscription"),
            ("customer", &ada_customer),
            ("line_items[0][price]", other["id"].as_str().unwrap()),
            ("line_items[0][quantity]", "1"),
            ("success_url", "https://elsewhere.example/ok"),
        ],
    )
    .await;
    paid.standin.pay(session["id"].as_str().unwrap()).await;
    assert!(!reads_in_full(&ada.visit(MEMBERS_ONLY).await));
    assert_eq!(
        count(&paid.app, "SELECT COUNT(*) AS n FROM subscriptions"),
        0
    );
    paid.assert_all_delivered();
}

#[actix_web::test]
async fn a_card_that_never_paid_earns_no_grace_period() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.pay(&ada, &session).await;
    end_trial(&paid.app, "ada@example.com");
    let sub = paid.subscription()["id"].as_str().unwrap().to_owned();
    // The first charge, when the trial ends, is declined: nothing was ever paid.
    paid.standin.renew(&sub, false).await;
    let gate = ada.visit(MEMBERS_ONLY).await;
    assert!(!reads_in_full(&gate));
    assert!(gate.body.contains("Your last payment did not go through"));
    paid.assert_contract_kept();
}

#[actix_web::test]
async fn a_deletion_refused_for_an_author_leaves_the_membership_running() {
    let paid = spawn_paid_app().await;
    let (ada, session) = paid.checkout("ada@example.com", "monthly").await;
    paid.pay(&ada, &session).await;
    sql(
        &paid.app,
        "UPDATE articles SET author_id = (SELECT id FROM users WHERE email = 'ada@example.com') WHERE id = 1",
    );
    let account = ada.visit("/account").await;
    let refused = ada.delete_account(&account, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .body
            .contains("Your name is on published or draft articles")
    );
    assert_eq!(paid.subscription()["status"], "trialing");
    assert!(
        !paid
            .standin
            .requests()
            .iter()
            .any(|r| r.starts_with("DELETE"))
    );
}

#[actix_web::test]
async fn a_made_up_plan_or_a_forged_form_changes_nothing_and_says_why() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    let account = ada.visit("/account").await;
    let token = account
        .attr(
            "form[action='/account/subscribe'] input[name='csrf_token']",
            "value",
        )
        .unwrap();
    let weekly = ada
        .post(
            "/account/subscribe",
            &[("csrf_token", &token), ("plan", "weekly")],
        )
        .await;
    assert_eq!(weekly.status, StatusCode::SEE_OTHER);
    let back = ada.follow_redirects(weekly).await;
    assert!(
        back.text(".flash")
            .contains("Choose the monthly or the yearly plan")
    );
    let forged = ada
        .post(
            "/account/subscribe",
            &[("csrf_token", "forged"), ("plan", "monthly")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let anonymous = Browser::new(&paid.app)
        .post("/account/subscribe", &[("plan", "monthly")])
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous.header("location").unwrap().starts_with("/login"));
    let stranger = Browser::new(&paid.app);
    for page in [
        stranger.post("/account/billing", &[]).await,
        stranger
            .get("/account/subscribed?session_id=cs_test_1")
            .await,
    ] {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.path);
        assert!(page.header("location").unwrap().starts_with("/login"));
    }
    assert!(paid.standin.ids("cs").is_empty(), "no checkout was opened");
    assert!(paid.standin.ids("cus").is_empty(), "no customer was made");
}

#[actix_web::test]
async fn a_member_never_has_two_checkouts_to_pay() {
    let paid = spawn_paid_app().await;
    let ada = paid.member("ada@example.com").await;
    // Two tabs: the second checkout ends the first, which can no longer be paid.
    let account = ada.visit("/account").await;
    let first = paid.subscribe(&ada, &account, "monthly").await;
    let second = paid.subscribe(&ada, &account, "yearly").await;
    assert_eq!(paid.standin.object(&first)["status"], "expired");
    let client = awc::Client::builder().disable_redirects().finish();
    let stale = client
        .post(format!("{}/checkout/{first}/pay", paid.standin.url))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);

    // Paid, with Stripe's news still on its way: another plan is refused until it arrives.
    paid.standin.hold();
    paid.pay(&ada, &second).await;
    let again = ada
        .post(
            "/account/subscribe",
            &[
                (
                    "csrf_token",
                    &account.attr("input[name='csrf_token']", "value").unwrap(),
                ),
                ("plan", "monthly"),
            ],
        )
        .await;
    let back = ada.follow_redirects(again).await;
    assert!(back.text(".flash").contains("Your payment went through"));
    assert_eq!(paid.standin.ids("cs").len(), 2, "no third checkout");
    paid.standin.release(&[0, 1, 2]).await;
    assert_membership(&ada, "90.00 € a year").await;
    paid.assert_all_delivered();
}
