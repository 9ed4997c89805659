//! The pages that links in our mail open: confirming an address (`/verify-email/{token}`),
//! confirming a new one (`/account/email/confirm/{token}`) and choosing a new password
//! (`/password/forgot`, `/password/reset/{token}`). Each link opens a page with a button; only the
//! POST acts, so a mail scanner that follows links uses nothing up.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::settings;
use super::forms::{FieldErrors, Fields, render_private, see_other};
use crate::auth::{Visitor, csrf, random_hex, token_hash};
use crate::db::sessions::SessionRow;
use crate::db::throttle::{self, LOGIN_BY_ACCOUNT};
use crate::db::tokens::{CHANGE_EMAIL, EmailToken, RESET_PASSWORD, VERIFY_EMAIL};
use crate::db::users::{AccountError, Member};
use crate::db::{self};
use crate::domain::{Email, NewPassword};
use crate::error::AppError;
use crate::limits;
use crate::mail::messages;
use crate::views::{AppState, Layout};

/// A reset link works for an hour.
const RESET_VALID: time::Duration = time::Duration::hours(1);

/// A page that says one thing, with an optional button (a POST) and links.
#[derive(Template)]
#[template(path = "account/message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: &'static str,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    pub csrf_token: String,
    pub links: Vec<(&'static str, &'static str)>,
}

/// A button that posts to `url`.
pub struct Action {
    pub url: String,
    pub label: &'static str,
}

impl MessagePage {
    pub async fn new(
        state: &AppState,
        visitor: &Visitor,
        path: &str,
        heading: &'static str,
        paragraphs: Vec<String>,
    ) -> Result<Self, AppError> {
        let settings = settings(state).await?;
        Ok(Self {
            layout: Layout::new(&state.site, path, heading, heading)
                .with_visitor(visitor, &settings)
                .noindex(),
            heading,
            paragraphs,
            action: None,
            csrf_token: String::new(),
            links: Vec::new(),
        })
    }

    pub fn with_action(mut self, visitor: &Visitor, url: String, label: &'static str) -> Self {
        self.csrf_token = visitor.csrf_token();
        self.action = Some(Action { url, label });
        self
    }
}

async fn link_expired(
    state: &AppState,
    visitor: &Visitor,
    path: &str,
) -> Result<HttpResponse, AppError> {
    let mut page = MessagePage::new(
        state,
        visitor,
        path,
        "This link has expired",
        vec![
            "It was used already, or it is too old, or a newer link replaced it.".to_owned(),
            "Nothing was changed. You can ask for a new link from your account page, or from the \
             log-in page if you forgot your password."
                .to_owned(),
        ],
    )
    .await?;
    page.links = vec![
        ("/account", "Your account"),
        ("/password/forgot", "Reset your password"),
    ];
    render_private(&page, StatusCode::GONE)
}

async fn valid_token(
    state: &AppState,
    token: &str,
    purpose: &'static str,
) -> Result<Option<EmailToken>, AppError> {
    let hash = token_hash(token);
    db::run(&state.pool, move |conn| {
        Ok(EmailToken::find_valid(conn, &hash, purpose, db::now())?)
    })
    .await
}

/// `GET /verify-email/{token}`: a button that confirms the address.
pub async fn verify_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = format!("/verify-email/{token}");
    if valid_token(&state, &token, VERIFY_EMAIL).await?.is_none() {
        return link_expired(&state, &visitor, &path).await;
    }
    let page = MessagePage::new(
        &state,
        &visitor,
        &path,
        "Confirm your email address",
        vec!["Press the button to confirm that this address is yours.".to_owned()],
    )
    .await?
    .with_action(&visitor, path.clone(), "Confirm my address");
    render_private(&page, StatusCode::OK)
}

/// `POST /verify-email/{token}`.
pub async fn verify(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(Fields::parse(&body).get(csrf::FIELD))?;
    let hash = token_hash(&token);
    let done = db::run(&state.pool, move |conn| {
        let done = crate::db::write_transaction(conn, |conn| {
            let Some(found) = EmailToken::find_valid(conn, &hash, VERIFY_EMAIL, db::now())? else {
                return Ok(false);
            };
            if !EmailToken::consume(conn, found.id)? {
                return Ok(false);
            }
            Member::mark_email_verified(conn, found.user_id)?;
            Ok::<_, diesel::result::Error>(true)
        })?;
        Ok(done)
    })
    .await?;
    let path = format!("/verify-email/{token}");
    if !done {
        return link_expired(&state, &visitor, &path).await;
    }
    if visitor.member().is_some() {
        visitor.flash("Thank you: your email address is confirmed.");
        return Ok(see_other("/account"));
    }
    let mut page = MessagePage::new(
        &state,
        &visitor,
        &path,
        "Your address is confirmed",
        vec!["Thank you. You can log in and carry on reading.".to_owned()],
    )
    .await?;
    page.links = vec![("/login", "Log in"), ("/articles", "Read the articles")];
    render_private(&page, StatusCode::OK)
}

