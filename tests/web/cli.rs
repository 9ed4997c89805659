//! The `guidepost` command line: migrations, import, and clear failures.

use std::process::Command;

use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

fn guidepost() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guidepost"));
    command.env_remove("RUST_LOG").env("NO_COLOR", "1");
    command
}

/// Runs `command` with `input` on its standard input, as a script gives a password.
fn output_with_input(command: &mut Command, input: &str) -> std::process::Output {
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// As [`output_with_input`], checking that the command succeeded; returns what it printed.
fn run_with_input(command: &mut Command, input: &str) -> String {
    let output = output_with_input(command, input);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn migrate_creates_the_database_and_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("a/b/site.db");
    let output = guidepost()
        .args(["migrate", "--database"])
        .arg(&database)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut conn = SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    let tables: Vec<String> = diesel::dsl::sql::<diesel::sql_types::Text>(
        "SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name",
    )
    .load(&mut conn)
    .unwrap();
    for table in [
        "articles",
        "articles_fts",
        "article_tags",
        "categories",
        "tags",
        "users",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
}

#[test]
fn every_migration_can_be_reverted_and_applied_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.run_pending_migrations(guidepost::db::MIGRATIONS)
        .unwrap();
    conn.revert_all_migrations(guidepost::db::MIGRATIONS)
        .unwrap();
    conn.run_pending_migrations(guidepost::db::MIGRATIONS)
        .unwrap();
}

#[test]
fn import_reads_a_folder_and_names_the_files_it_could_not_import() {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    std::fs::create_dir(&articles).unwrap();
    std::fs::write(
        articles.join("good.md"),
        crate::helpers::article("A good one", "", "Body text."),
    )
    .unwrap();
    std::fs::write(articles.join("bad.md"), "no front matter here").unwrap();
    std::fs::write(articles.join("notes.txt"), "ignored").unwrap();
    let database = dir.path().join("site.db");
    let output = guidepost()
        .arg("import")
        .arg(&articles)
        .arg("--database")
        .arg(&database)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stdout.contains("Imported 1 article(s)"), "{stdout}");
    assert!(
        stderr.contains("bad.md: the file must start with"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_bad_option_stops_with_a_clear_message_not_a_panic() {
    for args in [
        &["--workers", "lots"][..],
        &["--bind", "not-an-address"],
        &["--base-url", "example.com/blog"],
        &["--frobnicate"],
    ] {
        let output = guidepost().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("error") || stderr.starts_with("guidepost:"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unwritable_database_path_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let output = guidepost()
        .arg("migrate")
        .arg("--database")
        .arg(blocker.join("site.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.starts_with("guidepost: cannot"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn the_server_stops_cleanly_on_sigterm_and_sigint() {
    for signal in ["-TERM", "-INT"] {
        stops_cleanly_on(signal);
    }
}

fn stops_cleanly_on(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = guidepost()
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
            "--database",
        ])
        .arg(dir.path().join("site.db"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut listening = false;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            listening = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(listening, "the server did not start");
    let killed = Command::new("kill")
        .args([signal, &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for _ in 0..200 {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    server.kill().unwrap();
    panic!("the server did not stop within five seconds of {signal}");
}

#[actix_web::test]
async fn users_list_shows_every_account_and_set_password_replaces_it_and_ends_its_sessions() {
    let app = crate::helpers::spawn_app().await;
    let browser = crate::browser::Browser::new(&app);
    browser
        .sign_up("Ana Silva", "ana@example.com", "correct horse battery")
        .await;

    let list = guidepost()
        .args(["users", "list", "--database"])
        .arg(&app.database)
        .output()
        .unwrap();
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("ana@example.com") && text.contains("Ana Silva") && text.contains("member")
    );
    assert!(!text.contains("$2"), "no hash is printed");

    // The password from standard input, as a script gives it.
    let printed = run_with_input(
        guidepost()
            .args([
                "users",
                "set-password",
                "ANA@example.com",
                "--bcrypt-cost",
                "4",
                "--database",
            ])
            .arg(&app.database)
            .env("GUIDEPOST_SECRET_KEY", "test secret ".repeat(8)),
        "a whole new phrase\n",
    );
    assert!(!printed.contains("a whole new phrase"));
    assert_eq!(
        crate::browser::count(
            &app,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'change password' \
             AND actor_name = 'the command line'"
        ),
        1,
        "the audit log records it"
    );

    // Another process ended the sessions: the server notices within a tenth of a second.
    crate::browser::wait_until_noticed(&app);
    assert_eq!(
        browser.get("/account").await.status,
        actix_web::http::StatusCode::SEE_OTHER
    );
    let again = crate::browser::Browser::new(&app)
        .log_in("ana@example.com", "a whole new phrase")
        .await;
    assert_eq!(again.path, "/account");

    // Too weak a password is refused with the rule, and nothing changes.
    let output = output_with_input(
        guidepost()
            .args(["users", "set-password", "ana@example.com", "--database"])
            .arg(&app.database),
        "password1\n",
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("most common"));
}

#[test]
fn a_secret_key_too_short_stops_start_up_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let output = guidepost()
        .args(["--bind", "127.0.0.1:0", "--database"])
        .arg(dir.path().join("site.db"))
        .env("GUIDEPOST_SECRET_KEY", "short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("GUIDEPOST_SECRET_KEY must be at least 64 characters"),
        "{stderr}"
    );
    assert!(!stderr.contains("short\""), "the value is not repeated");
}

#[actix_web::test]
async fn create_admin_makes_an_admin_who_can_log_in_and_open_the_admin_area() {
    let app = crate::helpers::spawn_app().await;
    run_with_input(
        guidepost()
            .args([
                "create-admin",
                "--email",
                "Ops@Example.com",
                "--name",
                "Olu Ops",
                "--bcrypt-cost",
                "4",
                "--database",
            ])
            .arg(&app.database),
        "an operator's phrase\n",
    );
    let browser = crate::browser::Browser::new(&app);
    let landed = browser
        .log_in("ops@example.com", "an operator's phrase")
        .await;
    assert_eq!(landed.path, "/account");
    assert_eq!(
        browser.get("/admin").await.status,
        actix_web::http::StatusCode::OK
    );

    // set-role, and the last admin stays one.
    let demote = guidepost()
        .args([
            "users",
            "set-role",
            "ops@example.com",
            "member",
            "--database",
        ])
        .arg(&app.database)
        .output()
        .unwrap();
    assert!(!demote.status.success());
    assert!(String::from_utf8_lossy(&demote.stderr).contains("last admin"));
    let bad = guidepost()
        .args([
            "users",
            "set-role",
            "ops@example.com",
            "overlord",
            "--database",
        ])
        .arg(&app.database)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a role"));
}

#[test]
fn postgres_without_a_shared_key_stops_start_up_and_never_shows_the_password() {
    let output = guidepost()
        .args(["--bind", "127.0.0.1:0", "--database"])
        .arg("postgres://site:hunter2@127.0.0.1:9/guidepost")
        .env_remove("GUIDEPOST_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .last()
            .unwrap_or_default()
            .contains("GUIDEPOST_SECRET_KEY must be set when the database is PostgreSQL"),
        "{stderr}"
    );

    // With the key, a server that cannot be reached is named without the password.
    let output = guidepost()
        .args(["--bind", "127.0.0.1:0", "--database"])
        .arg("postgres://site:hunter2@127.0.0.1:9/guidepost")
        .env("GUIDEPOST_SECRET_KEY", "k".repeat(64))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("postgres://site:…@127.0.0.1:9/guidepost"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
