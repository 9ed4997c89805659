//! Several instances: PostgreSQL from Debian's package (a throwaway cluster, `scripts/postgres`),
//! two release instances on it and Debian's nginx in front, configured by `deploy/nginx.conf` with
//! both in its upstream. nginx names the instance that answered (`X-Upstream`), so each check
//! below is seen on both instances.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::proxy::{
    Curl, PROXY_ADDRESS, certificate, header, nginx_binary, sign_up_by_mail, start_nginx, token,
};
use crate::server::{Server, free_port};

const PASSWORD: &str = "correct horse battery";

/// A PostgreSQL cluster of the test's own, stopped when dropped.
struct Postgres {
    dir: std::path::PathBuf,
    url: String,
}

impl Postgres {
    fn start(dir: &Path) -> Option<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
        let dir = dir.join("postgres");
        let output = Command::new(script)
            .arg("start")
            .arg(&dir)
            .arg(free_port().to_string())
            .output()
            .ok()?;
        if !output.status.success() {
            println!(
                "skipped: PostgreSQL cannot be started here: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        let server = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let created = Command::new("psql")
            .arg(format!("{server}/postgres"))
            .args(["-qc", "CREATE DATABASE site"])
            .status()
            .ok()?;
        assert!(created.success());
        Some(Self {
            dir,
            url: format!("{server}/site"),
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres");
        let _ = Command::new(script).arg("stop").arg(&self.dir).status();
    }
}

fn instance(postgres: &Postgres, dir: &Path, port: u16, origin: &str) -> Server {
    Server::start_logged(
        postgres.url.as_ref(),
        dir.join(format!("instance-{port}.log")),
        port,
        &[
            "--base-url",
            origin,
            "--trusted-proxy",
            PROXY_ADDRESS,
            "--mail-folder",
            dir.join("mail").to_str().unwrap(),
        ],
        &[("GUIDEPOST_SECRET_KEY", &"shared key ".repeat(8))],
    )
}

/// The value of the input `name` in a page's form (unescaped enough for the settings' plain text).
fn field_value(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\"")).unwrap();
    let tag_start = page[..at].rfind('<').unwrap();
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>').unwrap()];
    tag.split("value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
}

fn upstream(answer: &crate::proxy::Answer) -> String {
    header(answer, "x-upstream").join(",")
}

/// Asks `path` through nginx until both instances have answered; each answer goes to `check`.
fn on_both(client: &Curl, path: &str, ports: [u16; 2], check: impl Fn(&crate::proxy::Answer)) {
    let mut seen = [false, false];
    for _ in 0..10 {
        let answer = client.get(path);
        check(&answer);
        let by = upstream(&answer);
        for (i, port) in ports.iter().enumerate() {
            seen[i] |= by.ends_with(&format!(":{port}"));
        }
        if seen == [true, true] {
            return;
        }
    }
    panic!("one instance never answered {path}: {seen:?}");
}

#[test]
fn two_instances_behind_nginx_share_sessions_pages_limits_and_mail_and_survive_one_dying() {
    if nginx_binary().is_none() {
        println!("skipped: nginx is not installed (apt-get install nginx)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(postgres) = Postgres::start(dir.path()) else {
        return;
    };
    let Some((cert, key)) = certificate(dir.path()) else {
        println!("skipped: openssl cannot make a certificate here");
        return;
    };
    let (https_port, ports) = (free_port(), [free_port(), free_port()]);
    let origin = format!("https://127.0.0.1:{https_port}");
    // Started together: the migrations' lock lets one apply them while the other waits.
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| instance(&postgres, dir.path(), ports[0], &origin));
        let second = scope.spawn(|| instance(&postgres, dir.path(), ports[1], &origin));
        (first.join().unwrap(), second.join().unwrap())
    });
    let mut instances = [Some(first), Some(second)];
    let _nginx = start_nginx(dir.path(), https_port, &ports, &cert, &key);

