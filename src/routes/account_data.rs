//! A member's data: `GET /account/export` (everything stored about them, as JSON) and
//! `POST /account/delete` (all of it removed, every session ended).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::account_area::{Current, account_page, current_password};
use super::forms::{FieldErrors, Fields, render_private, see_other};
use crate::auth::{Visitor, csrf};
use crate::db::member_admin::Undeletable;
use crate::db::outbox::Message;
use crate::db::users::Member;
use crate::db::{self};
use crate::error::AppError;
use crate::mail::redact_links;
use crate::views::AppState;
use crate::views::format::rfc3339;

/// `GET /account/export`: a JSON download of every stored field about the member, their sessions
/// and the mail sent to them. No password hash, session key or token is in it: the links in mail
/// are shown without their tokens.
pub async fn export(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let id = member.id;
    let (sessions, messages, subscriptions, payments, profile, taking_part) =
        db::run(&state.pool, move |conn| {
            let profile =
                crate::db::profiles::Profile::find(conn, id)?.ok_or(AppError::NotFound)?;
            let picture = profile.image_url(conn)?;
            Ok((
                crate::db::sessions::Device::for_user(conn, id)?,
                Message::for_user(conn, id)?,
                crate::db::billing::for_member(conn, id)?,
                crate::db::billing::payments_of(conn, id)?,
                (profile, picture),
                crate::db::comments::contributions_of(conn, id)?,
            ))
        })
        .await?;
    let ((profile, picture), (written, saved, followed)) = (profile, taking_part);
    let time = |t: Option<time::PrimitiveDateTime>| t.map(rfc3339);
    let document = json!({
        "exported_at": rfc3339(db::now()),
        "site": state.site.base_url.as_str(),
        "account": {
            "id": member.id,
            "email": member.email,
            "name": member.name,
            "role": member.role,
            "status": member.status,
            "email_verified_at": time(member.email_verified_at),
            "trial_started_at": time(member.trial_started_at),
            "trial_ends_at": time(member.trial_ends_at),
            "trial_reminder_sent_at": time(member.trial_reminder_sent_at),
            "created_at": rfc3339(member.created_at),
            "updated_at": rfc3339(member.updated_at),
        },
        "page": {
            "handle": profile.handle,
            "bio": profile.bio,
            "picture": picture.map(|path| state.site.base_url.join(&path)),
        },
        "comments": written.iter().map(|(slug, body, at, changed)| json!({
            "article": state.site.base_url.join(&format!("/articles/{slug}")),
            "text": body,
            "posted_at": rfc3339(*at),
            "changed_at": rfc3339(*changed),
        })).collect::<Vec<_>>(),
        "saved_articles": saved.iter().map(|(slug, at)| json!({
            "article": state.site.base_url.join(&format!("/articles/{slug}")),
            "saved_at": rfc3339(*at),
        })).collect::<Vec<_>>(),
        "following": followed.iter().map(|(handle, at)| json!({
            "author": state.site.base_url.join(&format!("/authors/{handle}")),
            "since": rfc3339(*at),
        })).collect::<Vec<_>>(),
        "membership": {
            "complimentary_since": time(member.complimentary_since),
            "complimentary_until": time(member.complimentary_until),
            "subscriptions": subscriptions.iter().map(|s| json!({
                "stripe_id": s.stripe_id,
                "status": s.status,
                "plan": if s.plan_interval == "year" { "yearly" } else { "monthly" },
                "amount": s.amount,
                "currency": s.currency,
                "started_at": rfc3339(s.started_at),
                "trial_end": time(s.trial_end),
                "current_period_end": time(s.current_period_end),
                "cancel_at": time(s.cancel_at),
                "ended_at": time(s.ended_at),
            })).collect::<Vec<_>>(),
            "payments": payments.iter().map(|p| json!({
                "invoice": p.stripe_invoice_id,
                "amount": p.amount,
                "currency": p.currency,
                "status": p.status,
                "at": rfc3339(p.at),
            })).collect::<Vec<_>>(),
        },
        "sessions": sessions.iter().map(|s| json!({
            "device": s.device,
            "signed_in_at": rfc3339(s.created_at),
            "last_seen_at": rfc3339(s.last_seen_at),
            "this_session": Some(s.id) == visitor.session_id(),
        })).collect::<Vec<_>>(),
        "emails": messages.iter().map(|m| json!({
            "kind": m.kind,
            "to": m.to_address,
            "subject": m.subject,
            "status": m.status,
            "attempts": m.attempts,
            "queued_at": rfc3339(m.created_at),
            "sent_at": time(m.sent_at),
            "text": redact_links(&m.body_text),
        })).collect::<Vec<_>>(),
    });
    let body = serde_json::to_string_pretty(&document)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("cannot write the export: {error}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"guidepost-account.json\"",
        ))
        .body(body))
}

/// `POST /account/delete`: with the current password, removes the member and everything personal
/// hanging off them in one transaction; every session ends, and the address can sign up again.
pub async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let fields = Fields::parse(&body);
    visitor.check_csrf(fields.get(csrf::FIELD))?;
    let mut errors = FieldErrors::default();
    let typed = fields.get("delete_password");
    if typed.is_empty() {
        errors.add(
            "delete_password",
            "Enter your current password to delete your account.",
        );
    } else if let Current::Ended(response) = current_password(
        &state,
        &visitor,
        &member,
        typed,
        "delete_password",
        &mut errors,
    )
    .await?
    {
        return Ok(response);
    }
    if !errors.is_empty() {
        let mut page = account_page(&state, &visitor, &member).await?;
        page.errors = errors;
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let id = member.id;
    // The checks first, so that a membership is never cancelled for an account that stays.
    let deletable = db::run(&state.pool, move |conn| Ok(Member::deletable(conn, id)?)).await?;
    let mut problem = deletable.err().and_then(refusal);
    if problem.is_none()
        && let Err(cannot) = super::billing::cancel_before_deletion(&state, id).await?
    {
        problem = Some(cannot);
    }
    if problem.is_none() {
        let throttle_key = crate::limits::account_key(&state.auth.secrets, &member.email);
        let folder = state.mail_folder.clone();
        let deleted = db::run(&state.pool, move |conn| {
            let deleted = Member::delete_checked(conn, id, &throttle_key)?;
            if let Ok((_, mail)) = &deleted {
                crate::mail::forget_saved(&folder, mail);
            }
            Ok(deleted)
        })
        .await?;
        problem = deleted.err().and_then(refusal);
    }
    if let Some(problem) = problem {
        let mut page = account_page(&state, &visitor, &member).await?;
        page.errors.add("delete_password", problem);
        return render_private(&page, StatusCode::CONFLICT);
    }
    tracing::info!(member = id, "a member deleted their account");
    // Their page and comments leave every cached page at once (other instances follow the
    // content version the deletion raised).
    state.pages.invalidate();
    visitor.session().purge();
    Ok(see_other("/account/deleted"))
}

/// What a member is told when their account cannot be deleted (nothing when it is gone already).
fn refusal(why: Undeletable) -> Option<&'static str> {
    match why {
        Undeletable::Gone => None,
        Undeletable::LastAdmin => Some(
            "You are the site's last administrator: make someone else an administrator before \
             deleting your account.",
        ),
        Undeletable::Author => Some(
            "Your name is on published or draft articles. Ask an administrator to move them to \
             another author first.",
        ),
    }
}
