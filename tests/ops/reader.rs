//! A client for the release server that gives up quietly when the server goes away: cookies,
//! the client address a trusted proxy would name, and the few journeys the operations tests take.

use std::path::Path;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery";

/// A client that gives up quietly when the server goes away.
pub struct Reader {
    client: awc::Client,
    origin: String,
    address: String,
    pub csrf: Option<String>,
    pub session: Option<String>,
    pub device: Option<String>,
}

impl Reader {
    pub fn new(origin: &str, address: String) -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(5))
                .finish(),
            origin: origin.to_owned(),
            address,
            csrf: None,
            session: None,
            device: None,
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
        if let Some(device) = &self.device {
            cookies.push(format!("guidepost_device={device}"));
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
                    "guidepost_device" => self.device = Some(value.to_owned()),
                    _ => {}
                }
            }
        }
    }

    /// GET `path`: the status, `Location` and body, or `None` when the server is gone.
    pub async fn get(&mut self, path: &str) -> Option<(u16, String, String)> {
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

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Option<(u16, String)> {
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
    pub async fn sign_up(&mut self, email: &str, mail: &Path) -> Option<bool> {
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
        let (status, location) = self
            .post(
                &link,
                &[("csrf_token", token.as_str()), ("password", PASSWORD)],
            )
            .await?;
        Some(status == 303 && location.starts_with("/welcome"))
    }

    pub async fn logs_in(&mut self, email: &str) -> bool {
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

pub fn csrf_token(page: &str) -> Option<String> {
    let start = page.find("name=\"csrf_token\" value=\"")? + 25;
    Some(page[start..].split('"').next()?.to_owned())
}
