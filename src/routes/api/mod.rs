//! The JSON API under `/api`, as the RealWorld ("Conduit") specification describes it, so that any
//! RealWorld front end can run on the site. It is a view of the same data as the pages: members,
//! their handles (the API's usernames), articles, saved articles (its favourites), follows and
//! comments.
//!
//! - **Tokens** (`Authorization: Token …`) are server-side sessions like the browser's, marked as
//!   the API's: listed among the member's devices, ended from there, by a password change, or by
//!   the member being disabled or deleted. Nothing else authenticates here: cookies are ignored,
//!   so no other site can act through a member's browser.
//! - **Errors** are `{"errors": {"field": ["message"]}}`: 401 without a valid token, 403 when the
//!   token's member may not do it, 404 for what does not exist (or is not theirs to see), 422 for
//!   input the forms' rules refuse, 429 past a limit (with `Retry-After`).
//! - **Limits**: per client address and per token, in memory, besides the site's own (log-ins,
//!   sign-ups, comments).
//! - **CORS** is off until an admin names origins in the settings; responses are never cached and
//!   never set a cookie.

mod articles;
mod social;
mod users;

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Map, Value, json};

use crate::db::sessions::{Lifetimes, SessionRow};
use crate::db::users::{ACTIVE, Member};
use crate::db::{self};
use crate::error::AppError;
use crate::views::AppState;

/// True for the API's addresses.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The most an API request body may hold: an article's Markdown (at most 200,000 characters)
/// written as JSON, for writes of articles with a token; a form's worth for anything else.
pub fn body_limit(req: &ServiceRequest) -> usize {
    let article_write = matches!(*req.method(), Method::POST | Method::PUT)
        && req.path().starts_with("/api/articles")
        && token_of(req.request()).is_ok_and(|t| t.is_some());
    if article_write {
        1024 * 1024
    } else {
        crate::requests::FORM_BYTES
    }
}

/// A request refused before routing (too large, too slow, unreadable), in the API's shape.
pub fn refusal(error: &AppError) -> HttpResponse {
    let message = match error {
        AppError::BadRequest { heading, .. } => (*heading).to_owned(),
        other => other.to_string(),
    };
    ApiError::new(error.status_code(), "request", &message).error_response()
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: BTreeMap<String, Vec<String>>,
    retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, field: &str, message: &str) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_owned(), vec![message.to_owned()]);
        Self {
            status,
            errors,
            retry_after: None,
        }
    }

    /// 422 with one message under `field`.
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, field, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "token",
            "is missing, unknown or expired: log in for a new one",
        )
    }

    pub fn forbidden(field: &str, message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, field, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, what, "not found")
    }

    /// 422 with the messages a form check recorded, under the API's names for the fields.
    pub fn from_fields(errors: &super::forms::FieldErrors, names: &[(&str, &str)]) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, message) in errors.iter() {
            let name = names
                .iter()
                .find(|(form, _)| *form == field)
                .map_or(field, |(_, api)| *api);
            map.entry(name.to_owned())
                .or_default()
                .push(message.to_owned());
        }
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: map,
            retry_after: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "API error {}", self.status)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound => Self::not_found("resource"),
            AppError::Forbidden | AppError::FormExpired | AppError::LogInFirst { .. } => {
                Self::forbidden("access", "not allowed")
            }
            AppError::TooManyRequests {
                message,
                retry_after,
            } => {
                let mut refused = Self::new(StatusCode::TOO_MANY_REQUESTS, "requests", &message);
                refused.retry_after = Some(retry_after);
                refused
            }
            AppError::MovedTo(_) => Self::not_found("resource"),
            AppError::BadRequest {
                status, heading, ..
            } => Self::new(status, "request", heading),
            other => {
                let status = other.status_code();
                if status.is_server_error() {
                    tracing::error!("the API could not answer: {other:#}");
                }
                Self::new(
                    status,
                    "server",
                    "could not answer just now; nothing was changed, please try again",
                )
            }
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::from(error).into()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Token"));
        }
        response.json(json!({ "errors": self.errors }))
    }
}

pub type ApiResult = Result<HttpResponse, ApiError>;

/// A JSON answer.
pub fn reply(status: StatusCode, value: &Value) -> HttpResponse {
    HttpResponse::build(status).json(value)
}

/// The member behind a request's token, the token, and its session's id.
#[derive(Debug, Clone)]
pub struct Caller {
    pub member: Member,
    pub token: String,
    pub session_id: i32,
}

/// The token of `Authorization: Token …` (or `Bearer …`), if the header is there at all; `Err`
/// when it is there but not a token.
fn token_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?.trim();
    let token = value
        .strip_prefix("Token ")
        .or_else(|| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.len() == TOKEN_HEX && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Some(token.to_owned()))
}

/// Hex digits of a token: 32 random bytes.
const TOKEN_HEX: usize = 64;

/// The session state that marks a session as an API token.
pub const API_MARK: &str = "api";

