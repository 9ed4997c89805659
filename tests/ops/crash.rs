//! Crashes lose nothing acknowledged: the release build under a burst of concurrent sign-ups is
//! killed with SIGKILL at random moments, several times, and restarted on the same file. Every
//! sign-up that got its success answer exists exactly once and can log in, the database passes
//! its integrity check, and every queued mail is still queued or sent.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::reader::Reader;
use crate::server::{Server, free_port};
/// Sign-ups running at once.
const CONCURRENT: usize = 6;
/// Times the server is killed.
const KILLS: usize = 4;

/// Milliseconds between `low` and `high`, different each call.
fn jitter(low: u64, high: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    low + nanos % (high - low)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Integrity {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[actix_web::test]
async fn sign_ups_acknowledged_before_a_sigkill_all_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guidepost.db");
    let mail = dir.path().join("mail");
    let args = ["--trusted-proxy", "127.0.0.1", "--signup-limit", "0"];
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut next = 0usize;
    for round in 0..KILLS {
        let mut server = Server::start(&database, free_port(), &args);
        let origin = server.origin();
        let run_for = Duration::from_millis(jitter(700, 2_500));
        let started = Instant::now();
        let loops = (0..CONCURRENT).map(|lane| {
            let (origin, acknowledged, mail) =
                (origin.clone(), Arc::clone(&acknowledged), mail.clone());
            let first = next + lane * 1_000;
            async move {
                let mut n = first;
                while started.elapsed() < run_for + Duration::from_secs(3) {
                    let email = format!("r{round}-{n}@example.com");
                    let address = format!("10.{round}.{}.{}", lane, n % 250);
                    let mut reader = Reader::new(&origin, address);
                    match reader.sign_up(&email, &mail).await {
                        Some(true) => acknowledged.lock().unwrap().push(email),
                        Some(false) => {}
                        // The server is gone.
                        None => return,
                    }
                    n += 1;
                }
            }
        });
        let killing = async {
            actix_web::rt::time::sleep(run_for).await;
            server.kill();
        };
        futures_util::future::join(futures_util::future::join_all(loops), killing).await;
        next += CONCURRENT * 1_000;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    println!(
        "{} sign-ups were answered across {KILLS} kills",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 10,
        "only {} sign-ups were answered",
        acknowledged.len()
    );

    // Restarted on the same file: every acknowledged sign-up is there, once, and logs in.
    let server = Server::start(&database, free_port(), &args);
    let mut conn = SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    let integrity: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(integrity.len(), 1);
    assert_eq!(integrity[0].integrity_check, "ok");
    for (n, email) in acknowledged.iter().enumerate() {
        let users: Count = diesel::sql_query("SELECT count(*) AS n FROM users WHERE email = ?")
            .bind::<diesel::sql_types::Text, _>(email)
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(users.n, 1, "{email} exists exactly once");
        let mail: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM outbox WHERE to_address = ? AND status IN ('pending', 'sent')",
        )
        .bind::<diesel::sql_types::Text, _>(email)
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(mail.n, 1, "the mail to {email} is queued or sent");
        let mut reader = Reader::new(&server.origin(), format!("172.16.{}.{}", n / 250, n % 250));
        assert!(reader.logs_in(email).await, "{email} logs in");
    }
    let lost: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM outbox WHERE status NOT IN ('pending', 'sent')",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(lost.n, 0, "no mail failed for good");
}
