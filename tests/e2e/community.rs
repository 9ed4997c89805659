//! A member taking part: a comment refused then posted (hostile text shown as text) and edited,
//! an article saved, its author followed, the saved list and the followed authors' articles, and
//! a new handle for the member's own page.

use crate::browser::{DESKTOP, Journey, PHONE, Viewport};

const ARTICLE: &str = "/articles/what-does-a-back-end-developer-do";
const PASSWORD: &str = "a long and private phrase";

/// Signs up through the form and the mailed link, as the member journey does.
async fn sign_up(j: &mut Journey) {
    j.open("/signup").await;
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
    j.press("form[action='/signup'] button[type=submit]").await;
    let link = j.mail_link("ana@example.com", "/signup/confirm/");
    j.open(&link).await;
    j.fill("#confirm-password", PASSWORD).await;
    j.press("form.form button[type=submit]").await;
    assert!(j.path().await.starts_with("/welcome"));
}

async fn taking_part(viewport: Viewport) {
    let mut j = Journey::start("taking-part", viewport).await;
    sign_up(&mut j).await;

    j.open(ARTICLE).await;
    assert!(j.text("#comments").await.contains("No comments yet"));
    j.press("form.comment-form button[type=submit]").await;
    assert_eq!(
        j.text("#comment-error").await,
        "Write something before posting."
    );
    j.shot("comment-refused").await;

    j.fill(
        "#comment",
        "<script>alert('x')</script> This helped me, see https://example.com/notes.",
    )
    .await;
    j.press("form.comment-form button[type=submit]").await;
    assert!(j.path().await.starts_with(ARTICLE));
    assert!(
        j.text(".comment-body")
            .await
            .starts_with("<script>alert('x')</script>")
    );
    assert_eq!(j.count(".comment-body a[rel='nofollow ugc']").await, 1);
    j.shot("comment-posted").await;

    j.click(".comment-actions a").await;
    assert_eq!(j.text("h1").await, "Edit your comment");
    j.fill("#comment", "This helped me a lot.").await;
    j.press("form.comment-form button[type=submit]").await;
    assert_eq!(j.text(".comment-body").await, "This helped me a lot.");
    assert!(j.text(".comment-meta").await.contains("edited"));
    j.shot("comment-edited").await;

    j.press(".save-form button").await;
    assert_eq!(j.text(".save-form button").await, "Saved · remove");
    j.shot("saved").await;

    j.click(".byline a.author").await;
    assert_eq!(j.path().await, "/authors/maya-okafor");
    j.press(".author-head form button").await;
    assert!(j.text(".author-head").await.contains("1 follower"));
    j.shot("author-followed").await;

    j.open("/account/saved").await;
    assert_eq!(j.count(".saved-card").await, 1);
    j.shot("saved-list").await;
    j.open("/account/following").await;
    assert_eq!(j.text(".followed-list a").await, "Maya Okafor");
    assert_eq!(j.count(".card").await, 3);
    j.shot("following").await;

    j.open("/account").await;
    j.fill("#account-handle", "not a handle").await;
    j.press("form[action='/account/page'] button[type=submit]")
        .await;
    assert!(
        j.text("#account-handle-error")
            .await
            .contains("letters a to z")
    );
    j.shot("handle-refused").await;
    j.fill("#account-handle", "ana-writes").await;
    j.fill("#account-bio", "Back-end developer in Lisbon.")
        .await;
    j.press("form[action='/account/page'] button[type=submit]")
        .await;
    assert_eq!(j.text(".flash").await, "Your page was saved.");
    j.open("/authors/ana-silva").await;
    assert_eq!(j.path().await, "/authors/ana-writes");
    assert!(
        j.text(".author-head")
            .await
            .contains("Back-end developer in Lisbon.")
    );
    j.shot("own-page").await;
    j.finish().await;
}

#[tokio::test]
async fn a_member_comments_saves_follows_and_names_their_page_on_a_phone() {
    taking_part(PHONE).await;
}

#[tokio::test]
async fn a_member_comments_saves_follows_and_names_their_page_on_a_desktop() {
    taking_part(DESKTOP).await;
}
