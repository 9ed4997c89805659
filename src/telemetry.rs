//! Logging and the per-request middleware: every request gets an id (echoed in `X-Request-Id`),
//! one log line when it ends (method, path, status, latency in microseconds, id), and, when it failed, an error
//! page in place of an empty body. Unexpected errors are logged with their whole cause chain;
//! the visitor sees only the request id.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::io::IsTerminal;
use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::error::AppError;
use crate::routes::errors::error_page;
use crate::views::AppState;

/// Sends log lines to standard error, filtered by `RUST_LOG` (default `info`). Lines are written
/// by a thread of their own, so a request never waits for the terminal or disk; when that thread
/// falls behind, loggers wait rather than drop lines. Keep the returned guard alive until exit: it
/// flushes what is still queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init() -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    // A second call (as in tests) leaves the first subscriber in place.
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok();
    LogGuard(installed.then_some(guard))
}

/// Flushes queued log lines when dropped.
pub struct LogGuard(#[expect(dead_code, reason = "held only for its Drop")] Option<WorkerGuard>);

/// A short random id that ties a log line to the page a visitor saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

static REQUEST_ID_KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

thread_local! {
    static REQUEST_COUNTER: Cell<u64> = const { Cell::new(0) };
}

impl RequestId {
    fn generate() -> Self {
        let n = REQUEST_COUNTER.with(|c| {
            c.set(c.get().wrapping_add(1));
            c.get()
        });
        let thread = std::thread::current().id();
        Self(format!("{:016x}", REQUEST_ID_KEYS.hash_one((n, thread))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request middleware; see the module documentation.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = RequestId::generate();
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    let path = req.path().to_owned();
    // Handlers' and extractors' errors arrive as responses; only a failure inside the router
    // itself would come back as `Err`, and actix renders that one.
    let mut res = next.call(req).await?.map_into_boxed_body();

    let status = res.status();
    if status.is_server_error() {
        let cause = res.response().error().map(describe).unwrap_or_default();
        tracing::error!(request_id = %id, %method, %path, status = status.as_u16(), "request failed: {cause}");
    }
    if (status.is_client_error() || status.is_server_error()) && is_empty(res.response().body()) {
        res = with_error_page(res, &id);
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }
    tracing::info!(
        request_id = %id,
        %method,
        %path,
        status = status.as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    Ok(res)
}

/// The cause chain of a failure, for the log.
fn describe(error: &Error) -> String {
    match error.as_error::<AppError>() {
        Some(AppError::Internal(cause) | AppError::Unavailable(cause)) => format!("{cause:#}"),
        Some(other) => other.to_string(),
        None => error.to_string(),
    }
}

fn is_empty(body: &BoxBody) -> bool {
    matches!(body.size(), BodySize::None | BodySize::Sized(0))
}

/// Replaces an empty error response with the error page, keeping its status and `Allow` header.
fn with_error_page(res: ServiceResponse<BoxBody>, id: &RequestId) -> ServiceResponse<BoxBody> {
    let (req, old) = res.into_parts();
    let status = old.status();
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return ServiceResponse::new(req, old);
    };
    let body = error_page(&state.site, status, id);
    let mut page = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    if let Some(allow) = old.headers().get(header::ALLOW) {
        page.headers_mut().insert(header::ALLOW, allow.clone());
    }
    ServiceResponse::new(req, page)
}
