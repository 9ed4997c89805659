//! The harness: starts the release server and chromedriver, opens a browser with an exact
//! viewport, and offers the few actions a journey needs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A viewport a journey runs at.
#[derive(Debug, Clone, Copy)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
}

pub const PHONE: Viewport = Viewport {
    width: 375,
    height: 800,
};
pub const DESKTOP: Viewport = Viewport {
    width: 1440,
    height: 900,
};

/// A child process that is killed when the test ends, pass or fail.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

/// The server, chromedriver and a browser session for one journey at one size.
pub struct Journey {
    pub origin: String,
    pub client: Client,
    shots: PathBuf,
    step: u32,
    /// The viewport's width: the page must fit it.
    width: u32,
    _server: Process,
    _driver: Process,
    _data: tempfile::TempDir,
}

impl Journey {
    pub async fn start(name: &str, viewport: Viewport) -> Self {
        Self::start_with_staff(name, viewport, &[]).await
    }

    /// Starts a journey whose database already holds these accounts, made with the command line
    /// as an operator would: `(email, name, role, password)`.
    pub async fn start_with_staff(
        name: &str,
        viewport: Viewport,
        staff: &[(&str, &str, &str, &str)],
    ) -> Self {
        Self::start_with(name, viewport, staff, None).await
    }

    /// Starts a journey with payments on, against the Stripe stand-in at `stripe`: the plans are
    /// made with `guidepost stripe setup`, and the server gets the webhook secret it printed.
    pub async fn start_paid(name: &str, viewport: Viewport, stripe: &str) -> Self {
        Self::start_with(name, viewport, &[], Some(stripe)).await
    }

    async fn start_with(
        name: &str,
        viewport: Viewport,
        staff: &[(&str, &str, &str, &str)],
        stripe: Option<&str>,
    ) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let binary = std::env::var_os("GUIDEPOST_E2E_BINARY")
            .map_or_else(|| root.join("target/release/guidepost"), PathBuf::from);
        assert!(
            binary.exists(),
            "build the release server first: cargo build --release ({})",
            binary.display()
        );

