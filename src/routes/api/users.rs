//! `/api/users`, `/api/users/login` and `/api/user`: registering, logging in, the current member,
//! and changing their handle, bio and picture.

use actix_web::http::StatusCode;
use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, web};
use serde_json::{Value, json};

use super::{API_MARK, ApiError, ApiResult, Caller, caller, object_in, reply, text_in};
use crate::auth::password::Checked;
use crate::auth::{random_hex, token_hash};
use crate::db::profiles::{self, Profile, ProfileError};
use crate::db::sessions::{Lifetimes, SessionRow};
use crate::db::throttle;
use crate::db::users::{ACTIVE, AccountError, Member, NewMember};
use crate::db::{self, DbConn};
use crate::domain::community::parse_bio;
use crate::domain::{DisplayName, Email, Handle, NewPassword};
use crate::limits;
use crate::routes::account::flood_check;
use crate::routes::forms::FieldErrors;
use crate::views::AppState;

/// `{"user": {...}}` for `member` with `token`.
async fn user_reply(
    state: &AppState,
    member: &Member,
    token: &str,
    status: StatusCode,
) -> ApiResult {
    let id = member.id;
    let (profile, image) = db::run(&state.pool, move |conn| {
        let profile = Profile::find(conn, id)?.ok_or(crate::error::AppError::NotFound)?;
        let image = profile.image_url(conn)?;
        Ok((profile, image))
    })
    .await?;
    Ok(reply(
        status,
        &json!({"user": {
            "email": member.email,
            "token": token,
            "username": profile.handle,
            "bio": profile.bio,
            "image": image.map(|path| state.site.base_url.join(&path)).unwrap_or_default(),
        }}),
    ))
}

/// Opens an API session for `member` in the caller's transaction; returns its token.
fn open_session(
    conn: &mut DbConn,
    member_id: i32,
    device: &str,
    lifetimes: Lifetimes,
) -> diesel::QueryResult<String> {
    let token = random_hex(32);
    let state = json!({"user_id": member_id.to_string(), API_MARK: "true"}).to_string();
    SessionRow::insert(
        conn,
        &token_hash(&token),
        member_id,
        &state,
        device,
        lifetimes,
    )?;
    Ok(token)
}

/// How the account page's list of devices names an API token.
fn device_of(req: &HttpRequest) -> String {
    let agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let agent: String = agent.chars().filter(|c| !c.is_control()).take(60).collect();
    if agent.is_empty() {
        "An app using the API".to_owned()
    } else {
        format!("An app using the API ({agent})")
    }
}

