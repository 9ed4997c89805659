//! A member's journey: from a members-only article to a free trial, reading it in full, logging
//! out and in, changing the name, downloading the data and deleting the account; and a sign-up
//! form sent back with its errors.

use crate::browser::{DESKTOP, Journey, PHONE, Viewport};

const ARTICLE: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";
const PASSWORD: &str = "a long and private phrase";

async fn member_journey(viewport: Viewport) {
    let mut j = Journey::start("member", viewport).await;

    j.open(ARTICLE).await;
    assert!(j.count(".gate").await == 1, "the teaser and its invitation");
    j.shot("members-only-teaser").await;

    j.click(".gate a.button").await;
    assert!(j.path().await.starts_with("/signup?next="));
    j.fill("#signup-name", "Ana Silva").await;
    j.fill("#signup-email", "ana@example.com").await;
    j.fill("#signup-password", PASSWORD).await;
    j.fill("#signup-confirm", PASSWORD).await;
    j.client
        .find(fantoccini::Locator::Css("#signup-consent"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    j.shot("sign-up-form").await;
    j.press("form[action='/signup'] button[type=submit]").await;
    assert_eq!(j.text("h1").await, "Check your inbox");
    j.shot("check-your-inbox").await;

    // The link in the mail (saved in the mail folder: no SMTP server) and its button.
    let link = j.mail_link("ana@example.com", "/signup/confirm/");
    j.open(&link).await;
    assert_eq!(j.text("h1").await, "Start your free trial");
    j.fill("#confirm-password", PASSWORD).await;
    j.shot("confirm-sign-up").await;
    j.press("form.form button[type=submit]").await;
    assert!(j.path().await.starts_with("/welcome"));
    assert_eq!(j.text("h1").await, "Welcome, Ana Silva");
    j.shot("welcome").await;

    j.click("a.button").await;
    assert_eq!(j.path().await, ARTICLE);
    assert_eq!(j.count(".gate").await, 0, "the whole guide for a member");
    assert_eq!(j.count(".header-actions a[href='/account']").await, 1);
    j.shot("article-in-full").await;

    j.press(".header-actions form[action='/logout'] button")
        .await;
    assert_eq!(j.path().await, "/");
    assert_eq!(j.count(".header-actions a[href='/login']").await, 1);
    j.shot("logged-out").await;

    j.click(".header-actions a[href='/login']").await;
    j.fill("#login-email", "ana@example.com").await;
    j.fill("#login-password", PASSWORD).await;
    j.press("form[action='/login'] button[type=submit]").await;
    assert_eq!(j.path().await, "/account");
    assert!(j.text(".facts").await.contains("14 days left"));
    j.shot("account").await;

    j.fill("#account-name", "Ana Maria Silva").await;
    j.press("form[action='/account/profile'] button[type=submit]")
        .await;
    assert_eq!(j.text(".flash").await, "Your name was changed.");
    assert!(j.text(".facts").await.contains("Ana Maria Silva"));
    j.shot("name-changed").await;

    let export = j.fetch_text("/account/export").await;
    let json: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(json["account"]["name"], "Ana Maria Silva");
    assert_eq!(
        json["sessions"][0]["device"]
            .as_str()
            .unwrap()
            .split(' ')
            .next(),
        Some("Chrome")
    );

    j.fill("#account-delete-password", PASSWORD).await;
    j.shot("about-to-delete").await;
    j.press("form[action='/account/delete'] button[type=submit]")
        .await;
    assert_eq!(j.path().await, "/account/deleted");
    assert_eq!(j.text("h1").await, "Your account was deleted");
    j.shot("deleted").await;

    j.open("/account").await;
    assert!(j.path().await.starts_with("/login?next="));
    j.finish().await;
}

async fn sign_up_errors(viewport: Viewport) {
    let mut j = Journey::start("sign-up-errors", viewport).await;
    j.open("/signup").await;
    j.fill("#signup-name", "Ana").await;
    j.fill("#signup-email", "ana@").await;
    j.fill("#signup-password", "short").await;
    j.fill("#signup-confirm", "other").await;
    j.press("form[action='/signup'] button[type=submit]").await;
    assert_eq!(j.path().await, "/signup");
    assert!(j.text(".form-error").await.contains("correct the fields"));
    assert!(
        j.text("#signup-email-error")
            .await
            .contains("name@example.com")
    );
    assert!(
        j.text("#signup-password-error")
            .await
            .contains("at least 8")
    );
    assert!(
        j.text("#signup-consent-error")
            .await
            .contains("privacy notice")
    );
    j.shot("sign-up-errors").await;
    j.finish().await;
}

#[tokio::test]
async fn a_member_signs_up_reads_and_leaves_on_a_phone() {
    member_journey(PHONE).await;
}

#[tokio::test]
async fn a_member_signs_up_reads_and_leaves_on_a_desktop() {
    member_journey(DESKTOP).await;
}

#[tokio::test]
async fn a_sign_up_form_with_mistakes_shows_each_beside_its_field_on_a_phone() {
    sign_up_errors(PHONE).await;
}

#[tokio::test]
async fn a_sign_up_form_with_mistakes_shows_each_beside_its_field_on_a_desktop() {
    sign_up_errors(DESKTOP).await;
}
