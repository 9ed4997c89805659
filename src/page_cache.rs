//! An in-process cache of finished anonymous responses: the rendered, compressed page with its
//! headers, keyed by method-independent path, query and the request's `Accept-Encoding`. A hit
//! skips the database, the template and the compressor, and answers `304 Not Modified` when the
//! browser already holds the page.
//!
//! What is never cached: requests carrying a session cookie (a member, who sees their own header
//! and members-only guides; other cookies, such as the CSRF cookie of a visitor who opened the
//! sign-up form, change nothing), responses other than `200 OK`, responses that set a cookie, and
//! responses marked `Cache-Control: no-store` or `private`.
//! Each worker thread keeps its own cache, so a hit takes no lock; together they stay within
//! [`PageCache`]'s byte budget. Every entry is tagged with the content generation it was made in:
//! [`PageCache::invalidate`] (called after any write, and by the watcher that notices writes from
//! other processes such as `guidepost import`) makes every older entry a miss at once.
//!
//! No herd: when many requests miss the same page at once (right after the cache was cleared by a
//! publish or an import, say), the first renders it and the others, on any worker, wait for that
//! render and share its result instead of each rendering the page again.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::etag::etag_matches;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse, web};

/// Shared by every worker: the current generation, the memory budget and the renders under way.
#[derive(Debug)]
pub struct PageCache {
    generation: AtomicU64,
    bytes_per_worker: usize,
    /// Pages being rendered now, by generation and key, with the channel their result is
    /// announced on; requests that miss the same page wait on it rather than render it again.
    in_flight: Mutex<HashMap<String, Render>>,
    /// Pages rendered because of a miss, for tests and diagnostics.
    renders: AtomicU64,
    /// Raised by every [`PageCache::invalidate_path`]; entries keep the value read before their
    /// render began.
    clock: AtomicU64,
    /// Pages changed on their own (an article's comments, an author's followers): their path and
    /// the clock when they last did. An entry older than its path's time is a miss.
    touched: std::sync::RwLock<HashMap<String, u64>>,
}

/// Paths remembered by [`PageCache::invalidate_path`]; past it, everything is invalidated instead.
const MAX_TOUCHED: usize = 100_000;

/// A render under way: `None` until it finishes, then the entry (or `None` again if the response
/// could not be shared, and each waiting request renders for itself).
type Render = tokio::sync::watch::Receiver<Option<Option<Arc<Entry>>>>;

/// Responses larger than this are served but not cached.
const MAX_ENTRY_BYTES: usize = 512 * 1024;
/// The longest key kept; longer URLs (or odd `Accept-Encoding` values) are not cached.
const MAX_KEY_BYTES: usize = 1024;

impl PageCache {
    /// A cache holding at most `budget_bytes` of responses across `workers` workers.
    pub fn new(budget_bytes: usize, workers: usize) -> Arc<Self> {
        Arc::new(Self {
            generation: AtomicU64::new(1),
            bytes_per_worker: budget_bytes / workers.max(1),
            in_flight: Mutex::new(HashMap::new()),
            renders: AtomicU64::new(0),
            clock: AtomicU64::new(0),
            touched: std::sync::RwLock::new(HashMap::new()),
        })
    }

    /// False when the cache was given no memory: every request is then rendered.
    pub fn is_enabled(&self) -> bool {
        self.bytes_per_worker > 0
    }

    /// The share of the byte budget each worker's caches may use.
    pub fn bytes_per_worker(&self) -> usize {
        self.bytes_per_worker
    }

    /// How many pages were rendered on a miss since start-up.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Forgets every cached response: content or settings changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Forgets the cached responses of one page (every query and encoding of `path`, for every
    /// audience), leaving every other page cached: a comment changes its article's page only.
    pub fn invalidate_path(&self, path: &str) {
        let Ok(mut touched) = self.touched.write() else {
            self.invalidate();
            return;
        };
        if touched.len() >= MAX_TOUCHED {
            touched.clear();
            self.invalidate();
        }
        let now = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        touched.insert(path.to_owned(), now);
    }

    /// The clock to keep with an entry, read before its render begins.
    pub fn stamp(&self) -> u64 {
        self.clock.load(Ordering::Acquire)
    }

