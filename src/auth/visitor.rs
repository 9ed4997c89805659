//! [`Visitor`]: who is asking, as every page handler receives it. Built from the session the
//! session middleware loaded (see [`super::session_store`]), so it costs no query of its own.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use std::future::{Ready, ready};

use super::Auth;
use super::csrf::{self, NewCookie};
use super::session_store::{CSRF, FLASH, MEMBER, SESSION_ID};
use crate::db::users::Member;
use crate::error::AppError;

/// The person behind a request: a member with a live session, or an anonymous reader.
pub struct Visitor {
    member: Option<Member>,
    session_id: Option<i32>,
    session: Session,
    req: HttpRequest,
}

impl FromRequest for Visitor {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let member = session.get::<Member>(MEMBER).ok().flatten();
        let session_id = session.get::<i32>(SESSION_ID).ok().flatten();
        ready(Ok(Self {
            member,
            session_id,
            session,
            req: req.clone(),
        }))
    }
}

impl Visitor {
    pub fn member(&self) -> Option<&Member> {
        self.member.as_ref()
    }

    /// The member, or a redirect to log in that comes back to this page.
    pub fn require_member(&self) -> Result<&Member, AppError> {
        self.member.as_ref().ok_or_else(|| AppError::LogInFirst {
            next: self
                .req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
        })
    }

    /// Leaves a one-time message for the next page this member sees.
    pub fn flash(&self, message: &str) {
        if let Err(error) = self.session.insert(FLASH, message) {
            tracing::warn!("cannot keep a message for the next page: {error}");
        }
    }

    /// The message left by [`Visitor::flash`], removed as it is read.
    pub fn take_flash(&self) -> Option<String> {
        if !self.session.contains_key(FLASH) {
            return None;
        }
        self.session
            .remove(FLASH)
            .and_then(|value| serde_json::from_str(&value).ok())
    }

    /// An editor or admin, or a redirect to log in (anonymous) or a 403 page (anyone else).
    pub fn require_staff(&self) -> Result<&Member, AppError> {
        let member = self.require_member()?;
        if member.is_staff() {
            Ok(member)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// An admin, or a redirect to log in (anonymous) or a 403 page (anyone else).
    pub fn require_admin(&self) -> Result<&Member, AppError> {
        let member = self.require_member()?;
        if member.role == crate::db::users::ADMIN {
            Ok(member)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The id of the session this request came with.
    pub fn session_id(&self) -> Option<i32> {
        self.session_id
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    fn auth(&self) -> Option<&web::Data<Auth>> {
        self.req.app_data::<web::Data<Auth>>()
    }

    /// The token this visitor's forms carry. A member's comes from their session; an anonymous
    /// visitor's is signed for their CSRF cookie, which is set with this response if they had none.
    pub fn csrf_token(&self) -> String {
        let Some(auth) = self.auth() else {
            return String::new();
        };
        if self.member.is_some() {
            if let Ok(Some(secret)) = self.session.get::<String>(CSRF) {
                return secret;
            }
            let secret = super::random_hex(32);
            // A session without a secret (made before secrets were kept) gets one now.
            if self.session.insert(CSRF, &secret).is_ok() {
                return secret;
            }
        }
        let secure = auth.secure;
        let value = match csrf::cookie_value(&self.req, secure) {
            Some(value) => value,
            None => {
                let mut extensions = self.req.extensions_mut();
                let value = match extensions.get::<NewCookie>() {
                    Some(NewCookie(value)) => value.clone(),
                    None => super::random_hex(32),
                };
                extensions.insert(NewCookie(value.clone()));
                value
            }
        };
        csrf::signed_token(&auth.secrets, &value)
    }

    /// Checks a submitted form's CSRF token and the request's `Origin`; a failure is the 403
    /// "form expired" page, and the caller changes nothing.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        let Some(auth) = self.auth() else {
            return Err(AppError::FormExpired);
        };
        let session_secret = if self.member.is_some() {
            self.session.get::<String>(CSRF).ok().flatten()
        } else {
            None
        };
        csrf::check(
            &self.req,
            submitted,
            session_secret.as_deref(),
            &auth.secrets,
            &auth.origin,
            auth.secure,
        )
        .map_err(|refusal| {
            tracing::info!("a form was refused: {refusal:?}");
            AppError::FormExpired
        })
    }
}

/// Response middleware: sets the CSRF cookie a form asked for, and marks every response to a
/// request that carried a session cookie `private`, so no shared cache keeps a member's page.
pub async fn finish_response(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let with_session = has_session_cookie(&req);
    let secure = req
        .app_data::<web::Data<Auth>>()
        .is_some_and(|auth| auth.secure);
    let mut res = next.call(req).await?;
    let new_cookie = res.request().extensions().get::<NewCookie>().cloned();
    if let Some(NewCookie(value)) = new_cookie {
        let cookie = csrf::cookie(value, secure);
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if with_session {
        let no_store = res
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"));
        if !no_store {
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
        }
    }
    Ok(res)
}

/// True when a request carries a session cookie: the page cache neither answers nor keeps it.
pub fn has_session_cookie(req: &ServiceRequest) -> bool {
    req.cookie(super::session_store::COOKIE).is_some()
        || req.cookie(super::session_store::SECURE_COOKIE).is_some()
}
