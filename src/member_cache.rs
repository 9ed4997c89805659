//! A cache of the pages logged-in members see, so that a member reading a guide costs about what
//! an anonymous reader costs. Members see pages the anonymous page cache cannot give them: the
//! whole members-only guide, their account in the header, no invitations. Those pages are the same
//! for every member who may read members-only guides, but for one thing: the CSRF token of the
//! header's log-out form, which is each session's own.
//!
//! So a member's page is kept once per audience (members whose trial runs, paying members,
//! members with a complimentary grant, editors, admins: the role and what gives the member access
//! are the key) with the token cut out, and compressed once: the gzip body is kept as
//! the raw deflate of the part before the token, ended with a full flush, and the raw deflate of
//! the part after it. Each request then gets its own gzip stream by splicing its token in between
//! as a stored (uncompressed) deflate block, with a CRC combined from the parts' CRCs: no page is
//! rendered or compressed again. The page is cached only when the token occurs exactly once in it.
//!
//! Entries are tagged with the page cache's content generation and are dropped when it moves, like
//! anonymous pages. Only `GET` requests of members who may read everything are served from here,
//! and never one with a message waiting for them (a flash) or a page marked `no-store` (the account
//! pages). Each worker keeps its own entries within a share of the page cache's byte budget.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use actix_session::SessionExt;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpResponse};
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

use crate::auth::session_store::{CSRF, FLASH, MEMBER};
use crate::db::users::Member;
use crate::page_cache::PageCache;

/// One cached member page, around the place of the token.
struct Entry {
    generation: u64,
    /// [`PageCache::stamp`] when its render began.
    stamp: u64,
    headers: HeaderMap,
    before: Bytes,
    after: Bytes,
    gzip: Option<Spliced>,
}

/// The compressed parts of a page and what the gzip trailer needs of them.
struct Spliced {
    /// The raw deflate of the part before the token, ending on a byte boundary (a full flush).
    before: Bytes,
    /// The raw deflate of the part after it, ending the stream.
    after: Bytes,
    before_crc: Crc,
    after_crc: Crc,
}

#[derive(Default)]
struct LocalCache {
    entries: HashMap<String, Entry>,
    order: VecDeque<String>,
    bytes: usize,
}

thread_local! {
    static LOCAL: RefCell<LocalCache> = RefCell::new(LocalCache::default());
}

impl LocalCache {
    fn insert(&mut self, key: String, entry: Entry, budget: usize) {
        let size = entry.size() + key.len();
        if let Some(old) = self.entries.remove(&key) {
            self.bytes -= old.size() + key.len();
            self.order.retain(|k| k != &key);
        }
        while self.bytes + size > budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.bytes -= old.size() + oldest.len();
            }
        }
        self.bytes += size;
        self.order.push_back(key.clone());
        self.entries.insert(key, entry);
    }
}

impl Entry {
    fn size(&self) -> usize {
        self.before.len()
            + self.after.len()
            + self
                .gzip
                .as_ref()
                .map_or(0, |g| g.before.len() + g.after.len())
    }
}

