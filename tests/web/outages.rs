//! Writes that cannot happen are an outage of writes, not of the site: a really full disk (a
//! small tmpfs, filled), the write lock held by another connection past the busy timeout, and
//! SQLite's own read-only error. Forms answer 503 with what was typed (never a password), pages
//! read on, `/healthz` names the problem, nothing half-written stays, and writes work again
//! without a restart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::browser::{Browser, count, database};
use crate::helpers::{Page, spawn_app_with};

const PASSWORD: &str = "correct horse battery";
const ARTICLE: &str = "/articles/your-first-back-end-portfolio-project-step-by-step";

/// A tmpfs of `megabytes` mounted on a new folder, unmounted when dropped; `None` (with the
/// reason printed) where this machine cannot mount one (not root, no mount).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Self { dir }),
            Ok(output) => {
                println!(
                    "skipped: cannot mount a tmpfs here ({})",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                println!("skipped: cannot run mount ({error})");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn health(app: &crate::helpers::TestApp) -> (StatusCode, serde_json::Value) {
    // Each answer is kept for a second.
    actix_web::rt::time::sleep(Duration::from_millis(1_100)).await;
    let page = app.get("/healthz").await;
    (page.status, serde_json::from_str(&page.body).unwrap())
}

/// Asserts `page` is the "nothing was saved" answer, giving back `kept` and no password.
fn assert_not_saved(page: &Page, kept: &[&str]) {
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert_eq!(page.header("retry-after"), Some("30"));
    assert!(
        page.text("h1").contains("Nothing was saved"),
        "{}",
        page.text("main")
    );
    for value in kept {
        assert!(
            page.doc()
                .select(&crate::helpers::sel(
                    ".kept-form input, .kept-form textarea"
                ))
                .any(|el| el.value().attr("value") == Some(value)
                    || el.text().collect::<String>() == *value),
            "{value:?} is given back:\n{}",
            page.text("main")
        );
    }
    assert!(!page.body.contains(PASSWORD), "never a password");
    assert!(!page.body.contains("SQLITE") && !page.body.contains("diesel"));
}

#[actix_web::test]
async fn a_full_disk_stops_writes_not_reading_and_they_work_again_when_there_is_room() {
    // What SQLite does with its file; PostgreSQL has no file here.
    if !crate::helpers::on_sqlite() {
        return;
    }
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let db = disk.path().join("guidepost.db");
    let app = spawn_app_with(|s| s.database = db.clone().into()).await;
    let member = Browser::sending_origin(&app);
    member.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let account = member.visit("/account").await;
    let visitor = Browser::sending_origin(&app);
    let signup = visitor.visit("/signup").await;

    // The write-ahead log is emptied, so the next write needs new room, and the disk is filled.
    database(&app)
        .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let filler = disk.fill();

    // Reading goes on: anonymous pages, and a member's.
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    assert_eq!(app.get("/articles?page=1").await.status, StatusCode::OK);
    assert_eq!(member.get(ARTICLE).await.status, StatusCode::OK);
    assert_eq!(member.get("/account").await.status, StatusCode::OK);

    // A form is answered 503, with what was typed given back.
    let renamed = member
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Ana Maria")],
        )
        .await;
    assert_not_saved(&renamed, &["Ana Maria"]);
    let refused = visitor
        .submit(
            &signup,
            "form[action='/signup']",
            &[
                ("name", "Bea"),
                ("email", "bea@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_not_saved(&refused, &["Bea", "bea@example.com"]);
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["writes"], "disk_full");

    // Room again: writes work without a restart, and nothing half-written was left.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM users WHERE name = 'Ana Maria'"
        ),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM pending_signups WHERE email = 'bea@example.com'"
        ),
        0
    );
    let renamed = member
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Ana Maria")],
        )
        .await;
    assert_eq!(renamed.text(".flash"), "Your name was changed.");
    let integrity: Vec<String> = diesel::sql_query("PRAGMA integrity_check")
        .load::<Check>(&mut database(&app))
        .unwrap()
        .into_iter()
        .map(|c| c.integrity_check)
        .collect();
    assert_eq!(integrity, ["ok"]);
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[actix_web::test]
async fn a_write_lock_held_past_the_busy_timeout_fails_forms_not_members_pages() {
    // What SQLite does with its file; PostgreSQL has no file here.
    if !crate::helpers::on_sqlite() {
        return;
    }
    let app = spawn_app_with(|_| {}).await;
    let member = Browser::sending_origin(&app);
    member.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let account = member.visit("/account").await;
    // The member's last use is due to be written: that write must not stand in the way.
    crate::browser::sql(
        &app,
        "UPDATE sessions SET last_seen_at = datetime('now', '-2 minutes')",
    );

    // Another process takes the write lock and keeps it for ten seconds.
    let Some(path) = crate::helpers::sqlite_file(&app) else {
        return;
    };
    let (locked, release) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("BEGIN IMMEDIATE; UPDATE settings SET value = value;")
            .unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(10));
        conn.batch_execute("COMMIT;").unwrap();
    });
    release.recv().unwrap();

    let started = Instant::now();
    let page = member.get(ARTICLE).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.texts(".gate").is_empty(), "read as the member");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let renamed = member
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Ana Maria")],
        )
        .await;
    assert_not_saved(&renamed, &["Ana Maria"]);
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["writes"], "locked");

    holder.join().unwrap();
    let renamed = member
        .submit(
            &account,
            "form[action='/account/profile']",
            &[("name", "Ana Maria")],
        )
        .await;
    assert_eq!(renamed.text(".flash"), "Your name was changed.");
}

