//! A member's data: `GET /account/export` (everything stored about them, as JSON) and
//! `POST /account/delete` (all of it removed, every session ended).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::account_area::account_page;
use super::forms::{FieldErrors, Fields, render_private, see_other};
use crate::auth::password::Checked;
use crate::auth::{Visitor, csrf};
use crate::db::outbox::Message;
use crate::db::sessions::SessionRow;
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
    let (sessions, messages) = db::run(&state.pool, move |conn| {
        Ok((
            crate::db::sessions::Device::for_user(conn, id)?,
            Message::for_user(conn, id)?,
        ))
    })
    .await?;
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
    } else {
        let id = member.id;
        let hash = db::run(&state.pool, move |conn| {
            Ok(Member::password_hash(conn, id)?)
        })
        .await?;
        if state.auth.hasher.check(typed, hash.as_ref()).await? == Checked::Wrong {
            errors.add("delete_password", "That is not your current password.");
        }
    }
    if errors.is_empty() {
        let id = member.id;
        let authored = db::run(&state.pool, move |conn| {
            Ok(crate::db::articles::count_by_author(conn, id)?)
        })
        .await?;
        if authored > 0 {
            errors.add(
                "delete_password",
                "Your name is on published or draft articles. Ask an administrator to move them \
                 to another author first.",
            );
        }
    }
    if !errors.is_empty() {
        let mut page = account_page(&state, &visitor, &member).await?;
        page.errors = errors;
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let throttle_key = state.auth.secrets.sign(&["account", &member.email]);
    let id = member.id;
    let folder = state.mail_folder.clone();
    db::run(&state.pool, move |conn| {
        let mail = conn.immediate_transaction(|conn| {
            SessionRow::delete_all_for(conn, id)?;
            Member::delete(conn, id, &throttle_key)
        })?;
        crate::mail::forget_saved(&folder, &mail);
        Ok(())
    })
    .await?;
    tracing::info!(member = id, "a member deleted their account");
    visitor.session().purge();
    Ok(see_other("/account/deleted"))
}
