//! Logging and the per-request middleware: every request gets an id (echoed in `X-Request-Id`),
//! one log line when it ends (method, path, status, latency in microseconds, id), and, when it
//! failed, an error page in place of an empty body. Unexpected errors are logged with their whole
//! cause chain; the visitor sees only the request id.

use std::cell::Cell;
use std::fmt;
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufWriter, IsTerminal, Stderr, Write};
use std::sync::LazyLock;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use tracing_subscriber::EnvFilter;

use crate::error::{AppError, ErrorMessage};
use crate::views::AppState;
use crate::views::error_page::{KeptForm, error_page};

/// Sends log lines to standard error, filtered by `RUST_LOG` (default `info`): as text, or with
/// `json` as one JSON object a line for log collectors. Lines are gathered in a buffer and written
/// in batches, at least every [`FLUSH_EVERY`] and whenever the buffer fills, so a request costs a
/// memory copy rather than a system call. Keep the returned guard alive until exit: dropping it
/// writes what is still buffered.
#[must_use = "dropping the guard flushes the log"]
pub fn init(json: bool) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (as in tests) leaves the first subscriber in place.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BufferedStderr)
        .with_target(false);
    let installed = if json {
        JSON.store(true, Ordering::Relaxed);
        builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
            .is_ok()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
            .is_ok()
    };
    if installed {
        let flusher = std::thread::Builder::new()
            .name("log-flush".to_owned())
            .spawn(|| {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flush_log();
                }
            });
        if let Err(error) = flusher {
            eprintln!("guidepost: cannot start the log flusher, logging unbuffered: {error}");
            UNBUFFERED.store(true, Ordering::Relaxed);
        }
    }
    LogGuard
}

/// The longest a log line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
const LOG_BUFFER_BYTES: usize = 64 * 1024;

static LOG_BUFFER: LazyLock<Mutex<BufWriter<Stderr>>> = LazyLock::new(|| {
    Mutex::new(BufWriter::with_capacity(
        LOG_BUFFER_BYTES,
        std::io::stderr(),
    ))
});
static UNBUFFERED: AtomicBool = AtomicBool::new(false);
/// True when log lines are JSON objects.
static JSON: AtomicBool = AtomicBool::new(false);

fn flush_log() {
    if let Ok(mut buffer) = LOG_BUFFER.lock() {
        let _ = buffer.flush();
    }
}

/// Writes a formatted log line into the shared buffer.
struct BufferedStderr;

impl Write for BufferedStderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = LOG_BUFFER
            .lock()
            .map_err(|_| std::io::Error::other("the log buffer is poisoned"))?;
        buffer.write_all(line)?;
        if UNBUFFERED.load(Ordering::Relaxed) {
            buffer.flush()?;
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes out buffered log lines when dropped.
pub struct LogGuard;

impl Drop for LogGuard {
    fn drop(&mut self) {
        flush_log();
    }
}

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
    let connection = req
        .conn_data::<std::sync::Arc<crate::connections::Connection>>()
        .cloned();
    if let Some(connection) = &connection {
        connection.start();
    }
    // Handlers' and extractors' errors arrive as responses; only a failure inside the router
    // itself would come back as `Err`, and actix renders that one.
    let mut res = next.call(req).await?.map_into_boxed_body();

    // A write that failed outside a handler (a session saved as the response left) is an outage
    // of writes too: nothing was saved, and the visitor may try again.
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR
        && let Some(problem) = res
            .response()
            .error()
            .and_then(|e| crate::db::health::WriteProblem::in_message(&describe(e)))
    {
        let (req, old) = res.into_parts();
        tracing::warn!(request_id = %id, "a write failed: {}", old.error().map(describe).unwrap_or_default());
        let retry = crate::error::AppError::WriteUnavailable(problem).error_response();
        res = ServiceResponse::new(req, retry);
    }

    let status = res.status();
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        let cause = res.response().error().map(describe).unwrap_or_default();
        let (method, path) = (res.request().method(), loggable_path(res.request().path()));
        tracing::error!(request_id = %id, %method, %path, status = status.as_u16(), "request failed: {cause}");
    }
    if (status.is_client_error() || status.is_server_error()) && is_empty(res.response().body()) {
        res = with_error_page(res, &id);
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }
    let took = started.elapsed();
    crate::metrics::request(res.request().path(), status.as_u16(), took.as_secs_f64());
    access_log(
        &id,
        res.request().method(),
        &loggable_path(res.request().path()),
        status,
        took,
    );
    if let Some(connection) = connection {
        res = res.map_body(|_, body| connection.finish(body));
    }
    Ok(res)
}

/// Writes the request's log line, in the same format as every other line. It is the one line
/// written for every request, so it skips the general-purpose formatter (which cost a fifth of the
/// throughput of a cached page in `bench/run`) and goes straight into the log buffer; it obeys
/// `RUST_LOG` like any other `info` line.
fn access_log(
    id: &RequestId,
    method: &actix_web::http::Method,
    path: &str,
    status: StatusCode,
    latency: Duration,
) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let timestamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond(),
    );
    let mut line = String::with_capacity(160 + path.len());
    if JSON.load(Ordering::Relaxed) {
        // The shape tracing's JSON lines have, so a collector reads both alike.
        let object = serde_json::json!({
            "timestamp": timestamp,
            "level": "INFO",
            "fields": {
                "message": "request",
                "request_id": id.as_str(),
                "method": method.as_str(),
                "path": path,
                "status": status.as_u16(),
                "latency_us": u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            },
        });
        let _ = writeln!(line, "{object}");
    } else {
        let _ = writeln!(
            line,
            "{timestamp}  INFO request request_id={id} method={method} path={path} status={} latency_us={}",
            status.as_u16(),
            latency.as_micros(),
        );
    }
    let _ = BufferedStderr.write_all(line.as_bytes());
}

/// `path` as the log may show it: a token in it is replaced by `[token]`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match crate::mail::LINK_PATHS
        .iter()
        .find(|prefix| path.starts_with(**prefix))
    {
        Some(prefix) => format!("{prefix}[token]").into(),
        None => path.into(),
    }
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

/// Replaces an empty error response with the error page, keeping its status and its `Allow` and
/// `Retry-After` headers.
fn with_error_page(res: ServiceResponse<BoxBody>, id: &RequestId) -> ServiceResponse<BoxBody> {
    let (req, old) = res.into_parts();
    let status = old.status();
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return ServiceResponse::new(req, old);
    };
    let custom = old.extensions().get::<ErrorMessage>().cloned();
    let settings = state.cache.last_known();
    // A form that was not saved (a write failed, or it was too large) is given back: only to a
    // form sent from this site's own pages.
    let same_origin = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() == state.auth.origin.as_bytes())
        || req
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"same-origin");
    let kept = if same_origin
        && matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::PAYLOAD_TOO_LARGE
        ) {
        req.extensions()
            .get::<crate::requests::SubmittedForm>()
            .and_then(|form| KeptForm::new(req.path(), &form.0))
    } else {
        None
    };
    let body = error_page(
        &state.site,
        &settings,
        status,
        custom.as_ref(),
        id.as_str(),
        kept,
    );
    let mut page = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = old.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    ServiceResponse::new(req, page)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn one_time_tokens_never_reach_the_log() {
        assert_eq!(
            loggable_path("/password/reset/abc123"),
            "/password/reset/[token]"
        );
        assert_eq!(
            loggable_path("/verify-email/abc123"),
            "/verify-email/[token]"
        );
        assert_eq!(loggable_path("/articles/some-slug"), "/articles/some-slug");
    }
}
