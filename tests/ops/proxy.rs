//! The site behind Debian's nginx, as `deploy/nginx.conf` sets it up: TLS at nginx (a certificate
//! made for the test), the release build behind it with an `https://` address and nginx named as
//! its trusted proxy. A journey through it (sign-up by the mailed link, log-in) gets `__Host-`
//! cookies and HSTS; limits count the client nginx saw, whatever `X-Forwarded-For` a client forges.
//! Clients come from different loopback addresses (curl `--interface`), nginx from its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{Server, free_port};

/// nginx connects to the site from this address, the one the site trusts.
pub(crate) const PROXY_ADDRESS: &str = "127.0.0.2";

pub(crate) struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A certificate and key for 127.0.0.1, made with openssl.
pub(crate) fn certificate(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    made.success().then_some((cert, key))
}

/// nginx on `https_port`, forwarding to the site on `app_port`, with the site of `deploy/` as its
/// configuration (the same proxy headers), its paths and ports put in.
pub(crate) fn start_nginx(
    dir: &Path,
    https_port: u16,
    app_ports: &[u16],
    cert: &Path,
    key: &Path,
) -> Nginx {
    let site =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .unwrap();
    // The deploy file's server for HTTPS, with this test's certificate, ports and addresses.
    let server = site
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{https_port} ssl http2;"),
        )
        .replace("listen [::]:443 ssl http2;", "")
        .replace(
            "/etc/letsencrypt/live/articles.example.com/fullchain.pem",
            cert.to_str().unwrap(),
        )
        .replace(
            "/etc/letsencrypt/live/articles.example.com/privkey.pem",
            key.to_str().unwrap(),
        )
        .replace(
            "server 127.0.0.1:8080 max_fails=1 fail_timeout=5s;",
            &app_ports
                .iter()
                .map(|port| format!("server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"))
                .collect::<String>(),
        )
        .replace(
            "proxy_pass http://guidepost;",
            // Which instance answered, for the tests of several.
            &format!(
                "proxy_pass http://guidepost; proxy_bind {PROXY_ADDRESS}; \
                 add_header X-Upstream $upstream_addr always;"
            ),
        );
    let server = only_https_server(&server);
    let d = dir.display();
    let config = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  \
         proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
         scgi_temp_path {d}/scgi;\n{server}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(nginx_binary().unwrap())
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", https_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Nginx { child }
}

/// The `upstream` block and the `server` block that listens with TLS, from the deploy file (the
/// other one only redirects plain HTTP).
fn only_https_server(site: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut block = String::new();
    for line in site.lines() {
        let trimmed = line.trim();
        if depth == 0 && trimmed.starts_with('#') {
            continue;
        }
        block.push_str(line);
        block.push('\n');
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
        if depth == 0 && !block.trim().is_empty() {
            if block.trim_start().starts_with("upstream") || block.contains(" ssl ") {
                out.push_str(&block);
            }
            block.clear();
        }
    }
    out
}

/// A person's browser: curl with a cookie jar, from its own loopback address.
pub(crate) struct Curl {
    jar: PathBuf,
    interface: String,
    cert: PathBuf,
    origin: String,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

impl Curl {
    pub(crate) fn new(dir: &Path, name: &str, interface: &str, cert: &Path, origin: &str) -> Self {
        Self {
            jar: dir.join(format!("{name}.jar")),
            interface: interface.to_owned(),
            cert: cert.to_owned(),
            origin: origin.to_owned(),
        }
    }