    /// False when `path` changed on its own after an entry stamped `stamp` began rendering.
    pub fn is_fresh(&self, path: &str, stamp: u64) -> bool {
        match self.touched.read() {
            Ok(touched) => touched.get(path).is_none_or(|at| *at <= stamp),
            Err(_) => false,
        }
    }

    /// Changes whenever the content may have changed; anything derived from the database can be
    /// kept as long as this stays the same.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Either the render of `key` already under way, to wait for, or the right to render it.
    fn join_or_lead(self: &Arc<Self>, key: &str) -> Result<Render, Leader> {
        let Ok(mut in_flight) = self.in_flight.lock() else {
            // A poisoned map only costs the sharing: render alone.
            return Err(Leader {
                cache: Arc::clone(self),
                key: None,
                done: None,
            });
        };
        if let Some(render) = in_flight.get(key) {
            return Ok(render.clone());
        }
        let (done, render) = tokio::sync::watch::channel(None);
        in_flight.insert(key.to_owned(), render);
        Err(Leader {
            cache: Arc::clone(self),
            key: Some(key.to_owned()),
            done: Some(done),
        })
    }
}

/// One cached response.
#[derive(Debug)]
struct Entry {
    generation: u64,
    /// [`PageCache::stamp`] when its render began.
    stamp: u64,
    status: StatusCode,
    headers: HeaderMap,
    etag: Option<String>,
    body: Bytes,
}

/// The request that renders a page others are waiting for. Dropping it (when the render finished,
/// failed or was abandoned) announces the result, if any, and removes the render from the map.
struct Leader {
    cache: Arc<PageCache>,
    key: Option<String>,
    done: Option<tokio::sync::watch::Sender<Option<Option<Arc<Entry>>>>>,
}

impl Leader {
    fn finish(mut self, entry: Option<Arc<Entry>>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(Some(entry));
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(Some(None));
        }
        if let Some(key) = self.key.take()
            && let Ok(mut in_flight) = self.cache.in_flight.lock()
        {
            in_flight.remove(&key);
        }
    }
}

#[derive(Default)]
struct LocalCache {
    entries: HashMap<String, Arc<Entry>>,
    /// Keys in insertion order, oldest first, for eviction.
    order: VecDeque<String>,
    bytes: usize,
}

thread_local! {
    static LOCAL: RefCell<LocalCache> = RefCell::new(LocalCache::default());
}

impl LocalCache {
    fn insert(&mut self, key: String, entry: Arc<Entry>, budget: usize) {
        let size = key.len() + entry.body.len();
        if let Some(old) = self.entries.remove(&key) {
            self.bytes -= key.len() + old.body.len();
            self.order.retain(|k| k != &key);
        }
        while self.bytes + size > budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.bytes -= oldest.len() + old.body.len();
            }
        }
        self.bytes += size;
        self.order.push_back(key.clone());
        self.entries.insert(key, entry);
    }
}

/// The cache key of a request, or `None` when the request must not be cached. Only what a page
/// can depend on is in it, read as the handlers read it: the path; the page number on the pages
/// that have pages, as the number it means (`page=01`, `page=x` and `%70age=1` are pages 1, 1 and
/// 1); the search as the words it means, on the search page only; and whether the browser takes
/// gzip. Any other parameter, or an `Accept-Encoding` no browser sends, makes no entry of its
/// own, so it can neither fill the cache nor put one reader's page in another's place.
fn key_for(req: &ServiceRequest) -> Option<String> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    if req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    let encoding = if crate::compression::accepts_gzip(req.headers()) {
        "gzip"
    } else {
        ""
    };
    let path = req.path();
    // A path with percent-escapes reaches the same page as its plain form; it is not kept, so
    // a page forgotten under its plain path cannot live on under another spelling.
    if path.contains('%') {
        return None;
    }
    let listed = path == "/"
        || path == "/articles"
        || path == "/search"
        || path.starts_with("/categories/")
        || path.starts_with("/tags/")
        || path.starts_with("/authors/");
    // The first value of each, as `routes::query_param` reads it.
    let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let mut query = String::new();
    if listed {
        let page = crate::domain::PageNumber::parse(first("page")).get();
        query.push_str(&format!("page={page}"));
    }
    if path == "/search" {
        let words = crate::domain::SearchQuery::parse(first("q").unwrap_or_default());
        query.push_str("&q=");
        query.push_str(words.text());
    }
    let key = format!("{path}?{query}\n{encoding}");
    (key.len() <= MAX_KEY_BYTES).then_some(key)
}