/// `POST /api/users`: a new member with a free trial, logged in. The address is confirmed later,
/// from the link the account page sends.
pub async fn register(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult {
    let user = object_in(&body, "user")?;
    let username = text_in(&user, "username")?.unwrap_or_default();
    let email = text_in(&user, "email")?.unwrap_or_default();
    let password = text_in(&user, "password")?.unwrap_or_default();
    let settings = crate::routes::account::settings(&state).await?;
    if !settings.signups_open {
        return Err(ApiError::forbidden(
            "registration",
            "is closed on this site for now",
        ));
    }
    let mut errors = FieldErrors::default();
    let handle = errors.check("username", Handle::parse(&username));
    let name = errors.check("username", DisplayName::parse(&username));
    let email = errors.check("email", Email::parse(&email));
    let password = errors.check("password", NewPassword::parse(&password));
    let (Some(handle), Some(name), Some(email), Some(password)) = (handle, name, email, password)
    else {
        return Err(ApiError::from_fields(&errors, &[]));
    };
    let client = state.auth.clients.key(&req);
    flood_check(&state.auth.floods.signup, &client)?;
    let check = (state.auth.signup_limit > 0)
        .then(|| limits::signup_check(&state.auth.secrets, &client, state.auth.signup_limit));
    let hash = state.auth.hasher.hash(password.expose()).await?;
    let device = device_of(&req);
    let lifetimes = Lifetimes::from_settings(&settings);
    let trial_days = settings.trial_days;
    let confirm = random_hex(32);
    let link = state
        .site
        .base_url
        .join(&format!("/verify-email/{confirm}"));
    let site_name = settings.site_title.clone();
    let made = db::run(&state.pool, move |conn| {
        if let Some(check) = check
            && let Err(refused) = throttle::reserve(conn, &[check])?
        {
            return Ok(Err(ApiError::from(crate::error::AppError::too_many(
                "Too many accounts were made from your network in the last hour.",
                refused.seconds(),
            ))));
        }
        let made = db::write_transaction(conn, |conn| {
            let new = NewMember {
                email: &email,
                name: &name,
                password_hash: &hash,
                trial_days,
                handle: Some(&handle),
                email_confirmed: false,
            };
            let member = match Member::create(conn, &new) {
                Ok(member) => member,
                Err(AccountError::EmailTaken) => {
                    return Ok(Err(ApiError::invalid("email", "has already been taken")));
                }
                Err(AccountError::HandleTaken) => {
                    return Ok(Err(ApiError::invalid("username", "has already been taken")));
                }
                Err(AccountError::Database(error)) => return Err(error),
            };
            let token = open_session(conn, member.id, &device, lifetimes)?;
            // The address is confirmed by the mailed link, as a browser sign-up's is; until
            // then no other mail goes to it.
            crate::db::tokens::EmailToken::create(
                conn,
                member.id,
                crate::db::tokens::VERIFY_EMAIL,
                &token_hash(&confirm),
                None,
                time::Duration::days(crate::routes::account::VERIFY_LINK_DAYS),
            )?;
            crate::mail::messages::verify_email(&site_name, &member, &link).queue(conn)?;
            Ok(Ok((member, token)))
        })?;
        Ok(made)
    })
    .await?;
    let (member, token) = made?;
    state.mail.notify_one();
    tracing::info!("a member registered through the API");
    user_reply(&state, &member, &token, StatusCode::CREATED).await
}

/// `POST /api/users/login`: a new token for the right address and password, with the limits of
/// the log-in form (an unknown address and a wrong password cost the same and read the same).
pub async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult {
    let user = object_in(&body, "user")?;
    let typed = text_in(&user, "email")?
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let password = text_in(&user, "password")?.unwrap_or_default();
    let client = state.auth.clients.key(&req);
    flood_check(&state.auth.floods.login, &client)?;
    let secrets = &state.auth.secrets;
    let checks = limits::login_checks(secrets, &typed, &client, None);
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
    let reservation = reserved.map_err(|refused| {
        ApiError::from(crate::error::AppError::too_many(
            "Too many failed log-ins.",
            refused.seconds(),
        ))
    })?;
    let (member, hash) = found.map_or((None, None), |(m, h)| (Some(m), h));
    let checked = state.auth.hasher.check(&password, hash.as_ref()).await?;
    let member = match (member, &checked) {
        (Some(member), Checked::Right | Checked::RightButWeak) if member.status == ACTIVE => member,
        (Some(_), Checked::Right | Checked::RightButWeak) => {
            return Err(ApiError::forbidden("account", "has been disabled"));
        }
        _ => {
            tracing::info!("a log-in through the API failed");
            crate::metrics::login_failure();
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "email or password",
                "is invalid",
            ));
        }
    };
    let upgraded = match checked {
        Checked::RightButWeak => Some(state.auth.hasher.hash(&password).await?),
        _ => None,
    };
    let pair = limits::account_and_client_key(secrets, &typed, &client);
    let settings = crate::routes::account::settings(&state).await?;
    let lifetimes = Lifetimes::from_settings(&settings);
    let device = device_of(&req);
    let id = member.id;
    let token = db::run(&state.pool, move |conn| {
        let token = db::write_transaction(conn, |conn| {
            throttle::release(conn, &reservation)?;
            throttle::clear(conn, throttle::LOGIN_BY_ACCOUNT_AND_CLIENT, &pair)?;
            if let Some(hash) = upgraded {
                Member::set_password_hash(conn, id, &hash)?;
            }
            open_session(conn, id, &device, lifetimes)
        })?;
        Ok(token)
    })
    .await?;
    user_reply(&state, &member, &token, StatusCode::OK).await
}

/// `GET /api/user`.
pub async fn current(req: HttpRequest, state: web::Data<AppState>) -> ApiResult {
    let Caller { member, token, .. } = caller(&req, &state).await?;
    user_reply(&state, &member, &token, StatusCode::OK).await
}

