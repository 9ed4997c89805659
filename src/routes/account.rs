//! Becoming a member and coming back: `GET/POST /signup`, `GET/POST /signup/confirm/{token}`,
//! `GET /welcome`, `GET/POST /login` and `POST /logout`.
//!
//! A sign-up makes no account at once: it mails a link to the address, and the account is made,
//! its trial started and its browser logged in when that link's button is pressed. An address
//! that already has an account gets a different mail (someone tried to sign up with it), and the
//! page answers the same either way, so the form tells nobody which addresses have accounts.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::email_links::MessagePage;
use super::forms::{FieldErrors, Fields, local_path, render_private, see_other};
use crate::auth::password::Checked;
use crate::auth::session_store::{CSRF, DEVICE, USER_ID};
use crate::auth::{Visitor, csrf, device, known_device, random_hex, token_hash};
use crate::db::settings::SiteSettings;
use crate::db::signups::PendingSignup;
use crate::db::throttle::{self, Refused};
use crate::db::users::{ACTIVE, AccountError, Member, NewMember};
use crate::db::{self};
use crate::domain::{DisplayName, Email, NewPassword};
use crate::error::AppError;
use crate::limits;
use crate::mail::messages;
use crate::views::format::date_label;
use crate::views::{AppState, Layout};

/// How long the link confirming an address works.
pub const VERIFY_LINK_DAYS: i64 = 7;

/// The settings, read through the content cache.
pub async fn settings(state: &AppState) -> Result<SiteSettings, AppError> {
    let cache = std::sync::Arc::clone(&state.cache);
    db::run(&state.pool, move |conn| Ok(cache.settings(conn)?)).await
}