/// The caller, when the request carries a token; 401 when it carries one that is not live.
pub async fn optional_caller(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Caller>, ApiError> {
    let Some(token) = token_of(req)? else {
        return Ok(None);
    };
    let hash = crate::auth::token_hash(&token);
    let cache = std::sync::Arc::clone(&state.cache);
    let found = db::run(&state.pool, move |conn| {
        let settings = cache.settings(conn)?;
        let now = db::now();
        let Some(row) =
            SessionRow::find_live(conn, &hash, now, Lifetimes::from_settings(&settings))?
        else {
            return Ok(None);
        };
        let marked = serde_json::from_str::<Map<String, Value>>(&row.state)
            .is_ok_and(|state| state.contains_key(API_MARK));
        if !marked {
            return Ok(None);
        }
        let Some(member) = Member::find(conn, row.user_id)?.filter(|m| m.status == ACTIVE) else {
            return Ok(None);
        };
        if now - row.last_seen_at >= time::Duration::minutes(1) {
            SessionRow::touch(conn, row.id, now)?;
        }
        Ok(Some((member, row.id)))
    })
    .await?;
    match found {
        Some((member, session_id)) => Ok(Some(Caller {
            member,
            token,
            session_id,
        })),
        None => Err(ApiError::unauthorized()),
    }
}

/// The caller; 401 without a live token.
pub async fn caller(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    optional_caller(req, state)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// The object under `root` in a JSON body (`{"user": {...}}`); 422 with a sentence otherwise.
pub fn object_in(body: &[u8], root: &str) -> Result<Map<String, Value>, ApiError> {
    let shape = || {
        ApiError::invalid(
            "body",
            &format!("must be a JSON object with an object under \"{root}\""),
        )
    };
    let value: Value = serde_json::from_slice(body).map_err(|_| shape())?;
    match value {
        Value::Object(mut outer) => match outer.remove(root) {
            Some(Value::Object(inner)) => Ok(inner),
            _ => Err(shape()),
        },
        _ => Err(shape()),
    }
}

/// The text under `name`: `None` when absent or null, 422 when it is not text.
pub fn text_in(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::invalid(name, "must be text")),
    }
}

/// A time as the API gives it: UTC, with milliseconds.
pub fn stamp(at: time::PrimitiveDateTime) -> String {
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// `?name=` as a whole number within `range`, `default` when absent; 422 otherwise.
pub fn number_param(
    req: &HttpRequest,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64, ApiError> {
    match super::query_param(req, name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    &format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// The API's routes.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/api")
        .wrap(from_fn(guard))
        .route("/users", web::post().to(users::register))
        .route("/users/login", web::post().to(users::login))
        .route("/user", web::get().to(users::current))
        .route("/user", web::put().to(users::update))
        .route("/profiles/{username}", web::get().to(social::profile))
        .route(
            "/profiles/{username}/follow",
            web::post().to(social::follow),
        )
        .route(
            "/profiles/{username}/follow",
            web::delete().to(social::unfollow),
        )
        .route("/articles", web::get().to(articles::list))
        .route("/articles", web::post().to(articles::create))
        .route("/articles/feed", web::get().to(articles::feed))
        .route("/articles/{slug}", web::get().to(articles::show))
        .route("/articles/{slug}", web::put().to(articles::update))
        .route("/articles/{slug}", web::delete().to(articles::delete))
        .route(
            "/articles/{slug}/favorite",
            web::post().to(social::favorite),
        )
        .route(
            "/articles/{slug}/favorite",
            web::delete().to(social::unfavorite),
        )
        .route("/articles/{slug}/comments", web::get().to(social::comments))
        .route(
            "/articles/{slug}/comments",
            web::post().to(social::add_comment),
        )
        .route(
            "/articles/{slug}/comments/{id}",
            web::delete().to(social::delete_comment),
        )
        .route("/tags", web::get().to(social::tags))
        .default_service(web::to(not_found))
}

async fn not_found(req: HttpRequest) -> ApiResult {
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent().finish());
    }
    Err(ApiError::not_found("path"))
}

/// Around every API request: CORS for the origins the settings name, the limits per client and
/// per token, and answers that are never cached and never set a cookie.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = match &origin {
        Some(origin) => allowed_origin(&state, origin).await,
        None => None,
    };
    let preflight = req.method() == Method::OPTIONS;
    let limited = if preflight {
        Ok(())
    } else {
        limit(&state, req.request())
    };
    let mut res = match limited {
        Err(refused) => req.into_response(refused.error_response()),
        Ok(()) if preflight => req.into_response(HttpResponse::NoContent().finish()),
        Ok(()) => next.call(req).await?.map_into_boxed_body(),
    };
    let headers = res.headers_mut();
    headers.remove(header::SET_COOKIE);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(origin) = allowed.and_then(|o| HeaderValue::from_str(&o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        if preflight {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, DELETE"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, x-requested-with"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    Ok(res)
}

/// `origin` when the settings let it call the API.
async fn allowed_origin(state: &AppState, origin: &str) -> Option<String> {
    let cache = std::sync::Arc::clone(&state.cache);
    let settings = db::run(&state.pool, move |conn| Ok(cache.settings(conn)?))
        .await
        .ok()?;
    let origin = crate::db::settings::parse_origin(origin)?;
    settings.api_origins.contains(&origin).then_some(origin)
}

/// The API's own limits: per client address, and per token wherever it is used from.
fn limit(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let floods = &state.auth.floods;
    super::account::flood_check(&floods.api_client, &state.auth.clients.key(req))?;
    if let Ok(Some(token)) = token_of(req) {
        super::account::flood_check(&floods.api_token, &crate::auth::token_hash(&token))?;
    }
    Ok(())
}