/// The session cookie a request carries, as the cache sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionCookie {
    /// None: an anonymous reader.
    Absent,
    /// A live session: a member, who never gets a cached page.
    Live,
    /// One whose session ended (logged out, expired), or one that is not ours at all: an
    /// anonymous reader, whose browser is told to forget it.
    Dead,
}

/// Verdicts on session cookies, by the cookie's value, with the database's write count they were
/// reached at: a member's following requests cost a lookup, not a decryption and a read.
type Verdicts = HashMap<String, (u64, bool)>;

thread_local! {
    static VERDICTS: RefCell<Verdicts> = RefCell::new(HashMap::new());
}

/// Verdicts kept per worker at most.
const MAX_VERDICTS: usize = 4096;

/// What the session cookie of `req` is (see [`SessionCookie`]).
async fn session_cookie(req: &ServiceRequest) -> SessionCookie {
    let Some((name, value)) = session_cookie_value(req) else {
        return SessionCookie::Absent;
    };
    let (Some(auth), Some(state)) = (
        req.app_data::<web::Data<crate::auth::Auth>>(),
        req.app_data::<web::Data<crate::views::AppState>>(),
    ) else {
        return SessionCookie::Live;
    };
    let writes = state.pool.writes().count();
    let known = VERDICTS.with(|v| {
        v.borrow()
            .get(&value)
            .filter(|(at, _)| *at == writes)
            .map(|(_, live)| *live)
    });
    let live = match known {
        Some(live) => live,
        None => {
            let live = is_live(auth, &state.pool, &name, &value).await;
            VERDICTS.with(|v| {
                let mut verdicts = v.borrow_mut();
                if verdicts.len() >= MAX_VERDICTS {
                    verdicts.clear();
                }
                verdicts.insert(value, (writes, live));
            });
            live
        }
    };
    if live {
        SessionCookie::Live
    } else {
        SessionCookie::Dead
    }
}

/// The session key a cookie of ours holds (its content decrypts with the site's key).
fn session_key(auth: &crate::auth::Auth, name: &str, value: &str) -> Option<String> {
    // As browsers send it: percent-encoded, as actix-web reads it for the session.
    let cookie = actix_web::cookie::Cookie::parse_encoded(format!("{name}={value}")).ok()?;
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.add_original(cookie.into_owned());
    jar.private(auth.secrets.cookie_key())
        .get(name)
        .map(|c| c.value().to_owned())
}

/// True when the cookie names a session that has not ended; in doubt (the database busy), true.
/// Read on the worker's own SQLite connection where there is one, else through the pool.
async fn is_live(
    auth: &crate::auth::Auth,
    pool: &crate::db::DbPool,
    name: &str,
    value: &str,
) -> bool {
    let Some(key) = session_key(auth, name, value) else {
        return false;
    };
    let hash = crate::auth::token_hash(&key);
    let now = crate::db::now();
    let found = match crate::db::worker::read_here(pool.database(), |conn| {
        crate::db::sessions::SessionRow::exists(conn, &hash, now)
    }) {
        Some(found) => found.map_err(crate::error::AppError::from),
        None => {
            crate::db::run(pool, move |conn| {
                Ok(crate::db::sessions::SessionRow::exists(conn, &hash, now)?)
            })
            .await
        }
    };
    found.unwrap_or(true)
}

/// The name and value of the session cookie in the request's `Cookie` headers, read without
/// actix-web's parsing (which would keep the cookie for the handlers after it is taken out).
fn session_cookie_value(req: &ServiceRequest) -> Option<(String, String)> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| {
            *name == crate::auth::session_store::COOKIE
                || *name == crate::auth::session_store::SECURE_COOKIE
        })
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
}

/// Takes the session cookie out of the request: what follows serves it as an anonymous reader.
fn drop_session_cookie(req: &mut ServiceRequest) {
    let kept: Vec<String> = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty()
                && name != crate::auth::session_store::COOKIE
                && name != crate::auth::session_store::SECURE_COOKIE
        })
        .map(str::to_owned)
        .collect();
    let headers = req.headers_mut();
    headers.remove(header::COOKIE);
    if !kept.is_empty()
        && let Ok(value) = header::HeaderValue::from_str(&kept.join("; "))
    {
        headers.insert(header::COOKIE, value);
    }
}

