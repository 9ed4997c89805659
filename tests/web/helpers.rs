//! `spawn_app` and a small browser-like client: fetch a page, parse it, follow its links and
//! submit its forms.

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use guidepost::config::{BaseUrl, Secret, Settings};
use guidepost::db::Database;
use guidepost::page_cache::PageCache;
use guidepost::startup::Application;
use scraper::{Html, Selector};

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub origin: String,
    pub database: Database,
    /// Where the app saves its mail (no SMTP server is set unless a test sets one).
    pub mail_folder: PathBuf,
    pub page_cache: Arc<PageCache>,
    pub writes: Arc<guidepost::db::writes::Writes>,
    /// `http://127.0.0.1:PORT/metrics`, when the settings asked for metrics.
    pub metrics: Option<String>,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

/// Stops the server with the test, so its workers (and their database connections) go too.
impl Drop for TestApp {
    fn drop(&mut self) {
        // The command is sent at once; nothing waits for the stop to finish.
        drop(self.server.stop(false));
    }
}

/// Starts the application with the demo articles.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application after `adjust` has changed its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), adjust).await
}

/// The database [`spawn_app_in`] uses for `dir`: a SQLite file in it, or, when
/// `GUIDEPOST_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@host:port`), a database of
/// its own there, made empty on the first call and the same on the next.
pub fn database_in(dir: &tempfile::TempDir) -> Database {
    match postgres_server() {
        Some(server) => Database::Postgres(postgres_database(&server, dir.path())),
        None => Database::Sqlite(dir.path().join("nested").join("guidepost.db")),
    }
}

/// The SQLite file of `app`, for the tests of what only a file has (backups, full disks, the
/// command line's file handling); `None` on PostgreSQL, where such a test has nothing to test.
pub fn sqlite_file(app: &TestApp) -> Option<PathBuf> {
    app.database.sqlite_path().map(PathBuf::from)
}

/// True when the tests run on SQLite. A test of what only SQLite has returns early otherwise.
pub fn on_sqlite() -> bool {
    postgres_server().is_none()
}

/// The server of `GUIDEPOST_TEST_POSTGRES`, if set. Without it, says once on the terminal (past the
/// test harness's capture) that the PostgreSQL runs were skipped.
fn postgres_server() -> Option<String> {
    static SERVER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| {
            let server = std::env::var("GUIDEPOST_TEST_POSTGRES")
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_end_matches('/').to_owned());
            if server.is_none() {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: these tests ran on SQLite only; the PostgreSQL runs were skipped \
                     (GUIDEPOST_TEST_POSTGRES is not set; .ci/run sets it)"
                );
            }
            server
        })
        .clone()
}

/// `server`'s database for the folder `dir`, created when missing.
fn postgres_database(server: &str, dir: &std::path::Path) -> String {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("guidepost_test_{:016x}", hasher.finish());
    let mut admin = diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
    // An error here is the database made by an earlier call for the same folder.
    if admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .is_ok()
    {
        // The tests arrange times with SQLite's datetime('now', '-2 days'); the same here.
        let mut made = diesel::PgConnection::establish(&format!("{server}/{name}")).unwrap();
        made.batch_execute(
            "CREATE FUNCTION datetime(at text, shift text DEFAULT '0 seconds') RETURNS timestamp \
             LANGUAGE sql AS $$ SELECT (CASE WHEN at = 'now' THEN (now() AT TIME ZONE 'UTC') \
             ELSE at::timestamp END) + shift::interval $$;",
        )
        .unwrap();
    }
    format!("{server}/{name}")
}

/// A port free on 127.0.0.1 just now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the application on a database in `dir` (which may have been prepared), after `adjust`.
pub async fn spawn_app_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = database_in(&dir);
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        database: database.clone(),
        mail_folder: Some(dir.path().join("nested").join("mail")),
        change_feed: true,
        base_url: None,
        workers: 1,
        demo_content: true,
        page_cache_bytes: 8 * 1024 * 1024,
        bcrypt_cost: 4,
        signup_limit: 20,
        secret_key: Some(Secret::new("test secret ".repeat(8))),
        smtp_url: None,
        mail_from: None,
        count_views: true,
        trusted_proxies: Default::default(),
        metrics_bind: None,
        client_timeout: std::time::Duration::from_secs(20),
        stripe: None,
    };
    adjust(&mut settings);
    let database = settings.database.clone();
    let mail_folder = guidepost::mail::mail_folder(&settings);
    let app = Application::build(settings).await.unwrap();
    let origin = format!("http://{}", app.address());
    let page_cache = app.page_cache();
    let writes = app.writes();
    let metrics = app
        .metrics_address()
        .map(|address| format!("http://{address}/metrics"));
    let server = app.handle();
    // The server's own loop runs on a thread of its own, so that it outlives the test's runtime
    // long enough to stop its workers when the test drops the app (see `Drop`): they would go on
    // holding database connections otherwise.
    std::thread::spawn(move || actix_web::rt::System::new().block_on(app.run_until_stopped()));
    TestApp {
        origin,
        database,
        mail_folder,
        page_cache,
        writes,
        metrics,
        client: awc::Client::builder()
            .disable_redirects()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        server,
        _dir: dir,
    }
}

