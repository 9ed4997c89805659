//! The "Your page" part of the account: handle, bio and picture.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use sha2::Digest as _;

use super::account_area::{account_page, posted};
use super::forms::{render_private, see_other};
use crate::auth::Visitor;
use crate::db::profiles::{self, ProfileError};
use crate::db::{self};
use crate::domain::Handle;
use crate::domain::community::parse_bio;
use crate::error::AppError;
use crate::views::AppState;

/// `POST /account/page`: a new handle (the old one redirects) and bio.
pub async fn save(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, &body)?;
    let mut errors = super::forms::FieldErrors::default();
    let handle = errors.check("handle", Handle::parse(fields.get("handle")));
    let bio = errors.check("bio", parse_bio(fields.get("bio")));
    let saved = match (handle, bio) {
        (Some(handle), Some(bio)) => {
            let id = member.id;
            super::account::flood_check(
                &state.auth.floods.profile,
                &format!("member {}", member.id),
            )?;
            db::run(&state.pool, move |conn| {
                let saved = db::write_transaction(conn, |conn| {
                    let renamed = match profiles::set_profile(conn, id, &handle, &bio) {
                        Ok(renamed) => renamed,
                        Err(ProfileError::HandleTaken) => return Ok(None),
                        Err(ProfileError::Database(error)) => return Err(error),
                    };
                    Ok(Some((profiles::page_changed(conn, id, renamed)?, renamed)))
                })?;
                Ok(saved)
            })
            .await?
        }
        _ => None,
    };
    if let Some((page, renamed)) = saved {
        forget(&state, &page, renamed);
        visitor.flash("Your page was saved.");
        return Ok(see_other("/account#page"));
    }
    if errors.is_empty() {
        errors.add("handle", "Someone else has this handle. Choose another.");
    }
    let mut page = account_page(&state, &visitor, &member).await?;
    page.handle_value = fields.get("handle").trim().to_owned();
    page.bio_value = fields.get("bio").to_owned();
    page.errors = errors;
    render_private(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Forgets the cached copies of the member's page here: every page when the handle changed
/// (bylines show it), else their page alone.
pub fn forget(state: &AppState, page: &str, renamed: bool) {
    if renamed {
        state.pages.invalidate();
    } else {
        state.pages.invalidate_path(page);
    }
}

/// `POST /account/picture`: uploads the member's picture (the image checks of the editors'
/// library), or removes it.
pub async fn picture(
    state: web::Data<AppState>,
    visitor: Visitor,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    let member = visitor.require_member()?.clone();
    let upload = super::admin::images::read_upload(multipart).await;
    visitor.check_csrf(&upload.csrf_token)?;
    super::account::flood_check(&state.auth.floods.profile, &format!("member {}", member.id))?;
    let id = member.id;
    if upload.intent == "remove" {
        let (page, gone) = db::run(&state.pool, move |conn| {
            db::write_transaction(conn, |conn| {
                let gone = profiles::set_image(conn, id, None)?;
                Ok::<_, AppError>((profiles::page_changed(conn, id, false)?, gone))
            })
        })
        .await?;
        forget(&state, &page, false);
        if let Some(image) = gone {
            state.pages.invalidate_path(&image);
        }
        visitor.flash("Your picture was removed.");
        return Ok(see_other("/account#page"));
    }
    let problem = if upload.too_large {
        Some(format!(
            "That image is larger than {} MB. Choose a smaller one.",
            super::admin::images::MAX_BYTES / 1024 / 1024
        ))
    } else if upload.bytes.is_empty() {
        Some("Choose an image file to upload.".to_owned())
    } else if super::admin::images::sniff(&upload.bytes).is_none() {
        Some("That file is not a PNG, JPEG, WebP or GIF image, so it was not uploaded.".to_owned())
    } else {
        None
    };
    let content_type = match (problem, super::admin::images::sniff(&upload.bytes)) {
        (None, Some(content_type)) => content_type,
        (problem, _) => {
            let mut page = account_page(&state, &visitor, &member).await?;
            page.errors.add(
                "image",
                problem.unwrap_or_else(|| "Choose an image file.".to_owned()),
            );
            return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let hash = crate::auth::hex(&sha2::Sha256::digest(&upload.bytes)[..16]);
    let name = crate::db::images::picture_name(id);
    let bytes = upload.bytes;
    let (page, gone) = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let image = crate::db::images::store(conn, &hash, content_type, &name, &bytes, id)?;
            let gone = profiles::set_image(conn, id, Some(image.id))?;
            Ok::<_, AppError>((profiles::page_changed(conn, id, false)?, gone))
        })
    })
    .await?;
    forget(&state, &page, false);
    if let Some(image) = gone {
        state.pages.invalidate_path(&image);
    }
    visitor.flash("Your picture was saved.");
    Ok(see_other("/account#page"))
}
