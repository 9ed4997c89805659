//! Members taking part on the pages: comments, saved articles, follows, author pages and handles.

use actix_web::http::StatusCode;

use crate::browser::{Browser, count, sql, wait_until_noticed};
use crate::helpers::{TestApp, spawn_app};

const PUBLIC: &str = "/articles/what-does-a-back-end-developer-do";
const OTHER_PUBLIC: &str = "/articles/from-junior-to-senior-back-end-developer";
const MEMBERS_ONLY: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";
const PASSWORD: &str = "correct horse battery";

/// Ana Silva, signed up and logged in.
async fn ana(app: &TestApp) -> Browser<'_> {
    let browser = Browser::new(app);
    browser
        .sign_up("Ana Silva", "ana@example.com", PASSWORD)
        .await;
    browser
}

async fn post_comment<'a>(browser: &Browser<'a>, path: &str, text: &str) -> crate::helpers::Page {
    let article = browser.visit(path).await;
    browser
        .submit(&article, "form.comment-form", &[("comment", text)])
        .await
}

#[actix_web::test]
async fn a_member_comments_and_every_reader_sees_it_as_text_at_once() {
    let app = spawn_app().await;
    let reader = Browser::new(&app);
    // Readers' copies of two articles are cached before the comment.
    let before = reader.visit(PUBLIC).await;
    assert!(before.text("#comments").contains("No comments yet"));
    assert!(before.text("#comments").contains("Log in"));
    reader.visit(OTHER_PUBLIC).await;

    let member = ana(&app).await;
    let hostile =
        "<script>alert('x')</script> Read https://example.com/a?b=1&c=2.\n\nSecond paragraph";
    let posted = post_comment(&member, PUBLIC, hostile).await;
    assert_eq!(posted.status, StatusCode::OK);
    assert!(posted.body.contains("Your comment is posted."));
    let comment = posted.doc();
    let body = comment
        .select(&crate::helpers::sel(".comment .comment-body"))
        .next()
        .unwrap()
        .inner_html();
    assert!(
        body.starts_with("<p>&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{body}"
    );
    assert!(!posted.body.contains("<script>alert"));
    assert_eq!(
        posted.attr(".comment-body a", "rel").as_deref(),
        Some("nofollow ugc")
    );
    assert_eq!(
        posted.attr(".comment-body a", "href").as_deref(),
        Some("https://example.com/a?b=1&c=2")
    );
    assert_eq!(posted.texts(".comment-body p").len(), 2);
    assert_eq!(posted.text(".comment-meta a"), "Ana Silva");

    // The reader's cached page of this article is made again; the other article's is not.
    let renders = app.page_cache.renders();
    let after = reader.visit(PUBLIC).await;
    assert!(after.text(".comment-meta").contains("Ana Silva"));
    assert!(
        after.attr(".comment-actions", "class").is_none(),
        "no buttons for readers"
    );
    reader.visit(OTHER_PUBLIC).await;
    assert_eq!(app.page_cache.renders() - renders, 1);

    // The comment counts on the cards of lists made after it.
    let author = reader.visit("/authors/maya-okafor").await;
    assert!(
        author.body.contains("1 comment"),
        "{}",
        author.text(".card-grid")
    );
}

#[actix_web::test]
async fn a_bad_comment_is_refused_beside_the_form_with_the_text_kept() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let empty = post_comment(&member, PUBLIC, "   \n  ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.text("#comment-error"),
        "Write something before posting."
    );
    let long = "word ".repeat(900);
    let too_long = post_comment(&member, PUBLIC, &long).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.text("#comment-error").contains("4,000"));
    assert_eq!(too_long.text("textarea#comment"), long.trim());
    assert_eq!(too_long.header("cache-control"), Some("no-store"));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 0);
}