#[test]
fn sqlites_own_read_only_error_is_an_outage_of_writes() {
    // What SQLite does with its file; PostgreSQL has no file here.
    if !crate::helpers::on_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.db");
    guidepost::db::open(&path, 1).unwrap();
    let url = guidepost::db::read_only_url(&path);
    let mut conn = SqliteConnection::establish(&url).unwrap();
    let error = conn
        .batch_execute("UPDATE settings SET value = value;")
        .unwrap_err();
    let app_error = guidepost::error::AppError::from(error);
    assert!(
        matches!(
            app_error,
            guidepost::error::AppError::WriteUnavailable(
                guidepost::db::health::WriteProblem::ReadOnly
            )
        ),
        "{app_error:?}"
    );
}

#[test]
fn a_claimed_message_is_not_claimed_again_until_its_lease_ends() {
    // What SQLite does with its file; PostgreSQL has no file here.
    if !crate::helpers::on_sqlite() {
        return;
    }
    use guidepost::db::outbox::{Message, NewMessage};
    let dir = tempfile::tempdir().unwrap();
    let pool = guidepost::db::open(dir.path().join("site.db"), 1).unwrap();
    let mut conn = pool.get().unwrap();
    NewMessage {
        user_id: None,
        kind: "test",
        to: "a@example.com".to_owned(),
        subject: "s".to_owned(),
        text: "t".to_owned(),
        html: "h".to_owned(),
    }
    .queue(&mut conn)
    .unwrap();
    let now = guidepost::db::now();
    let id = Message::due(&mut conn, now, 10).unwrap()[0].id;
    let lease = time::Duration::minutes(1);
    assert!(Message::claim(&mut conn, id, now, lease).unwrap());
    // Sent, but the mark could not be written: it is not due, and cannot be claimed again...
    assert!(Message::due(&mut conn, now, 10).unwrap().is_empty());
    assert!(!Message::claim(&mut conn, id, now, lease).unwrap());
    // ...until its lease ends, with the attempt counted.
    let later = now + time::Duration::minutes(2);
    assert_eq!(Message::due(&mut conn, later, 10).unwrap()[0].attempts, 1);
    assert!(Message::claim(&mut conn, id, later, lease).unwrap());
}

#[actix_web::test]
async fn a_comment_under_a_held_write_lock_is_given_back_on_the_page_and_refused_in_the_api() {
    if !crate::helpers::on_sqlite() {
        return;
    }
    let app = spawn_app_with(|_| {}).await;
    let member = Browser::sending_origin(&app);
    member.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let public = "/articles/what-does-a-back-end-developer-do";
    let article = member.visit(public).await;
    let token = crate::api::register(&app, "writer").await;
    let Some(path) = crate::helpers::sqlite_file(&app) else {
        return;
    };
    let (locked, release) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; UPDATE settings SET value = value;",
        )
        .unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(12));
        conn.batch_execute("COMMIT;").unwrap();
    });
    release.recv().unwrap();
    let posted = member
        .submit(
            &article,
            "form.comment-form",
            &[("comment", "Kept for later")],
        )
        .await;
    assert_not_saved(&posted, &["Kept for later"]);
    let answer = crate::api::api(
        &app,
        "POST",
        &format!("{public}/comments"),
        Some(&token),
        Some(serde_json::json!({"comment": {"body": "Through the API"}})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.json["errors"]["server"][0].is_string(),
        "{}",
        answer.json
    );
    holder.join().unwrap();
    assert_eq!(count(&app, "SELECT count(*) AS n FROM comments"), 0);
}