        let data = tempfile::tempdir().unwrap();
        for (email, person, role, password) in staff {
            let database = data.path().join("guidepost.db");
            let mut child = Command::new(&binary)
                .args([
                    "create-admin",
                    "--email",
                    email,
                    "--name",
                    person,
                    "--database",
                ])
                .arg(&database)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{password}\n").as_bytes())
                .unwrap();
            assert!(child.wait().unwrap().success(), "create-admin {email}");
            if *role != "admin" {
                let status = Command::new(&binary)
                    .args(["users", "set-role", email, role, "--database"])
                    .arg(&database)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success(), "set-role {email}");
            }
        }
        let port = free_port();
        let mut server = Command::new(&binary);
        server
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "2",
                "--database",
            ])
            .arg(data.path().join("guidepost.db"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        if let Some(api) = stripe {
            let stripe_env = [
                (
                    "GUIDEPOST_STRIPE_SECRET_KEY",
                    crate::stripe::standin::SECRET_KEY,
                ),
                ("GUIDEPOST_STRIPE_API_BASE", api),
            ];
            let mut setup = Command::new(&binary);
            setup
                .envs(stripe_env)
                .args([
                    "--base-url",
                    &format!("http://127.0.0.1:{port}"),
                    "--database",
                ])
                .arg(data.path().join("guidepost.db"))
                .args(["stripe", "setup", "--currency", "eur"])
                .args(["--monthly", "9.00", "--yearly", "90.00"]);
            // Off this thread, so the stand-in (served by this runtime) can answer it.
            let out = tokio::task::spawn_blocking(move || setup.output().unwrap())
                .await
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "stripe setup: {stdout}");
            let secret = stdout
                .lines()
                .find_map(|l| l.trim().strip_prefix("GUIDEPOST_STRIPE_WEBHOOK_SECRET="))
                .expect("the webhook secret is printed")
                .to_owned();
            server
                .envs(stripe_env)
                .env("GUIDEPOST_STRIPE_WEBHOOK_SECRET", secret);
        }
        let server = Process(server.spawn().unwrap());
        let driver_port = free_port();
        let driver = Process(
            Command::new("chromedriver")
                .arg(format!("--port={driver_port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver is installed (apt-get install -y chromium chromium-driver)"),
        );
        wait_for_port(port);
        wait_for_port(driver_port);

        let profile = data.path().join("profile");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={},{}", viewport.width.max(800), viewport.height + 200),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("chromedriver starts a Chromium session");
        client
            .issue_cmd(DevTools::new(
                "Emulation.setDeviceMetricsOverride",
                json!({
                    "width": viewport.width,
                    "height": viewport.height,
                    "deviceScaleFactor": 1,
                    "mobile": viewport.width < 600,
                }),
            ))
            .await
            .unwrap();

        let shots = root
            .join("target/screenshots")
            .join(name)
            .join(viewport.width.to_string());
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Self {
            origin: format!("http://127.0.0.1:{port}"),
            client,
            shots,
            step: 0,
            width: viewport.width,
            _server: server,
            _driver: driver,
            _data: data,
        }
    }

    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap();
    }

    /// Clicks the first element matching `css` and waits for the next page.
    pub async fn click(&self, css: &str) {
        let before = self.client.current_url().await.unwrap();
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?}: {e}"));
        element.click().await.unwrap();
        self.wait_for_navigation(&before).await;
    }

    /// Types into the field matching `css` and submits its form by pressing Enter.
    pub async fn search_for(&self, css: &str, text: &str) {
        let before = self.client.current_url().await.unwrap();
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(&format!("{text}\u{e007}")).await.unwrap();
        self.wait_for_navigation(&before).await;
    }

    /// Types `text` into the field matching `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the element matching `css` (a submit button, say) and waits until a new document
    /// has loaded, even at the same address (a form sent back with its errors).
    pub async fn press(&self, css: &str) {
        // Leave the field being typed in first, as a person tapping a button does: on a phone the
        // page can move when a field loses focus.
        self.client
            .execute(
                "window.__guidepostOldPage = true; \
                 if (document.activeElement) { document.activeElement.blur(); } \
                 document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); \
                 return null;",
                vec![json!(css)],
            )
            .await
            .unwrap();
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?}: {e}"));
        element.click().await.unwrap();
        for _ in 0..200 {
            let old = self
                .client
                .execute(
                    "return window.__guidepostOldPage === true || document.readyState !== 'complete';",
                    vec![],
                )
                .await
                .unwrap_or(serde_json::Value::Bool(true));
            if old == serde_json::Value::Bool(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = self.client.current_url().await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join("failed-press.png"), png).unwrap();
        panic!("pressing {css:?} loaded no new page (still at {url})");
    }

    /// The folder of this journey's files (the database, anything to upload).
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    /// The link under `prefix` in the newest mail to `to`, as a path on the site: mail is saved in
    /// the journey's mail folder (no SMTP server). Waits up to ten seconds for it.
    pub fn mail_link(&self, to: &str, prefix: &str) -> String {
        let folder = self.data_dir().join("mail");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(link) = crate::mime::newest_saved(&folder, to, prefix)
                .and_then(|text| crate::mime::path_from(&text, prefix))
            {
                return link;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no mail to {to} with a {prefix} link"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fetches `path` from inside the page, with its cookies, as text.
    pub async fn fetch_text(&self, path: &str) -> String {
        let value = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.text()).then(done, e => done('failed: ' + e));",
                vec![json!(path)],
            )
            .await
            .unwrap();
        value.as_str().unwrap_or_default().to_owned()
    }

    pub async fn back(&self) {
        let before = self.client.current_url().await.unwrap();
        self.client.back().await.unwrap();
        self.wait_for_navigation(&before).await;
    }

    async fn wait_for_navigation(&self, before: &url::Url) {
        for _ in 0..100 {
            if self.client.current_url().await.unwrap() != *before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page did not change from {before}");
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css:?}: {e}"));
        element.text().await.unwrap()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Saves a screenshot as the next numbered step, after checking that the page fits the
    /// viewport's width (nothing to scroll sideways).
    pub async fn shot(&mut self, step: &str) {
        self.step += 1;
        // On a phone, content wider than the screen makes the browser lay the page out wider
        // than the screen (and zoom out), so compare with the screen's width, not the layout's.
        let overflow = self
            .client
            .execute(
                "return Math.max(document.documentElement.scrollWidth, window.innerWidth) - arguments[0];",
                vec![json!(self.width)],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{step}: the page is wider than the screen by {overflow} px"
        );
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{step}.png", self.step)), png).unwrap();
    }

    pub async fn finish(self) {
        self.client.close().await.unwrap();
    }
}

/// A Chrome DevTools Protocol command sent through chromedriver.
#[derive(Debug)]
struct DevTools {
    body: String,
}

impl DevTools {
    fn new(cmd: &str, params: serde_json::Value) -> Self {
        Self {
            body: json!({ "cmd": cmd, "params": params }).to_string(),
        }
    }
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.clone()))
    }
}
