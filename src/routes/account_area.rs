//! The member's own page, `GET /account`, and the changes made from it: name, email address,
//! password, another confirmation link, and the devices they are signed in on. Every page here is
//! `no-store`; every change is a POST with a CSRF token, answered with a redirect and a message, or
//! with the page again (422) and the problem beside its field.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::settings;
use super::forms::{FieldErrors, Fields, render_private, see_other};
use crate::auth::password::Checked;
use crate::auth::{Visitor, csrf, random_hex, token_hash};
use crate::db::sessions::{Device, SessionRow};
use crate::db::settings::SiteSettings;
use crate::db::throttle;
use crate::db::tokens::{CHANGE_EMAIL, EmailToken, VERIFY_EMAIL};
use crate::db::users::Member;
use crate::db::{self};
use crate::domain::{DisplayName, Email, NewPassword};
use crate::error::AppError;
use crate::mail::messages;
use crate::views::format::date_label;
use crate::views::{AppState, Layout};

/// How long a link confirming a new address works.
const CHANGE_EMAIL_HOURS: i64 = 24;

/// A signed-in device, as the page lists it.
pub struct DeviceView {
    pub id: i32,
    pub device: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account/account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub csrf_token: String,
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub trial: String,
    pub devices: Vec<DeviceView>,
    pub membership: super::membership::MembershipView,
    /// What the forms show, kept when one comes back with a problem.
    pub name_value: String,
    pub new_email_value: String,
    pub errors: FieldErrors,
    /// The member's handle now, and what the page form holds.
    pub handle: String,
    pub handle_value: String,
    pub bio_value: String,
    pub picture_url: Option<String>,
    /// Comments that deleting the account deletes, said before it is confirmed.
    pub comments_written: i64,
    /// The member may write articles of their own (the setting is on and their access runs).
    pub may_publish: bool,
}

/// "Your free trial ends on 9 December 2026: 12 days left." and the like.
pub fn trial_status(member: &Member, now: time::PrimitiveDateTime) -> String {
    if member.is_staff() {
        let role = if member.role == crate::db::users::ADMIN {
            "an administrator"
        } else {
            "an editor"
        };
        return format!("As {role}, you can read every guide.");
    }
    match member.access(now) {
        crate::db::users::Access::Paid | crate::db::users::Access::Grace(_) => {
            return "Your membership lets you read every guide.".to_owned();
        }
        crate::db::users::Access::Complimentary(_) => {
            return "You have complimentary access to every guide.".to_owned();
        }
        _ => {}
    }
    match member.trial_ends_at {
        Some(end) if end > now => {
            let hours = (end - now).whole_hours();
            let left = match (hours + 23) / 24 {
                _ if hours < 24 => "less than a day left".to_owned(),
                1 => "1 day left".to_owned(),
                days => format!("{days} days left"),
            };
            format!("Your free trial ends on {}: {left}.", date_label(end))
        }
        Some(end) => format!("Your free trial ended on {}.", date_label(end)),
        None => "You have no trial.".to_owned(),
    }
}

/// The account page for `member`, with empty forms.
pub async fn account_page(
    state: &AppState,
    visitor: &Visitor,
    member: &Member,
) -> Result<AccountPage, AppError> {
    let settings: SiteSettings = settings(state).await?;
    let id = member.id;
    let (devices, profile, picture_url, comments_written) = db::run(&state.pool, move |conn| {
        let profile = crate::db::profiles::Profile::find(conn, id)?.ok_or(AppError::NotFound)?;
        let picture = profile.image_url(conn)?;
        Ok((
            Device::for_user(conn, id)?,
            profile,
            picture,
            crate::db::comments::Comment::count_by(conn, id)?,
        ))
    })
    .await?;
    let current = visitor.session_id();
    let membership = super::membership::membership(state, &settings, member).await?;
    Ok(AccountPage {
        membership,
        layout: Layout::new(
            &state.site,
            "/account",
            "Your account",
            "Your Guidepost account.",
        )
        .with_visitor(visitor, &settings)
        .in_section("account")
        .noindex(),
        csrf_token: visitor.csrf_token(),
        name: member.name.clone(),
        email: member.email.clone(),
        verified: member.email_verified_at.is_some(),
        trial: trial_status(member, db::now()),
        devices: devices
            .into_iter()
            .map(|d| DeviceView {
                current: Some(d.id) == current,
                id: d.id,
                device: d.device,
                signed_in: date_label(d.created_at),
                last_seen: date_label(d.last_seen_at),
            })
            .collect(),
        name_value: member.name.clone(),
        new_email_value: String::new(),
        errors: FieldErrors::default(),
        handle_value: profile.handle.clone(),
        handle: profile.handle,
        bio_value: profile.bio,
        picture_url,
        comments_written,
        may_publish: settings.members_may_publish
            && !member.is_staff()
            && member.access(db::now()).reads_members_only(),
    })
}