#[actix_web::test]
async fn a_member_edits_a_comment_for_fifteen_minutes_and_deletes_it() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let posted = post_comment(&member, PUBLIC, "First thoughts").await;
    let edit = member
        .visit(&posted.attr(".comment-actions a", "href").unwrap())
        .await;
    assert_eq!(edit.text("h1"), "Edit your comment");
    assert_eq!(edit.text("textarea"), "First thoughts");
    let refused = member
        .submit(&edit, "form.comment-form", &[("comment", "")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = member
        .submit(
            &edit,
            "form.comment-form",
            &[("comment", "Second thoughts")],
        )
        .await;
    assert_eq!(changed.text(".comment-body"), "Second thoughts");
    assert!(changed.text(".comment-meta").contains("edited"));

    // A quarter of an hour later the comment can no longer be changed, only deleted.
    sql(
        &app,
        "UPDATE comments SET created_at = datetime('now', '-16 minutes')",
    );
    let later = member.visit(PUBLIC).await;
    assert!(later.attr(".comment-actions a", "href").is_none());
    let stale = member.get(&edit.path).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    let deleted = member.submit(&later, ".comment-actions form", &[]).await;
    assert!(deleted.text("#comments").contains("No comments yet"));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 0);
}

#[actix_web::test]
async fn comments_under_members_only_articles_are_for_members_with_access() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let posted = post_comment(&member, MEMBERS_ONLY, "Useful steps").await;
    assert!(posted.text(".comment-body").contains("Useful steps"));

    let reader = Browser::new(&app);
    let teaser = reader.visit(MEMBERS_ONLY).await;
    assert!(teaser.attr("#comments", "id").is_none());
    assert!(!teaser.body.contains("Useful steps"));

    // A member whose trial ended reads neither the guide nor its comments, and cannot post.
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '-1 day') WHERE email = 'ana@example.com'",
    );
    wait_until_noticed(&app);
    let ended = member.visit(MEMBERS_ONLY).await;
    assert!(!ended.body.contains("Useful steps"));
    let public = member.visit(PUBLIC).await;
    assert!(
        public
            .text("#comments")
            .contains("Members whose trial or membership runs")
    );
    let token = member.cookie("guidepost_csrf");
    let _ = token;
    let (_, fields) = Browser::form_fields(&posted, "form.comment-form", &[("comment", "x")]);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = member.post(&format!("{PUBLIC}/comments"), &pairs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 1);
}

#[actix_web::test]
async fn an_editor_deletes_any_comment_and_closes_an_articles_comments() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    post_comment(&member, PUBLIC, "Spam spam spam").await;
    let editor = Browser::new(&app);
    editor
        .sign_up("Eddie Tor", "eddie@example.com", PASSWORD)
        .await;
    sql(
        &app,
        "UPDATE users SET role = 'editor' WHERE email = 'eddie@example.com'",
    );
    wait_until_noticed(&app);

    let page = editor.visit(PUBLIC).await;
    assert_eq!(page.texts(".comment-actions button"), vec!["Delete"]);
    let cleaned = editor.submit(&page, ".comment-actions form", &[]).await;
    assert!(cleaned.text("#comments").contains("No comments yet"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'delete comment'"
        ),
        1
    );

    let closed = editor
        .submit(&cleaned, "form.comment-moderation", &[])
        .await;
    assert!(
        closed
            .text("#comments")
            .contains("Comments on this article are closed.")
    );
    let seen = member.visit(PUBLIC).await;
    assert!(seen.attr("form.comment-form", "action").is_none());
    assert!(seen.text("#comments").contains("closed"));

    // A member who cannot see the form cannot post through it either.
    let refused = post_comment_raw(&member, &page).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 0);

    // A member may not close comments.
    let (action, fields) = Browser::form_fields(&cleaned, "form.comment-moderation", &[]);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let _ = pairs;
    let forbidden = member
        .post(
            &action.replace("close", "open"),
            &[("csrf_token", &csrf_of(&seen))],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

fn csrf_of(page: &crate::helpers::Page) -> String {
    page.attr("input[name='csrf_token']", "value").unwrap()
}

async fn post_comment_raw<'a>(
    browser: &Browser<'a>,
    page: &crate::helpers::Page,
) -> crate::helpers::Page {
    let token = browser
        .visit(&page.path)
        .await
        .attr("input[name='csrf_token']", "value")
        .unwrap();
    browser
        .post(
            &format!("{}/comments", page.path),
            &[("csrf_token", &token), ("comment", "Sneaking in")],
        )
        .await
}

