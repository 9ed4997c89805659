//! Every URL of the site, one module per area, wired in [`configure`] as one readable list.

pub mod account;
pub mod account_area;
pub mod account_data;
pub mod admin;
pub mod api;
pub mod articles;
pub mod authors;
pub mod billing;
pub mod community;
pub mod email_links;
pub mod feeds;
pub mod forms;
pub mod health;
pub mod home;
pub mod member_page;
pub mod membership;
pub mod pages;
pub mod search;
pub mod stripe_webhook;
pub mod topics;

use actix_web::{HttpRequest, Resource, guard, web};

use crate::assets;
use crate::domain::PageNumber;
use crate::error::AppError;

/// Articles on one page of a list.
pub const PER_PAGE: u32 = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api::scope())
        .service(page("/", home::home))
        .service(page("/articles", articles::list))
        .service(page("/articles/{slug}", articles::show))
        .service(action("/articles/{slug}/comments", community::create))
        .service(form(
            "/articles/{slug}/comments/{id}/edit",
            community::edit_form,
            community::edit,
        ))
        .service(action(
            "/articles/{slug}/comments/{id}/delete",
            community::delete,
        ))
        .service(action(
            "/articles/{slug}/comments/{action}",
            community::close,
        ))
        .service(action("/articles/{slug}/{action}", community::save))
        .service(page("/authors/{handle}", authors::show))
        .service(action("/authors/{handle}/{action}", authors::follow))
        .service(page("/account/saved", authors::saved))
        .service(page("/account/following", authors::following))
        .service(page("/categories", topics::index))
        .service(page("/categories/{slug}", topics::category))
        .service(page("/tags/{slug}", topics::tag))
        .service(page("/search", search::search))
        .service(page("/feed.xml", feeds::atom))
        .service(page("/sitemap.xml", feeds::sitemap))
        .service(page("/sitemap-{n}.xml", feeds::sitemap_part))
        .service(page("/robots.txt", feeds::robots))
        .service(page("/privacy", pages::privacy))
        .service(form("/signup", account::signup_form, account::signup))
        .service(form(
            "/signup/confirm/{token}",
            account::confirm_form,
            account::confirm,
        ))
        .service(page("/welcome", account::welcome))
        .service(form("/login", account::login_form, account::login))
        .service(action("/logout", account::logout))
        .service(page("/account", account_area::show))
        .service(action("/account/profile", account_area::change_name))
        .service(action("/account/page", member_page::save))
        .service(action("/account/picture", member_page::picture))
        .service(action("/account/email", account_area::change_email))
        .service(action("/account/password", account_area::change_password))
        .service(action(
            "/account/verify-email",
            account_area::resend_verification,
        ))
        .service(action(
            "/account/sessions/end-others",
            account_area::end_other_sessions,
        ))
        .service(action(
            "/account/sessions/{id}/end",
            account_area::end_session,
        ))
        .service(action("/account/subscribe", billing::subscribe))
        .service(page("/account/subscribed", billing::subscribed))
        .service(action("/account/billing", billing::portal))
        .service(action("/stripe/webhook", stripe_webhook::receive))
        .service(page("/account/export", account_data::export))
        .service(action("/account/delete", account_data::delete))
        .service(page("/account/deleted", pages::account_deleted))
        .service(form(
            "/account/email/confirm/{token}",
            email_links::confirm_email_form,
            email_links::confirm_email,
        ))
        .service(form(
            "/verify-email/{token}",
            email_links::verify_form,
            email_links::verify,
        ))
        .service(form(
            "/password/forgot",
            email_links::forgot_form,
            email_links::forgot,
        ))
        .service(form(
            "/password/reset/{token}",
            email_links::reset_form,
            email_links::reset,
        ))
        .service(page("/images/{name}", admin::images::serve))
        .service(page("/admin", admin::dashboard::show))
        .service(page("/admin/audit", admin::dashboard::audit_log))
        .service(page("/admin/articles", admin::articles::list))
        .service(form(
            "/admin/articles/new",
            admin::editor::new_form,
            admin::editor::create,
        ))
        .service(form(
            "/admin/articles/{id}",
            admin::editor::edit_form,
            admin::editor::update,
        ))
        .service(action(
            "/admin/articles/{id}/publish",
            admin::articles::publish,
        ))
        .service(action(
            "/admin/articles/{id}/unpublish",
            admin::articles::unpublish,
        ))
        .service(form(
            "/admin/articles/{id}/delete",
            admin::articles::confirm_delete,
            admin::articles::delete,
        ))
        .service(form(
            "/admin/images",
            admin::images::list,
            admin::images::upload,
        ))
        .service(form(
            "/admin/topics",
            admin::topics::list,
            admin::topics::create,
        ))
        .service(page("/admin/members", admin::members::list))
        .service(page("/admin/members.csv", admin::members::export))
        .service(page("/admin/members/{id}", admin::members::show))
        .service(action("/admin/members/{id}/trial", admin::members::trial))
        .service(action("/admin/members/{id}/role", admin::members::role))
        .service(action("/admin/members/{id}/status", admin::members::status))
        .service(action("/admin/members/{id}/delete", admin::members::delete))
        .service(action(
            "/admin/members/{id}/complimentary",
            admin::members::complimentary,
        ))
        .service(form(
            "/admin/settings",
            admin::settings::show,
            admin::settings::save,
        ))
        .service(form(
            "/admin/{kind}/{id}",
            admin::topics::edit_form,
            admin::topics::update,
        ))
        .service(action("/admin/{kind}/{id}/delete", admin::topics::delete))
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

/// A form's address: GET and HEAD show it, POST submits it.
fn form<G, GArgs, P, PArgs>(path: &str, show: G, submit: P) -> Resource
where
    G: actix_web::Handler<GArgs>,
    GArgs: actix_web::FromRequest + 'static,
    G::Output: actix_web::Responder + 'static,
    P: actix_web::Handler<PArgs>,
    PArgs: actix_web::FromRequest + 'static,
    P::Output: actix_web::Responder + 'static,
{
    page(path, show).route(web::post().to(submit))
}

/// An address that only acts: POST, with a CSRF token.
fn action<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path).route(web::post().to(handler))
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
