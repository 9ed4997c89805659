//! The member's own area: what it shows, the trial's boundaries, export, and deletion that leaves
//! nothing personal behind.

use actix_web::http::StatusCode;
use diesel::prelude::*;

use crate::browser::{Browser, count, database, sql};
use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";
const MEMBERS_ONLY: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";

async fn member<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let browser = Browser::new(app);
    assert_eq!(
        browser.sign_up("Ana", email, PASSWORD).await.status,
        StatusCode::OK
    );
    browser
}

#[actix_web::test]
async fn every_account_page_sends_an_anonymous_visitor_to_log_in_and_back() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    for path in ["/account", "/welcome", "/account/export"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let query = serde_urlencoded::to_string([("next", path)]).unwrap();
        assert_eq!(
            page.header("location"),
            Some(format!("/login?{query}").as_str())
        );
    }
    for path in [
        "/account/profile",
        "/account/email",
        "/account/password",
        "/account/verify-email",
        "/account/sessions/end-others",
        "/account/sessions/1/end",
        "/account/delete",
    ] {
        let page = browser.post(path, &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.header("location").unwrap().starts_with("/login?next="),
            "{path}"
        );
    }
    // Logging in from there comes back.
    member(&app, "ana@example.com").await;
    let back = Browser::new(&app);
    let form = back.visit("/account/export").await;
    assert_eq!(form.path, "/login?next=%2Faccount%2Fexport");
    let landed = back
        .submit(
            &form,
            "form[action='/login']",
            &[("email", "ana@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(landed.path, "/account/export");
}

#[actix_web::test]
async fn the_account_page_shows_the_days_left_and_is_never_stored() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let page = browser.visit("/account").await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(
        page.text(".facts").contains("14 days left"),
        "{}",
        page.text(".facts")
    );
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '+30 hours')",
    );
    assert!(
        browser
            .visit("/account")
            .await
            .text(".facts")
            .contains("2 days left")
    );

    let refused = browser
        .submit(&page, "form[action='/account/profile']", &[("name", "")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.text("#account-name-error"), "Enter your name.");
}

#[actix_web::test]
async fn members_only_articles_follow_the_trial_decided_on_the_server_at_every_request() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    assert!(
        browser.visit(MEMBERS_ONLY).await.texts(".gate").is_empty(),
        "active: in full"
    );

    sql(
        &app,
        "UPDATE users SET trial_ends_at = '2026-11-20 09:00:00' WHERE email = 'ana@example.com'",
    );
    let ended = browser.visit(MEMBERS_ONLY).await;
    assert!(
        ended
            .text(".gate")
            .contains("Your free trial ended on 20 November 2026")
    );
    assert!(
        !ended.body.contains("What reviewers look at"),
        "the locked part is not sent"
    );
    assert!(
        browser
            .visit("/account")
            .await
            .text(".facts")
            .contains("ended on 20 November 2026")
    );

    // An editor reads everything, trial or not.
    sql(
        &app,
        "UPDATE users SET role = 'editor' WHERE email = 'ana@example.com'",
    );
    let editor = browser.visit(MEMBERS_ONLY).await;
    assert!(editor.texts(".gate").is_empty());
    assert!(editor.body.contains("What reviewers look at"));
}

