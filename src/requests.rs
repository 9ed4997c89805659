//! Requests of every size and speed, before any handler sees them.
//!
//! - An address longer than [`MAX_URI_BYTES`] is refused with 414, headers together longer than
//!   [`MAX_HEADER_BYTES`] with 431; a query string that is not valid percent-encoded UTF-8, or
//!   that holds a NUL character, with 400.
//! - A body is read whole before the handler runs, up to the limit of its address: the editor takes
//!   a long article in any alphabet ([`EDITOR_BYTES`], for its own limit of characters), an image
//!   upload [`UPLOAD_BYTES`], every other form [`FORM_BYTES`]; the larger limits only for an
//!   editor's or admin's session. More is refused with 413, and the page keeps what arrived.
//! - A body must arrive within the client timeout (`--client-timeout`, 20 s) plus a second for
//!   each [`MIN_BYTES_PER_SECOND`] bytes; a client that trickles it is cut off with 408. (See
//!   `crate::connections` for heads and for answers a client never reads.)
//! - A form body with more than [`MAX_FIELDS`] fields, a field given twice, invalid
//!   percent-encoding or UTF-8, or a NUL character is refused with 400 and a sentence. (Other
//!   characters a field does not take, a form answers beside that field.)
//!
//! A form that passed is kept with the request ([`SubmittedForm`]), so that a page answering
//! "nothing was saved" (a write that could not happen) can give back what was typed.

use std::time::Duration;

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::StreamExt as _;

use crate::auth::session_store::MEMBER;
use crate::db::users::Member;
use crate::error::AppError;

/// The longest address taken, path and query together.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes taken, names and values together.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The largest ordinary form.
pub const FORM_BYTES: usize = 64 * 1024;
/// The largest article the editor takes: its limit of characters, each at most four bytes of
/// UTF-8 sent as three bytes each (`%F0`), plus the other fields.
pub const EDITOR_BYTES: usize = crate::routes::admin::editor::BODY_MAX * 12 + 64 * 1024;
/// The largest image upload read: twice the largest image taken, so that a file a little too
/// large is answered by the upload form itself, beside its field.
pub const UPLOAD_BYTES: usize = crate::routes::admin::images::MAX_BYTES * 2 + 64 * 1024;
/// A member's picture upload: the largest image taken, and the form around it.
pub const PICTURE_BYTES: usize = crate::routes::admin::images::MAX_BYTES + 64 * 1024;
/// A member's article in the editor, when members may publish.
pub const MEMBER_EDITOR_BYTES: usize = crate::routes::admin::editor::BODY_MAX * 4 + 64 * 1024;
/// Fields a form may have.
pub const MAX_FIELDS: usize = 200;
/// Every body gets the client timeout (`--client-timeout`) to arrive, and a second more for every
/// this many bytes it announces.
pub const MIN_BYTES_PER_SECOND: usize = 16 * 1024;

/// The client timeout, as the middleware reads it from the application's data.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// The body of a form that passed these checks (`application/x-www-form-urlencoded`), or as much
/// of one as arrived before it was refused as too large.
#[derive(Debug, Clone)]
pub struct SubmittedForm(pub Bytes);

