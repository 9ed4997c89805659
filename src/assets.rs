//! Static files (CSS, icons), built into the binary so it runs from any folder. Each is served
//! under a name carrying a hash of its content (`/static/css/site.1a2b3c4d.css`) with a one-year,
//! immutable cache lifetime: a changed file gets a new name, so browsers never hold a stale one.
//! The plain name is served too, revalidated by ETag.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::etag::{content_hash, etag_matches};

struct Asset {
    name: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

const FILES: &[Asset] = &[
    Asset {
        name: "css/site.css",
        bytes: include_bytes!("../static/css/site.css"),
        content_type: "text/css; charset=utf-8",
    },
    Asset {
        name: "img/favicon.svg",
        bytes: include_bytes!("../static/img/favicon.svg"),
        content_type: "image/svg+xml",
    },
];

struct Fingerprinted {
    asset: &'static Asset,
    /// `/static/` plus the hashed name.
    url: String,
    etag: String,
}

static ENTRIES: LazyLock<Vec<Fingerprinted>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            let hash = content_hash(asset.bytes);
            let short = format!("{:08x}", hash >> 32);
            let hashed = match asset.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
                None => format!("{}.{short}", asset.name),
            };
            Fingerprinted {
                asset,
                url: format!("/static/{hashed}"),
                etag: format!("\"{hash:016x}\""),
            }
        })
        .collect()
});

/// Every asset, reachable by its plain and its hashed name.
static BY_NAME: LazyLock<HashMap<&'static str, &'static Fingerprinted>> = LazyLock::new(|| {
    let mut table = HashMap::new();
    for entry in ENTRIES.iter() {
        table.insert(entry.asset.name, entry);
        table.insert(&entry.url["/static/".len()..], entry);
    }
    table
});

fn lookup(name: &str) -> Option<&'static Fingerprinted> {
    BY_NAME.get(name).copied()
}

/// The cache-busting URL of a static file, by its name under `static/`.
pub fn url(name: &str) -> &'static str {
    lookup(name).map_or("/static/missing", |entry| entry.url.as_str())
}

/// `GET /static/{path}`.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    let entry = lookup(&name).ok_or(AppError::NotFound)?;
    let fingerprinted = entry.asset.name != name;
    let cache = if fingerprinted {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600, must-revalidate"
    };
    if etag_matches(&req, &entry.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, entry.etag.clone()))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(entry.asset.content_type)
        .insert_header((header::ETAG, entry.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(entry.asset.bytes))
}
