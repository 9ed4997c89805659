//! The editor and admin area, used as editors and admins use it: roles checked on every route,
//! writing and publishing, addresses that move, concurrent edits, images, members, settings, the
//! audit log, and hostile text kept inert.

use actix_web::http::StatusCode;

use crate::browser::{Browser, count, sql};
use crate::helpers::{Page, TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// A signed-up account given `role`, logged in in a browser of its own.
async fn with_role<'a>(app: &'a TestApp, email: &str, role: &str) -> Browser<'a> {
    let browser = Browser::new(app);
    assert_eq!(
        browser
            .sign_up("Staff Person", email, PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    sql(
        app,
        &format!("UPDATE users SET role = '{role}' WHERE email = '{email}'"),
    );
    browser
}

const STAFF_PAGES: &[&str] = &[
    "/admin",
    "/admin/articles",
    "/admin/articles/new",
    "/admin/articles/1",
    "/admin/articles/1/delete",
    "/admin/images",
    "/admin/topics",
    "/admin/categories/1",
    "/admin/tags/1",
];
const ADMIN_PAGES: &[&str] = &[
    "/admin/members",
    "/admin/members/1",
    "/admin/members.csv",
    "/admin/settings",
    "/admin/audit",
];
const STAFF_ACTIONS: &[&str] = &[
    "/admin/articles/new",
    "/admin/articles/1",
    "/admin/articles/1/publish",
    "/admin/articles/1/unpublish",
    "/admin/articles/1/delete",
    "/admin/topics",
    "/admin/categories/1",
    "/admin/categories/1/delete",
    "/admin/images",
];
const ADMIN_ACTIONS: &[&str] = &[
    "/admin/members/1/trial",
    "/admin/members/1/role",
    "/admin/members/1/status",
    "/admin/members/1/delete",
    "/admin/settings",
];

#[actix_web::test]
async fn every_admin_route_checks_the_role_on_the_server() {
    let app = spawn_app().await;
    let anonymous = Browser::new(&app);
    let member = with_role(&app, "member@example.com", "member").await;
    let editor = with_role(&app, "editor@example.com", "editor").await;
    let admin = with_role(&app, "admin@example.com", "admin").await;

    for path in STAFF_PAGES.iter().chain(ADMIN_PAGES) {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "anonymous {path}");
        assert!(
            page.header("location").unwrap().starts_with("/login?next="),
            "{path}"
        );
        let page = member.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "member {path}");
        assert!(page.text("h1").contains("can’t do that"), "member {path}");
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "admin {path}");
        let as_editor = editor.get(path).await.status;
        if ADMIN_PAGES.contains(path) {
            assert_eq!(as_editor, StatusCode::FORBIDDEN, "editor {path}");
        } else {
            assert_eq!(as_editor, StatusCode::OK, "editor {path}");
        }
    }
    // Posts: anonymous visitors are sent to log in, members and (for admin actions) editors are
    // refused before anything is read; nothing changes.
    for path in STAFF_ACTIONS.iter().chain(ADMIN_ACTIONS) {
        assert_eq!(
            anonymous.post(path, &[]).await.status,
            StatusCode::SEE_OTHER,
            "anonymous {path}"
        );
        assert_eq!(
            member.post(path, &[]).await.status,
            StatusCode::FORBIDDEN,
            "member {path}"
        );
        if ADMIN_ACTIONS.contains(path) {
            assert_eq!(
                editor.post(path, &[]).await.status,
                StatusCode::FORBIDDEN,
                "editor {path}"
            );
        }
        // Without its CSRF token, even an admin's post changes nothing.
        assert_eq!(
            admin.post(path, &[]).await.status,
            StatusCode::FORBIDDEN,
            "admin {path}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM audit_log"), 0);
    let admin_page = admin.get("/admin").await;
    assert_eq!(admin_page.header("cache-control"), Some("no-store"));
    assert!(admin_page.links().contains(&"/admin/settings".to_owned()));
    assert!(
        !editor
            .get("/admin")
            .await
            .links()
            .contains(&"/admin/settings".to_owned())
    );
}

/// Fills in and sends the editor's form with `values` and the button `intent`.
async fn send_editor(
    browser: &Browser<'_>,
    page: &Page,
    values: &[(&str, &str)],
    intent: &str,
) -> Page {
    let mut all: Vec<(&str, &str)> = values.to_vec();
    all.push(("intent", intent));
    browser
        .submit(
            page,
            "form[action^='/admin/articles/']:not(.inline-form)",
            &all,
        )
        .await
}