/// `GET /account`.
pub async fn show(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let page = account_page(&state, &visitor, &member).await?;
    render_private(&page, StatusCode::OK)
}

/// Reads a POST from the account page: the member and the fields, once the CSRF token checked out.
pub fn posted(visitor: &Visitor, body: &[u8]) -> Result<(Member, Fields), AppError> {
    let member = visitor.require_member()?.clone();
    let fields = Fields::parse(body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    Ok((member, fields))
}

/// What checking a current password typed on the account page found.
pub enum Current {
    Right,
    /// Wrong (or not typed): a message is beside the field.
    Wrong,
    /// Wrong too many times: the session was ended, and this answer sends the browser to log in.
    Ended(HttpResponse),
}

/// Checks the member's current password, typed into `field`; records a message there when wrong.
/// Each check is counted before the password is compared (see [`crate::limits`]); after
/// [`crate::limits::PASSWORD_CHECKS`] wrong ones within a quarter of an hour the session ends, so
/// a borrowed, signed-in browser cannot be used to guess the password.
pub async fn current_password(
    state: &AppState,
    visitor: &Visitor,
    member: &Member,
    typed: &str,
    field: &'static str,
    errors: &mut FieldErrors,
) -> Result<Current, AppError> {
    if typed.is_empty() {
        errors.add(field, "Enter your current password.");
        return Ok(Current::Wrong);
    }
    let id = member.id;
    let check = crate::limits::password_check(&state.auth.secrets, id);
    let (reserved, hash) = db::run(&state.pool, move |conn| {
        let reserved = throttle::reserve(conn, &[check])?;
        Ok((reserved, Member::password_hash(conn, id)?))
    })
    .await?;
    let Ok(reservation) = reserved else {
        return Ok(Current::Ended(ended_for_safety(visitor)));
    };
    if state.auth.hasher.check(typed, hash.as_ref()).await? != Checked::Wrong {
        db::run(&state.pool, move |conn| {
            Ok(throttle::release(conn, &reservation)?)
        })
        .await?;
        return Ok(Current::Right);
    }
    tracing::info!(
        member = id,
        "a wrong current password was typed on the account page"
    );
    if reservation.counts.first().copied().unwrap_or(0) >= crate::limits::PASSWORD_CHECKS {
        return Ok(Current::Ended(ended_for_safety(visitor)));
    }
    errors.add(field, "That is not your current password.");
    Ok(Current::Wrong)
}

/// Ends the session after too many wrong current passwords, and sends the browser to log in.
fn ended_for_safety(visitor: &Visitor) -> HttpResponse {
    tracing::info!("a session was ended after too many wrong current passwords");
    visitor.session().purge();
    see_other("/login?ended=1")
}

/// Reserves a mail to `address` that member `id` asks for, because of `client`; false when they
/// have had their share today (see [`crate::limits::MAIL_PER_ADDRESS`]). Counted per member and
/// address, so one member asking for mail to another's address never uses up that one's share.
async fn mail_allowed(
    state: &AppState,
    id: i32,
    address: &str,
    client: &str,
) -> Result<bool, AppError> {
    let checks = crate::limits::mail_checks(
        &state.auth.secrets,
        crate::limits::Mail::Confirmation,
        &format!("{id} {address}"),
        client,
    );
    db::run(&state.pool, move |conn| {
        Ok(throttle::reserve(conn, &checks)?.is_ok())
    })
    .await
}

const MAIL_CAPPED: &str = "You asked for several emails today, so no more are sent until tomorrow.";

/// `POST /account/profile`: the name.
pub async fn change_name(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, &body)?;
    match DisplayName::parse(fields.get("name")) {
        Ok(name) => {
            db::run(&state.pool, move |conn| {
                crate::db::write_transaction(conn, |conn| {
                    Member::set_name(conn, member.id, &name)?;
                    // Bylines, comments and the member's page show the name.
                    crate::db::changes::content_changed(conn)?;
                    // Recorded under the name they had: a renamed admin is still recognisable.
                    let actor = crate::db::audit::Actor {
                        id: member.id,
                        name: member.name.clone(),
                    };
                    crate::db::audit::record(
                        conn,
                        &actor,
                        "change name",
                        &crate::db::audit::member_subject(member.id),
                        &member.name,
                        name.as_str(),
                    )
                })?;
                Ok(())
            })
            .await?;
            state.pages.invalidate();
            visitor.flash("Your name was changed.");
            Ok(see_other("/account"))
        }
        Err(message) => {
            let mut page = account_page(&state, &visitor, &member).await?;
            page.name_value = fields.get("name").trim().to_owned();
            page.errors.add("name", message);
            render_private(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// `POST /account/email`: sends a confirmation link to the new address and a notice to the old
/// one; the address changes only when the link is followed.
pub async fn change_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, &body)?;
    let mut errors = FieldErrors::default();
    let new_email = errors.check("new_email", Email::parse(fields.get("new_email")));
    if new_email
        .as_ref()
        .is_some_and(|e| e.as_str() == member.email)
    {
        errors.add("new_email", "That is already your address.");
    }
    // Whether another account uses the new address is never said here: that address gets a note
    // instead of a link, and the page answers the same either way.
    let password_ok = match current_password(
        &state,
        &visitor,
        &member,
        fields.get("email_password"),
        "email_password",
        &mut errors,
    )
    .await?
    {
        Current::Ended(response) => return Ok(response),
        Current::Right => true,
        Current::Wrong => false,
    };
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if let Some(email) = new_email
        .as_ref()
        .filter(|_| password_ok && errors.is_empty())
        && !mail_allowed(
            &state,
            member.id,
            email.as_str(),
            &state.auth.clients.key(&req),
        )
        .await?
    {
        errors.add("new_email", MAIL_CAPPED);
        status = StatusCode::TOO_MANY_REQUESTS;
    }
    let (Some(new_email), true, true) = (new_email, password_ok, errors.is_empty()) else {
        let mut page = account_page(&state, &visitor, &member).await?;
        page.new_email_value = fields.get("new_email").trim().to_owned();
        page.errors = errors;
        return render_private(&page, status);
    };
    let token = random_hex(32);
    let link = state
        .site
        .base_url
        .join(&format!("/account/email/confirm/{token}"));
    let site_name = state.cache.last_known().site_title;
    let login_link = state.site.base_url.join("/login");
    let shown = new_email.as_str().to_owned();
    db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            match Member::find_by_email(conn, &new_email)? {
                Some(owner) => {
                    messages::address_in_use(&site_name, &owner, &login_link).queue(conn)?;
                }
                None => {
                    EmailToken::create(
                        conn,
                        member.id,
                        CHANGE_EMAIL,
                        &token_hash(&token),
                        Some(new_email.as_str()),
                        time::Duration::hours(CHANGE_EMAIL_HOURS),
                    )?;
                    messages::confirm_new_email(&site_name, &member, &new_email, &link)
                        .queue(conn)?;
                }
            }
            messages::email_change_notice(&site_name, &member, &new_email).queue(conn)
        })?;
        Ok(())
    })
    .await?;
    state.mail.notify_one();
    visitor.flash(&format!(
        "We sent a link to {shown}. Your address changes when you follow it."
    ));
    Ok(see_other("/account"))
}

