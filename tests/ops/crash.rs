//! Crashes lose nothing acknowledged: the release build under a burst of concurrent sign-ups is
//! killed with SIGKILL at random moments, several times, and restarted on the same file. Every
//! sign-up that got its success answer exists exactly once and can log in, the database passes
//! its integrity check, and every queued mail is still queued or sent.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::server::{Server, free_port};

const PASSWORD: &str = "correct horse battery";
/// Sign-ups running at once.
const CONCURRENT: usize = 6;
/// Times the server is killed.
const KILLS: usize = 4;

/// A client that gives up quietly when the server goes away.
struct Reader {
    client: awc::Client,
    origin: String,
    address: String,
    csrf: Option<String>,
    session: Option<String>,
}

impl Reader {
    fn new(origin: &str, address: String) -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(5))
                .finish(),
            origin: origin.to_owned(),
            address,
            csrf: None,
            session: None,
        }
    }

    fn cookies(&self) -> String {
        let mut cookies = Vec::new();
        if let Some(csrf) = &self.csrf {
            cookies.push(format!("guidepost_csrf={csrf}"));
        }
        if let Some(session) = &self.session {
            cookies.push(format!("guidepost_session={session}"));
        }
        cookies.join("; ")
    }

    fn keep(&mut self, headers: &actix_web::http::header::HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                match name {
                    "guidepost_csrf" => self.csrf = Some(value.to_owned()),
                    "guidepost_session" => self.session = Some(value.to_owned()),
                    _ => {}
                }
            }
        }
    }

    /// GET `path`: the status, `Location` and body, or `None` when the server is gone.
    async fn get(&mut self, path: &str) -> Option<(u16, String, String)> {
        let mut response = self
            .client
            .get(format!("{}{path}", self.origin))
            .insert_header(("Cookie", self.cookies()))
            .insert_header(("X-Forwarded-For", self.address.as_str()))
            .send()
            .await
            .ok()?;
        self.keep(response.headers());
        let location = header(response.headers(), "location");
        let body = response.body().limit(4 << 20).await.ok()?;
        Some((
            response.status().as_u16(),
            location,
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Option<(u16, String)> {
        let mut response = self
            .client
            .post(format!("{}{path}", self.origin))
            .insert_header(("Cookie", self.cookies()))
            .insert_header(("X-Forwarded-For", self.address.as_str()))
            .send_form(&fields)
            .await
            .ok()?;
        self.keep(response.headers());
        let location = header(response.headers(), "location");
        response.body().limit(4 << 20).await.ok()?;
        Some((response.status().as_u16(), location))
    }

    /// Signs up through the form and the mailed link; true when the account's creation was
    /// answered with success (the redirect to the welcome page).
    async fn sign_up(&mut self, email: &str, mail: &Path) -> Option<bool> {
        let (_, _, form) = self.get("/signup").await?;
        let token = csrf_token(&form)?;
        let (status, _) = self
            .post(
                "/signup",
                &[
                    ("csrf_token", token.as_str()),
                    ("name", "Reader"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("consent", "yes"),
                ],
            )
            .await?;
        if status != 200 {
            return Some(false);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let link = loop {
            if let Some(link) = crate::mime::newest_saved(mail, email, "/signup/confirm/")
                .and_then(|text| crate::mime::path_from(&text, "/signup/confirm/"))
            {
                break link;
            }
            if Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        };
        let (_, _, page) = self.get(&link).await?;
        let token = csrf_token(&page)?;
        let (status, location) = self.post(&link, &[("csrf_token", token.as_str())]).await?;
        Some(status == 303 && location.starts_with("/welcome"))
    }

    async fn logs_in(&mut self, email: &str) -> bool {
        let Some((_, _, form)) = self.get("/login").await else {
            return false;
        };
        let Some(token) = csrf_token(&form) else {
            return false;
        };
        let answer = self
            .post(
                "/login",
                &[
                    ("csrf_token", token.as_str()),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        matches!(answer, Some((303, location)) if location == "/account")
    }
}

fn header(headers: &actix_web::http::header::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn csrf_token(page: &str) -> Option<String> {
    let start = page.find("name=\"csrf_token\" value=\"")? + 25;
    Some(page[start..].split('"').next()?.to_owned())
}

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
