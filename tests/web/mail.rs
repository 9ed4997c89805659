//! Mail that really goes out, to a real SMTP server the test starts, with every link in it followed
//! to the end as a member would: confirming the address, resetting a password, changing the
//! address, and the reminder before a trial ends.

use actix_web::http::StatusCode;

use crate::browser::{Browser, MailServer, count, database, link_in, sql};
use crate::helpers::{TestApp, spawn_app_with};
use guidepost::config::Secret;

const PASSWORD: &str = "correct horse battery";

async fn app_with_mail() -> (TestApp, MailServer) {
    let mail = MailServer::start();
    let url = mail.url();
    let app = spawn_app_with(move |s| s.smtp_url = Some(Secret::new(url))).await;
    (app, mail)
}

#[actix_web::test]
async fn the_sign_up_mail_arrives_and_its_link_makes_the_account_only_when_the_button_is_pressed() {
    let (app, mail) = app_with_mail().await;
    let browser = Browser::new(&app);
    browser
        .ask_to_sign_up("Ana", "ana@example.com", PASSWORD)
        .await;

    let message = mail
        .wait_for(
            "ana@example.com",
            "Confirm your address to start your Guidepost trial",
        )
        .await;
    assert!(
        message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html")
    );
    assert!(!message.contains(PASSWORD));
    let link = link_in(&message, &app.origin, "/signup/confirm/");

    // A mail scanner following the link makes nothing.
    let scanner = Browser::new(&app);
    let page = scanner.visit(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text("h1"), "Start your free trial");
    scanner.visit(&link).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE role = 'member'"
        ),
        0
    );

    // The member opens it and presses the button: the account exists, confirmed, logged in.
    let welcome = browser.confirm_sign_up(&link, PASSWORD).await;
    assert_eq!(welcome.path, "/welcome");
    assert_eq!(welcome.text("h1"), "Welcome, Ana");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email_verified_at IS NOT NULL AND role = 'member'"
        ),
        1
    );
    // Used once.
    assert_eq!(browser.visit(&link).await.status, StatusCode::GONE);

    // The record keeps the message without the token.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(
        &app,
        "SELECT count(*) AS n FROM outbox WHERE status = 'sent' AND body_text LIKE '%/signup/confirm/[removed]%'",
    ) != 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the sent mail keeps no token"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_by_the_emailed_link_which_also_ends_every_session() {
    let (app, mail) = app_with_mail().await;
    let old_device = Browser::new(&app);
    old_device
        .sign_up_by_smtp("Ana", "ana@example.com", PASSWORD, &mail)
        .await;
    // Failed log-ins pile up against the account.
    let browser = Browser::new(&app);
    for _ in 0..5 {
        browser.log_in("ana@example.com", "wrong guess").await;
    }
    assert_eq!(
        browser.log_in("ana@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // The same answer for an unknown address and a known one.
    let form = browser.visit("/password/forgot").await;
    let unknown = browser
        .submit(
            &form,
            "form[action='/password/forgot']",
            &[("email", "nobody@example.com")],
        )
        .await;
    let known = browser
        .submit(
            &form,
            "form[action='/password/forgot']",
            &[("email", "Ana@Example.com")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.text("main"), known.text("main"));

    let message = mail
        .wait_for("ana@example.com", "Reset your Guidepost password")
        .await;
    assert!(
        mail.received()
            .iter()
            .all(|m| !m.contains("To: nobody@example.com"))
    );
    let link = link_in(&message, &app.origin, "/password/reset/");
    let reset_form = browser.visit(&link).await;
    let refused = browser
        .submit(
            &reset_form,
            "form.form",
            &[
                ("new_password", "qwerty123"),
                ("new_password_confirm", "qwerty123"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text("#reset-password-error")
            .contains("most common")
    );
    let login = browser
        .submit(
            &reset_form,
            "form.form",
            &[
                ("new_password", "a fresh start today"),
                ("new_password_confirm", "a fresh start today"),
            ],
        )
        .await;
    assert_eq!(login.path, "/login?reset=1");
    assert!(
        browser.cookie("guidepost_device").is_some(),
        "the link proved the address: this browser logs in as one that did before"
    );
    assert!(login.text(".flash").contains("Your password was changed"));

    // Every old session ended; the limit is lifted; the link is spent.
    assert_eq!(
        old_device.get("/account").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        browser
            .log_in("ana@example.com", "a fresh start today")
            .await
            .path,
        "/account"
    );
    assert_eq!(
        Browser::new(&app).visit(&link).await.status,
        StatusCode::GONE
    );
}

#[actix_web::test]
async fn a_new_address_is_used_only_once_its_link_is_followed_and_the_old_one_is_told() {
    let (app, mail) = app_with_mail().await;
    let browser = Browser::new(&app);
    browser
        .sign_up_by_smtp("Ana", "ana@example.com", PASSWORD, &mail)
        .await;
    let account = browser.visit("/account").await;

    let wrong = browser
        .submit(
            &account,
            "form[action='/account/email']",
            &[("new_email", "new@example.com"), ("email_password", "nope")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        wrong.attr("#account-new-email", "value").unwrap(),
        "new@example.com"
    );

    let asked = browser
        .submit(
            &account,
            "form[action='/account/email']",
            &[
                ("new_email", "New@Example.com"),
                ("email_password", PASSWORD),
            ],
        )
        .await;
    assert!(
        asked
            .text(".flash")
            .contains("We sent a link to new@example.com")
    );
    assert!(
        asked.text(".facts").contains("ana@example.com"),
        "not changed yet"
    );

    let notice = mail.wait_for("ana@example.com", "is about to change").await;
    assert!(notice.contains("new@example.com"));
    let confirm = mail
        .wait_for("new@example.com", "Confirm your new address")
        .await;
    let link = link_in(&confirm, &app.origin, "/account/email/confirm/");
    let page = browser.visit(&link).await;
    let done = browser.submit(&page, "form.form", &[]).await;
    assert_eq!(done.text(".flash"), "Your email address was changed.");
    assert!(done.text(".facts").contains("new@example.com"));

    assert_eq!(
        Browser::new(&app)
            .log_in("new@example.com", PASSWORD)
            .await
            .path,
        "/account"
    );
    assert_eq!(
        Browser::new(&app)
            .log_in("ana@example.com", PASSWORD)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[actix_web::test]
async fn the_trial_reminder_goes_out_once_three_days_before_the_end() {
    let (app, mail) = app_with_mail().await;
    Browser::new(&app)
        .sign_up_by_smtp("Ana", "ana@example.com", PASSWORD, &mail)
        .await;
    Browser::new(&app)
        .sign_up_by_smtp("Bea", "bea@example.com", PASSWORD, &mail)
        .await;
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '+2 days') WHERE email = 'ana@example.com'",
    );

    let account_url = format!("{}/account", app.origin);
    let queued = guidepost::jobs::queue_trial_reminders(
        &mut database(&app),
        "Guidepost",
        &account_url,
        None,
    )
    .unwrap();
    assert_eq!(queued, 1, "only the trial ending within three days");
    let again = guidepost::jobs::queue_trial_reminders(
        &mut database(&app),
        "Guidepost",
        &account_url,
        None,
    )
    .unwrap();
    assert_eq!(again, 0, "sent once");

    // The sender delivers it (it wakes every few seconds on its own).
    let reminder = mail.wait_for("ana@example.com", "trial ends on").await;
    assert!(reminder.contains("/account"));
    assert!(
        mail.received()
            .iter()
            .all(|m| !(m.contains("To: bea@example.com") && m.contains("trial ends on")))
    );
}

#[actix_web::test]
async fn mail_that_cannot_be_delivered_is_kept_and_tried_again_with_the_reason_recorded() {
    // An SMTP server that is not there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app =
        spawn_app_with(move |s| s.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}"))))
            .await;
    Browser::new(&app)
        .ask_to_sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(
        &app,
        "SELECT count(*) AS n FROM outbox WHERE attempts > 0 AND last_error IS NOT NULL",
    ) == 0
    {
        assert!(std::time::Instant::now() < deadline, "no attempt was made");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND last_error IS NOT NULL AND next_attempt_at > datetime('now')"
        ),
        1,
        "kept for a later attempt, with the reason"
    );
}

#[actix_web::test]
async fn without_an_smtp_server_mail_is_saved_for_the_site_user_only_until_the_member_leaves() {
    let app = crate::helpers::spawn_app().await;
    let browser = Browser::new(&app);
    browser.sign_up("Ana", "ana@example.com", PASSWORD).await;

    let folder = app.mail_folder.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let file = loop {
        let saved = std::fs::read_dir(&folder).ok().and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.to_string_lossy().ends_with("-signup_confirm.eml"))
        });
        if let Some(file) = saved {
            break file;
        }
        assert!(std::time::Instant::now() < deadline, "no mail was saved");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode(&folder) & 0o777, 0o700);
        assert_eq!(mode(&file) & 0o777, 0o600);
    }
    let message = crate::browser::decode_mime(&std::fs::read_to_string(&file).unwrap());
    assert!(message.contains("To: ana@example.com"));
    assert!(message.contains("Subject: Confirm your address to start your Guidepost trial"));
    link_in(&message, &app.origin, "/signup/confirm/");
    // Once saved, the message kept in the database no longer holds the link's token.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE status = 'sent' AND body_text LIKE '%/signup/confirm/[removed]%'"
        ),
        1
    );

    // Deleting the account takes the saved mail with it.
    let account = browser.visit("/account").await;
    let gone = browser.delete_account(&account, PASSWORD).await;
    assert_eq!(gone.path, "/account/deleted");
    assert!(!file.exists(), "the saved mail is removed with the account");
}