/// Tells the browser to forget a session cookie whose session ended.
fn forget_cookie(res: &mut HttpResponse, req: &ServiceRequest) {
    let Some((name, _)) = session_cookie_value(req) else {
        return;
    };
    let secure = name == crate::auth::session_store::SECURE_COOKIE;
    let mut cookie = actix_web::cookie::Cookie::new(name, "");
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_secure(secure);
    cookie.set_same_site(actix_web::cookie::SameSite::Lax);
    cookie.make_removal();
    if let Ok(value) = header::HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Headers a cached response keeps; per-request ones (date, request id) are added afresh.
const KEPT_HEADERS: &[header::HeaderName] = &[
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
    header::CACHE_CONTROL,
    header::ETAG,
    header::VARY,
];

/// The middleware; see the module documentation.
pub async fn serve_cached(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The JSON API answers each request itself, and never with a cookie.
    if crate::routes::api::is_api(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // A cookie whose session ended, or that is not ours, is taken out: its reader is served as
    // anyone else is (from the cache), and told to forget it.
    let dead = match session_cookie(&req).await {
        SessionCookie::Live => return Ok(next.call(req).await?.map_into_boxed_body()),
        SessionCookie::Dead => true,
        SessionCookie::Absent => false,
    };
    let forgotten = dead.then(|| {
        let mut removal = HttpResponse::Ok().finish();
        forget_cookie(&mut removal, &req);
        drop_session_cookie(&mut req);
        removal.headers().get(header::SET_COOKIE).cloned()
    });
    let mut res = serve_anonymous(req, next).await?;
    if let Some(Some(removal)) = forgotten {
        res.headers_mut().append(header::SET_COOKIE, removal);
    }
    Ok(res)
}

/// Serves a request of an anonymous reader: from the cache, or rendered (once, however many ask
/// at once) and kept.
async fn serve_anonymous(
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
    let (generation, budget) = (cache.generation(), cache.bytes_per_worker);
    let stamp = cache.stamp();
    let Some(key) = key_for(&req) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };

    let cached = LOCAL.with(|local| {
        local
            .borrow()
            .entries
            .get(&key)
            .filter(|e| e.generation == generation && cache.is_fresh(req.path(), e.stamp))
            .cloned()
    });
    crate::metrics::cache("page", cached.is_some());
    if let Some(entry) = cached {
        let response = respond_from(&req, &entry);
        return Ok(req.into_response(response));
    }

    // A miss: wait for a render of this page already under way, or render it.
    let leader = match cache.join_or_lead(&format!("{generation}.{stamp}\n{key}")) {
        Ok(mut render) => {
            let shared = render
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|result| result.clone().flatten());
            if let Some(entry) = shared {
                let response = respond_from(&req, &entry);
                LOCAL.with(|local| local.borrow_mut().insert(key, entry, budget));
                return Ok(req.into_response(response));
            }
            // The render could not be shared: render this request alone.
            None
        }
        Err(leader) => Some(leader),
    };
    cache.renders.fetch_add(1, Ordering::Relaxed);
    let res = next.call(req).await?;
    let cacheable = res.status() == StatusCode::OK
        && !res
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store") || v.contains("private"))
        && !res.headers().contains_key(header::SET_COOKIE);
    if !cacheable {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let Some(body) = crate::compression::whole_body(body).await else {
        let failed = HttpResponse::InternalServerError().finish();
        return Ok(ServiceResponse::new(http_req, failed));
    };
    let is_head = http_req.method() == Method::HEAD;
    if !is_head && body.len() <= MAX_ENTRY_BYTES {
        let mut headers = HeaderMap::new();
        for name in KEPT_HEADERS {
            for value in head.headers().get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        let etag = headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let entry = Arc::new(Entry {
            generation,
            stamp,
            status: head.status(),
            headers,
            etag,
            // A copy of exactly the body's length: the rendered page's buffer may be several
            // times larger, and the budget counts lengths.
            body: Bytes::copy_from_slice(&body),
        });
        if let Some(leader) = leader {
            leader.finish(Some(Arc::clone(&entry)));
        }
        LOCAL.with(|local| local.borrow_mut().insert(key, entry, budget));
    }
    Ok(ServiceResponse::new(http_req, head.set_body(body)).map_into_boxed_body())
}

/// The response for a cached entry: the page, or `304 Not Modified` when the browser holds it.
fn respond_from(req: &ServiceRequest, entry: &Entry) -> HttpResponse {
    let (http_req, _) = req.parts();
    if entry
        .etag
        .as_deref()
        .is_some_and(|etag| etag_matches(http_req, etag))
    {
        let mut res = HttpResponse::NotModified();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = entry.headers.get(&name) {
                res.insert_header((name, value.clone()));
            }
        }
        return res.finish();
    }
    let mut res = HttpResponse::build(entry.status);
    for (name, value) in &entry.headers {
        res.insert_header((name.clone(), value.clone()));
    }
    res.body(entry.body.clone())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn anonymous_reads_are_keyed_by_path_page_parameters_and_gzip() {
        let req = TestRequest::get()
            .uri("/articles?page=2")
            .insert_header((header::ACCEPT_ENCODING, "gzip, deflate, br"))
            .to_srv_request();
        assert_eq!(key_for(&req).as_deref(), Some("/articles?page=2\ngzip"));
        // Parameters no page reads and encodings no browser sends make no entries of their own.
        let odd = TestRequest::get()
            .uri("/articles?utm=x&page=02&junk=1&page=5")
            .insert_header((header::ACCEPT_ENCODING, "gzip;q=1, made-up-9f3a"))
            .to_srv_request();
        assert_eq!(key_for(&odd), key_for(&req));
        let plain = TestRequest::get()
            .uri("/?q=anything")
            .insert_header((header::ACCEPT_ENCODING, "zz-random-41"))
            .to_srv_request();
        assert_eq!(key_for(&plain).as_deref(), Some("/?page=1\n"));
        // A parameter's name is read decoded, as the handlers read it.
        let encoded = TestRequest::get().uri("/search?%71=abc").to_srv_request();
        let typed = TestRequest::get().uri("/search?q=abc").to_srv_request();
        assert_eq!(key_for(&encoded), key_for(&typed));
        assert_ne!(
            key_for(&TestRequest::get().uri("/search").to_srv_request()),
            key_for(&typed)
        );
        // Pages without pages take no page parameter.
        let article = TestRequest::get()
            .uri("/articles/x?page=7&q=zz")
            .to_srv_request();
        assert_eq!(key_for(&article).as_deref(), Some("/articles/x?\n"));
    }

    #[test]
    fn writes_are_never_cached_and_other_cookies_change_nothing() {
        let visitor = TestRequest::get()
            .uri("/")
            .insert_header((header::COOKIE, "guidepost_csrf=abc; theme=dark"))
            .to_srv_request();
        assert!(key_for(&visitor).is_some());
        assert_eq!(
            futures_util::FutureExt::now_or_never(session_cookie(&visitor)),
            Some(SessionCookie::Absent)
        );
        let post = TestRequest::post().uri("/").to_srv_request();
        assert!(key_for(&post).is_none());
    }

    #[test]
    fn taking_the_session_cookie_out_keeps_the_others() {
        let mut req = TestRequest::get()
            .uri("/")
            .insert_header((
                header::COOKIE,
                "guidepost_csrf=abc; guidepost_session=dead; theme=dark",
            ))
            .to_srv_request();
        drop_session_cookie(&mut req);
        assert_eq!(
            req.headers().get(header::COOKIE).unwrap(),
            "guidepost_csrf=abc; theme=dark"
        );
    }

    #[test]
    fn the_oldest_entries_go_first_when_the_budget_is_spent() {
        let entry = |size: usize| {
            Arc::new(Entry {
                generation: 1,
                stamp: 0,
                status: StatusCode::OK,
                headers: HeaderMap::new(),
                etag: None,
                body: Bytes::from(vec![b'x'; size]),
            })
        };
        let mut cache = LocalCache::default();
        cache.insert("a".into(), entry(40), 100);
        cache.insert("b".into(), entry(40), 100);
        cache.insert("c".into(), entry(40), 100);
        assert!(!cache.entries.contains_key("a"));
        assert!(cache.entries.contains_key("b") && cache.entries.contains_key("c"));
        assert!(cache.bytes <= 100);
    }
}
