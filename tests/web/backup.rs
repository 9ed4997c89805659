//! Backups while the site is in use: `guidepost backup` under a stream of sign-ups, restored with
//! `guidepost restore`, holds every sign-up that was acknowledged before the backup began; restore
//! refuses a damaged file and a database a running server holds.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use diesel::prelude::*;

use crate::browser::Browser;
use crate::helpers::spawn_app;

fn guidepost() -> Command {
    Command::new(env!("CARGO_BIN_EXE_guidepost"))
}

#[actix_web::test]
async fn a_backup_taken_under_sign_ups_restores_every_sign_up_acknowledged_before_it_began() {
    // Backups copy the SQLite file; PostgreSQL has pg_dump.
    if !crate::helpers::on_sqlite() {
        return;
    }
    // Readers come from many addresses, through a proxy the site trusts.
    let app = crate::helpers::spawn_app_with(|s| {
        s.trusted_proxies = guidepost::client::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    // Sign-ups go on, one after another, each noted with the time its success was answered.
    let acknowledged: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signing_up = {
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        let app = &app;
        async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let email = format!("reader{n}@example.com");
                let welcome = Browser::at(app, &format!("198.51.100.{}", n % 250))
                    .sign_up("Reader", &email, "correct horse battery")
                    .await;
                assert_eq!(welcome.path, "/welcome");
                acknowledged.lock().unwrap().push((Instant::now(), email));
                n += 1;
            }
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let backing_up = {
        let (database, copy, stop) = (app.database.clone(), copy.clone(), Arc::clone(&stop));
        async move {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(800)).await;
            let began = Instant::now();
            let output = actix_web::rt::task::spawn_blocking(move || {
                guidepost()
                    .arg("backup")
                    .arg(&copy)
                    .arg("--database")
                    .arg(&database)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (began, output)
        }
    };
    let ((began, output), ()) = futures_util::future::join(backing_up, signing_up).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("integrity check"));
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at < began)
        .map(|(_, email)| email.clone())
        .collect();
    assert!(before.len() >= 3, "sign-ups ran before the backup");

    // Restored into a fresh place, as after losing the server.
    let restored = dir.path().join("restored").join("guidepost.db");
    std::fs::create_dir_all(restored.parent().unwrap()).unwrap();
    let output = guidepost()
        .arg("restore")
        .arg(&copy)
        .arg("--database")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut conn = SqliteConnection::establish(restored.to_str().unwrap()).unwrap();
    use guidepost::db::schema::users;
    let emails: Vec<String> = users::table.select(users::email).load(&mut conn).unwrap();
    for email in &before {
        assert!(
            emails.contains(email),
            "{email} was acknowledged before the backup began"
        );
    }
}

#[actix_web::test]
async fn restore_refuses_a_damaged_backup_and_a_database_a_server_holds() {
    // Backups copy the SQLite file; PostgreSQL has pg_dump.
    if !crate::helpers::on_sqlite() {
        return;
    }
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let made = guidepost()
        .arg("backup")
        .arg(&copy)
        .arg("--database")
        .arg(&app.database)
        .output()
        .unwrap();
    assert!(made.status.success());

    let held = guidepost()
        .arg("restore")
        .arg(&copy)
        .arg("--database")
        .arg(&app.database)
        .output()
        .unwrap();
    assert!(!held.status.success());
    assert!(String::from_utf8_lossy(&held.stderr).contains("a server is running"));

    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&copy).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 4096] {
        *byte = 0xA5;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let refused = guidepost()
        .arg("restore")
        .arg(&damaged)
        .arg("--database")
        .arg(dir.path().join("elsewhere.db"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("cannot be restored"), "{said}");
    assert!(
        !dir.path().join("elsewhere.db").exists(),
        "nothing was made"
    );
}