#[actix_web::test]
async fn with_payments_the_trial_reminder_offers_the_plans_and_skips_members_who_chose_one() {
    let app = crate::helpers::spawn_app().await;
    Browser::new(&app)
        .sign_up("Ana", "ana@example.com", PASSWORD)
        .await;
    Browser::new(&app)
        .sign_up("Bea", "bea@example.com", PASSWORD)
        .await;
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '+2 days'); \
         UPDATE users SET paid_status = 'trialing' WHERE email = 'bea@example.com'",
    );
    let plans = guidepost::billing::Plans {
        currency: "eur".to_owned(),
        monthly: 900,
        yearly: 9000,
        product: "prod_1".to_owned(),
        monthly_price: "price_1".to_owned(),
        yearly_price: "price_2".to_owned(),
    };
    let account_url = format!("{}/account#membership", app.origin);
    let queued = guidepost::jobs::queue_trial_reminders(
        &mut database(&app),
        "Guidepost",
        &account_url,
        Some(&plans),
    )
    .unwrap();
    assert_eq!(queued, 1, "Bea chose a plan: no reminder");
    let reminder = crate::browser::saved_mail(&app, "ana@example.com", "trial ends on").await;
    assert!(
        reminder.contains("9.00 € a month or 90.00 € a year"),
        "{reminder}"
    );
    assert!(reminder.contains("/account#membership"));
}