/// Raw deflate of `data`, ended with a full flush (`last` false: byte-aligned, more may follow)
/// or as the end of the stream (`last` true).
fn deflate(data: &[u8], last: bool) -> Option<Bytes> {
    let mut compress = Compress::new(Compression::new(6), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Full
    };
    loop {
        let consumed = usize::try_from(compress.total_in()).ok()?;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(1024));
        }
        let status = compress
            .compress_vec(&data[consumed..], &mut out, flush)
            .ok()?;
        let done_in = usize::try_from(compress.total_in()).ok()? == data.len();
        match status {
            Status::StreamEnd => return Some(out.into()),
            // A flush is complete once all input is in and the output had room to spare.
            Status::Ok | Status::BufError if !last && done_in && out.capacity() > out.len() => {
                return Some(out.into());
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

fn crc_of(data: &[u8]) -> Crc {
    let mut crc = Crc::new();
    crc.update(data);
    crc
}

impl Spliced {
    fn new(before: &[u8], after: &[u8]) -> Option<Self> {
        Some(Self {
            before: deflate(before, false)?,
            after: deflate(after, true)?,
            before_crc: crc_of(before),
            after_crc: crc_of(after),
        })
    }

    /// The whole gzip stream with `token` between the parts.
    fn with(&self, token: &[u8]) -> Option<Vec<u8>> {
        let len = u16::try_from(token.len()).ok()?;
        let mut out = Vec::with_capacity(self.before.len() + self.after.len() + token.len() + 30);
        // gzip header: deflate, no flags, no time, unknown system.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        out.extend_from_slice(&self.before);
        // A stored block, not the last: header bits 000, then LEN and its complement.
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(token);
        out.extend_from_slice(&self.after);
        let mut crc = Crc::new();
        crc.combine(&self.before_crc);
        crc.combine(&crc_of(token));
        crc.combine(&self.after_crc);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        Some(out)
    }
}

/// True when the request accepts gzip.
fn accepts_gzip(req: &ServiceRequest) -> bool {
    crate::compression::accepts_gzip(req.headers())
}

/// The member behind a request and their session's token, when their page may come from here.
fn cacheable_member(req: &ServiceRequest) -> Option<(Member, &'static str, String)> {
    if req.method() != Method::GET {
        return None;
    }
    let session = req.get_session();
    if session.contains_key(FLASH) {
        return None;
    }
    let member: Member = session.get(MEMBER).ok().flatten()?;
    let access = member.access(crate::db::now());
    if !access.reads_members_only() {
        return None;
    }
    let token: String = session.get(CSRF).ok().flatten()?;
    Some((member, access.audience(), token))
}

/// The middleware; see the module documentation.
pub async fn serve_members(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(cache) = req
        .app_data::<web::Data<Arc<PageCache>>>()
        .map(|data| Arc::clone(data.get_ref()))
        .filter(|cache| cache.is_enabled())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Only the plain spelling of a path is kept (see `page_cache::key_for`).
    if req.path().contains('%') {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some((member, audience, token)) = cacheable_member(&req) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let gzip = accepts_gzip(&req);
    // A page that shows the member's own things (their saved article, their comments, whom they
    // follow) is kept for their session alone, with its token in place; others once per audience.
    let personal = is_personal(req.path());
    let key = if personal {
        format!("{token}\n{}?{}", req.path(), req.query_string())
    } else {
        format!(
            "{}/{audience}\n{}?{}",
            member.role,
            req.path(),
            req.query_string()
        )
    };
    let spliced_token = if personal { "" } else { token.as_str() };
    let generation = cache.generation();
    let stamp = cache.stamp();

    let hit = LOCAL.with(|local| {
        let local = local.borrow();
        let entry = local
            .entries
            .get(&key)
            .filter(|e| e.generation == generation && cache.is_fresh(req.path(), e.stamp))?;
        let body = match (&entry.gzip, gzip) {
            (Some(spliced), true) => (spliced.with(spliced_token.as_bytes())?, true),
            _ => (
                [
                    &entry.before[..],
                    spliced_token.as_bytes(),
                    &entry.after[..],
                ]
                .concat(),
                false,
            ),
        };
        let mut res = HttpResponse::Ok();
        for (name, value) in &entry.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        if body.1 {
            res.insert_header((header::CONTENT_ENCODING, "gzip"));
        }
        Some(res.body(body.0))
    });
    crate::metrics::cache("member", hit.is_some());
    if let Some(response) = hit {
        return Ok(req.into_response(response));
    }

    let res = next.call(req).await?;
    let cacheable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
        && !res
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
    if !cacheable {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let Some(body) = crate::compression::whole_body(body).await else {
        let failed = HttpResponse::InternalServerError().finish();
        return Ok(ServiceResponse::new(http_req, failed));
    };
    let split = if personal {
        Some((&body[..], &body[body.len()..]))
    } else {
        split_once_exactly(&body, token.as_bytes())
    };
    if let Some((before, after)) = split {
        let mut headers = HeaderMap::new();
        for name in [header::CONTENT_TYPE, header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = head.headers().get(&name) {
                headers.insert(name, value.clone());
            }
        }
        if !headers.contains_key(header::VARY) {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        let entry = Entry {
            generation,
            stamp,
            headers,
            gzip: Spliced::new(before, after),
            before: Bytes::copy_from_slice(before),
            after: Bytes::copy_from_slice(after),
        };
        let budget = cache.bytes_per_worker();
        LOCAL.with(|local| local.borrow_mut().insert(key, entry, budget));
    }
    Ok(ServiceResponse::new(http_req, head.set_body(body)).map_into_boxed_body())
}

/// Pages that show a member's own saves, comments and follows: an article's and an author's.
fn is_personal(path: &str) -> bool {
    path.strip_prefix("/articles/")
        .or_else(|| path.strip_prefix("/authors/"))
        .is_some_and(|rest| !rest.is_empty())
}

/// `body` split around `token`, when it occurs exactly once.
fn split_once_exactly<'a>(body: &'a [u8], token: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    if token.is_empty() || token.len() > body.len() {
        return None;
    }
    let mut found = body
        .windows(token.len())
        .enumerate()
        .filter(|(_, window)| *window == token)
        .map(|(at, _)| at);
    let at = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some((&body[..at], &body[at + token.len()..]))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn a_spliced_gzip_stream_decompresses_to_the_page_with_its_token() {
        let before =
            "<html><head><title>An article</title></head><body><form><input value=\"".repeat(50);
        let after = "\"></form><p>The whole guide, read in full by every member.</p></body></html>"
            .repeat(80);
        let spliced = Spliced::new(before.as_bytes(), after.as_bytes()).unwrap();
        for token in ["0123456789abcdef".repeat(4), "ffff".to_owned()] {
            let gz = spliced.with(token.as_bytes()).unwrap();
            let mut page = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut page)
                .unwrap();
            assert_eq!(page, format!("{before}{token}{after}"));
            assert!(
                gz.len() < page.len() / 4,
                "still compressed: {} of {}",
                gz.len(),
                page.len()
            );
        }
    }

    #[test]
    fn a_page_is_split_only_around_a_token_found_exactly_once() {
        assert_eq!(
            split_once_exactly(b"aaXYbb", b"XY"),
            Some((&b"aa"[..], &b"bb"[..]))
        );
        assert_eq!(split_once_exactly(b"XYaXY", b"XY"), None);
        assert_eq!(split_once_exactly(b"abc", b"XY"), None);
    }
}