/// A fetched response, with helpers to read it as a browser would.
pub struct Page {
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Page {
        self.request(self.client.get(format!("{}{path}", self.origin)), path)
            .await
    }

    pub async fn request(&self, request: awc::ClientRequest, path: &str) -> Page {
        let mut response = request.send().await.unwrap();
        let body = response.body().limit(4 * 1024 * 1024).await.unwrap();
        Page {
            path: path.to_owned(),
            status: response.status(),
            headers: response.headers().clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub fn client(&self) -> &awc::Client {
        &self.client
    }

    /// Follows the first link on `page` matching `selector`.
    pub async fn follow(&self, page: &Page, selector: &str) -> Page {
        let href = page
            .attr(selector, "href")
            .unwrap_or_else(|| panic!("no link {selector:?} on {}", page.path));
        let next = self.get(&href).await;
        assert_eq!(
            next.status,
            StatusCode::OK,
            "following {href} from {}",
            page.path
        );
        next
    }

    /// Fills the GET form matching `form` with `values` (other fields keep their value) and
    /// submits it, as a browser does.
    pub async fn submit_get_form(&self, page: &Page, form: &str, values: &[(&str, &str)]) -> Page {
        let doc = page.doc();
        let form_el = doc
            .select(&sel(form))
            .next()
            .unwrap_or_else(|| panic!("no form {form:?}"));
        let action = form_el
            .value()
            .attr("action")
            .unwrap_or(&page.path)
            .to_owned();
        assert_eq!(form_el.value().attr("method").unwrap_or("get"), "get");
        let mut fields: Vec<(String, String)> = form_el
            .select(&sel("input[name]"))
            .map(|input| {
                let name = input.value().attr("name").unwrap_or_default().to_owned();
                let value = input.value().attr("value").unwrap_or_default().to_owned();
                (name, value)
            })
            .collect();
        for (name, value) in values {
            let field = fields
                .iter_mut()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("form {form:?} has no field {name:?}"));
            field.1 = (*value).to_owned();
        }
        let query = serde_urlencoded::to_string(&fields).unwrap();
        self.get(&format!("{action}?{query}")).await
    }
}

pub fn sel(selector: &str) -> Selector {
    Selector::parse(selector).unwrap_or_else(|_| panic!("bad selector {selector:?}"))
}

impl Page {
    pub fn doc(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The text of every element matching `selector`, whitespace folded.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        self.doc()
            .select(&sel(selector))
            .map(|el| {
                el.text()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing matches {selector:?} on {}", self.path))
    }

    pub fn attr(&self, selector: &str, attr: &str) -> Option<String> {
        self.doc()
            .select(&sel(selector))
            .find_map(|el| el.value().attr(attr).map(str::to_owned))
    }

    /// Every `href` on the page.
    pub fn links(&self) -> Vec<String> {
        self.doc()
            .select(&sel("a[href]"))
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Imports Markdown articles into the app's database, as `guidepost import` does.
pub fn import_articles(app: &TestApp, files: &[(&str, &str)]) {
    let pool = guidepost::db::open(&app.database, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    let report = guidepost::content::import(&mut conn, &sources, &[], &[]).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

/// An article file with the given front-matter lines added to a working minimum.
pub fn article(title: &str, extra: &str, body: &str) -> String {
    format!(
        "---\ntitle: {title}\nsummary: A test article.\nauthor: Test Author <author@example.com>\n\
         published: 2026-11-01\n{extra}---\n{body}\n"
    )
}

pub fn base_url(url: &str) -> Option<BaseUrl> {
    Some(BaseUrl::parse(url).unwrap())
}