#[actix_web::test]
async fn members_save_articles_and_find_them_in_their_saved_list() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let article = member.visit(PUBLIC).await;
    assert_eq!(article.text(".save-form button"), "Save for later");
    let saved = member.submit(&article, ".save-form", &[]).await;
    assert_eq!(saved.text(".save-form button"), "Saved · remove");
    assert!(saved.text(".save-form").contains("Saved by 1 member"));
    // Saving twice keeps one.
    member.submit(&article, ".save-form", &[]).await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM saved_articles"), 1);

    let list = member.visit("/account/saved").await;
    assert_eq!(list.header("cache-control"), Some("no-store"));
    assert_eq!(
        list.texts(".card-title a"),
        vec!["What does a back-end developer do?"]
    );
    let emptied = member.submit(&list, ".saved-card form", &[]).await;
    assert_eq!(emptied.path, "/account/saved");
    assert!(emptied.body.contains("Nothing saved yet"));
    let again = member.visit(PUBLIC).await;
    assert_eq!(again.text(".save-form button"), "Save for later");

    // Visitors see no button, and the list asks them to log in.
    let reader = Browser::new(&app);
    assert!(
        reader
            .visit(PUBLIC)
            .await
            .attr(".save-form", "action")
            .is_none()
    );
    assert_eq!(
        reader.get("/account/saved").await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn members_follow_authors_and_read_what_they_publish() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let article = member.visit(PUBLIC).await;
    let byline = article.attr(".byline a.author", "href").unwrap();
    assert_eq!(byline, "/authors/maya-okafor");
    let author = member.visit(&byline).await;
    assert_eq!(author.text("h1"), "Maya Okafor");
    assert!(author.text(".author-head").contains("0 followers"));
    let followed = member.submit(&author, ".author-head form", &[]).await;
    assert!(followed.text(".author-head").contains("1 follower"));
    assert_eq!(followed.text(".author-head button"), "Following · stop");

    let feed = member.visit("/account/following").await;
    assert_eq!(feed.texts(".followed-list > li > a"), vec!["Maya Okafor"]);
    assert_eq!(feed.texts(".card-title a").len(), 3);
    let stopped = member.submit(&feed, ".followed-list form", &[]).await;
    assert!(stopped.body.contains("You follow nobody yet"));

    // Visitors see the page and the count, not the button.
    let reader = Browser::new(&app);
    let page = reader.visit(&byline).await;
    assert!(page.attr(".author-head form", "action").is_none());
    assert!(page.text(".author-head").contains("0 followers"));
}

#[actix_web::test]
async fn a_members_page_is_theirs_alone_until_they_comment() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let own = member.visit("/authors/ana-silva").await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("only you can see it"));
    let reader = Browser::new(&app);
    assert_eq!(
        reader.get("/authors/ana-silva").await.status,
        StatusCode::NOT_FOUND
    );
    post_comment(&member, PUBLIC, "Hello").await;
    let public = reader.visit("/authors/ana-silva").await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.text("h1"), "Ana Silva");
}