fn cover_png() -> Vec<u8> {
    // A 1×1 PNG.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[
        0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15,
        0xc4, 0x89, 0, 0, 0, 10, b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1,
        0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
    ]);
    png
}

/// Uploads `bytes` as `name` through the image library's form.
async fn upload(app: &TestApp, browser: &Browser<'_>, name: &str, bytes: &[u8]) -> Page {
    let library = browser.visit("/admin/images").await;
    let token = library.attr("input[name=csrf_token]", "value").unwrap();
    let boundary = "guidepost-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let cookie = format!(
        "guidepost_session={}",
        browser.cookie("guidepost_session").unwrap()
    );
    let mut response = app
        .client()
        .post(format!("{}/admin/images", app.origin))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .insert_header(("Cookie", cookie))
        .send_body(body)
        .await
        .unwrap();
    let text = response.body().limit(1 << 20).await.unwrap();
    Page {
        path: "/admin/images".to_owned(),
        status: response.status(),
        headers: response.headers().clone(),
        body: String::from_utf8_lossy(&text).into_owned(),
    }
}

#[actix_web::test]
async fn an_editor_writes_previews_publishes_edits_moves_and_unpublishes_an_article() {
    let app = spawn_app().await;
    let editor = with_role(&app, "editor@example.com", "editor").await;

    // An image for the article, uploaded first.
    let uploaded = upload(&app, &editor, "diagram.jpg", &cover_png()).await;
    assert_eq!(
        uploaded.status,
        StatusCode::SEE_OTHER,
        "a PNG named .jpg is still a PNG"
    );
    let library = editor.visit("/admin/images").await;
    let markdown = library.text(".image-grid code");
    assert!(markdown.starts_with("![Describe the image](/images/") && markdown.ends_with(".png)"));
    let image_url = markdown
        .trim_start_matches("![Describe the image](")
        .trim_end_matches(')')
        .to_owned();
    let image = app.get(&image_url).await;
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert!(image.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(image.header("x-content-type-options"), Some("nosniff"));

    // Write, then preview: the page readers will see, nothing saved.
    let form = editor.visit("/admin/articles/new").await;
    let body = format!(
        "Queues decouple services.\n\n## Why queues\n\n![A queue between two services]({image_url})\n\nMore text about queues."
    );
    let values = [
        ("title", "Queues for beginners"),
        ("summary", "What a message queue is, and when one helps."),
        ("body", body.as_str()),
        ("tags", "Queues, Messaging"),
        ("category_id", "2"),
    ];
    let preview = send_editor(&editor, &form, &values, "preview").await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.text("h1"), "Queues for beginners");
    assert!(preview.text(".flash").contains("Preview"));
    assert!(preview.body.contains(&format!("src=\"{image_url}\"")));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM articles WHERE title = 'Queues for beginners'"
        ),
        0
    );

    // Publish from the preview.
    let saved = editor
        .submit(&preview, ".preview-bar form", &[("intent", "publish")])
        .await;
    assert!(saved.path.starts_with("/admin/articles/"), "{}", saved.path);
    assert_eq!(saved.text(".flash"), "The article is published.");
    let edit_path = saved.path.clone();

    // At once on the home page, in its category, its tags, search, the feed and the sitemap.
    let reader = Browser::new(&app);
    let slug = "/articles/queues-for-beginners";
    let article = reader.visit(slug).await;
    assert_eq!(article.status, StatusCode::OK);
    assert!(article.body.contains(&format!("src=\"{image_url}\"")));
    let category = article
        .attr(".breadcrumbs a[href^='/categories/']", "href")
        .unwrap();
    for place in ["/", category.as_str(), "/tags/queues", "/search?q=queues"] {
        assert!(
            reader.visit(place).await.links().contains(&slug.to_owned()),
            "{place} links the new article"
        );
    }
    assert!(
        reader
            .visit("/feed.xml")
            .await
            .body
            .contains("Queues for beginners")
    );
    assert!(reader.visit("/sitemap.xml").await.body.contains(slug));

    // Edit: the change shows everywhere.
    let form = editor.visit(&edit_path).await;
    send_editor(
        &editor,
        &form,
        &[("title", "Message queues for beginners")],
        "save",
    )
    .await;
    assert_eq!(
        reader.visit(slug).await.text("h1"),
        "Message queues for beginners"
    );
    assert!(
        reader
            .visit("/")
            .await
            .body
            .contains("Message queues for beginners")
    );

    // A new address: the old one answers 301.
    let form = editor.visit(&edit_path).await;
    send_editor(&editor, &form, &[("slug", "message-queues")], "save").await;
    let old = reader.get(slug).await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(old.header("location"), Some("/articles/message-queues"));
    assert_eq!(
        reader.visit("/articles/message-queues").await.status,
        StatusCode::OK
    );

    // Unpublished: gone from every public place, its old addresses too.
    let form = editor.visit(&edit_path).await;
    editor
        .submit(&form, "form[action$='/unpublish']", &[])
        .await;
    for path in [
        "/",
        "/articles",
        &category,
        "/tags/queues",
        "/search?q=queues",
        "/feed.xml",
        "/sitemap.xml",
        "/articles/database-indexes-explained",
    ] {
        assert!(
            !reader.visit(path).await.body.contains("message-queues"),
            "{path}"
        );
    }
    assert_eq!(
        reader.get("/articles/message-queues").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(reader.get(slug).await.status, StatusCode::NOT_FOUND);

    // Every action is in the audit log.
    let actions: Vec<String> = {
        let admin = with_role(&app, "admin@example.com", "admin").await;
        admin
            .visit("/admin/audit")
            .await
            .texts(".admin-table tbody td:nth-child(3)")
    };
    for action in [
        "upload image",
        "create article",
        "publish",
        "edit article",
        "change address",
        "unpublish",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[actix_web::test]
async fn the_later_of_two_saves_from_the_same_version_is_refused_with_its_text_kept() {
    let app = spawn_app().await;
    let first = with_role(&app, "one@example.com", "editor").await;
    let second = with_role(&app, "two@example.com", "editor").await;
    let a = first.visit("/admin/articles/1").await;
    let b = second.visit("/admin/articles/1").await;
    let saved = send_editor(
        &first,
        &a,
        &[("summary", "The first editor's summary.")],
        "save",
    )
    .await;
    assert_eq!(saved.text(".flash"), "Saved.");
    let refused = send_editor(
        &second,
        &b,
        &[("summary", "The second editor's summary.")],
        "save",
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text(".form-error")
            .contains("changed since you opened it")
    );
    assert_eq!(
        refused.text("#editor-summary"),
        "The second editor's summary."
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM articles WHERE summary = 'The first editor''s summary.'"
        ),
        1
    );
}

#[actix_web::test]
async fn two_editors_saving_the_same_version_at_once_save_one_and_refuse_the_other() {
    let app = spawn_app().await;
    let first = with_role(&app, "one@example.com", "editor").await;
    let second = with_role(&app, "two@example.com", "editor").await;
    for round in 0..3 {
        let a = first.visit("/admin/articles/1").await;
        let b = second.visit("/admin/articles/1").await;
        let (one, two) = (
            format!("First, round {round}."),
            format!("Second, round {round}."),
        );
        let (x, y) = crate::members::futures_join(
            send_editor(&first, &a, &[("summary", one.as_str())], "save"),
            send_editor(&second, &b, &[("summary", two.as_str())], "save"),
        )
        .await;
        let mut statuses = [x.status, y.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "round {round}"
        );
        let kept = if x.status == StatusCode::OK {
            &one
        } else {
            &two
        };
        assert_eq!(
            count(
                &app,
                &format!("SELECT count(*) AS n FROM articles WHERE id = 1 AND summary = '{kept}'")
            ),
            1,
            "the saved one is the one kept"
        );
    }
}

#[actix_web::test]
async fn bad_editor_input_comes_back_422_with_every_field_kept() {
    let app = spawn_app().await;
    let editor = with_role(&app, "editor@example.com", "editor").await;
    let form = editor.visit("/admin/articles/new").await;
    let refused = send_editor(
        &editor,
        &form,
        &[
            ("title", ""),
            ("slug", "Not A Slug!"),
            ("summary", "Kept summary."),
            ("body", "Kept body text."),
            ("cover_image_id", "9999"),
        ],
        "publish",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text("#editor-title-error").contains("title"));
    assert!(!refused.texts("#editor-slug-error").is_empty());
    assert!(!refused.texts("#editor-cover-error").is_empty());
    assert_eq!(refused.text("#editor-summary"), "Kept summary.");
    assert_eq!(refused.text("#editor-body"), "Kept body text.");
    // An address another article has.
    let taken = send_editor(
        &editor,
        &form,
        &[
            ("title", "Anything"),
            ("slug", "database-indexes-explained"),
            ("summary", "S."),
            ("body", "B."),
        ],
        "save",
    )
    .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text("#editor-slug-error").contains("Another article"));
}

