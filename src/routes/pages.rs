//! Pages with fixed words: `GET /privacy` (what is kept about members, why, for how long, and how
//! to export or delete it) and `GET /account/deleted` (the last page a deleted account sees).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::settings;
use super::email_links::MessagePage;
use super::forms::render_private;
use crate::auth::Visitor;
use crate::error::AppError;
use crate::views::{AppState, Layout, render};

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    layout: Layout,
    idle_days: i64,
    absolute_days: i64,
}

/// `GET /privacy`.
pub async fn privacy(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let settings = settings(&state).await?;
    let page = PrivacyPage {
        layout: Layout::new(
            &state.site,
            "/privacy",
            "Privacy notice",
            "What Guidepost keeps about readers and members, why, for how long, and how to export or delete it.",
        )
        .with_visitor(&visitor, &settings),
        idle_days: settings.session_idle_days,
        absolute_days: settings.session_absolute_days,
    };
    render(&req, &page)
}

/// `GET /account/deleted`.
pub async fn account_deleted(
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let mut page = MessagePage::new(
        &state,
        &visitor,
        "/account/deleted",
        "Your account was deleted",
        vec![
            "Your account and everything personal we kept about you are gone, and every device \
             you were signed in on is signed out."
                .to_owned(),
            "Thank you for reading. You are welcome back any time.".to_owned(),
        ],
    )
    .await?;
    page.links = vec![
        ("/", "Go to the home page"),
        ("/articles", "Keep reading the free articles"),
    ];
    render_private(&page, StatusCode::OK)
}
