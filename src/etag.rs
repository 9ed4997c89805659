//! ETags: a fast fingerprint of a body, and the `If-None-Match` check that lets a browser holding a
//! page revalidate it with a `304 Not Modified`. Used by pages, static files and the page cache.

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

/// The weak ETag of a body.
pub fn etag_for(body: &[u8]) -> String {
    format!("W/\"{:016x}\"", content_hash(body))
}

/// True when the request's `If-None-Match` names `etag` (or `*`), compared weakly as `If-None-Match`
/// requires: `W/"x"` and `"x"` match.
pub fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    let etag = etag.trim_start_matches("W/");
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value: &HeaderValue| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// FNV-1a, 64 bits: a fast, stable fingerprint for ETags and static file names (not for secrets).
pub fn content_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