/// Refuses a request of a kind that costs real work when its client sends them faster than a
/// person would (see [`limits::Floods`]).
pub fn flood_check(limiter: &limits::RateLimiter, client: &str) -> Result<(), AppError> {
    limiter.take(client).map_err(|seconds| {
        crate::metrics::refusal(limiter.name());
        AppError::too_many(
            "You are sending these requests faster than a person would.",
            seconds,
        )
    })
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

/// A redirect after a log-in, carrying the device cookie that lets this browser log in to the
/// account without waiting on strangers' failures (see [`known_device`]).
fn logged_in(state: &AppState, req: &HttpRequest, email: &str, location: &str) -> HttpResponse {
    with_device_cookie(see_other(location), state, req, email)
}

/// `response` with the device cookie of the account with address `email`: this browser proved it
/// may use the account (its password, or a link mailed to its address).
pub fn with_device_cookie(
    mut response: HttpResponse,
    state: &AppState,
    req: &HttpRequest,
    email: &str,
) -> HttpResponse {
    let account = limits::account_key(&state.auth.secrets, email);
    let cookie = known_device::cookie(req, &state.auth.secrets, &account, state.auth.secure);
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
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

/// `POST /signup`: checks the form, then mails the address a link that makes the account (or, if
/// it has one already, a note saying someone tried), and answers the same either way.
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

    // Only a form that passed its checks costs real work (a password hash, a write, a mail).
    let client = state.auth.clients.key(&req);
    flood_check(&state.auth.floods.signup, &client)?;
    if state.auth.signup_limit > 0 {
        let check = limits::signup_check(&state.auth.secrets, &client, state.auth.signup_limit);
        if let Err(refused) = db::run(&state.pool, move |conn| {
            Ok(throttle::reserve(conn, &[check])?)
        })
        .await?
        {
            return Err(AppError::too_many(
                "Too many sign-ups were made from your network in the last hour.",
                refused.seconds(),
            ));
        }
    }

    // The password is hashed whether or not the address has an account: both answers take the
    // same time.
    let hash = state.auth.hasher.hash(password.expose()).await?;
    let token = random_hex(32);
    let confirm_link = state
        .site
        .base_url
        .join(&format!("/signup/confirm/{token}"));
    let login_link = state.site.base_url.join("/login");
    let site_name = state.cache.last_known().site_title;
    let next = local_path(fields.get("next"), "").to_owned();
    let mail_checks = limits::mail_checks(
        &state.auth.secrets,
        limits::Mail::SignUp,
        email.as_str(),
        &client,
    );
    let shown = email.as_str().to_owned();
    let queued = db::run(&state.pool, move |conn| {
        let queued = crate::db::write_transaction(conn, |conn| {
            if throttle::reserve(conn, &mail_checks)?.is_err() {
                return Ok(false);
            }
            match Member::find_by_email(conn, &email)? {
                Some(member) => {
                    messages::signup_attempt(&site_name, &member, &login_link).queue(conn)?;
                }
                None => {
                    PendingSignup::create(conn, &token_hash(&token), &email, &name, &hash, &next)?;
                    messages::confirm_signup(&site_name, name.as_str(), &email, &confirm_link)
                        .queue(conn)?;
                }
            }
            Ok::<_, diesel::result::Error>(true)
        })?;
        Ok(queued)
    })
    .await?;
    if queued {
        state.mail.notify_one();
    } else {
        tracing::info!("a sign-up mail was not sent: the address or client had its share today");
    }
    let mut sent = MessagePage::new(
        &state,
        &visitor,
        "/signup",
        "Check your inbox",
        vec![
            format!(
                "We sent a link to {shown}. Open it within a day and type your password on the \
                 page it opens to start your free trial."
            ),
            "No mail after a few minutes? Look in your spam folder, or sign up again for another \
             link. If you already have an account, the mail says so: log in instead."
                .to_owned(),
        ],
    )
    .await?;
    sent.links = vec![("/login", "Log in"), ("/articles", "Read the articles")];
    render_private(&sent, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "account/confirm_signup.html")]
struct ConfirmPage {
    layout: Layout,
    csrf_token: String,
    action: String,
    name: String,
    email: String,
    errors: FieldErrors,
}

impl ConfirmPage {
    async fn new(
        state: &AppState,
        visitor: &Visitor,
        path: &str,
        found: &PendingSignup,
    ) -> Result<Self, AppError> {
        let settings = settings(state).await?;
        Ok(Self {
            layout: Layout::new(
                &state.site,
                path,
                "Start your free trial",
                "Confirm your address to start your free trial.",
            )
            .with_visitor(visitor, &settings)
            .noindex(),
            csrf_token: visitor.csrf_token(),
            action: path.to_owned(),
            name: found.name.clone(),
            email: found.email.clone(),
            errors: FieldErrors::default(),
        })
    }
}

/// The password chosen at sign-up, typed again on its confirmation page: its hash, or the answer
/// to give (the page again with a message; after a few wrong ones the sign-up is dropped).
async fn typed_password(
    state: &AppState,
    visitor: &Visitor,
    path: &str,
    token: &str,
    found: &PendingSignup,
    typed: &str,
) -> Result<Result<crate::db::users::PasswordHash, HttpResponse>, AppError> {
    let check = throttle::Check {
        bucket: throttle::PASSWORD_CHECK,
        // By the link's token, which no other sign-up will ever have (row ids are reused).
        key: state
            .auth
            .secrets
            .sign(&["signup-confirm", &token_hash(token)]),
        rule: throttle::Rule::Count {
            max: CONFIRM_ATTEMPTS,
            window: time::Duration::days(1),
        },
    };
    let reserved = db::run(&state.pool, move |conn| {
        Ok(throttle::reserve(conn, &[check])?)
    })
    .await?;
    let right = match &reserved {
        Ok(_) if !typed.is_empty() => {
            state
                .auth
                .hasher
                .check(typed, Some(&found.password_hash()))
                .await?
                != Checked::Wrong
        }
        _ => false,
    };
    if right {
        return Ok(Ok(found.password_hash()));
    }
    let exhausted = match &reserved {
        Ok(reservation) => reservation.counts.first().copied().unwrap_or(0) >= CONFIRM_ATTEMPTS,
        Err(_) => true,
    };
    if exhausted {
        let id = found.id;
        db::run(&state.pool, move |conn| {
            Ok(PendingSignup::forget(conn, id)?)
        })
        .await?;
        return Ok(Err(signup_link_expired(state, visitor, path).await?));
    }
    let mut page = ConfirmPage::new(state, visitor, path, found).await?;
    page.errors.add(
        "password",
        if typed.is_empty() {
            "Type the password you chose when you signed up."
        } else {
            "That is not the password chosen at sign-up."
        },
    );
    Ok(Err(render_private(
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
    )?))
}

/// Wrong passwords typed on a sign-up's confirmation page before the sign-up is dropped.
const CONFIRM_ATTEMPTS: i64 = 5;

async fn pending(state: &AppState, token: &str) -> Result<Option<PendingSignup>, AppError> {
    let hash = token_hash(token);
    db::run(&state.pool, move |conn| {
        Ok(PendingSignup::find_valid(conn, &hash, db::now())?)
    })
    .await
}

/// `GET /signup/confirm/{token}`: the form that makes the account, with the password chosen at
/// sign-up typed again: a mailed link alone must not make an account with a password someone else
/// chose (a stranger signing up with your address first).
pub async fn confirm_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let path = format!("/signup/confirm/{token}");
    let Some(found) = pending(&state, &token).await? else {
        return signup_link_expired(&state, &visitor, &path).await;
    };
    let page = ConfirmPage::new(&state, &visitor, &path, &found).await?;
    render_private(&page, StatusCode::OK)
}

