//! CSRF protection for every form. Each form carries a token and every POST checks it, and the
//! `Origin` header when the browser sends one; a failure changes nothing and answers 403.
//!
//! A logged-in member's token is a secret kept in their session. A visitor without a session
//! (the sign-up and log-in forms) gets a random value in a cookie of its own, and the form carries
//! an HMAC of that value under the site's key (a "signed double-submit" token): no database row is
//! written for them, and a cookie planted by someone else cannot be paired with a valid token.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use subtle::ConstantTimeEq;

use super::Secrets;

/// The name of the form field that carries the token.
pub const FIELD: &str = "csrf_token";
/// The visitor's CSRF cookie over plain HTTP, and over HTTPS.
pub const COOKIE: &str = "guidepost_csrf";
pub const SECURE_COOKIE: &str = "__Host-guidepost_csrf";

/// A CSRF cookie to set on the response: the visitor had none when a form was rendered.
#[derive(Debug, Clone)]
pub struct NewCookie(pub String);

/// The cookie that carries the value of `value`.
pub fn cookie(value: String, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::new(if secure { SECURE_COOKIE } else { COOKIE }, value);
    cookie.set_http_only(true);
    cookie.set_secure(secure);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie
}

/// The value of the visitor's CSRF cookie, if they have one that looks like ours.
pub fn cookie_value(req: &HttpRequest, secure: bool) -> Option<String> {
    req.cookie(if secure { SECURE_COOKIE } else { COOKIE })
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token a form carries for a visitor whose CSRF cookie holds `value`.
pub fn signed_token(secrets: &Secrets, value: &str) -> String {
    secrets.sign(&["csrf", value])
}

/// Why a POST was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The `Origin` header names another site.
    ForeignOrigin,
    /// No token, or not the right one.
    BadToken,
}

/// Checks a POST: its `Origin` (when sent) must be the site's own, and `submitted` must be the
/// session's token or the one signed for the visitor's CSRF cookie.
pub fn check(
    req: &HttpRequest,
    submitted: &str,
    session_secret: Option<&str>,
    secrets: &Secrets,
    origin: &str,
    secure: bool,
) -> Result<(), Refusal> {
    if let Some(sent) = req.headers().get(header::ORIGIN)
        && sent.as_bytes() != origin.as_bytes()
    {
        return Err(Refusal::ForeignOrigin);
    }
    if submitted.is_empty() {
        return Err(Refusal::BadToken);
    }
    let matches = |expected: &str| bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()));
    if session_secret.is_some_and(matches) {
        return Ok(());
    }
    match cookie_value(req, secure) {
        Some(value) if matches(&signed_token(secrets, &value)) => Ok(()),
        _ => Err(Refusal::BadToken),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn secrets() -> Secrets {
        Secrets::from_secret(&"k".repeat(64)).unwrap()
    }

    #[test]
    fn a_token_signed_for_the_visitors_cookie_passes_and_nothing_else_does() {
        let secrets = secrets();
        let value = "ab".repeat(32);
        let token = signed_token(&secrets, &value);
        let req = TestRequest::post()
            .cookie(Cookie::new(COOKIE, value.clone()))
            .to_http_request();
        let origin = "http://127.0.0.1:8080";
        assert_eq!(check(&req, &token, None, &secrets, origin, false), Ok(()));
        assert_eq!(
            check(&req, &value, None, &secrets, origin, false),
            Err(Refusal::BadToken),
            "the cookie's own value is not a token"
        );
        assert_eq!(
            check(&req, "", None, &secrets, origin, false),
            Err(Refusal::BadToken)
        );
        let no_cookie = TestRequest::post().to_http_request();
        assert_eq!(
            check(&no_cookie, &token, None, &secrets, origin, false),
            Err(Refusal::BadToken)
        );
    }

    #[test]
    fn a_session_token_passes_and_a_foreign_origin_never_does() {
        let secrets = secrets();
        let origin = "http://127.0.0.1:8080";
        let req = TestRequest::post().to_http_request();
        assert_eq!(
            check(&req, "s3cret", Some("s3cret"), &secrets, origin, false),
            Ok(())
        );
        let foreign = TestRequest::post()
            .insert_header((header::ORIGIN, "https://evil.example"))
            .to_http_request();
        assert_eq!(
            check(&foreign, "s3cret", Some("s3cret"), &secrets, origin, false),
            Err(Refusal::ForeignOrigin)
        );
    }
}
