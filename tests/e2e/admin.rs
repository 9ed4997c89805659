//! Journeys of the people who run the site: an editor writes an article with an image, previews it,
//! publishes it and edits it; an admin extends a member's trial and changes a setting.

use crate::browser::{DESKTOP, Journey, PHONE, Viewport};

const EDITOR: (&str, &str, &str, &str) = (
    "editor@example.com",
    "Eda Editor",
    "editor",
    "an editor's long phrase",
);
const ADMIN: (&str, &str, &str, &str) = (
    "admin@example.com",
    "Ada Admin",
    "admin",
    "an admin's long phrase",
);

async fn log_in(j: &Journey, email: &str, password: &str) {
    j.open("/login").await;
    j.fill("#login-email", email).await;
    j.fill("#login-password", password).await;
    j.press("form[action='/login'] button[type=submit]").await;
}

/// A 2×2 PNG of four coloured pixels.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    2, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0xfd, 0xd4, 0x9a, 0x73, 0, 0, 0, 0x16, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x08, 0x19, 0x18, 0xfe, 0x03, 0x01, 0x00, 0x3d,
    0x2d, 0x05, 0xfb, 0x4e, 0x47, 0xe6, 0xf8, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
    0x82,
];

async fn editor_journey(viewport: Viewport) {
    let mut j = Journey::start_with_staff("editor", viewport, &[ADMIN, EDITOR]).await;
    log_in(&j, EDITOR.0, EDITOR.3).await;
    j.open("/admin/articles/new").await;
    assert_eq!(j.text("h1").await, "New article");
    j.shot("new-article").await;

    // Upload an image from the editor.
    let image = j.data_dir().join("queue.png");
    std::fs::write(&image, PNG).unwrap();
    j.fill("#editor-image", image.to_str().unwrap()).await;
    j.press("form[action='/admin/images'] button[type=submit]")
        .await;
    let flash = j.text(".flash").await;
    let markdown = flash.split("with: ").nth(1).unwrap().to_owned();
    assert!(
        markdown.starts_with("![Describe the image](/images/"),
        "{flash}"
    );
    j.shot("image-uploaded").await;

    // Write it, with the image.
    j.fill("#editor-title", "Queues for beginners").await;
    j.fill(
        "#editor-summary",
        "What a message queue is, and when one helps.",
    )
    .await;
    let alt_markdown = markdown.replace("Describe the image", "Two services and a queue");
    j.fill(
        "#editor-body",
        &format!("A queue lets one service hand work to another.\n\n## Why queues\n\n{alt_markdown}\n\nThey absorb bursts."),
    )
    .await;
    j.fill("#editor-tags", "Queues, Messaging").await;
    j.shot("article-written").await;

    j.press("button[value=preview]").await;
    assert_eq!(j.text("h1").await, "Queues for beginners");
    assert_eq!(j.count(".prose img").await, 1);
    j.shot("preview").await;

    j.press(".preview-bar button[value=publish]").await;
    assert_eq!(j.text(".flash").await, "The article is published.");
    let editor_path = j.path().await;
    j.click("a[href='/articles/queues-for-beginners']").await;
    assert_eq!(j.text("h1").await, "Queues for beginners");
    assert_eq!(
        j.count(".prose img[alt='Two services and a queue']").await,
        1
    );
    j.shot("published").await;

    j.open(&editor_path).await;
    j.fill("#editor-title", "Message queues for beginners")
        .await;
    j.press("button[value=save]").await;
    assert_eq!(j.text(".flash").await, "Saved.");
    j.open("/articles/queues-for-beginners").await;
    assert_eq!(j.text("h1").await, "Message queues for beginners");
    j.shot("edited").await;
    j.finish().await;
}

async fn admin_journey(viewport: Viewport) {
    let mut j = Journey::start_with_staff("admin", viewport, &[ADMIN]).await;
    // A member signs up first.
    j.open("/signup").await;
    j.fill("#signup-name", "Rea Reader").await;
    j.fill("#signup-email", "rea@example.com").await;
    j.fill("#signup-password", "a reader's long phrase").await;
    j.fill("#signup-confirm", "a reader's long phrase").await;
    j.client
        .find(fantoccini::Locator::Css("#signup-consent"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    j.press("form[action='/signup'] button[type=submit]").await;
    let link = j.mail_link("rea@example.com", "/signup/confirm/");
    j.open(&link).await;
    j.fill("#confirm-password", "a reader's long phrase").await;
    j.press("form.form button[type=submit]").await;
    j.press(".header-actions form[action='/logout'] button")
        .await;

    log_in(&j, ADMIN.0, ADMIN.3).await;
    j.open("/admin").await;
    assert_eq!(j.text("h1").await, "Dashboard");
    j.shot("dashboard").await;

    j.click(".admin-nav a[href='/admin/members']").await;
    j.fill("#members-q", "rea@").await;
    j.press(".filters button[type=submit]").await;
    assert_eq!(j.count(".admin-table tbody tr").await, 1);
    j.shot("members").await;
    j.click(".admin-table tbody a").await;
    j.fill("#member-days", "30").await;
    j.press("button[value=extend]").await;
    assert_eq!(j.text(".flash").await, "The trial was extended.");
    assert!(j.text(".facts").await.contains("days left"));
    j.shot("trial-extended").await;

    j.click(".admin-nav a[href='/admin/settings']").await;
    j.fill("#settings-trial", "21").await;
    j.press("form[action='/admin/settings'] button[type=submit]")
        .await;
    assert_eq!(j.text(".flash").await, "The settings are saved and in use.");
    j.shot("settings-saved").await;
    j.press(".header-actions form[action='/logout'] button")
        .await;
    assert!(j.text(".cta").await.contains("free for 21 days"));
    j.finish().await;
}

#[tokio::test]
async fn an_editor_writes_previews_publishes_and_edits_an_article_on_a_desktop() {
    editor_journey(DESKTOP).await;
}

#[tokio::test]
async fn an_editor_writes_previews_publishes_and_edits_an_article_on_a_phone() {
    editor_journey(PHONE).await;
}

#[tokio::test]
async fn an_admin_extends_a_trial_and_changes_a_setting_on_a_desktop() {
    admin_journey(DESKTOP).await;
}

#[tokio::test]
async fn an_admin_extends_a_trial_and_changes_a_setting_on_a_phone() {
    admin_journey(PHONE).await;
}