async fn signup_link_expired(
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
            "It was used already, it is more than a day old, or the password was typed wrong too \
             often."
                .to_owned(),
            "If your account was made, log in; otherwise sign up again for a new link.".to_owned(),
        ],
    )
    .await?;
    page.links = vec![("/login", "Log in"), ("/signup", "Sign up")];
    render_private(&page, StatusCode::GONE)
}

/// `POST /signup/confirm/{token}`: makes the account, starts its trial and logs this browser in.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let path = format!("/signup/confirm/{token}");
    let Some(found) = pending(&state, &token).await? else {
        return signup_link_expired(&state, &visitor, &path).await;
    };
    let password_hash = if fields.get("intent") == "choose" {
        // The link proves the address is the holder's: whoever signed up with it, they choose
        // the account's password here (a stranger's sign-up with their address cannot keep
        // them out, nor make the account with the stranger's password).
        let mut errors = FieldErrors::default();
        let chosen = errors.check(
            "new_password",
            NewPassword::parse(fields.get("new_password")),
        );
        if chosen.is_some() && fields.get("new_password_confirm") != fields.get("new_password") {
            errors.add("new_password_confirm", "The two passwords do not match.");
        }
        let Some(chosen) = chosen.filter(|_| errors.is_empty()) else {
            let mut page = ConfirmPage::new(&state, &visitor, &path, &found).await?;
            page.errors = errors;
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        };
        state.auth.hasher.hash(chosen.expose()).await?
    } else {
        match typed_password(
            &state,
            &visitor,
            &path,
            &token,
            &found,
            fields.get("password"),
        )
        .await?
        {
            Ok(hash) => hash,
            Err(answer) => return Ok(answer),
        }
    };
    let hash = token_hash(&token);
    let trial_days = settings(&state).await?.trial_days;
    let made = db::run(&state.pool, move |conn| {
        let made = crate::db::write_transaction(conn, |conn| {
            let Some(found) = PendingSignup::find_valid(conn, &hash, db::now())? else {
                return Ok(Err(false));
            };
            let email = Email::from_stored(found.email.clone());
            let name = DisplayName::from_stored(found.name.clone());
            let new = NewMember {
                email: &email,
                name: &name,
                password_hash: &password_hash,
                trial_days,
                handle: None,
                email_confirmed: true,
            };
            let member = match Member::create(conn, &new) {
                Ok(member) => member,
                // No handle was chosen, so only the address can be taken.
                Err(AccountError::EmailTaken | AccountError::HandleTaken) => return Ok(Err(true)),
                Err(AccountError::Database(error)) => return Err(error),
            };
            PendingSignup::forget_address(conn, email.as_str())?;
            crate::db::outbox::Message::adopt(conn, member.id, email.as_str())?;
            Ok(Ok((member, found.next_path)))
        })?;
        Ok(made)
    })
    .await?;
    match made {
        Ok((member, next)) => {
            tracing::info!(member = member.id, "a member signed up");
            crate::metrics::signup();
            start_session(&visitor, &member, &req)?;
            let location = if next.is_empty() {
                "/welcome".to_owned()
            } else {
                format!(
                    "/welcome?{}",
                    serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
                )
            };
            Ok(logged_in(&state, &req, &member.email, &location))
        }
        Err(false) => signup_link_expired(&state, &visitor, &path).await,
        Err(true) => {
            let mut page = MessagePage::new(
                &state,
                &visitor,
                &path,
                "This address already has an account",
                vec![
                    "Another sign-up with this address was confirmed first. Log in with it, or \
                     reset its password if you do not know it."
                        .to_owned(),
                ],
            )
            .await?;
            page.links = vec![
                ("/login", "Log in"),
                ("/password/forgot", "Reset the password"),
            ];
            render_private(&page, StatusCode::CONFLICT)
        }
    }
}