/// The middleware; see the module documentation.
pub async fn check<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    match read_checked(&mut req).await {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        // Answered here, as a response, so the request middleware makes its page.
        Err(refusal) if crate::routes::api::is_api(req.path()) => {
            let response = crate::routes::api::refusal(&refusal);
            Ok(req.into_response(response).map_into_right_body())
        }
        Err(refusal) => {
            let response = refusal.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

/// Checks the request and, when it has one, reads its body; an error is the refusal to send.
async fn read_checked(req: &mut ServiceRequest) -> Result<(), AppError> {
    check_head(req)?;
    if !has_body(req.method()) {
        return Ok(());
    }
    let limit = body_limit(req);
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let form = is_form(req.headers());
    if announced.is_some_and(|n| n > limit) && !form {
        return Err(too_large(limit));
    }
    let expected = announced.unwrap_or(limit).min(limit);
    let grace = req
        .app_data::<actix_web::web::Data<BodyDeadline>>()
        .map_or(Duration::from_secs(20), |d| d.0);
    let deadline = grace + Duration::from_secs((expected / MIN_BYTES_PER_SECOND) as u64);
    let mut payload = req.take_payload();
    let read = actix_web::rt::time::timeout(deadline, read_body(&mut payload, limit)).await;
    let body = match read {
        Err(_) => {
            return Err(AppError::BadRequest {
                status: StatusCode::REQUEST_TIMEOUT,
                heading: "The request took too long",
                message: format!(
                    "What you sent did not arrive within {} seconds, so it was not read. Nothing \
                     was saved; please try again.",
                    deadline.as_secs()
                ),
            });
        }
        Ok(Err(())) => {
            return Err(AppError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                heading: "The request could not be read",
                message: "The connection broke while the form was being sent. Nothing was \
                          saved; please try again."
                    .to_owned(),
            });
        }
        Ok(Ok(Body::Whole(bytes))) => bytes,
        Ok(Ok(Body::TooLarge(prefix))) => {
            if form {
                req.extensions_mut()
                    .insert(SubmittedForm(whole_fields(prefix)));
            }
            return Err(too_large(limit));
        }
    };
    if form {
        if let Err(problem) = check_form(&body) {
            return Err(AppError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                heading: "The form could not be read",
                message: format!("{problem} Nothing was saved."),
            });
        }
        req.extensions_mut().insert(SubmittedForm(body.clone()));
    }
    req.set_payload(Payload::from(body));
    Ok(())
}

fn has_body(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The address and headers: their size, and the query string's encoding.
fn check_head(req: &ServiceRequest) -> Result<(), AppError> {
    let uri = req.uri();
    let uri_len = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if uri_len > MAX_URI_BYTES {
        return Err(AppError::BadRequest {
            status: StatusCode::URI_TOO_LONG,
            heading: "That address is too long",
            message: format!(
                "Addresses on this site are at most {} characters long.",
                MAX_URI_BYTES
            ),
        });
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(AppError::BadRequest {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            heading: "The request's headers are too large",
            message: "Your browser sent more headers than this site reads: clearing this site's \
                      cookies usually helps."
                .to_owned(),
        });
    }
    if let Some(query) = uri.query()
        && let Err(problem) = decode_pairs(query.as_bytes())
    {
        return Err(AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            heading: "That address could not be read",
            message: format!("{problem} Check the address and try again."),
        });
    }
    Ok(())
}

/// How large a body may be at this address, for this visitor.
fn body_limit(req: &ServiceRequest) -> usize {
    let path = req.path();
    if path == "/stripe/webhook" {
        return crate::routes::stripe_webhook::BODY_LIMIT;
    }
    if crate::routes::api::is_api(path) {
        return crate::routes::api::body_limit(req);
    }
    if path == "/account/picture" {
        // A member's picture: up to the largest image taken, for members only.
        let member = req.get_session().get::<Member>(MEMBER).ok().flatten();
        return if member.is_some() {
            PICTURE_BYTES
        } else {
            FORM_BYTES
        };
    }
    let large = path == "/admin/images" || path.starts_with("/admin/articles/");
    if !large {
        return FORM_BYTES;
    }
    // Only staff send large bodies, and members whose access runs while the setting lets them
    // write (their text in ASCII-heavy Markdown, a quarter of the editors' room); anyone else
    // gets no more than a form's worth of memory.
    let member = req.get_session().get::<Member>(MEMBER).ok().flatten();
    let staff = member.as_ref().is_some_and(Member::is_staff);
    let members_write = req
        .app_data::<actix_web::web::Data<crate::views::AppState>>()
        .is_some_and(|state| state.cache.last_known().members_may_publish);
    let writer = members_write
        && member
            .as_ref()
            .is_some_and(|m| m.access(crate::db::now()).reads_members_only());
    match (path == "/admin/images", staff, writer) {
        (true, true, _) => UPLOAD_BYTES,
        (false, true, _) => EDITOR_BYTES,
        (false, false, true) => MEMBER_EDITOR_BYTES,
        _ => FORM_BYTES,
    }
}

