//! Nothing secret reaches the log or the metrics: a whole journey (sign-up by the mailed link, a
//! wrong password, a rename, an address change, a reset, an export, a deletion) and mail that an
//! SMTP server with a password refuses, logged as JSON; then the log is searched for every
//! password, token, cookie, key and address the journey used.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::reader::{PASSWORD, Reader, csrf_token};
use crate::server::{Server, free_port};

const SECRET_KEY: &str = "a secret key for the log test, long enough to be accepted by the site";
const NEW_PASSWORD: &str = "a brand new phrase for ana";
const SMTP_PASSWORD: &str = "smtp-pass-secret";
const STRIPE_KEY: &str = "sk_test_stripe_key_for_the_log_test";
const WEBHOOK_SECRET: &str = "whsec_webhook_secret_for_the_log_test";

/// The newest link under `prefix` in mail to `to` saved in `mail`, waiting for it.
async fn mailed_link(mail: &Path, to: &str, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(link) = crate::mime::newest_saved(mail, to, prefix)
            .and_then(|text| crate::mime::path_from(&text, prefix))
        {
            return link;
        }
        assert!(Instant::now() < deadline, "no mail to {to} with {prefix}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts a form from the page at `page`, with its token.
async fn submit(reader: &mut Reader, page: &str, action: &str, fields: &[(&str, &str)]) -> u16 {
    let (_, _, body) = reader.get(page).await.unwrap();
    let token = csrf_token(&body).unwrap();
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    reader.post(action, &all).await.unwrap().0
}

#[actix_web::test]
async fn a_whole_journey_leaves_no_secret_in_the_log_or_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guidepost.db");
    let mail = dir.path().join("mail");
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut server = Server::start_with_env(
        &database,
        free_port(),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--log-format",
            "json",
            "--metrics-bind",
            &metrics_bind,
        ],
        &[
            ("GUIDEPOST_SECRET_KEY", SECRET_KEY),
            ("GUIDEPOST_STRIPE_SECRET_KEY", STRIPE_KEY),
            ("GUIDEPOST_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            // Stripe unreachable: the failures are logged, never the key.
            ("GUIDEPOST_STRIPE_API_BASE", "http://127.0.0.1:9"),
        ],
    );
    let origin = server.origin();
    // Plans, as `guidepost stripe setup` would have kept them.
    diesel::connection::SimpleConnection::batch_execute(
        &mut <diesel::SqliteConnection as diesel::Connection>::establish(
            database.to_str().unwrap(),
        )
        .unwrap(),
        "PRAGMA busy_timeout = 5000; INSERT INTO settings (key, value, updated_at) VALUES \
         ('stripe_currency', 'eur', '2026-12-03 00:00:00'), \
         ('stripe_monthly_amount', '900', '2026-12-03 00:00:00'), \
         ('stripe_yearly_amount', '9000', '2026-12-03 00:00:00'), \
         ('stripe_product', 'prod_log', '2026-12-03 00:00:00'), \
         ('stripe_monthly_price', 'price_m', '2026-12-03 00:00:00'), \
         ('stripe_yearly_price', 'price_y', '2026-12-03 00:00:00');",
    )
    .unwrap();
    let mut secrets: Vec<String> = vec![
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        SECRET_KEY.to_owned(),
        SMTP_PASSWORD.to_owned(),
        STRIPE_KEY.to_owned(),
        WEBHOOK_SECRET.to_owned(),
        "$2b$".to_owned(),
    ];

    // Signing up, by the mailed link.
    let mut ana = Reader::new(&origin, "10.9.0.1".to_owned());
    assert_eq!(
        ana.sign_up("ana.secret@example.com", &mail).await,
        Some(true)
    );
    // Choosing a plan while Stripe cannot be reached, and a forged webhook delivery.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(
        submit(
            &mut ana,
            "/account",
            "/account/subscribe",
            &[("plan", "monthly")]
        )
        .await,
        502
    );
    let forged = awc::Client::default()
        .post(format!("{origin}/stripe/webhook"))
        .insert_header(("Stripe-Signature", "t=1,v1=00"))
        .send_body(r#"{"id":"evt_1","type":"invoice.paid"}"#)
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    // A wrong password from elsewhere.
    let mut stranger = Reader::new(&origin, "10.9.0.2".to_owned());
    let status = submit(
        &mut stranger,
        "/login",
        "/login",
        &[
            ("email", "ana.secret@example.com"),
            ("password", "a wrong guess"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    // A rename and an address change asked for.
    assert_eq!(
        submit(
            &mut ana,
            "/account",
            "/account/profile",
            &[("name", "Ana Secret")]
        )
        .await,
        303
    );
    assert_eq!(
        submit(
            &mut ana,
            "/account",
            "/account/email",
            &[
                ("new_email", "new.secret@example.com"),
                ("email_password", PASSWORD)
            ],
        )
        .await,
        303
    );
    mailed_link(&mail, "new.secret@example.com", "/account/email/confirm/").await;
    // A password reset, by its link.
    let mut phone = Reader::new(&origin, "10.9.0.3".to_owned());
    assert_eq!(
        submit(
            &mut phone,
            "/password/forgot",
            "/password/forgot",
            &[("email", "ana.secret@example.com")],
        )
        .await,
        200
    );
    let reset = mailed_link(&mail, "ana.secret@example.com", "/password/reset/").await;
    assert_eq!(
        submit(
            &mut phone,
            &reset,
            &reset,
            &[
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD)
            ],
        )
        .await,
        303
    );
    // Back in, the data downloaded, the account deleted.
    let mut laptop = Reader::new(&origin, "10.9.0.4".to_owned());
    assert_eq!(
        submit(
            &mut laptop,
            "/login",
            "/login",
            &[
                ("email", "ana.secret@example.com"),
                ("password", NEW_PASSWORD)
            ],
        )
        .await,
        303
    );
    assert_eq!(laptop.get("/account/export").await.unwrap().0, 200);
    for reader in [&ana, &stranger, &phone, &laptop] {
        secrets.extend(reader.csrf.clone());
        secrets.extend(reader.session.clone());
        secrets.extend(reader.device.clone());
    }
    assert_eq!(
        submit(
            &mut laptop,
            "/account",
            "/account/delete",
            &[("delete_password", NEW_PASSWORD)],
        )
        .await,
        303
    );
    // Every one-time link mailed.
    for entry in std::fs::read_dir(&mail).unwrap().flatten() {
        let text = crate::mime::decode_mime(&std::fs::read_to_string(entry.path()).unwrap());
        for prefix in [
            "/signup/confirm/",
            "/account/email/confirm/",
            "/password/reset/",
        ] {
            if let Some(link) = crate::mime::path_from(&text, prefix) {
                secrets.push(link.trim_start_matches(prefix).to_owned());
            }
        }
    }
    // The metrics, scraped.
    let metrics = awc::Client::default()
        .get(format!("http://{metrics_bind}/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics).into_owned();
    assert!(metrics.contains("guidepost_signups_total 1"), "{metrics}");
    assert!(metrics.contains("guidepost_login_failures_total 1"));
    server.kill();

    // Mail refused by an SMTP server that needs a password: the reason is logged, not the secret.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let smtp = format!(
        "smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{}",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let server = Server::start_with_env(
        &database,
        free_port(),
        &["--trusted-proxy", "127.0.0.1", "--log-format", "json"],
        &[
            ("GUIDEPOST_SECRET_KEY", SECRET_KEY),
            ("GUIDEPOST_SMTP_URL", &smtp),
        ],
    );
    let mut bo = Reader::new(&server.origin(), "10.9.0.5".to_owned());
    let status = submit(
        &mut bo,
        "/password/forgot",
        "/password/forgot",
        &[("email", "bo.secret@example.com")],
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, form) = bo.get("/signup").await.unwrap();
    let token = csrf_token(&form).unwrap();
    bo.post(
        "/signup",
        &[
            ("csrf_token", token.as_str()),
            ("name", "Bo"),
            ("email", "bo.secret@example.com"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("consent", "yes"),
        ],
    )
    .await
    .unwrap();
    let log = server.log.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("could not be sent")
    {
        assert!(Instant::now() < deadline, "the failed send was not logged");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);

    // The logs: JSON lines, none holding a secret or an address.
    let mut text = String::new();
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "log") {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    assert!(text.lines().count() > 20, "a journey's worth of lines");
    if std::env::var_os("SHOW_LOG").is_some() {
        println!("{text}");
    }
    for line in text.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON line: {line}"
        );
    }
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(!text.contains(secret.as_str()), "the log holds {secret:?}");
        assert!(
            !metrics.contains(secret.as_str()),
            "the metrics hold {secret:?}"
        );
    }
    for address in ["ana.secret", "new.secret", "bo.secret", "@example.com"] {
        assert!(!text.contains(address), "the log holds {address:?}");
        assert!(!metrics.contains(address), "the metrics hold {address:?}");
    }
}
