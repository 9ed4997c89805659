//! Becoming a member and coming back: `GET/POST /signup`, `GET /welcome`, `GET/POST /login` and
//! `POST /logout`.

use actix_web::http::StatusCode;
use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::{FieldErrors, Fields, local_path, render_private, see_other};
use crate::auth::password::Checked;
use crate::auth::session_store::{CSRF, DEVICE, USER_ID};
use crate::auth::{Visitor, csrf, device, random_hex, token_hash};
use crate::db::settings::SiteSettings;
use crate::db::throttle::{self, LOGIN_BY_ACCOUNT, LOGIN_BY_CLIENT, SIGNUP_BY_CLIENT};
use crate::db::tokens::{EmailToken, VERIFY_EMAIL};
use crate::db::users::{ACTIVE, AccountError, Member, NewMember};
use crate::db::{self};
use crate::domain::{DisplayName, Email, NewPassword};
use crate::error::AppError;
use crate::mail::messages;
use crate::views::format::date_label;
use crate::views::{AppState, Layout};

/// Failed log-ins counted within this window...
const LOGIN_WINDOW: time::Duration = time::Duration::minutes(15);
/// ...at most this many against one account...
const LOGIN_LIMIT_ACCOUNT: i64 = 5;
/// ...and this many from one client address.
const LOGIN_LIMIT_CLIENT: i64 = 20;
/// Sign-ups per client address are counted over an hour.
const SIGNUP_WINDOW: time::Duration = time::Duration::hours(1);
/// How long the link confirming an address works.
pub const VERIFY_LINK_DAYS: i64 = 7;
const EMAIL_TAKEN: &str =
    "This address is already registered: log in, or reset your password if you forgot it.";

/// The settings, read through the content cache.
pub async fn settings(state: &AppState) -> Result<SiteSettings, AppError> {
    let cache = std::sync::Arc::clone(&state.cache);
    db::run(&state.pool, move |conn| Ok(cache.settings(conn)?)).await
}

/// The address a request came from, as the throttles count it (the TCP peer: a proxy in front of
/// the site counts as one client).
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Whole minutes (at least one) until the oldest event in a window leaves it.
fn minutes_until_free(oldest: Option<time::PrimitiveDateTime>, window: time::Duration) -> i64 {
    let now = db::now();
    let left = oldest.map_or(window, |at| at + window - now);
    ((left.whole_seconds() + 59) / 60).max(1)
}

fn minutes(n: i64) -> String {
    if n == 1 {
        "1 minute".to_owned()
    } else {
        format!("{n} minutes")
    }
}

/// Starts a fresh session for `member` (a new cookie value: the session is renewed at log-in).
pub fn start_session(
    visitor: &Visitor,
    member: &Member,
    req: &HttpRequest,
) -> Result<(), AppError> {
    let session = visitor.session();
    session.clear();
    session.renew();
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let stored = session
        .insert(USER_ID, member.id)
        .and_then(|()| session.insert(DEVICE, device::describe(user_agent)))
        .and_then(|()| session.insert(CSRF, random_hex(32)));
    stored.map_err(|error| AppError::Internal(anyhow::anyhow!("cannot start the session: {error}")))
}

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignupPage {
    layout: Layout,
    open: bool,
    csrf_token: String,
    next: String,
    name_value: String,
    email_value: String,
    consent: bool,
    errors: FieldErrors,
}

impl SignupPage {
    fn new(state: &AppState, visitor: &Visitor, settings: &SiteSettings, next: &str) -> Self {
        Self {
            layout: Layout::new(
                &state.site,
                "/signup",
                "Start your free trial",
                "Sign up for a free trial and read every members-only guide.",
            )
            .with_visitor(visitor, settings),
            open: settings.signups_open,
            csrf_token: visitor.csrf_token(),
            next: local_path(next, "").to_owned(),
            name_value: String::new(),
            email_value: String::new(),
            consent: false,
            errors: FieldErrors::default(),
        }
    }
}

/// `GET /signup`.
pub async fn signup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    if visitor.member().is_some() {
        return Ok(see_other("/account"));
    }
    let settings = settings(&state).await?;
    let next = super::query_param(&req, "next").unwrap_or_default();
    render_private(
        &SignupPage::new(&state, &visitor, &settings, &next),
        StatusCode::OK,
    )
}

