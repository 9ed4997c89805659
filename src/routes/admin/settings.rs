//! Site settings, for admins (`GET/POST /admin/settings`): the site's title, tagline and
//! description, the trial's length, whether sign-ups are open, and how long sessions last. They
//! take effect at once, without a restart: cached pages are cleared on saving.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminNav, Need, actor, allowed, layout, nav, posted, settings};
use crate::auth::Visitor;
use crate::db::settings::SiteSettings;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::routes::forms::{FieldErrors, Fields, render_private, see_other};
use crate::views::{AppState, Layout};

/// The form's values as typed.
#[derive(Debug, Clone)]
pub struct Values {
    pub site_title: String,
    pub site_tagline: String,
    pub site_description: String,
    pub trial_days: String,
    pub signups_open: bool,
    pub session_idle_days: String,
    pub session_absolute_days: String,
    pub grace_days: String,
    pub members_may_publish: bool,
    pub api_origins: String,
}

impl From<&SiteSettings> for Values {
    fn from(s: &SiteSettings) -> Self {
        Self {
            site_title: s.site_title.clone(),
            site_tagline: s.site_tagline.clone(),
            site_description: s.site_description.clone(),
            trial_days: s.trial_days.to_string(),
            signups_open: s.signups_open,
            session_idle_days: s.session_idle_days.to_string(),
            session_absolute_days: s.session_absolute_days.to_string(),
            grace_days: s.grace_days.to_string(),
            members_may_publish: s.members_may_publish,
            api_origins: s.api_origins.join(" "),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    nav: AdminNav,
    csrf_token: String,
    values: Values,
    errors: FieldErrors,
    /// The paid plans in words, when `guidepost stripe setup` made them.
    plans: Vec<String>,
    /// Payments are on (Stripe's secret key is given).
    payments: bool,
}

fn plans_of(settings: &SiteSettings) -> Vec<String> {
    settings.plans.as_ref().map_or_else(Vec::new, |plans| {
        vec![
            format!("Monthly: {}", plans.label(crate::billing::Plan::Monthly)),
            format!("Yearly: {}", plans.label(crate::billing::Plan::Yearly)),
        ]
    })
}

/// `GET /admin/settings`.
pub async fn show(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let member = allowed(&visitor, Need::Admin)?;
    let settings = settings(&state).await?;
    let page = SettingsPage {
        layout: layout(&state, &visitor, &settings, "/admin/settings", "Settings"),
        nav: nav(&member, "settings"),
        csrf_token: visitor.csrf_token(),
        values: Values::from(&settings),
        errors: FieldErrors::default(),
        plans: plans_of(&settings),
        payments: state.billing.is_some(),
    };
    render_private(&page, StatusCode::OK)
}

fn text(fields: &Fields, name: &'static str, max: usize, errors: &mut FieldErrors) -> String {
    let value = fields
        .get(name)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if value.is_empty() {
        errors.add(name, "This cannot be empty.");
    } else if value.chars().count() > max {
        errors.add(name, format!("At most {max} characters."));
    }
    value
}

fn days(fields: &Fields, name: &'static str, max: i64, errors: &mut FieldErrors) -> i64 {
    match fields.get(name).trim().parse::<i64>() {
        Ok(days) if (1..=max).contains(&days) => days,
        _ => {
            errors.add(name, format!("A whole number of days, from 1 to {max}."));
            0
        }
    }
}

/// The origins typed, one or more separated by spaces, each checked.
fn origins(fields: &Fields, errors: &mut FieldErrors) -> Vec<String> {
    let mut origins = Vec::new();
    for raw in fields.get("api_origins").split_whitespace() {
        match crate::db::settings::parse_origin(raw) {
            Some(origin) if !origins.contains(&origin) => origins.push(origin),
            Some(_) => {}
            None => {
                errors.add(
                    "api_origins",
                    "Give whole origins such as https://app.example.com, separated by spaces.",
                );
                break;
            }
        }
    }
    if origins.len() > 20 {
        errors.add("api_origins", "At most 20 origins.");
    }
    origins
}

/// `POST /admin/settings`.
pub async fn save(
    state: web::Data<AppState>,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (member, fields) = posted(&visitor, Need::Admin, &body)?;
    let mut errors = FieldErrors::default();
    let new = SiteSettings {
        site_title: text(&fields, "site_title", 60, &mut errors),
        site_tagline: text(&fields, "site_tagline", 120, &mut errors),
        site_description: text(&fields, "site_description", 300, &mut errors),
        trial_days: days(&fields, "trial_days", 365, &mut errors),
        signups_open: fields.has("signups_open"),
        session_idle_days: days(&fields, "session_idle_days", 365, &mut errors),
        session_absolute_days: days(&fields, "session_absolute_days", 3650, &mut errors),
        grace_days: match fields.get("grace_days").trim().parse::<i64>() {
            Ok(days) if (0..=60).contains(&days) => days,
            _ => {
                errors.add("grace_days", "A whole number of days, from 0 to 60.");
                0
            }
        },
        plans: None,
        members_may_publish: fields.has("members_may_publish"),
        api_origins: origins(&fields, &mut errors),
    };
    if errors.get("session_absolute_days").is_none()
        && errors.get("session_idle_days").is_none()
        && new.session_absolute_days < new.session_idle_days
    {
        errors.add(
            "session_absolute_days",
            "The longest a session lasts cannot be shorter than the time it lasts unused.",
        );
    }
    let current = settings(&state).await?;
    if !errors.is_empty() {
        let page = SettingsPage {
            layout: layout(&state, &visitor, &current, "/admin/settings", "Settings"),
            nav: nav(&member, "settings"),
            csrf_token: visitor.csrf_token(),
            values: Values {
                site_title: fields.get("site_title").to_owned(),
                site_tagline: fields.get("site_tagline").to_owned(),
                site_description: fields.get("site_description").to_owned(),
                trial_days: fields.get("trial_days").to_owned(),
                signups_open: fields.has("signups_open"),
                session_idle_days: fields.get("session_idle_days").to_owned(),
                session_absolute_days: fields.get("session_absolute_days").to_owned(),
                grace_days: fields.get("grace_days").to_owned(),
                members_may_publish: fields.has("members_may_publish"),
                api_origins: fields.get("api_origins").to_owned(),
            },
            errors,
            plans: plans_of(&current),
            payments: state.billing.is_some(),
        };
        return render_private(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let who = actor(&member);
    let changes: Vec<(&'static str, String, String)> = [
        (
            "site_title",
            current.site_title.clone(),
            new.site_title.clone(),
        ),
        (
            "site_tagline",
            current.site_tagline.clone(),
            new.site_tagline.clone(),
        ),
        (
            "site_description",
            current.site_description.clone(),
            new.site_description.clone(),
        ),
        (
            "trial_days",
            current.trial_days.to_string(),
            new.trial_days.to_string(),
        ),
        (
            "signups_open",
            current.signups_open.to_string(),
            new.signups_open.to_string(),
        ),
        (
            "session_idle_days",
            current.session_idle_days.to_string(),
            new.session_idle_days.to_string(),
        ),
        (
            "session_absolute_days",
            current.session_absolute_days.to_string(),
            new.session_absolute_days.to_string(),
        ),
        (
            "grace_days",
            current.grace_days.to_string(),
            new.grace_days.to_string(),
        ),
        (
            crate::db::settings::MEMBERS_MAY_PUBLISH,
            current.members_may_publish.to_string(),
            new.members_may_publish.to_string(),
        ),
        (
            crate::db::settings::API_ORIGINS,
            current.api_origins.join(" "),
            new.api_origins.join(" "),
        ),
    ]
    .into_iter()
    .filter(|(_, before, after)| before != after)
    .collect();
    let changed = changes.len();
    db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            for (key, before, after) in &changes {
                SiteSettings::set(conn, key, after)?;
                audit::record(conn, &who, "change setting", key, before, after)?;
            }
            if changes.iter().any(|(key, _, _)| *key == "grace_days") {
                crate::db::billing::apply_grace(conn, new.grace_days)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    })
    .await?;
    state.pages.invalidate();
    visitor.flash(if changed == 0 {
        "Nothing was changed."
    } else {
        "The settings are saved and in use."
    });
    Ok(see_other("/admin/settings"))
}