#[actix_web::test]
async fn only_real_images_of_a_reasonable_size_are_accepted() {
    let app = spawn_app().await;
    let editor = with_role(&app, "editor@example.com", "editor").await;
    let script = upload(&app, &editor, "innocent.png", b"<script>alert(1)</script>").await;
    assert_eq!(script.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        script
            .text(".form-error")
            .contains("not a PNG, JPEG, WebP or GIF")
    );
    let svg = upload(
        &app,
        &editor,
        "logo.png",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
    )
    .await;
    assert_eq!(svg.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut huge = cover_png();
    huge.resize(6 * 1024 * 1024, 0);
    let big = upload(&app, &editor, "huge.png", &huge).await;
    assert_eq!(big.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(big.text(".form-error").contains("larger than 5 MB"));
    assert_eq!(count(&app, "SELECT count(*) AS n FROM images"), 0);
}

#[actix_web::test]
async fn an_admin_manages_members_and_each_change_takes_effect_at_once() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    let reader = Browser::new(&app);
    reader
        .sign_up("Rea Reader", "rea@example.com", PASSWORD)
        .await;
    sql(
        &app,
        "UPDATE users SET trial_ends_at = datetime('now', '-1 day') WHERE email = 'rea@example.com'",
    );
    let locked = "/articles/your-first-back-end-portfolio-project-step-by-step";
    assert!(!reader.visit(locked).await.texts(".gate").is_empty());

    // Find her, extend her trial: the guide opens at once.
    let list = admin.visit("/admin/members?q=REA@").await;
    assert_eq!(list.texts(".admin-table tbody tr").len(), 1);
    let page = admin
        .follow_redirects(
            admin
                .get(&list.attr(".admin-table tbody a", "href").unwrap())
                .await,
        )
        .await;
    let refused = admin
        .submit(
            &page,
            "form[action$='/trial']",
            &[("days", "a week"), ("action", "extend")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.text("#member-days-error"),
        "Enter a whole number of days, from 1 to 365."
    );
    assert_eq!(
        refused.attr("#member-days", "value").as_deref(),
        Some("a week")
    );
    assert!(!reader.visit(locked).await.texts(".gate").is_empty());
    let extended = admin
        .submit(
            &refused,
            "form[action$='/trial']",
            &[("days", "7"), ("action", "extend")],
        )
        .await;
    assert_eq!(extended.text(".flash"), "The trial was extended.");
    assert!(reader.visit(locked).await.texts(".gate").is_empty());

    // Make her an editor, then disable her: her session ends at once.
    let promoted = admin
        .submit(&extended, "form[action$='/role']", &[("role", "editor")])
        .await;
    assert_eq!(promoted.text(".flash"), "The role was changed.");
    assert_eq!(reader.get("/admin").await.status, StatusCode::OK);
    admin
        .submit(
            &promoted,
            "form[action$='/status']",
            &[("action", "disable")],
        )
        .await;
    assert_eq!(reader.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reader.log_in("rea@example.com", PASSWORD).await.status,
        StatusCode::FORBIDDEN
    );

    // The last admin cannot be demoted, disabled or deleted.
    let me = admin.visit("/admin/members?q=admin@example.com").await;
    let mine = admin
        .visit(&me.attr(".admin-table tbody a", "href").unwrap())
        .await;
    let refused = admin
        .submit(&mine, "form[action$='/role']", &[("role", "member")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text(".form-error").contains("last admin"));
    let refused = admin
        .submit(&mine, "form[action$='/delete']", &[("confirm", "yes")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM users WHERE role = 'admin'"),
        1
    );

    for action in ["change trial", "change role", "disable member"] {
        assert_eq!(
            count(
                &app,
                &format!("SELECT count(*) AS n FROM audit_log WHERE action = '{action}'")
            ),
            1,
            "{action}"
        );
    }
}

#[actix_web::test]
async fn deleting_a_member_as_an_admin_is_as_complete_as_their_own_deletion() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    let reader = Browser::new(&app);
    reader
        .sign_up("Rea Reader", "rea@example.com", PASSWORD)
        .await;
    let id = count(
        &app,
        "SELECT id AS n FROM users WHERE email = 'rea@example.com'",
    );
    let page = admin.visit(&format!("/admin/members/{id}")).await;
    admin
        .submit(
            &page,
            "form[action$='/trial']",
            &[("days", "3"), ("action", "extend")],
        )
        .await;
    let page = admin.visit(&format!("/admin/members/{id}")).await;
    let done = admin
        .submit(&page, "form[action$='/delete']", &[("confirm", "yes")])
        .await;
    assert_eq!(done.path, "/admin/members");
    assert_eq!(reader.get("/account").await.status, StatusCode::SEE_OTHER);
    for (table, column) in [
        ("users", "email"),
        ("sessions", "user_id"),
        ("outbox", "to_address"),
        ("audit_log", "subject"),
    ] {
        let n = count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM {table} WHERE CAST({column} AS TEXT) LIKE '%rea@example.com%' OR CAST({column} AS TEXT) = '{id}' OR CAST({column} AS TEXT) = 'member #{id}'"
            ),
        );
        assert_eq!(n, 0, "{table}.{column}");
    }
}

#[actix_web::test]
async fn settings_take_effect_without_a_restart() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    let form = admin.visit("/admin/settings").await;
    let refused = admin
        .submit(
            &form,
            "form[action='/admin/settings']",
            &[("trial_days", "0"), ("site_title", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.texts("#settings-trial-error").is_empty());
    assert_eq!(refused.attr("#settings-trial", "value").unwrap(), "0");

    let saved = admin
        .submit(
            &form,
            "form[action='/admin/settings']",
            &[
                ("site_title", "Backend Weekly"),
                ("trial_days", "21"),
                ("signups_open", ""),
            ],
        )
        .await;
    assert_eq!(saved.text(".flash"), "The settings are saved and in use.");
    let home = app.get("/").await;
    assert!(home.text(".brand").contains("Backend Weekly"));
    assert!(home.text("title").starts_with("Backend Weekly"));
    assert!(home.text(".cta").contains("free for 21 days"));
    let signup = Browser::new(&app).visit("/signup").await;
    assert!(signup.text("main").contains("sign-ups are closed"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'change setting'"
        ),
        3
    );
}

#[actix_web::test]
async fn categories_and_tags_are_made_renamed_with_a_redirect_and_deleted_only_when_empty() {
    let app = spawn_app().await;
    let editor = with_role(&app, "editor@example.com", "editor").await;
    let topics = editor.visit("/admin/topics").await;
    let added = editor
        .submit(
            &topics,
            "form[action='/admin/topics']",
            &[
                ("kind", "tags"),
                ("name", "Event Sourcing"),
                ("description", "Keeping every change."),
            ],
        )
        .await;
    assert_eq!(added.text(".flash"), "The tag was added.");
    let again = editor
        .submit(
            &topics,
            "form[action='/admin/topics']",
            &[("kind", "tags"), ("name", "Event Sourcing")],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Rename the Databases category: its old address answers 301.
    let page = editor.visit("/admin/categories/2").await;
    assert!(page.text("h1").contains("Databases"));
    let renamed = editor
        .submit(
            &page,
            "form[action='/admin/categories/2']",
            &[("name", "Data"), ("slug", "data")],
        )
        .await;
    assert_eq!(renamed.text(".flash"), "Saved.");
    let old = app.get("/categories/databases").await;
    assert_eq!(old.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(old.header("location"), Some("/categories/data"));

    // A category with articles cannot be deleted.
    let refused = editor
        .submit(&renamed, "form[action='/admin/categories/2/delete']", &[])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text(".form-error")
            .contains("cannot be deleted while")
    );
}

#[actix_web::test]
async fn hostile_names_and_titles_are_inert_on_admin_pages_and_in_the_csv() {
    let app = spawn_app().await;
    let hostile = Browser::new(&app);
    // The name field refuses line breaks; a name with commas, quotes and a formula is fine.
    let form = hostile.visit("/signup").await;
    let refused = hostile
        .submit(
            &form,
            "form[action='/signup']",
            &[
                ("name", "<script>alert(1)</script>, \"quoted\"\nnew line"),
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.body.contains("<script>alert"));
    hostile
        .sign_up(
            "=HYPERLINK(\"http://evil.example\"), \"Eve\" <img src=x onerror=alert(1)>",
            "eve@example.com",
            PASSWORD,
        )
        .await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    let list = admin.visit("/admin/members").await;
    assert!(!list.body.contains("<img src=x"));
    assert!(
        list.text(".admin-table")
            .contains("<img src=x onerror=alert(1)>"),
        "shown as text"
    );

    let csv = admin.get("/admin/members.csv").await;
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[2].to_owned()).collect();
    assert!(
        names.contains(
            &"'=HYPERLINK(\"http://evil.example\"), \"Eve\" <img src=x onerror=alert(1)>"
                .to_owned()
        ),
        "{names:?}"
    );

    // An article with hostile text, through the editor.
    let form = admin.visit("/admin/articles/new").await;
    send_editor(
        &admin,
        &form,
        &[
            ("title", "<script>alert(1)</script> Title"),
            ("summary", "<b onmouseover=alert(1)>Summary</b>"),
            (
                "body",
                "[click](javascript:alert(1)) <script>alert(2)</script> <svg onload=alert(3)>",
            ),
            ("tags", "<i>tag</i>"),
        ],
        "publish",
    )
    .await;
    for path in [
        "/admin/articles",
        "/",
        "/articles/script-alert-1-script-title",
    ] {
        let page = admin.visit(path).await;
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("javascript:alert"), "{path}");
        assert!(!page.body.contains("<svg onload"), "{path}");
        assert!(!page.body.contains("<b onmouseover"), "{path}");
    }
}

#[actix_web::test]
async fn article_views_are_counted_with_cache_hits_and_shown_on_the_dashboard() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.get("/articles/database-indexes-explained").await;
    }
    // The counts reach the database within a few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(12);
    loop {
        // A later view hands the worker's counts over.
        app.get("/articles/database-indexes-explained").await;
        if count(&app, "SELECT coalesce(sum(views), 0) AS n FROM page_views") >= 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no views recorded");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let admin = with_role(&app, "admin@example.com", "admin").await;
    let dashboard = admin.visit("/admin").await;
    assert!(
        dashboard
            .text("main")
            .contains("Database indexes explained")
    );
    assert!(dashboard.body.contains("<svg class=\"chart\""));
    assert!(dashboard.body.contains("<title id=\"views-title\">"));
    assert!(dashboard.text("caption").contains("per day"));
}

#[actix_web::test]
async fn the_audit_log_names_the_actor_as_they_were_and_records_names_visibility_and_log_ins() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    // An admin log-in is recorded.
    let fresh = Browser::new(&app);
    fresh.log_in("admin@example.com", PASSWORD).await;
    // A rename, recorded under the old name with the values before and after.
    let account = admin.visit("/account").await;
    admin
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Renamed Admin")],
        )
        .await;
    // A visibility switch of an article, before and after.
    let editor = admin.visit("/admin/articles/1").await;
    let visibility = editor
        .attr("input[name=visibility][checked]", "value")
        .unwrap();
    let other = if visibility == "public" {
        "members"
    } else {
        "public"
    };
    let saved = admin
        .submit(
            &editor,
            "form.form[action='/admin/articles/1']",
            &[("visibility", other), ("intent", "save")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text("main"));

    let log = admin.visit("/admin/audit").await;
    let rows = log.texts(".admin-table tbody tr");
    let find = |action: &str| {
        rows.iter()
            .find(|r| r.contains(action))
            .unwrap_or_else(|| panic!("no {action:?} in {rows:#?}"))
            .clone()
    };
    assert!(find("admin log-in").contains("Staff Person"));
    let rename = find("change name");
    assert!(
        rename.contains("Staff Person") && rename.contains("Renamed Admin"),
        "{rename}"
    );
    let switch = find("change visibility");
    assert!(
        switch.contains(&visibility) && switch.contains(other),
        "{switch}"
    );
}

#[actix_web::test]
async fn the_dashboard_counts_one_in_the_singular() {
    let app = spawn_app().await;
    let admin = with_role(&app, "admin@example.com", "admin").await;
    Browser::new(&app)
        .sign_up("Rea Reader", "rea@example.com", PASSWORD)
        .await;
    let dashboard = admin.visit("/admin").await;
    let stats = dashboard.text(".stats");
    assert!(stats.contains("1 trial running"), "{stats}");
    assert!(stats.contains("1 member in all"), "{stats}");
    assert!(stats.contains("0 trials ending this week"), "{stats}");
    let chart = dashboard.texts("figcaption").join(" | ");
    assert!(chart.contains("1 sign-up in the last 30 days"), "{chart}");
    assert!(!chart.contains("1 sign-ups"), "{chart}");
}