/// `GET /account/email/confirm/{token}`: a button that moves the account to its new address.
pub async fn confirm_email_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = format!("/account/email/confirm/{token}");
    let Some(found) = valid_token(&state, &token, CHANGE_EMAIL).await? else {
        return link_expired(&state, &visitor, &path).await;
    };
    let page = MessagePage::new(
        &state,
        &visitor,
        &path,
        "Confirm your new address",
        vec![format!(
            "Press the button to make {} the address of your account.",
            found.new_email.unwrap_or_default()
        )],
    )
    .await?
    .with_action(&visitor, path.clone(), "Use this address");
    render_private(&page, StatusCode::OK)
}

/// `POST /account/email/confirm/{token}`.
pub async fn confirm_email(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(Fields::parse(&body).get(csrf::FIELD))?;
    let hash = token_hash(&token);
    let outcome = db::run(&state.pool, move |conn| {
        let outcome = crate::db::write_transaction(conn, |conn| {
            let Some(found) = EmailToken::find_valid(conn, &hash, CHANGE_EMAIL, db::now())? else {
                return Ok(None);
            };
            let new = Email::from_stored(found.new_email.clone().unwrap_or_default());
            if !EmailToken::consume(conn, found.id)? {
                return Ok(None);
            }
            match Member::set_email(conn, found.user_id, &new) {
                Ok(()) => Ok(Some(true)),
                Err(AccountError::EmailTaken | AccountError::HandleTaken) => Ok(Some(false)),
                Err(AccountError::Database(error)) => Err(error),
            }
        })?;
        Ok(outcome)
    })
    .await?;
    let path = format!("/account/email/confirm/{token}");
    match outcome {
        None => link_expired(&state, &visitor, &path).await,
        Some(false) => {
            let page = MessagePage::new(
                &state,
                &visitor,
                &path,
                "That address is taken",
                vec![
                "Another account started using that address since you asked for the change, so \
                 your address stays as it was."
                    .to_owned(),
            ],
            )
            .await?;
            render_private(&page, StatusCode::CONFLICT)
        }
        Some(true) if visitor.member().is_some() => {
            visitor.flash("Your email address was changed.");
            Ok(see_other("/account"))
        }
        Some(true) => {
            let mut page = MessagePage::new(
                &state,
                &visitor,
                &path,
                "Your address was changed",
                vec!["Log in with your new address from now on.".to_owned()],
            )
            .await?;
            page.links = vec![("/login", "Log in")];
            render_private(&page, StatusCode::OK)
        }
    }
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    layout: Layout,
    csrf_token: String,
    email_value: String,
    sent: bool,
    errors: FieldErrors,
}

async fn forgot_page(state: &AppState, visitor: &Visitor) -> Result<ForgotPage, AppError> {
    let settings = settings(state).await?;
    Ok(ForgotPage {
        layout: Layout::new(
            &state.site,
            "/password/forgot",
            "Reset your password",
            "Reset your password.",
        )
        .with_visitor(visitor, &settings),
        csrf_token: visitor.csrf_token(),
        email_value: String::new(),
        sent: false,
        errors: FieldErrors::default(),
    })
}

/// `GET /password/forgot`.
pub async fn forgot_form(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    render_private(&forgot_page(&state, &visitor).await?, StatusCode::OK)
}

