//! The device cookie: proof that this browser logged in to an account before. A browser that
//! carries it for the account being logged in to is counted apart from everyone else (see
//! [`crate::limits`]), so strangers' failed guesses never refuse its owner.
//!
//! The cookie holds a random device id and an HMAC of that id and the account under the site's
//! key: it cannot be made for an account without logging in to it, and says nothing about whose
//! it is. It is set at every successful log-in, for the account logged in to, and lasts a year.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use super::Secrets;

/// The cookie's name over plain HTTP, and over HTTPS.
pub const COOKIE: &str = "guidepost_device";
pub const SECURE_COOKIE: &str = "__Host-guidepost_device";

fn signature(secrets: &Secrets, device: &str, account: &str) -> String {
    secrets.sign(&["known-device", device, account])
}

/// The device id of `req`'s device cookie, when it was made for `account` (the HMAC key of the
/// account, see [`crate::limits::account_key`]).
pub fn read(req: &HttpRequest, secrets: &Secrets, account: &str, secure: bool) -> Option<String> {
    let cookie = req.cookie(if secure { SECURE_COOKIE } else { COOKIE })?;
    let (device, signed) = cookie.value().split_once('.')?;
    if device.len() != 32 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let expected = signature(secrets, device, account);
    bool::from(expected.as_bytes().ct_eq(signed.as_bytes())).then(|| device.to_owned())
}

/// The cookie to set after a log-in to `account`: the browser's device id kept when it has one.
pub fn cookie(
    req: &HttpRequest,
    secrets: &Secrets,
    account: &str,
    secure: bool,
) -> Cookie<'static> {
    let existing = req
        .cookie(if secure { SECURE_COOKIE } else { COOKIE })
        .and_then(|c| c.value().split_once('.').map(|(d, _)| d.to_owned()))
        .filter(|d| d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()));
    let device = existing.unwrap_or_else(|| super::random_hex(16));
    let value = format!("{device}.{}", signature(secrets, &device, account));
    let mut cookie = Cookie::new(if secure { SECURE_COOKIE } else { COOKIE }, value);
    cookie.set_http_only(true);
    cookie.set_secure(secure);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_max_age(actix_web::cookie::time::Duration::days(365));
    cookie
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_device_cookie_proves_one_account_and_nothing_else() {
        let secrets = Secrets::from_secret(&"d".repeat(64)).unwrap();
        let first = TestRequest::default().to_http_request();
        let made = cookie(&first, &secrets, "account-a", false);
        let back = TestRequest::default()
            .cookie(Cookie::new(COOKIE, made.value().to_owned()))
            .to_http_request();
        let device = read(&back, &secrets, "account-a", false).unwrap();
        assert_eq!(device.len(), 32);
        assert!(read(&back, &secrets, "account-b", false).is_none());
        let forged = TestRequest::default()
            .cookie(Cookie::new(COOKIE, format!("{device}.{}", "0".repeat(64))))
            .to_http_request();
        assert!(read(&forged, &secrets, "account-a", false).is_none());
        // Logging in to another account keeps the device id.
        let again = cookie(&back, &secrets, "account-b", false);
        assert!(again.value().starts_with(&device));
    }
}