    pub(crate) fn run(&self, path: &str, extra: &[&str]) -> Answer {
        let headers = self.jar.with_extension("headers");
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--interface", &self.interface])
            .arg("--cacert")
            .arg(&self.cert)
            .arg("-c")
            .arg(&self.jar)
            .arg("-b")
            .arg(&self.jar)
            .arg("-D")
            .arg(&headers)
            .args(extra)
            .arg(format!("{}{path}", self.origin))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let headers = std::fs::read_to_string(&headers).unwrap_or_default();
        let status = headers
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&output.stdout).into_owned(),
        }
    }

    pub(crate) fn get(&self, path: &str) -> Answer {
        self.run(path, &[])
    }

    pub(crate) fn post(&self, path: &str, fields: &[(&str, &str)], extra: &[&str]) -> Answer {
        let mut args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        for (name, value) in fields {
            args.push("--data-urlencode".to_owned());
            args.push(format!("{name}={value}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(path, &args)
    }
}

/// Signs `email` up through the form `form` came from, follows the link mailed into `mail` and
/// confirms with the same password: the answer to the confirmation (303 into the account).
pub(crate) fn sign_up_by_mail(client: &Curl, mail: &Path, email: &str) -> Answer {
    const PASSWORD: &str = "correct horse battery";
    let form = client.get("/signup");
    assert_eq!(form.status, 200, "{}", form.body);
    let sent = client.post(
        "/signup",
        &[
            ("csrf_token", &token(&form.body)),
            ("name", "Ana"),
            ("email", email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("consent", "yes"),
        ],
        &[],
    );
    assert_eq!(sent.status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let link = loop {
        if let Some(link) = crate::mime::newest_saved(mail, email, "/signup/confirm/")
            .and_then(|t| crate::mime::path_from(&t, "/signup/confirm/"))
        {
            break link;
        }
        assert!(Instant::now() < deadline, "no mail");
        std::thread::sleep(Duration::from_millis(50));
    };
    let page = client.get(&link);
    let confirmed = client.post(
        &link,
        &[("csrf_token", &token(&page.body)), ("password", PASSWORD)],
        &[],
    );
    assert_eq!(confirmed.status, 303);
    confirmed
}

pub(crate) fn token(page: &str) -> String {
    let start = page.find("name=\"csrf_token\" value=\"").expect("a form") + 25;
    page[start..].split('"').next().unwrap().to_owned()
}

pub(crate) fn header<'a>(answer: &'a Answer, name: &str) -> Vec<&'a str> {
    answer
        .headers
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

#[test]
fn behind_nginx_a_journey_gets_host_cookies_and_hsts_and_limits_count_the_real_client() {
    let Some(_) = nginx_binary() else {
        println!("skipped: nginx is not installed (apt-get install nginx)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key)) = certificate(dir.path()) else {
        println!("skipped: openssl cannot make a certificate here");
        return;
    };
    let (https_port, app_port) = (free_port(), free_port());
    let origin = format!("https://127.0.0.1:{https_port}");
    let database = dir.path().join("guidepost.db");
    let _server = Server::start(
        &database,
        app_port,
        &["--base-url", &origin, "--trusted-proxy", PROXY_ADDRESS],
    );
    let _nginx = start_nginx(dir.path(), https_port, &[app_port], &cert, &key);

    // A reader signs up through the proxy, by the mailed link.
    let ana = Curl::new(dir.path(), "ana", "127.0.0.11", &cert, &origin);
    let form = ana.get("/signup");
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        header(&form, "strict-transport-security"),
        ["max-age=31536000"]
    );
    let csrf = header(&form, "set-cookie");
    assert!(
        csrf.iter()
            .any(|c| c.starts_with("__Host-guidepost_csrf=") && c.contains("Secure")),
        "{csrf:?}"
    );
    let confirmed = sign_up_by_mail(&ana, &dir.path().join("mail"), "ana@example.com");
    let cookies = header(&confirmed, "set-cookie");
    for name in ["__Host-guidepost_session=", "__Host-guidepost_device="] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {cookies:?}"));
        assert!(
            cookie.contains("Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        assert!(
            cookie.contains("Path=/") && !cookie.contains("Domain"),
            "{cookie}"
        );
    }
    assert_eq!(
        ana.get("/account").status,
        200,
        "logged in through the proxy"
    );

    // Failed log-ins are counted per client as nginx saw it: forged X-Forwarded-For values
    // change nothing, and another client is apart.
    let eve = Curl::new(dir.path(), "eve", "127.0.0.21", &cert, &origin);
    for n in 0..5 {
        let form = eve.get("/login");
        // A readable forged address, or bytes that are not text beside a forged `Forwarded`
        // (from a file: curl sends header lines read that way as they are).
        let forged = if n % 2 == 0 {
            format!("X-Forwarded-For: 198.51.100.{n}")
        } else {
            let file = dir.path().join(format!("forged-{n}.txt"));
            let mut line = b"X-Forwarded-For: \xff\xfe\r\n".to_vec();
            line.extend_from_slice(format!("Forwarded: for=6.6.6.{n}\r\n").as_bytes());
            std::fs::write(&file, line).unwrap();
            format!("@{}", file.display())
        };
        let answer = eve.post(
            "/login",
            &[
                ("csrf_token", &token(&form.body)),
                ("email", "ana@example.com"),
                ("password", "a wrong guess"),
            ],
            &["-H", &forged],
        );
        assert_eq!(answer.status, 422, "guess {n}");
    }
    let form = eve.get("/login");
    let refused = eve.post(
        "/login",
        &[
            ("csrf_token", &token(&form.body)),
            ("email", "ana@example.com"),
            ("password", "a wrong guess"),
        ],
        &["-H", "X-Forwarded-For: 203.0.113.99"],
    );
    assert_eq!(refused.status, 429);
    assert!(!header(&refused, "retry-after").is_empty());
    // Ana's own browser, elsewhere, logs in at once.
    let logout_form = ana.get("/account");
    ana.post("/logout", &[("csrf_token", &token(&logout_form.body))], &[]);
    let form = ana.get("/login");
    let back = ana.post(
        "/login",
        &[
            ("csrf_token", &token(&form.body)),
            ("email", "ana@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    );
    assert_eq!(back.status, 303);
    assert_eq!(header(&back, "location"), ["/account"]);
}