/// `POST /account/password`: needs the current password; ends every other session.
pub async fn change_password(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, &body)?;
    let mut errors = FieldErrors::default();
    let current_ok = match current_password(
        &state,
        &visitor,
        &member,
        fields.get("current_password"),
        "current_password",
        &mut errors,
    )
    .await?
    {
        Current::Ended(response) => return Ok(response),
        Current::Right => true,
        Current::Wrong => false,
    };
    let new = errors.check(
        "new_password",
        NewPassword::parse(fields.get("new_password")),
    );
    if new.is_some() && fields.get("new_password_confirm") != fields.get("new_password") {
        errors.add("new_password_confirm", "The two passwords do not match.");
    }
    let (Some(new), true, true) = (new, current_ok, errors.is_empty()) else {
        let mut page = account_page(&state, &visitor, &member).await?;
        page.errors = errors;
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let hash = state.auth.hasher.hash(new.expose()).await?;
    let keep = visitor.session_id().unwrap_or(0);
    let ended = db::run(&state.pool, move |conn| {
        let ended = crate::db::write_transaction(conn, |conn| {
            Member::set_password_hash(conn, member.id, &hash)?;
            // Links sent before the change (an address change in flight, a reset) end with it.
            EmailToken::forget_unused(conn, member.id)?;
            SessionRow::delete_all_but(conn, member.id, keep)
        })?;
        Ok(ended)
    })
    .await?;
    visitor.flash(&if ended > 0 {
        "Your password was changed, and your other devices were signed out.".to_owned()
    } else {
        "Your password was changed.".to_owned()
    });
    Ok(see_other("/account"))
}

