//! A browser for the member tests: it keeps cookies, follows redirects, and submits forms with
//! every field they carry (the CSRF token included), as a person's browser does. Also a real SMTP
//! server (mailin's state machine on a TCP socket) that keeps what it receives.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::prelude::*;

use crate::helpers::{Page, TestApp, sel};
pub use crate::mime::decode_mime;

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: RefCell<BTreeMap<String, String>>,
    user_agent: &'static str,
    /// The client address a trusted proxy in front of the app would name (`X-Forwarded-For`).
    forwarded_for: Option<String>,
    /// Send `Origin` with posts, as a browser does.
    origin: bool,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::with_agent(app, FIREFOX)
    }

    pub fn with_agent(app: &'a TestApp, user_agent: &'static str) -> Self {
        Self {
            app,
            cookies: RefCell::new(BTreeMap::new()),
            user_agent,
            forwarded_for: None,
            origin: false,
        }
    }

    /// A browser that sends `Origin` with its posts, as real ones do (the app's origin must be its
    /// base URL).
    pub fn sending_origin(app: &'a TestApp) -> Self {
        let mut browser = Self::new(app);
        browser.origin = true;
        browser
    }

    /// A browser at client address `address`, as a proxy trusted by the app reports it.
    pub fn at(app: &'a TestApp, address: &str) -> Self {
        let mut browser = Self::new(app);
        browser.forwarded_for = Some(address.to_owned());
        browser
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .borrow_mut()
            .insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, page: &Page) {
        for value in page.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let removed = attributes.to_lowercase().contains("max-age=0");
            let mut cookies = self.cookies.borrow_mut();
            if removed {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    fn request(&self, method: &str, path: &str) -> awc::ClientRequest {
        let mut request = self
            .app
            .client()
            .request(
                method.parse().unwrap(),
                format!("{}{path}", self.app.origin),
            )
            .insert_header(("User-Agent", self.user_agent));
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            request = request.insert_header(("Cookie", cookies));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.insert_header(("X-Forwarded-For", address.as_str()));
        }
        request
    }

    /// One GET, no redirect followed.
    pub async fn get(&self, path: &str) -> Page {
        let page = self.app.request(self.request("GET", path), path).await;
        self.keep_cookies(&page);
        page
    }

    /// One POST of `fields`, no redirect followed.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self.request("POST", path);
        if self.origin {
            request = request.insert_header(("Origin", self.app.origin.as_str()));
        }
        let mut response = request.send_form(&fields).await.unwrap();
        let body = response.body().limit(4 * 1024 * 1024).await.unwrap();
        let page = Page {
            path: path.to_owned(),
            status: response.status(),
            headers: response.headers().clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        self.keep_cookies(&page);
        page
    }

    /// Follows redirects from `page` as a browser does, with GETs.
    pub async fn follow_redirects(&self, mut page: Page) -> Page {
        for _ in 0..5 {
            if !page.status.is_redirection() || page.status == StatusCode::NOT_MODIFIED {
                return page;
            }
            let location = page.header("location").unwrap().to_owned();
            page = self.get(&location).await;
        }
        panic!("too many redirects from {}", page.path);
    }

    /// GET `path`, following redirects.
    pub async fn visit(&self, path: &str) -> Page {
        let page = self.get(path).await;
        self.follow_redirects(page).await
    }

    /// The fields the form matching `form` would send: every named input (a checkbox only when
    /// ticked), then `values` in place of theirs (an empty value unticks a checkbox) or added.
    pub fn form_fields(
        page: &Page,
        form: &str,
        values: &[(&str, &str)],
    ) -> (String, Vec<(String, String)>) {
        let doc = page.doc();
        let form_el = doc
            .select(&sel(form))
            .next()
            .unwrap_or_else(|| panic!("no form {form:?} on {}", page.path));
        assert_eq!(form_el.value().attr("method"), Some("post"), "{form}");
        let action = form_el.value().attr("action").unwrap().to_owned();
        let mut fields: Vec<(String, String)> = Vec::new();
        for input in form_el.select(&sel("input[name], textarea[name], select[name]")) {
            let el = input.value();
            let name = el.attr("name").unwrap().to_owned();
            let value = match el.name() {
                "textarea" => input.text().collect::<String>(),
                "select" => {
                    let options: Vec<_> = input.select(&sel("option")).collect();
                    options
                        .iter()
                        .find(|o| o.value().attr("selected").is_some())
                        .or(options.first())
                        .and_then(|o| o.value().attr("value"))
                        .unwrap_or_default()
                        .to_owned()
                }
                _ => el.attr("value").unwrap_or_default().to_owned(),
            };
            let kind = el.attr("type");
            if matches!(kind, Some("checkbox" | "radio")) && el.attr("checked").is_none() {
                continue;
            }
            if matches!(kind, Some("file")) {
                continue;
            }
            fields.push((name, value));
        }
        for (name, value) in values {
            fields.retain(|(n, _)| n != name);
            if !value.is_empty() || !is_checkbox(&form_el, name) {
                fields.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        (action, fields)
    }

    /// Fills in and submits a form of `page`, following the redirect after it.
    pub async fn submit(&self, page: &Page, form: &str, values: &[(&str, &str)]) -> Page {
        let (action, fields) = Self::form_fields(page, form, values);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = self.post(&action, &pairs).await;
        self.follow_redirects(answer).await
    }

    /// Deletes the account from `account` (the account page) with `password`; returns the page
    /// landed on.
    pub async fn delete_account(&self, account: &Page, password: &str) -> Page {
        self.submit(
            account,
            "form[action='/account/delete']",
            &[("delete_password", password)],
        )
        .await
    }

    /// Signs up through the form, from the sign-up page, then follows the link mailed to the
    /// address (saved in the mail folder) and presses its button; returns the page landed on.
    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> Page {
        let before = saved_links(self.app, email, "/signup/confirm/");
        self.ask_to_sign_up(name, email, password).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let link = loop {
            if let Some(link) = saved_links(self.app, email, "/signup/confirm/")
                .into_iter()
                .find(|link| !before.contains(link))
            {
                break link;
            }
            assert!(Instant::now() < deadline, "no new sign-up mail to {email}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        };
        self.confirm_sign_up(&link, password).await
    }

    /// As [`Self::sign_up`], when the app sends mail to `mail`, a real SMTP server.
    pub async fn sign_up_by_smtp(
        &self,
        name: &str,
        email: &str,
        password: &str,
        mail: &MailServer,
    ) -> Page {
        self.ask_to_sign_up(name, email, password).await;
        let message = mail.wait_for(email, "Confirm your address").await;
        let link = link_in(&message, &self.app.origin, "/signup/confirm/");
        self.confirm_sign_up(&link, password).await
    }

    /// Fills in and sends the sign-up form; returns the "check your inbox" page.
    pub async fn ask_to_sign_up(&self, name: &str, email: &str, password: &str) -> Page {
        let form = self.visit("/signup").await;
        let sent = self
            .submit(
                &form,
                "form[action='/signup']",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", password),
                    ("password_confirm", password),
                    ("consent", "yes"),
                ],
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(sent.text("h1"), "Check your inbox");
        sent
    }

    /// Opens a sign-up confirmation link, types the password chosen at sign-up and presses the
    /// button; returns the page landed on.
    pub async fn confirm_sign_up(&self, link: &str, password: &str) -> Page {
        let page = self.visit(link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        self.submit(&page, "form.form", &[("password", password)])
            .await
    }

    /// Logs in through the form; returns the page landed on.
    pub async fn log_in(&self, email: &str, password: &str) -> Page {
        let form = self.visit("/login").await;
        self.submit(
            &form,
            "form[action='/login']",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Presses the header's log-out button on `page`.
    pub async fn log_out(&self, page: &Page) -> Page {
        self.submit(page, "form[action='/logout']", &[]).await
    }
}

fn is_checkbox(form: &scraper::ElementRef<'_>, name: &str) -> bool {
    form.select(&sel(&format!("input[name='{name}']")))
        .any(|el| el.value().attr("type") == Some("checkbox"))
}

/// A connection to the test app's database, for arranging and checking what pages cannot show.
pub fn database(app: &TestApp) -> guidepost::db::DbConn {
    let mut conn = guidepost::db::establish(&app.database).unwrap();
    let setup = if app.database.sqlite_path().is_some() {
        "PRAGMA busy_timeout = 5000;"
    } else {
        "SET TIME ZONE 'UTC';"
    };
    diesel::connection::SimpleConnection::batch_execute(&mut conn, setup).unwrap();
    conn
}

/// Runs SQL against the test app's database, as another process would (the command line, a
/// second instance), and waits until the app has noticed the commit, as it does within a tenth
/// of a second: until then, a member's session may still be served as it was.
pub fn sql(app: &TestApp, statement: &str) {
    diesel::connection::SimpleConnection::batch_execute(&mut database(app), statement).unwrap();
    wait_until_noticed(app);
}

/// Waits until the app has looked for other processes' commits twice since now, so one made
/// before this call has been noticed.
pub fn wait_until_noticed(app: &TestApp) {
    let seen = app.writes.looks() + 2;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.writes.looks() < seen {
        assert!(
            std::time::Instant::now() < deadline,
            "the app did not notice the change"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A count from the test app's database.
pub fn count(app: &TestApp, query: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // Whatever the query's integer type (PostgreSQL tells int4 from int8), as a 64-bit number.
    diesel::sql_query(format!("SELECT CAST(n AS BIGINT) AS n FROM ({query}) AS q"))
        .get_result::<N>(&mut database(app))
        .unwrap()
        .n
}

/// A real SMTP server on 127.0.0.1 that accepts every message and keeps it.
pub struct MailServer {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

struct Keep {
    current: Vec<u8>,
    received: Arc<Mutex<Vec<String>>>,
}

impl mailin::Handler for Keep {
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        let message = String::from_utf8_lossy(&std::mem::take(&mut self.current)).into_owned();
        self.received.lock().unwrap().push(message);
        mailin::response::OK
    }
}

impl MailServer {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || {
                    let peer = stream.peer_addr().unwrap().ip();
                    let mut session = mailin::SessionBuilder::new("mail.test").build(
                        peer,
                        Keep {
                            current: Vec::new(),
                            received: kept,
                        },
                    );
                    let mut writer = stream.try_clone().unwrap();
                    session.greeting().write_to(&mut writer).unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let response = session.process(&line);
                        match response.action {
                            mailin::Action::Reply => response.write_to(&mut writer).unwrap(),
                            mailin::Action::Close => {
                                let _ = response.write_to(&mut writer);
                                let _ = writer.flush();
                                return;
                            }
                            mailin::Action::NoReply => {}
                            _ => {}
                        }
                    }
                });
            }
        });
        Self { port, received }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The text of the first message to `to` whose subject contains `subject`, waiting up to ten
    /// seconds for it (without blocking the runtime the mail sender runs on); transfer encodings
    /// undone.
    pub async fn wait_for(&self, to: &str, subject: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(found) = self
                .received()
                .into_iter()
                .find(|m| m.contains(&format!("To: {to}")) && m.contains(subject))
            {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} about {subject:?}; received: {:#?}",
                self.received()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn received(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|m| decode_mime(m))
            .collect()
    }
}

/// The link starting with `prefix` in the newest message to `to` saved in the app's mail folder
/// (the app has no SMTP server), waiting up to ten seconds for it.
pub async fn saved_link(app: &TestApp, to: &str, prefix: &str) -> String {
    let message = saved_mail(app, to, prefix).await;
    crate::mime::path_from(&message, prefix).unwrap_or_else(|| panic!("no {prefix} link"))
}

/// Every link starting with `prefix` in the messages to `to` saved in the app's mail folder now.
pub fn saved_links(app: &TestApp, to: &str, prefix: &str) -> Vec<String> {
    let folder = app.mail_folder.clone();
    std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| decode_mime(&std::fs::read_to_string(e.path()).unwrap_or_default()))
                .filter(|text| text.contains(&format!("To: {to}")))
                .filter_map(|text| crate::mime::path_from(&text, prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// The newest message to `to` containing `needle` in the app's mail folder, decoded, waiting up
/// to ten seconds for it.
pub async fn saved_mail(app: &TestApp, to: &str, needle: &str) -> String {
    let folder = app.mail_folder.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(text) = crate::mime::newest_saved(&folder, to, needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no saved mail to {to} containing {needle:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first link in `text` that starts with `prefix`, as a path on the site.
pub fn link_in(text: &str, origin: &str, prefix: &str) -> String {
    let start = text
        .find(&format!("{origin}{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    let link: String = text[start + origin.len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    link
}