#[actix_web::test]
async fn the_export_holds_every_stored_field_and_no_hash_or_token() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    // A reset link asked for, so there is a token the export must not show.
    let forgot = browser.visit("/password/forgot").await;
    browser
        .submit(
            &forgot,
            "form[action='/password/forgot']",
            &[("email", "ana@example.com")],
        )
        .await;
    let export = browser.get("/account/export").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(export.header("cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    let account = &json["account"];
    for field in [
        "id",
        "email",
        "name",
        "role",
        "status",
        "email_verified_at",
        "trial_started_at",
        "trial_ends_at",
        "trial_reminder_sent_at",
        "created_at",
        "updated_at",
    ] {
        assert!(account.get(field).is_some(), "account.{field}");
    }
    assert_eq!(account["email"], "ana@example.com");
    assert_eq!(json["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(json["sessions"][0]["device"], "Firefox on Linux");
    let emails = json["emails"].as_array().unwrap();
    assert_eq!(emails[0]["kind"], "signup_confirm");
    assert!(
        emails[0]["text"]
            .as_str()
            .unwrap()
            .contains("/signup/confirm/[removed]")
    );

    #[derive(QueryableByName)]
    struct Secrets {
        #[diesel(sql_type = diesel::sql_types::Text)]
        password_hash: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        key_hash: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        token_hash: String,
    }
    let stored: Secrets = diesel::sql_query(
        "SELECT password_hash, (SELECT key_hash FROM sessions) AS key_hash, \
         (SELECT token_hash FROM email_tokens) AS token_hash FROM users WHERE email = 'ana@example.com'",
    )
    .get_result(&mut database(&app))
    .unwrap();
    for secret in [&stored.password_hash, &stored.key_hash, &stored.token_hash] {
        assert!(!export.body.contains(secret.as_str()));
    }
    assert!(
        !export
            .body
            .contains(&browser.cookie("guidepost_session").unwrap())
    );
    assert!(!export.body.contains("$2"), "no bcrypt hash");
}

#[actix_web::test]
async fn deleting_the_account_leaves_no_row_with_the_members_email_or_id_and_kills_every_session() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let phone = Browser::new(&app);
    phone.log_in("ana@example.com", PASSWORD).await;
    // Some history: a failed log-in, an email change asked for, a password reset asked for.
    Browser::new(&app)
        .log_in("ana@example.com", "wrong one")
        .await;
    let account = browser.visit("/account").await;
    browser
        .submit(
            &account,
            "form[action='/account/email']",
            &[
                ("new_email", "other@example.com"),
                ("email_password", PASSWORD),
            ],
        )
        .await;
    let forgot = Browser::new(&app);
    let form = forgot.visit("/password/forgot").await;
    forgot
        .submit(
            &form,
            "form[action='/password/forgot']",
            &[("email", "ana@example.com")],
        )
        .await;
    let id = count(
        &app,
        "SELECT id AS n FROM users WHERE email = 'ana@example.com'",
    );
    let old_cookie = browser.cookie("guidepost_session").unwrap();

    let account = browser.visit("/account").await;
    let wrong = browser
        .submit(
            &account,
            "form[action='/account/delete']",
            &[("delete_password", "not it")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        1
    );

    let gone = browser.delete_account(&account, PASSWORD).await;
    assert_eq!(gone.path, "/account/deleted");
    assert_eq!(gone.text("h1"), "Your account was deleted");

    // No row anywhere holds the email or the id.
    for (table, columns) in [
        ("users", vec!["id", "email"]),
        ("sessions", vec!["user_id", "state"]),
        ("email_tokens", vec!["user_id", "new_email"]),
        ("outbox", vec!["user_id", "to_address", "body_text"]),
        ("throttle_events", vec!["key_hash"]),
    ] {
        for column in columns {
            let n = count(
                &app,
                &format!(
                    "SELECT count(*) AS n FROM {table} WHERE CAST({column} AS TEXT) = '{id}' \
                     OR CAST({column} AS TEXT) LIKE '%ana@example.com%' \
                     OR CAST({column} AS TEXT) LIKE '%other@example.com%'"
                ),
            );
            assert_eq!(n, 0, "{table}.{column}");
        }
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM throttle_events WHERE bucket IN ('login_account', 'reset_account')"
        ),
        0,
        "what was counted against the account goes too (counts per client address stay their day)"
    );

    // Every session is dead; the address can sign up again.
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    let replay = Browser::new(&app);
    replay.set_cookie("guidepost_session", &old_cookie);
    assert_eq!(replay.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Browser::new(&app)
            .sign_up("Ana", "ana@example.com", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_password_change_ends_an_address_change_still_in_flight() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    let account = browser.visit("/account").await;
    browser
        .submit(
            &account,
            "form[action='/account/email']",
            &[
                ("new_email", "new@example.com"),
                ("email_password", PASSWORD),
            ],
        )
        .await;
    let link = crate::browser::saved_link(&app, "new@example.com", "/account/email/confirm/").await;
    let account = browser.visit("/account").await;
    let changed = browser
        .submit(
            &account,
            "form[action='/account/password']",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another long phrase"),
                ("new_password_confirm", "another long phrase"),
            ],
        )
        .await;
    assert!(changed.text(".flash").contains("password was changed"));
    // Whoever holds the link (someone who briefly had the old password, say) can use it no more.
    assert_eq!(browser.visit(&link).await.status, StatusCode::GONE);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE email = 'ana@example.com'"
        ),
        1
    );
}

#[actix_web::test]
async fn the_last_admin_cannot_delete_their_own_account_but_one_of_two_can() {
    let app = spawn_app().await;
    let first = member(&app, "first@example.com").await;
    sql(
        &app,
        "UPDATE users SET role = 'admin' WHERE email = 'first@example.com'",
    );
    let account = first.visit("/account").await;
    let refused = first.delete_account(&account, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text("#account-delete-password-error")
            .contains("last administrator")
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM users WHERE role = 'admin'"),
        1
    );
    member(&app, "second@example.com").await;
    sql(
        &app,
        "UPDATE users SET role = 'admin' WHERE email = 'second@example.com'",
    );
    let account = first.visit("/account").await;
    let gone = first.delete_account(&account, PASSWORD).await;
    assert_eq!(gone.path, "/account/deleted");
}

#[actix_web::test]
async fn lowering_the_session_lifetime_ends_sessions_that_already_passed_it() {
    let app = spawn_app().await;
    let browser = member(&app, "ana@example.com").await;
    sql(
        &app,
        "UPDATE sessions SET created_at = datetime('now', '-10 days'), \
         last_seen_at = datetime('now')",
    );
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    sql(
        &app,
        "UPDATE settings SET value = '7' WHERE key = 'session_absolute_days'",
    );
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn moving_to_an_address_in_use_answers_as_any_move_and_tells_only_its_owner() {
    let app = spawn_app().await;
    let ana = member(&app, "ana@example.com").await;
    member(&app, "bea@example.com").await;
    let account = ana.visit("/account").await;
    let taken = ana
        .submit(
            &account,
            "form[action='/account/email']",
            &[
                ("new_email", "bea@example.com"),
                ("email_password", PASSWORD),
            ],
        )
        .await;
    let free = ana
        .submit(
            &account,
            "form[action='/account/email']",
            &[
                ("new_email", "cy@example.com"),
                ("email_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, free.status);
    assert_eq!(
        taken.text(".flash").replace("bea@", "cy@"),
        free.text(".flash"),
        "the same answer either way"
    );
    let note = crate::browser::saved_mail(&app, "bea@example.com", "asked to use").await;
    assert!(note.contains("already has an account"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM email_tokens WHERE new_email = 'bea@example.com'"
        ),
        0,
        "no link to move to an address in use"
    );
}