enum Body {
    Whole(Bytes),
    /// More than the limit came; what came up to the limit.
    TooLarge(Bytes),
}

async fn read_body(payload: &mut Payload, limit: usize) -> Result<Body, ()> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(drop)?;
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok(Body::TooLarge(body.freeze()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Whole(body.freeze()))
}

/// The fields of a form cut short, without the one it was cut in.
fn whole_fields(prefix: Bytes) -> Bytes {
    match prefix.iter().rposition(|b| *b == b'&') {
        Some(end) => prefix.slice(..end),
        None => Bytes::new(),
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::BadRequest {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        heading: "That was too much to send",
        message: format!(
            "This form takes at most {}, so it was not read and nothing was saved.",
            size_label(limit)
        ),
    }
}

/// "64 KB", "2.4 MB".
fn size_label(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Checks a form body: a sane number of fields, none twice, each readable text.
pub fn check_form(body: &[u8]) -> Result<(), &'static str> {
    let pairs = decode_pairs(body)?;
    if pairs.len() > MAX_FIELDS {
        return Err("The form has far more fields than any form of this site.");
    }
    let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("A field of the form was sent twice.");
    }
    Ok(())
}

/// The `name=value` pairs of a form body or query string, decoded; an error names what is wrong.
pub fn decode_pairs(text: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
    let mut pairs = Vec::new();
    for part in text.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        if pairs.len() > MAX_FIELDS {
            break;
        }
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (part, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn decode(raw: &[u8]) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("It holds a % sign that is not followed by two hexadecimal digits.")?;
                bytes.push(hex);
                i += 3;
            }
            b'+' => {
                bytes.push(b' ');
                i += 1;
            }
            byte => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| "It holds bytes that are not UTF-8 text.")?;
    if text.contains('\0') {
        return Err("It holds a NUL character.");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn well_formed_forms_pass_and_each_kind_of_damage_is_named() {
        assert!(check_form(b"name=Ana+Silva&body=line%0Aline%09tab&email=a%40b.c").is_ok());
        assert!(check_form(b"").is_ok());
        assert!(check_form(b"a=%zz").unwrap_err().contains("hexadecimal"));
        assert!(check_form(b"a=%").unwrap_err().contains("hexadecimal"));
        assert!(check_form(b"a=%ff%fe").unwrap_err().contains("UTF-8"));
        assert!(check_form(b"a=x%00y").unwrap_err().contains("NUL"));
        assert!(
            check_form(b"a=x%07").is_ok(),
            "left to the form's own check"
        );
        assert!(check_form(b"a=1&a=2").unwrap_err().contains("twice"));
        let many: Vec<String> = (0..300).map(|n| format!("f{n}=x")).collect();
        assert!(
            check_form(many.join("&").as_bytes())
                .unwrap_err()
                .contains("fields")
        );
    }

    #[test]
    fn a_form_cut_short_keeps_its_whole_fields_only() {
        let kept = whole_fields(Bytes::from_static(b"title=Hello&body=A+long+te"));
        assert_eq!(&kept[..], b"title=Hello");
        assert!(whole_fields(Bytes::from_static(b"body=A+long")).is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_as_a_form_or_refused_in_a_sentence(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            match check_form(&body) {
                Ok(()) => {
                    let pairs = decode_pairs(&body).unwrap();
                    prop_assert!(pairs.iter().all(|(n, v)| !n.contains('\0') && !v.contains('\0')));
                }
                Err(problem) => prop_assert!(problem.ends_with('.')),
            }
        }

        #[test]
        fn text_encoded_as_a_browser_does_decodes_back_to_itself(
            fields in proptest::collection::btree_map("[a-z_]{1,12}", "[^\\x00]{0,40}", 0..8)
        ) {
            let encoded = serde_urlencoded::to_string(&fields).unwrap();
            prop_assert!(check_form(encoded.as_bytes()).is_ok(), "{encoded}");
            let decoded: std::collections::BTreeMap<String, String> =
                decode_pairs(encoded.as_bytes()).unwrap().into_iter().collect();
            prop_assert_eq!(decoded, fields);
        }
    }
}
