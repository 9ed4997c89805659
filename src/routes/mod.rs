//! Every URL of the site, one module per area, wired in [`configure`] as one readable list.

pub mod articles;
pub mod errors;
pub mod feeds;
pub mod health;
pub mod home;
pub mod search;
pub mod topics;

use actix_web::{HttpRequest, Resource, guard, web};

use crate::assets;
use crate::domain::PageNumber;
use crate::error::AppError;

/// Articles on one page of a list.
pub const PER_PAGE: u32 = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page("/", home::home))
        .service(page("/articles", articles::list))
        .service(page("/articles/{slug}", articles::show))
        .service(page("/categories", topics::index))
        .service(page("/categories/{slug}", topics::category))
        .service(page("/tags/{slug}", topics::tag))
        .service(page("/search", search::search))
        .service(page("/feed.xml", feeds::atom))
        .service(page("/sitemap.xml", feeds::sitemap))
        .service(page("/sitemap-{n}.xml", feeds::sitemap_part))
        .service(page("/robots.txt", feeds::robots))
        .service(page("/healthz", health::healthz))
        .service(page("/static/{path:.+}", assets::serve))
        .default_service(web::to(not_found));
}

/// A resource answering GET and HEAD; any other method gets `405 Method Not Allowed`.
fn page<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path).route(
        web::route()
            .guard(guard::Any(guard::Get()).or(guard::Head()))
            .to(handler),
    )
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// The value of one query-string parameter. Malformed query strings read as empty, never as an
/// error.
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The `?page=` of a list.
pub fn page_number(req: &HttpRequest) -> PageNumber {
    PageNumber::parse(query_param(req, "page").as_deref())
}