/// `PUT /api/user`: the handle (the old one keeps leading to the member's page), bio and picture.
/// The address and the password change on the account page, which confirms a new address by
/// mail and asks for the current password; here the member's own values are accepted unchanged.
pub async fn update(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> ApiResult {
    let Caller { member, token, .. } = caller(&req, &state).await?;
    let user = object_in(&body, "user")?;
    if let Some(email) = text_in(&user, "email")?
        && !email.trim().eq_ignore_ascii_case(&member.email)
    {
        return Err(ApiError::invalid(
            "email",
            "is changed on the account page, which confirms the new address by mail",
        ));
    }
    if text_in(&user, "password")?.is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::invalid(
            "password",
            "is changed on the account page, which asks for the current one",
        ));
    }
    let id = member.id;
    let current = {
        let id = member.id;
        db::run(&state.pool, move |conn| {
            Profile::find(conn, id)?.ok_or(crate::error::AppError::NotFound)
        })
        .await?
    };
    let mut errors = FieldErrors::default();
    let handle = match text_in(&user, "username")? {
        Some(wanted) => errors.check("username", Handle::parse(&wanted)),
        None => Some(Handle::from_stored(current.handle.clone())),
    };
    let bio = match text_in(&user, "bio")? {
        Some(bio) => errors.check("bio", parse_bio(&bio)),
        None => Some(current.bio.clone()),
    };
    let image = match user.get("image") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(url)) if url.trim().is_empty() => Some(None),
        Some(Value::String(url)) => Some(Some(image_hash(&state, url).ok_or_else(|| {
            ApiError::invalid(
                "image",
                "must be the address of your picture uploaded on the account page, or empty",
            )
        })?)),
        Some(_) => return Err(ApiError::invalid("image", "must be text")),
    };
    let (Some(handle), Some(bio)) = (handle, bio) else {
        return Err(ApiError::from_fields(&errors, &[]));
    };
    let changed = handle.as_str() != current.handle || bio != current.bio || image.is_some();
    if !changed {
        return user_reply(&state, &member, &token, StatusCode::OK).await;
    }
    flood_check(&state.auth.floods.profile, &format!("member {}", member.id))?;
    let saved = db::run(&state.pool, move |conn| {
        let mut pictures_gone = Vec::new();
        let saved = db::write_transaction(conn, |conn| {
            let renamed = match profiles::set_profile(conn, id, &handle, &bio) {
                Ok(renamed) => renamed,
                Err(ProfileError::HandleTaken) => {
                    return Ok(Err(ApiError::invalid("username", "has already been taken")));
                }
                Err(ProfileError::Database(error)) => return Err(error),
            };
            if let Some(image) = image {
                let image_id = match image {
                    Some(hash) => match crate::db::images::picture_of(conn, &hash, id)? {
                        Some(found) => Some(found),
                        None => {
                            return Ok(Err(ApiError::invalid(
                                "image",
                                "must be the address of a picture uploaded on the account page, \
                                 or empty",
                            )));
                        }
                    },
                    None => None,
                };
                if let Some(gone) = profiles::set_image(conn, id, image_id)? {
                    pictures_gone.push(gone);
                }
            }
            let page = profiles::page_changed(conn, id, renamed)?;
            Ok(Ok((page, renamed)))
        })?;
        Ok(saved.map(|done| (done, pictures_gone)))
    })
    .await?;
    let ((page, renamed), pictures_gone) = saved?;
    crate::routes::member_page::forget(&state, &page, renamed);
    for image in pictures_gone {
        state.pages.invalidate_path(&image);
    }
    user_reply(&state, &member, &token, StatusCode::OK).await
}

/// The hash in the address of one of the site's own images (`/images/{hash}.{ext}`, absolute or
/// not).
fn image_hash(state: &AppState, url: &str) -> Option<String> {
    let url = url.trim();
    let base = state.site.base_url.join("/images/");
    let name = url
        .strip_prefix(base.as_str())
        .or_else(|| url.strip_prefix("/images/"))?;
    let (hash, extension) = name.split_once('.')?;
    let ok = !hash.is_empty()
        && hash.len() <= 64
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(extension, "png" | "jpg" | "webp" | "gif");
    ok.then(|| hash.to_owned())
}
