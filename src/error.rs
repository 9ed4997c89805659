//! `AppError`, the one error type of handlers. A handler returns it and the request middleware
//! ([`crate::telemetry`]) turns the failed response into a page: a 404 page for content that does
//! not exist, a generic page with the request id for everything unexpected, whose cause chain goes
//! to the log only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The page asked for does not exist (or is not public).
    #[error("not found")]
    NotFound,
    /// The database is busy or unreachable for longer than a visitor should wait.
    #[error("service unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// Anything else that went wrong; the visitor sees only a request id.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An empty response with the right status; the request middleware fills in the page.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).finish()
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
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