/// `POST /account/verify-email`: another link to confirm the address.
pub async fn resend_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, _) = posted(&visitor, &body)?;
    if member.email_verified_at.is_some() {
        visitor.flash("Your address is already confirmed.");
        return Ok(see_other("/account"));
    }
    if !mail_allowed(
        &state,
        member.id,
        &member.email,
        &state.auth.clients.key(&req),
    )
    .await?
    {
        visitor.flash(MAIL_CAPPED);
        return Ok(see_other("/account"));
    }
    let token = random_hex(32);
    let link = state.site.base_url.join(&format!("/verify-email/{token}"));
    let site_name = state.cache.last_known().site_title;
    let email = member.email.clone();
    db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            EmailToken::create(
                conn,
                member.id,
                VERIFY_EMAIL,
                &token_hash(&token),
                None,
                time::Duration::days(super::account::VERIFY_LINK_DAYS),
            )?;
            messages::verify_email(&site_name, &member, &link).queue(conn)
        })?;
        Ok(())
    })
    .await?;
    state.mail.notify_one();
    visitor.flash(&format!("We sent a new link to {email}."));
    Ok(see_other("/account"))
}

/// `POST /account/sessions/{id}/end`: signs one device out.
pub async fn end_session(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<i32>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, _) = posted(&visitor, &body)?;
    let id = id.into_inner();
    let ended = db::run(&state.pool, move |conn| {
        Ok(SessionRow::delete_one(conn, member.id, id)?)
    })
    .await?;
    if Some(id) == visitor.session_id() {
        visitor.session().purge();
        return Ok(see_other("/"));
    }
    visitor.flash(if ended {
        "That device was signed out."
    } else {
        "That device was already signed out."
    });
    Ok(see_other("/account"))
}

/// `POST /account/sessions/end-others`: signs every other device out.
pub async fn end_other_sessions(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, _) = posted(&visitor, &body)?;
    let keep = visitor.session_id().unwrap_or(0);
    let ended = db::run(&state.pool, move |conn| {
        Ok(SessionRow::delete_all_but(conn, member.id, keep)?)
    })
    .await?;
    visitor.flash(&match ended {
        0 => "You were not signed in anywhere else.".to_owned(),
        1 => "1 other device was signed out.".to_owned(),
        n => format!("{n} other devices were signed out."),
    });
    Ok(see_other("/account"))
}