/// `POST /password/forgot`: the same answer, after the same work (a write transaction that counts
/// the request), whether or not the address has an account; only an account's owner gets mail.
pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let client = state.auth.clients.key(&req);
    super::account::flood_check(&state.auth.floods.reset, &client)?;
    let mut page = forgot_page(&state, &visitor).await?;
    let email = match Email::parse(fields.get("email")) {
        Ok(email) => email,
        Err(message) => {
            page.email_value = fields.get("email").trim().to_owned();
            page.errors.add("email", message);
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let token = random_hex(32);
    let link = state
        .site
        .base_url
        .join(&format!("/password/reset/{token}"));
    let site_name = state.cache.last_known().site_title;
    let checks = limits::mail_checks(
        &state.auth.secrets,
        limits::Mail::Reset,
        email.as_str(),
        &client,
    );
    let queued = db::run(&state.pool, move |conn| {
        let queued = crate::db::write_transaction(conn, |conn| {
            let allowed = throttle::reserve(conn, &checks)?.is_ok();
            let Some(member) = Member::find_by_email(conn, &email)? else {
                return Ok(false);
            };
            if !allowed {
                return Ok(false);
            }
            EmailToken::create(
                conn,
                member.id,
                RESET_PASSWORD,
                &token_hash(&token),
                None,
                RESET_VALID,
            )?;
            messages::password_reset(&site_name, &member, &link).queue(conn)?;
            Ok::<_, diesel::result::Error>(true)
        })?;
        Ok(queued)
    })
    .await?;
    if queued {
        state.mail.notify_one();
    }
    page.sent = true;
    render_private(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    layout: Layout,
    csrf_token: String,
    action: String,
    errors: FieldErrors,
}

/// `GET /password/reset/{token}`: the new-password form.
pub async fn reset_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = format!("/password/reset/{token}");
    if valid_token(&state, &token, RESET_PASSWORD).await?.is_none() {
        return link_expired(&state, &visitor, &path).await;
    }
    let settings = settings(&state).await?;
    let page = ResetPage {
        layout: Layout::new(
            &state.site,
            &path,
            "Choose a new password",
            "Choose a new password.",
        )
        .with_visitor(&visitor, &settings)
        .noindex(),
        csrf_token: visitor.csrf_token(),
        action: path,
        errors: FieldErrors::default(),
    };
    render_private(&page, StatusCode::OK)
}

/// `POST /password/reset/{token}`: sets the password, ends every session and every other emailed
/// link, and clears the failed log-ins counted against the account.
pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let path = format!("/password/reset/{token}");
    let Some(found) = valid_token(&state, &token, RESET_PASSWORD).await? else {
        return link_expired(&state, &visitor, &path).await;
    };
    let mut errors = FieldErrors::default();
    let new = errors.check(
        "new_password",
        NewPassword::parse(fields.get("new_password")),
    );
    if new.is_some() && fields.get("new_password_confirm") != fields.get("new_password") {
        errors.add("new_password_confirm", "The two passwords do not match.");
    }
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        let settings = settings(&state).await?;
        let page = ResetPage {
            layout: Layout::new(
                &state.site,
                &path,
                "Choose a new password",
                "Choose a new password.",
            )
            .with_visitor(&visitor, &settings)
            .noindex(),
            csrf_token: visitor.csrf_token(),
            action: path,
            errors,
        };
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let hash = state.auth.hasher.hash(new.expose()).await?;
    let secrets = state.auth.secrets.clone();
    let client = state.auth.clients.key(&req);
    let changed = db::run(&state.pool, move |conn| {
        let changed = crate::db::write_transaction(conn, |conn| {
            if !EmailToken::consume(conn, found.id)? {
                return Ok(None);
            }
            let Some(member) = Member::find(conn, found.user_id)? else {
                return Ok(None);
            };
            Member::set_password_hash(conn, member.id, &hash)?;
            // Following the link proved the address is theirs.
            Member::mark_email_verified(conn, member.id)?;
            SessionRow::delete_all_for(conn, member.id)?;
            // Every other emailed link ends too: an address change in flight, another reset.
            EmailToken::forget_unused(conn, member.id)?;
            // The link proved the address: the account's failed log-ins are forgotten, and this
            // client's at it.
            throttle::clear(
                conn,
                LOGIN_BY_ACCOUNT,
                &limits::account_key(&secrets, &member.email),
            )?;
            throttle::clear(
                conn,
                throttle::LOGIN_BY_ACCOUNT_AND_CLIENT,
                &limits::account_and_client_key(&secrets, &member.email, &client),
            )?;
            Ok::<_, diesel::result::Error>(Some(member.email))
        })?;
        Ok(changed)
    })
    .await?;
    let Some(email) = changed else {
        return link_expired(&state, &visitor, &path).await;
    };
    if visitor.member().is_some() {
        visitor.session().purge();
    }
    // The link proved the address is theirs: this browser logs in to the account as one that
    // did before, whoever else is guessing its password.
    Ok(super::account::with_device_cookie(
        see_other("/login?reset=1"),
        &state,
        &req,
        &email,
    ))
}