    // A reader signs up through nginx by the mailed link; the mail goes out once.
    let ana = Curl::new(dir.path(), "ana", "127.0.0.11", &cert, &origin);
    let mail = dir.path().join("mail");
    sign_up_by_mail(&ana, &mail, "ana@example.com");
    // Both instances' outbox senders had time to claim the message again.
    std::thread::sleep(Duration::from_secs(2));
    let mails = std::fs::read_dir(&mail)
        .unwrap()
        .filter(|entry| {
            std::fs::read_to_string(entry.as_ref().unwrap().path())
                .unwrap_or_default()
                .contains("ana@example.com")
        })
        .count();
    assert_eq!(mails, 1, "the confirmation went out once");

    // The session made by one instance is good on both.
    on_both(&ana, "/account", ports, |answer| {
        assert_eq!(answer.status, 200, "{}", upstream(answer));
        assert!(answer.body.contains("Ana"));
    });

    // Ana becomes an admin (from the command line, as a site owner would) and takes an article
    // down: neither instance shows it a moment later.
    let made = Command::new(crate::server::binary())
        .arg("--database")
        .arg(&postgres.url)
        .args(["users", "set-role", "ana@example.com", "admin"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let list = ana.get("/admin/articles");
    assert_eq!(list.status, 200, "{}", list.body);
    let start = list.body.find("href=\"/articles/").unwrap() + 6;
    let article = list.body[start..].split('"').next().unwrap().to_owned();
    let action_start = list.body.find("/unpublish\"").unwrap();
    let action_begin = list.body[..action_start].rfind('"').unwrap() + 1;
    let action = list.body[action_begin..action_start + 10].to_owned();
    on_both(&ana, &article, ports, |answer| {
        assert_eq!(answer.status, 200)
    });
    let done = ana.post(&action, &[("csrf_token", &token(&list.body))], &[]);
    assert!(done.status < 400, "{}", done.status);
    std::thread::sleep(Duration::from_millis(100));
    on_both(&ana, &article, ports, |answer| {
        assert_eq!(answer.status, 404, "{}", upstream(answer));
    });

    // Failed log-ins count on both: five wrong guesses for an account from one client, through
    // whichever instance, and the sixth is refused.
    let eve = Curl::new(dir.path(), "eve", "127.0.0.21", &cert, &origin);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let form = eve.get("/login");
        let answer = eve.post(
            "/login",
            &[
                ("csrf_token", &token(&form.body)),
                ("email", "ana@example.com"),
                ("password", "wrong password"),
            ],
            &[],
        );
        statuses.push((answer.status, upstream(&answer)));
    }
    assert!(statuses[..5].iter().all(|(s, _)| *s == 422), "{statuses:?}");
    assert_eq!(statuses[5].0, 429, "{statuses:?}");

    // One instance dies: the site goes on answering through the other.
    if let Some(mut dead) = instances[0].take() {
        dead.kill();
    }
    for _ in 0..20 {
        let answer = ana.get("/account");
        assert_eq!(answer.status, 200);
        assert!(
            upstream(&answer).ends_with(&format!(":{}", ports[1])),
            "{}",
            upstream(&answer)
        );
    }
    // While it is down, the title changes; started again, it shows the new one.
    let settings = ana.get("/admin/settings");
    let kept = |name: &str| field_value(&settings.body, name);
    let saved = ana.post(
        "/admin/settings",
        &[
            ("csrf_token", &token(&settings.body)),
            ("site_title", "Backend Weekly"),
            ("site_tagline", &kept("site_tagline")),
            ("site_description", &kept("site_description")),
            ("trial_days", &kept("trial_days")),
            ("signups_open", "yes"),
            ("session_idle_days", &kept("session_idle_days")),
            ("session_absolute_days", &kept("session_absolute_days")),
            ("grace_days", &kept("grace_days")),
        ],
        &[],
    );
    assert!(saved.status < 400, "{}: {}", saved.status, saved.body);
    instances[0] = Some(instance(&postgres, dir.path(), ports[0], &origin));
    // nginx tries the restarted one again once its fail_timeout (5 s) has passed.
    let back = std::time::Instant::now();
    while !upstream(&ana.get("/")).ends_with(&format!(":{}", ports[0])) {
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "the restarted instance never answered"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    on_both(&ana, "/", ports, |answer| {
        assert!(
            answer.body.contains("Backend Weekly"),
            "{}",
            upstream(answer)
        );
    });
    on_both(&ana, &article, ports, |answer| {
        assert_eq!(answer.status, 404)
    });
}