/// `POST /signup`.
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let settings = settings(&state).await?;
    let mut page = SignupPage::new(&state, &visitor, &settings, fields.get("next"));
    if !settings.signups_open {
        return render_private(&page, StatusCode::FORBIDDEN);
    }
    if !fields.get("website").is_empty() {
        tracing::info!("a sign-up was refused: the field hidden from people was filled in");
        return Ok(see_other("/"));
    }
    let client = state.auth.secrets.sign(&["client", &client_address(&req)]);
    if state.auth.signup_limit > 0 {
        let key = client.clone();
        let (recent, oldest) = db::run(&state.pool, move |conn| {
            Ok(throttle::recent(
                conn,
                SIGNUP_BY_CLIENT,
                &key,
                db::now() - SIGNUP_WINDOW,
            )?)
        })
        .await?;
        if recent >= i64::from(state.auth.signup_limit) {
            return Err(AppError::TooManyRequests(format!(
                "Too many accounts were made from your network in the last hour. Try again in {}.",
                minutes(minutes_until_free(oldest, SIGNUP_WINDOW))
            )));
        }
    }

    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(fields.get("name")));
    let email = errors.check("email", Email::parse(fields.get("email")));
    let password = errors.check("password", NewPassword::parse(fields.get("password")));
    if password.is_some() && fields.get("password_confirm") != fields.get("password") {
        errors.add("password_confirm", "The two passwords do not match.");
    }
    if !fields.has("consent") {
        errors.add(
            "consent",
            "Please agree to the privacy notice to make an account.",
        );
    }
    page.name_value = fields.get("name").trim().to_owned();
    page.email_value = fields.get("email").trim().to_owned();
    page.consent = fields.has("consent");
    let (Some(name), Some(email), Some(password), true) =
        (name, email, password, errors.is_empty())
    else {
        page.errors = errors;
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let lookup = email.clone();
    if db::run(&state.pool, move |conn| {
        Ok(Member::find_by_email(conn, &lookup)?)
    })
    .await?
    .is_some()
    {
        page.errors.add("email", EMAIL_TAKEN);
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let hash = state.auth.hasher.hash(password.expose()).await?;
    let token = random_hex(32);
    let link = state.site.base_url.join(&format!("/verify-email/{token}"));
    let site_name = state.cache.last_known().site_title;
    let trial_days = settings.trial_days;
    let created = db::run(&state.pool, move |conn| {
        let created = conn.immediate_transaction(|conn| {
            let new = NewMember {
                email: &email,
                name: &name,
                password_hash: &hash,
                trial_days,
            };
            let member = match Member::create(conn, &new) {
                Ok(member) => member,
                Err(AccountError::EmailTaken) => return Ok(None),
                Err(AccountError::Database(error)) => return Err(error),
            };
            EmailToken::create(
                conn,
                member.id,
                VERIFY_EMAIL,
                &token_hash(&token),
                None,
                time::Duration::days(VERIFY_LINK_DAYS),
            )?;
            messages::welcome(&site_name, &member, &link).queue(conn)?;
            throttle::record(conn, SIGNUP_BY_CLIENT, &client)?;
            Ok(Some(member))
        })?;
        Ok(created)
    })
    .await?;
    let Some(member) = created else {
        // Another sign-up with this address won the race.
        page.errors.add("email", EMAIL_TAKEN);
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    state.mail.notify_one();
    tracing::info!(member = member.id, "a member signed up");
    start_session(&visitor, &member, &req)?;
    let next = local_path(fields.get("next"), "");
    Ok(see_other(&if next.is_empty() {
        "/welcome".to_owned()
    } else {
        format!(
            "/welcome?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        )
    }))
}

#[derive(Template)]
#[template(path = "account/welcome.html")]
struct WelcomePage {
    layout: Layout,
    name: String,
    email: String,
    trial_ends: String,
    next: String,
}

/// `GET /welcome`: where a new member lands.
pub async fn welcome(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?;
    let settings = settings(&state).await?;
    let next = super::query_param(&req, "next").unwrap_or_default();
    let page = WelcomePage {
        layout: Layout::new(
            &state.site,
            "/welcome",
            "Welcome",
            "Your free trial has started.",
        )
        .with_visitor(&visitor, &settings)
        .noindex(),
        name: member.name.clone(),
        email: member.email.clone(),
        trial_ends: member.trial_ends_at.map(date_label).unwrap_or_default(),
        next: local_path(&next, "").to_owned(),
    };
    render_private(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    layout: Layout,
    csrf_token: String,
    next: String,
    email_value: String,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    errors: FieldErrors,
}

impl LoginPage {
    fn new(state: &AppState, visitor: &Visitor, settings: &SiteSettings, next: &str) -> Self {
        Self {
            layout: Layout::new(
                &state.site,
                "/login",
                "Log in",
                "Log in to read members-only guides.",
            )
            .with_visitor(visitor, settings),
            csrf_token: visitor.csrf_token(),
            next: local_path(next, "").to_owned(),
            email_value: String::new(),
            notice: None,
            problem: None,
            errors: FieldErrors::default(),
        }
    }
}

/// `GET /login`.
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let next = super::query_param(&req, "next").unwrap_or_default();
    if visitor.member().is_some() {
        return Ok(see_other(local_path(&next, "/account")));
    }
    let settings = settings(&state).await?;
    let mut page = LoginPage::new(&state, &visitor, &settings, &next);
    if super::query_param(&req, "reset").is_some() {
        page.notice = Some("Your password was changed. Log in with the new one.");
    }
    render_private(&page, StatusCode::OK)
}

/// `POST /login`. An unknown address and a wrong password get the same answer after the same work
/// (a password check against a dummy hash).
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let settings = settings(&state).await?;
    let mut page = LoginPage::new(&state, &visitor, &settings, fields.get("next"));
    page.email_value = fields.get("email").trim().to_owned();

    let typed = fields.get("email").trim().to_lowercase();
    let client = state.auth.secrets.sign(&["client", &client_address(&req)]);
    let account = state.auth.secrets.sign(&["account", &typed]);
    let email = Email::parse(&typed).ok();
    let (client_key, account_key) = (client.clone(), account.clone());
    let (by_client, by_account, found) = db::run(&state.pool, move |conn| {
        let since = db::now() - LOGIN_WINDOW;
        let by_client = throttle::recent(conn, LOGIN_BY_CLIENT, &client_key, since)?;
        let by_account = throttle::recent(conn, LOGIN_BY_ACCOUNT, &account_key, since)?;
        let found = match email {
            Some(email) => Member::with_password(conn, &email)?,
            None => None,
        };
        Ok((by_client, by_account, found))
    })
    .await?;
    let blocked = if by_account.0 >= LOGIN_LIMIT_ACCOUNT {
        Some(by_account.1)
    } else if by_client.0 >= LOGIN_LIMIT_CLIENT {
        Some(by_client.1)
    } else {
        None
    };
    if let Some(oldest) = blocked {
        return Err(AppError::TooManyRequests(format!(
            "Too many attempts; try again in {}. If you forgot your password, you can reset it.",
            minutes(minutes_until_free(oldest, LOGIN_WINDOW))
        )));
    }

    let (member, hash) = match found {
        Some((member, hash)) => (Some(member), hash),
        None => (None, None),
    };
    let checked = state
        .auth
        .hasher
        .check(fields.get("password"), hash.as_ref())
        .await?;
    let member = match (member, &checked) {
        (Some(member), Checked::Right | Checked::RightButWeak) if member.status == ACTIVE => member,
        (Some(_), Checked::Right | Checked::RightButWeak) => {
            page.problem = Some("This account has been disabled. Please contact the site's team.");
            return render_private(&page, StatusCode::FORBIDDEN);
        }
        _ => {
            db::run(&state.pool, move |conn| {
                throttle::record(conn, LOGIN_BY_CLIENT, &client)?;
                throttle::record(conn, LOGIN_BY_ACCOUNT, &account)?;
                Ok(())
            })
            .await?;
            page.problem = Some("That email address and password do not match an account.");
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let upgraded = match checked {
        Checked::RightButWeak => Some(state.auth.hasher.hash(fields.get("password")).await?),
        _ => None,
    };
    let id = member.id;
    db::run(&state.pool, move |conn| {
        throttle::clear(conn, LOGIN_BY_ACCOUNT, &account)?;
        if let Some(hash) = upgraded {
            Member::set_password_hash(conn, id, &hash)?;
        }
        Ok(())
    })
    .await?;
    start_session(&visitor, &member, &req)?;
    Ok(see_other(local_path(fields.get("next"), "/account")))
}

/// `POST /logout`: ends this session; the cookie is removed and the row deleted.
pub async fn logout(visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, AppError> {
    if visitor.member().is_none() {
        // Already logged out (an old page's button): nothing to do.
        return Ok(see_other("/"));
    }
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    visitor.session().purge();
    Ok(see_other("/"))
}
