//! Images: the library (`GET /admin/images`, each with the Markdown that shows it), uploads
//! (`POST /admin/images`, a multipart form from the library or the editor), and serving them
//! (`GET /images/{hash}.{extension}`). An upload's type is read from its first bytes, never from
//! its name or what the browser says: PNG, JPEG, WebP and GIF only (no SVG, which can carry
//! script). Images are kept in the database, so a backup holds them and every instance serves them,
//! under addresses made from a hash of their bytes, cached by browsers for a year.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;
use sha2::Digest as _;

use super::{AdminNav, Need, actor, allowed, layout, nav, settings};
use crate::auth::Visitor;
use crate::db::images::{self, ImageInfo};
use crate::db::{self, audit};
use crate::error::AppError;
use crate::etag::etag_matches;
use crate::routes::forms::{local_path, render_private, see_other};
use crate::views::{AppState, Layout};

/// The largest image accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// The image type of `bytes`, read from their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[derive(Template)]
#[template(path = "admin/images.html")]
struct ImagesPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    images: Vec<ImageInfo>,
    problem: Option<String>,
}

async fn library(
    state: &AppState,
    visitor: &Visitor,
    problem: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let member = allowed(visitor, Need::Staff)?;
    let settings = settings(state).await?;
    let images = db::run(&state.pool, |conn| Ok(ImageInfo::all(conn)?)).await?;
    let page = ImagesPage {
        layout: layout(state, visitor, &settings, "/admin/images", "Images"),
        nav: nav(&member, "images"),
        csrf_token: visitor.csrf_token(),
        images,
        problem,
    };
    render_private(&page, status)
}

/// `GET /admin/images`.
pub async fn list(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    library(&state, &visitor, None, StatusCode::OK).await
}

/// What an upload form sent.
#[derive(Default)]
pub struct Upload {
    pub csrf_token: String,
    pub back: String,
    /// The button pressed, where a form has several.
    pub intent: String,
    pub name: String,
    pub bytes: Vec<u8>,
    pub too_large: bool,
}

pub async fn read_upload(mut multipart: Multipart) -> Upload {
    let mut upload = Upload::default();
    let mut fields = 0;
    while let Some(Ok(mut field)) = multipart.next().await {
        fields += 1;
        if fields > 8 {
            break;
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or_default()
            .to_owned();
        let limit = if name == "image" { MAX_BYTES } else { 4096 };
        let mut data = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            if data.len() + chunk.len() > limit {
                if name == "image" {
                    upload.too_large = true;
                }
                data.clear();
                // Read the rest of the field without keeping it.
                while field.next().await.is_some() {}
                break;
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => upload.csrf_token = String::from_utf8_lossy(&data).into_owned(),
            "back" => upload.back = String::from_utf8_lossy(&data).into_owned(),
            "intent" => upload.intent = String::from_utf8_lossy(&data).into_owned(),
            "image" => {
                upload.name = file_name
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect();
                upload.bytes = data;
            }
            _ => {}
        }
    }
    upload
}

/// `POST /admin/images`.
pub async fn upload(
    state: web::Data<AppState>,
    visitor: Visitor,
    multipart: Multipart,
) -> Result<HttpResponse, AppError> {
    let member = allowed(&visitor, Need::Staff)?;
    let upload = read_upload(multipart).await;
    visitor.check_csrf(&upload.csrf_token)?;
    let problem = if upload.too_large {
        Some(format!(
            "That image is larger than {} MB. Make it smaller (a width of 2,000 pixels is plenty \
             for the site) and upload it again.",
            MAX_BYTES / 1024 / 1024
        ))
    } else if upload.bytes.is_empty() {
        Some("Choose an image file to upload.".to_owned())
    } else if sniff(&upload.bytes).is_none() {
        Some(
            "That file is not a PNG, JPEG, WebP or GIF image (whatever its name says), so it was \
             not uploaded."
                .to_owned(),
        )
    } else {
        None
    };
    let content_type = match (problem, sniff(&upload.bytes)) {
        (None, Some(content_type)) => content_type,
        (problem, _) => {
            return library(&state, &visitor, problem, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let hash = crate::auth::hex(&sha2::Sha256::digest(&upload.bytes)[..16]);
    let name = if upload.name.is_empty() {
        "image".to_owned()
    } else {
        upload.name.clone()
    };
    let who = actor(&member);
    let bytes = upload.bytes;
    let stored = db::run(&state.pool, move |conn| {
        let stored = crate::db::write_transaction(conn, |conn| {
            let image = images::store(conn, &hash, content_type, &name, &bytes, who.id)?;
            audit::record(
                conn,
                &who,
                "upload image",
                &format!("image {}", image.url()),
                "",
                &name,
            )?;
            Ok::<_, diesel::result::Error>(image)
        })?;
        Ok(stored)
    })
    .await?;
    visitor.flash(&format!(
        "Uploaded. Show it in an article with: ![Describe the image]({})",
        stored.url()
    ));
    Ok(see_other(local_path(&upload.back, "/admin/images")))
}

/// `GET /images/{name}`: an uploaded image, by the hash of its bytes.
pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (hash, extension) = name.split_once('.').ok_or(AppError::NotFound)?;
    if hash.len() != 32 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let etag = format!("\"{hash}\"");
    if etag_matches(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .finish());
    }
    let hash = hash.to_owned();
    let (content_type, bytes) = db::run(&state.pool, move |conn| Ok(images::bytes(conn, &hash)?))
        .await?
        .ok_or(AppError::NotFound)?;
    if images::extension_of(&content_type) != extension {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn the_type_comes_from_the_bytes_and_only_four_types_pass() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>"),
            None
        );
        assert_eq!(sniff(b"<?php echo 1; ?>"), None);
        assert_eq!(sniff(b""), None);
    }
}