#[derive(Template)]
#[template(path = "account/welcome.html")]
struct WelcomePage {
    layout: Layout,
    name: String,
    email: String,
    trial_ends: String,
    next: String,
    /// The plans, when payments are on, to choose now or later.
    offers: Vec<crate::billing::Offer>,
    /// Enough of the trial is left for the first payment to wait for its end.
    deferred: bool,
    csrf_token: String,
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
        offers: super::billing::offered(&state, &settings)
            .filter(|_| !member.is_staff() && member.paid_status.is_none())
            .map(|(_, plans)| plans.offers())
            .unwrap_or_default(),
        deferred: member
            .trial_ends_at
            .is_some_and(|end| end - db::now() >= crate::billing::MIN_TRIAL_LEFT),
        csrf_token: visitor.csrf_token(),
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
    } else if super::query_param(&req, "ended").is_some() {
        page.notice = Some(
            "For your safety you were logged out after several wrong passwords. Log in again to \
             carry on.",
        );
    }
    render_private(&page, StatusCode::OK)
}

/// `POST /login`. An unknown address and a wrong password get the same answer after the same work
/// (a password check against a dummy hash). Each attempt is reserved against the limits before
/// the password is checked (see [`limits`]); a right password gives the reservation back.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let client = state.auth.clients.key(&req);
    flood_check(&state.auth.floods.login, &client)?;
    let settings = settings(&state).await?;
    let mut page = LoginPage::new(&state, &visitor, &settings, fields.get("next"));
    page.email_value = fields.get("email").trim().to_owned();

    let typed = fields.get("email").trim().to_lowercase();
    let secrets = &state.auth.secrets;
    let account = limits::account_key(secrets, &typed);
    let device = known_device::read(&req, secrets, &account, state.auth.secure);
    let checks = limits::login_checks(secrets, &typed, &client, device.as_deref());
    let email = Email::parse(&typed).ok();
    let (reserved, found) = db::run(&state.pool, move |conn| {
        let reserved = throttle::reserve(conn, &checks)?;
        let found = match (&reserved, email) {
            (Ok(_), Some(email)) => Member::with_password(conn, &email)?,
            _ => None,
        };
        Ok((reserved, found))
    })
    .await?;
    let reservation = reserved.map_err(login_refused)?;

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
            tracing::info!("a log-in failed");
            crate::metrics::login_failure();
            page.problem = Some("That email address and password do not match an account.");
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let upgraded = match checked {
        Checked::RightButWeak => Some(state.auth.hasher.hash(fields.get("password")).await?),
        _ => None,
    };
    let id = member.id;
    let pair = limits::account_and_client_key(secrets, &typed, &client);
    let password_checks = limits::password_check(secrets, id).key;
    let is_admin = member.role == crate::db::users::ADMIN;
    let actor = crate::db::audit::Actor {
        id,
        name: member.name.clone(),
    };
    db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            throttle::release(conn, &reservation)?;
            throttle::clear(conn, throttle::LOGIN_BY_ACCOUNT_AND_CLIENT, &pair)?;
            // The password is proven: the account page's count of wrong ones starts afresh.
            throttle::clear(conn, throttle::PASSWORD_CHECK, &password_checks)?;
            if let Some(hash) = upgraded {
                Member::set_password_hash(conn, id, &hash)?;
            }
            if is_admin {
                let subject = crate::db::audit::member_subject(id);
                crate::db::audit::record(conn, &actor, "admin log-in", &subject, "", "")?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    })
    .await?;
    start_session(&visitor, &member, &req)?;
    Ok(logged_in(
        &state,
        &req,
        &member.email,
        local_path(fields.get("next"), "/account"),
    ))
}

/// The answer to a log-in refused by a limit, saying how long to wait.
fn login_refused(refused: Refused) -> AppError {
    let message = match refused.bucket {
        throttle::LOGIN_BY_ACCOUNT => {
            "There were many failed attempts to log in to this account, so each attempt from a \
             new browser has to wait a little. If you forgot your password, you can reset it."
        }
        throttle::LOGIN_BY_CLIENT => {
            "There were too many failed log-ins from your network. If you forgot your password, \
             you can reset it."
        }
        _ => "Too many attempts. If you forgot your password, you can reset it.",
    };
    AppError::too_many(message, refused.seconds())
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