#[actix_web::test]
async fn a_member_changes_their_handle_and_bio_and_the_old_handle_redirects() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let account = member.visit("/account").await;
    assert_eq!(
        account.attr("#account-handle", "value").as_deref(),
        Some("ana-silva")
    );
    for (bad, message) in [
        ("a", "2 to 30"),
        ("ana silva", "letters a to z"),
        ("Maya-Okafor", "Someone else has this handle"),
    ] {
        let refused = member
            .submit(
                &account,
                "form[action='/account/page']",
                &[("handle", bad), ("bio", "Kept")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            refused.text("#account-handle-error").contains(message),
            "{bad}"
        );
        assert_eq!(
            refused.attr("#account-handle", "value").as_deref(),
            Some(bad)
        );
        assert_eq!(refused.text("#account-bio"), "Kept");
    }
    let long_bio = "b".repeat(501);
    let refused = member
        .submit(
            &account,
            "form[action='/account/page']",
            &[("handle", "ana"), ("bio", &long_bio)],
        )
        .await;
    assert!(refused.text("#account-bio-error").contains("500"));

    let saved = member
        .submit(
            &account,
            "form[action='/account/page']",
            &[
                ("handle", "Ana_S"),
                ("bio", "Back-end developer in Lisbon.\n\nLikes databases."),
            ],
        )
        .await;
    assert!(
        saved.body.contains("Your page was saved."),
        "{} {} {}",
        saved.status,
        saved.path,
        saved.text("main")
    );
    post_comment(&member, PUBLIC, "Hello").await;
    let reader = Browser::new(&app);
    let moved = reader.get("/authors/ana-silva").await;
    assert_eq!(moved.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(moved.header("location"), Some("/authors/Ana_S"));
    let page = reader.visit("/authors/ana_s").await;
    assert_eq!(page.path, "/authors/Ana_S");
    assert_eq!(
        page.texts(".author-head > div > p:not(.muted)"),
        vec!["Back-end developer in Lisbon.", "Likes databases."]
    );
    let article = reader.visit(PUBLIC).await;
    assert_eq!(
        article.attr(".comment-meta a", "href").as_deref(),
        Some("/authors/Ana_S")
    );
}

#[actix_web::test]
async fn deleting_an_account_says_its_comments_go_and_deletes_them() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    post_comment(&member, PUBLIC, "One").await;
    let saved_page = member.visit(PUBLIC).await;
    member.submit(&saved_page, ".save-form", &[]).await;
    let account = member.visit("/account").await;
    assert!(account.text(".danger").contains("the 1 comment you wrote"));
    member.delete_account(&account, PASSWORD).await;
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM saved_articles"), 0);
    let reader = Browser::new(&app);
    assert!(
        reader
            .visit(PUBLIC)
            .await
            .text("#comments")
            .contains("No comments yet")
    );
}

#[actix_web::test]
async fn a_member_posting_comments_faster_than_a_person_is_stopped() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    let article = member.visit(PUBLIC).await;
    let (action, fields) = Browser::form_fields(&article, "form.comment-form", &[]);
    let token = fields
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .unwrap()
        .1
        .clone();
    let mut statuses = Vec::new();
    for n in 0..7 {
        let text = format!("Comment number {n}");
        let answer = member
            .post(&action, &[("csrf_token", &token), ("comment", &text)])
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses, vec![303, 303, 303, 303, 303, 429, 429]);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 5);
}

