//! `AppError`, the one error type of handlers. A handler returns it and the request middleware
//! ([`crate::telemetry`]) turns the failed response into a page: a 404 page for content that does
//! not exist, a generic page with the request id for everything unexpected, whose cause chain goes
//! to the log only.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The page asked for does not exist (or is not public).
    #[error("not found")]
    NotFound,
    /// The page moved: a permanent redirect to this path (an article's or topic's old address).
    #[error("moved")]
    MovedTo(String),
    /// The page is for members: log in, then come back to `next`.
    #[error("log in first")]
    LogInFirst { next: String },
    /// A form's CSRF token or origin did not check out; nothing was changed.
    #[error("the form expired")]
    FormExpired,
    /// Logged in, but not allowed here.
    #[error("forbidden")]
    Forbidden,
    /// A limit was reached; the message says when to try again, and `Retry-After` says it to
    /// machines, in seconds.
    #[error("too many requests")]
    TooManyRequests { message: String, retry_after: i64 },
    /// The database is busy or unreachable for longer than a visitor should wait.
    #[error("service unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// A write could not happen (a full disk, a read-only file system, the write lock held too
    /// long): nothing was saved, and the visitor may try again shortly.
    #[error("the database cannot be written to: {0}")]
    WriteUnavailable(crate::db::health::WriteProblem),
    /// A request too large for its address, or malformed: the message says what was wrong.
    #[error("bad request: {heading}")]
    BadRequest {
        status: StatusCode,
        heading: &'static str,
        message: String,
    },
    /// Stripe could not be reached or refused a call: nothing was charged or changed.
    #[error("payments are unavailable: {0}")]
    PaymentProvider(#[from] crate::billing::stripe::StripeError),
    /// Anything else that went wrong; the visitor sees only a request id.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::LogInFirst { .. } => StatusCode::SEE_OTHER,
            Self::MovedTo(_) => StatusCode::MOVED_PERMANENTLY,
            Self::FormExpired | Self::Forbidden => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::WriteUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            Self::BadRequest { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An empty response with the right status, and the message the page should say when it is
    /// not the status's usual one; the request middleware fills in the page.
    fn error_response(&self) -> HttpResponse {
        match self {
            Self::LogInFirst { next } => {
                let query =
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/login?{query}")))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish()
            }
            Self::MovedTo(path) => HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, path.as_str()))
                .finish(),
            Self::FormExpired => with_message(
                self.status_code(),
                "This form has expired",
                "For your safety, forms only work for a while and only from this site. Go back, \
                 reload the page and submit the form again."
                    .to_owned(),
            ),
            Self::TooManyRequests {
                message,
                retry_after,
            } => {
                let mut response =
                    with_message(self.status_code(), "Too many attempts", message.clone());
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after.max(&1)),
                );
                response
            }
            Self::WriteUnavailable(problem) => {
                let mut response = with_message(
                    self.status_code(),
                    "Nothing was saved",
                    format!(
                        "{} Nothing you sent was saved or changed; please try again in a minute.",
                        problem.sentence()
                    ),
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(WRITE_RETRY_SECONDS),
                );
                response
            }
            Self::BadRequest {
                status,
                heading,
                message,
            } => with_message(*status, heading, message.clone()),
            Self::PaymentProvider(_) => with_message(
                self.status_code(),
                "Payments are unavailable just now",
                "We could not reach Stripe, who handle our payments. Nothing was charged or \
                 changed; please try again in a few minutes."
                    .to_owned(),
            ),
            _ => HttpResponse::build(self.status_code()).finish(),
        }
    }
}

/// How long a visitor is asked to wait after a write failed.
pub const WRITE_RETRY_SECONDS: u32 = 30;

impl AppError {
    /// A limit's refusal, saying `message` and when to try again ("try again in 30 seconds" is
    /// appended).
    pub fn too_many(message: &str, retry_after: i64) -> Self {
        Self::TooManyRequests {
            message: format!(
                "{message} Try again in {}.",
                crate::limits::wait_label(retry_after)
            ),
            retry_after,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        if let Some(problem) = crate::db::health::WriteProblem::of(&error) {
            tracing::warn!("a write failed: {error}");
            return Self::WriteUnavailable(problem);
        }
        match error {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(anyhow::Error::new(error).context("no database connection free"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("the blocking task did not finish: {error}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("template rendering failed"))
    }
}

/// What an error page says instead of its status's usual heading and message.
#[derive(Debug, Clone)]
pub struct ErrorMessage {
    pub heading: &'static str,
    pub message: String,
}

fn with_message(status: StatusCode, heading: &'static str, message: String) -> HttpResponse {
    let mut response = HttpResponse::build(status).finish();
    response
        .extensions_mut()
        .insert(ErrorMessage { heading, message });
    response
}