#[actix_web::test]
async fn each_page_of_an_author_is_cached_apart_and_escaped_paths_are_not_kept() {
    let app = spawn_app().await;
    let files: Vec<(String, String)> = (1..=11)
        .map(|n| {
            (
                format!("a{n}.md"),
                crate::helpers::article(&format!("Paged article {n}"), "", "Text."),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    crate::helpers::import_articles(&app, &refs);
    crate::browser::wait_until_noticed(&app);
    let reader = Browser::new(&app);
    for _ in 0..3 {
        let second = reader.visit("/authors/test-author?page=2").await;
        assert_eq!(second.text("h1"), "Test Author, page 2");
    }
    let first = reader.visit("/authors/test-author").await;
    assert_eq!(first.text("h1"), "Test Author");
    assert_eq!(first.texts(".card-title a").len(), 10);

    // A comment forgotten under the plain path is not kept under an escaped spelling either.
    let member = ana(&app).await;
    let posted = post_comment(&member, PUBLIC, "Soon gone").await;
    let escaped = PUBLIC.replace("/articles/", "/%61rticles/");
    assert!(reader.visit(&escaped).await.body.contains("Soon gone"));
    member.submit(&posted, ".comment-actions form", &[]).await;
    for _ in 0..3 {
        assert!(!reader.visit(&escaped).await.body.contains("Soon gone"));
    }
    // Nor is a member's own page kept for others under such a spelling.
    let own = member.visit("/%61uthors/ana-silva").await;
    assert_eq!(own.status, StatusCode::OK);
    let other = Browser::new(&app);
    other
        .sign_up("Bea Costa", "bea@example.com", PASSWORD)
        .await;
    sql(&app, "DELETE FROM comments");
    assert_eq!(
        other.get("/%61uthors/ana-silva").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_deleted_member_leaves_no_cached_page_behind() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    post_comment(&member, PUBLIC, "Remember me").await;
    let reader = Browser::new(&app);
    assert!(reader.visit(PUBLIC).await.body.contains("Remember me"));
    assert_eq!(
        reader.visit("/authors/ana-silva").await.status,
        StatusCode::OK
    );
    let account = member.visit("/account").await;
    member.delete_account(&account, PASSWORD).await;
    assert!(!reader.visit(PUBLIC).await.body.contains("Remember me"));
    assert_eq!(
        reader.get("/authors/ana-silva").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_members_picture_is_shown_replaced_and_deleted_with_them() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    post_comment(&member, PUBLIC, "Hello").await;
    let upload = |bytes: Vec<u8>| {
        let member = &member;
        let app = &app;
        async move {
            let account = member.visit("/account").await;
            let token = account.attr("input[name='csrf_token']", "value").unwrap();
            let boundary = "picture-boundary";
            let mut body = Vec::new();
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
                     --{boundary}\r\nContent-Disposition: form-data; name=\"intent\"\r\n\r\nupload\r\n\
                     --{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"me.png\"\r\n\
                     Content-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(&bytes);
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let cookies = format!(
                "guidepost_session={}",
                member.cookie("guidepost_session").unwrap()
            );
            app.client()
                .post(format!("{}/account/picture", app.origin))
                .insert_header(("Cookie", cookies))
                .insert_header((
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                ))
                .send_body(body)
                .await
                .unwrap()
                .status()
        }
    };
    let png = png_bytes;
    assert_eq!(
        upload(b"not an image".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(upload(png(10)).await, StatusCode::SEE_OTHER);
    let page = Browser::new(&app).visit("/authors/ana-silva").await;
    let first = page.attr(".author-picture", "src").unwrap();
    assert_eq!(app.get(&first).await.status, StatusCode::OK);
    assert_eq!(upload(png(200)).await, StatusCode::SEE_OTHER);
    let second = Browser::new(&app)
        .visit("/authors/ana-silva")
        .await
        .attr(".author-picture", "src")
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        app.get(&first).await.status,
        StatusCode::NOT_FOUND,
        "the old one is gone"
    );
    let account = member.visit("/account").await;
    member.delete_account(&account, PASSWORD).await;
    assert_eq!(app.get(&second).await.status, StatusCode::NOT_FOUND);
}

/// A tiny valid PNG whose one pixel has the grey `shade`.
fn png_bytes(shade: u8) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    let raw = [0u8, shade];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &raw).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

#[actix_web::test]
async fn members_write_through_the_editor_only_when_the_setting_lets_them() {
    let app = spawn_app().await;
    let member = ana(&app).await;
    assert_eq!(
        member.get("/admin/articles/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !member
            .visit("/account")
            .await
            .body
            .contains("Write an article")
    );

    sql(
        &app,
        "INSERT INTO settings (key, value, updated_at) VALUES ('members_may_publish', 'true', datetime('now'))",
    );
    let account = member.visit("/account").await;
    let new = member
        .visit(
            &account
                .attr("a[href='/admin/articles/new']", "href")
                .unwrap(),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
    for field in ["visibility", "author_id", "featured", "cover_image_id"] {
        assert!(
            new.attr(&format!("[name='{field}']"), "name").is_none(),
            "{field} is for editors"
        );
    }
    assert_eq!(
        new.texts(".admin-nav a"),
        ["Your articles", "Write an article", "Your account"]
    );
    // Sneaking an editor's choices into the form changes nothing.
    let published = member
        .submit(
            &new,
            "form[action='/admin/articles/new']",
            &[
                ("title", "Notes from my first API"),
                ("summary", "What I learned building it."),
                ("body", "## Lessons\n\nStart small."),
                ("intent", "publish"),
                ("visibility", "members"),
                ("featured", "yes"),
                ("author_id", "1"),
            ],
        )
        .await;
    assert!(
        published.body.contains("The article is published."),
        "{}",
        published.text("main")
    );
    let page = Browser::new(&app)
        .visit("/articles/notes-from-my-first-api")
        .await;
    assert_eq!(page.text("h1"), "Notes from my first API");
    assert_eq!(
        page.attr(".byline a.author", "href").as_deref(),
        Some("/authors/ana-silva")
    );
    assert!(page.attr(".gate", "class").is_none(), "public");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM articles WHERE featured AND slug = 'notes-from-my-first-api'"
        ),
        0
    );

    // Their list holds their articles only, and others' articles are out of reach.
    let list = member.visit("/admin/articles").await;
    assert!(list.body.contains("Notes from my first API"));
    assert!(!list.body.contains("What does a back-end developer do?"));
    assert_eq!(
        member.get("/admin/articles/1").await.status,
        StatusCode::NOT_FOUND
    );
    let token = list.attr("input[name='csrf_token']", "value").unwrap();
    let refused = member
        .post("/admin/articles/1/unpublish", &[("csrf_token", &token)])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        member.get("/admin/images").await.status,
        StatusCode::FORBIDDEN
    );

    // An editor unpublishes it; with the setting off again, the member's editor closes.
    let editor = Browser::new(&app);
    editor
        .sign_up("Eddie Tor", "eddie@example.com", PASSWORD)
        .await;
    sql(
        &app,
        "UPDATE users SET role = 'editor' WHERE email = 'eddie@example.com'",
    );
    let id = count(
        &app,
        "SELECT id AS n FROM articles WHERE slug = 'notes-from-my-first-api'",
    );
    let form = editor.visit(&format!("/admin/articles/{id}")).await;
    editor
        .submit(
            &form,
            &format!("form[action='/admin/articles/{id}/unpublish']"),
            &[],
        )
        .await;
    assert_eq!(
        Browser::new(&app)
            .get("/articles/notes-from-my-first-api")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    sql(
        &app,
        "UPDATE settings SET value = 'false' WHERE key = 'members_may_publish'",
    );
    assert_eq!(
        member.get(&format!("/admin/articles/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
}

/// Publishes an article at `slug` through the member's editor.
async fn write_article(browser: &Browser<'_>, slug: &str) -> crate::helpers::Page {
    let new = browser.visit("/admin/articles/new").await;
    browser
        .submit(
            &new,
            "form[action='/admin/articles/new']",
            &[
                ("title", "A title"),
                ("slug", slug),
                ("summary", "A summary."),
                ("body", "Some text."),
                ("intent", "publish"),
            ],
        )
        .await
}

#[actix_web::test]
async fn an_old_address_of_an_article_cannot_be_taken_by_another() {
    let app = spawn_app().await;
    sql(
        &app,
        "INSERT INTO settings (key, value, updated_at) VALUES ('members_may_publish', 'true', datetime('now'))",
    );
    let ana = ana(&app).await;
    let first = write_article(&ana, "first-address").await;
    let renamed = ana
        .submit(
            &first,
            "form[action^='/admin/articles/']",
            &[("slug", "second-address"), ("intent", "save")],
        )
        .await;
    assert!(renamed.body.contains("Saved."), "{}", renamed.text("main"));
    let bea = Browser::new(&app);
    bea.sign_up("Bea Costa", "bea@example.com", PASSWORD).await;
    let refused = write_article(&bea, "first-address").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text("#editor-slug-error")
            .contains("used it before")
    );
    let old = Browser::new(&app).get("/articles/first-address").await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);

    // A display name changed shows at once on the member's own page.
    post_comment(&ana, PUBLIC, "Hello").await;
    let reader = Browser::new(&app);
    assert_eq!(
        reader.visit("/authors/ana-silva").await.text("h1"),
        "Ana Silva"
    );
    let account = ana.visit("/account").await;
    ana.submit(
        &account,
        "form[action='/account/profile']",
        &[("name", "Ana Pseudonym")],
    )
    .await;
    assert_eq!(
        reader.visit("/authors/ana-silva").await.text("h1"),
        "Ana Pseudonym"
    );
    // Deleting their only comment makes a member's page private again, at once.
    sql(
        &app,
        "DELETE FROM articles WHERE author_id = (SELECT id FROM users WHERE email = 'ana@example.com')",
    );
    let article = ana.visit(PUBLIC).await;
    ana.submit(&article, ".comment-actions form", &[]).await;
    assert_eq!(
        reader.get("/authors/ana-silva").await.status,
        StatusCode::NOT_FOUND
    );
}
