//! The dashboard (`GET /admin`): sign-ups and article views per day over the last 30 days, drawn
//! as SVG on the server (each chart with a title, a description and its numbers as a table for
//! screen readers), the state of the trials, and the most-read articles. Also the audit log
//! (`GET /admin/audit`), for admins.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{AdminNav, Need, allowed, layout, nav, settings};
use crate::auth::Visitor;
use crate::db::audit::{self, AuditEntry};
use crate::db::member_admin::MemberStats;
use crate::db::views::{self, MostRead};
use crate::db::{self};
use crate::domain::Pagination;
use crate::error::AppError;
use crate::routes::forms::render_private;
use crate::routes::{page_number, query_param};
use crate::views::format::{date_label, plural};
use crate::views::{AppState, Layout};

const DAYS: i64 = 30;
const CHART_WIDTH: usize = 600;
const CHART_HEIGHT: usize = 160;

/// A bar chart of one number per day.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub description: String,
    /// Day label and value, oldest first.
    pub days: Vec<(String, i64)>,
    pub bars: Vec<Bar>,
    pub width: usize,
    pub height: usize,
}

/// One bar, in the chart's coordinates.
pub struct Bar {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
    pub label: String,
}

impl Chart {
    /// A chart of `counts`, each a number of `what` (singular, plural).
    fn new(
        id: &'static str,
        title: &'static str,
        what: (&str, &str),
        counts: &[(time::Date, i64)],
        today: time::Date,
    ) -> Self {
        let days: Vec<(time::Date, i64)> = (0..DAYS)
            .rev()
            .map(|back| {
                let day = today - time::Duration::days(back);
                (
                    day,
                    counts
                        .iter()
                        .find(|(d, _)| *d == day)
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect();
        let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let total: i64 = days.iter().map(|(_, n)| n).sum();
        let slot = CHART_WIDTH / days.len().max(1);
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, (day, n))| {
                let height = usize::try_from(*n * (CHART_HEIGHT as i64 - 20) / max).unwrap_or(0);
                Bar {
                    x: i * slot + 1,
                    y: CHART_HEIGHT - 16 - height,
                    width: slot.saturating_sub(2).max(1),
                    height,
                    label: format!("{}: {n}", short_date(*day)),
                }
            })
            .collect();
        let busiest = days.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0);
        let description = match busiest {
            Some((day, n)) => format!(
                "{total} {} in the last {DAYS} days; the most on {} ({n}).",
                plural(total, what.0, what.1),
                short_date(*day)
            ),
            None => format!("No {} in the last {DAYS} days.", what.1),
        };
        Self {
            id,
            title,
            description,
            days: days.iter().map(|(d, n)| (short_date(*d), *n)).collect(),
            bars,
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
        }
    }
}

fn short_date(day: time::Date) -> String {
    format!("{} {}", day.day(), &day.month().to_string()[..3])
}

/// Weeks in the chart of trial sign-ups and conversions.
const WEEKS: i64 = 12;

/// What the site earns, as the dashboard shows it to admins.
pub struct RevenueView {
    /// Monthly recurring revenue, one line per currency ("81.50 €").
    pub monthly: Vec<String>,
    /// Members by the status of their membership ("active", 3).
    pub by_status: Vec<(String, i64)>,
    pub complimentary: i64,
    pub chart: WeeklyChart,
}

/// Trial sign-ups and conversions to paid per week, as pairs of bars.
pub struct WeeklyChart {
    pub description: String,
    /// Week label, sign-ups, conversions; oldest first.
    pub weeks: Vec<(String, i64, i64)>,
    /// Bars, each with its class (`bar` for sign-ups, `bar-paid` for conversions).
    pub bars: Vec<(Bar, &'static str)>,
    pub width: usize,
    pub height: usize,
}

impl WeeklyChart {
    fn new(rows: &[(time::Date, i64, i64)]) -> Self {
        let max = rows
            .iter()
            .map(|(_, a, b)| (*a).max(*b))
            .max()
            .unwrap_or(0)
            .max(1);
        let slot = CHART_WIDTH / rows.len().max(1);
        let bar_width = (slot.saturating_sub(6) / 2).max(1);
        let mut bars = Vec::new();
        for (i, (week, signups, paid)) in rows.iter().enumerate() {
            for (j, (n, class, what)) in [
                (*signups, "bar", "trial sign-ups"),
                (*paid, "bar-paid", "conversions"),
            ]
            .into_iter()
            .enumerate()
            {
                let height = usize::try_from(n * (CHART_HEIGHT as i64 - 20) / max).unwrap_or(0);
                bars.push((
                    Bar {
                        x: i * slot + 2 + j * bar_width,
                        y: CHART_HEIGHT - 16 - height,
                        width: bar_width,
                        height,
                        label: format!("Week of {}: {n} {what}", short_date(*week)),
                    },
                    class,
                ));
            }
        }
        let signups: i64 = rows.iter().map(|(_, a, _)| a).sum();
        let paid: i64 = rows.iter().map(|(_, _, b)| b).sum();
        Self {
            description: format!(
                "{signups} {} and {paid} {} to paid in the last {WEEKS} weeks.",
                plural(signups, "trial sign-up", "trial sign-ups"),
                plural(paid, "conversion", "conversions")
            ),
            weeks: rows
                .iter()
                .map(|(d, a, b)| (short_date(*d), *a, *b))
                .collect(),
            bars,
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    nav: AdminNav,
    stats: Option<MemberStats>,
    revenue: Option<RevenueView>,
    charts: Vec<Chart>,
    most_read: Vec<MostRead>,
}

impl DashboardPage {
    /// `one` or `many` for a count, for the template ("1 trial running").
    fn plural(&self, n: &i64, one: &'static str, many: &'static str) -> &'static str {
        plural(*n, one, many)
    }
}

/// `GET /admin`.
pub async fn show(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let member = allowed(&visitor, Need::Staff)?;
    let admin = member.role == crate::db::users::ADMIN;
    let settings = settings(&state).await?;
    let now = db::now();
    let today = now.date();
    let since = today - time::Duration::days(DAYS - 1);
    let (stats, signups, views_per_day, most_read, revenue, weekly) =
        db::run(&state.pool, move |conn| {
            Ok((
                MemberStats::load(conn, now)?,
                MemberStats::signups_per_day(conn, since)?,
                views::per_day(conn, since)?,
                views::most_read(conn, since, 10)?,
                crate::db::revenue::revenue(conn)?,
                crate::db::revenue::weekly(conn, WEEKS)?,
            ))
        })
        .await?;
    let payments = state.billing.is_some() || !revenue.by_status.is_empty();
    let revenue = (admin && payments).then(|| RevenueView {
        monthly: if revenue.monthly.is_empty() {
            vec![crate::billing::money::format_amount(
                0,
                settings
                    .plans
                    .as_ref()
                    .map_or("eur", |p| p.currency.as_str()),
            )]
        } else {
            revenue
                .monthly
                .iter()
                .map(|(currency, amount)| crate::billing::money::format_amount(*amount, currency))
                .collect()
        },
        by_status: revenue
            .by_status
            .iter()
            .map(|(status, n)| (status.replace('_', " "), *n))
            .collect(),
        complimentary: revenue.complimentary,
        chart: WeeklyChart::new(&weekly),
    });
    let mut charts = vec![Chart::new(
        "views",
        "Article views per day",
        ("view", "views"),
        &views_per_day,
        today,
    )];
    if admin {
        charts.insert(
            0,
            Chart::new(
                "signups",
                "Sign-ups per day",
                ("sign-up", "sign-ups"),
                &signups,
                today,
            ),
        );
    }
    let page = DashboardPage {
        layout: layout(&state, &visitor, &settings, "/admin", "Dashboard"),
        nav: nav(&member, "dashboard"),
        stats: admin.then_some(stats),
        revenue,
        charts,
        most_read,
    };
    render_private(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    nav: AdminNav,
    entries: Vec<AuditEntry>,
    actions: Vec<String>,
    action: String,
    pagination: Pagination,
}

impl AuditPage {
    fn when(&self, entry: &AuditEntry) -> String {
        format!(
            "{} {:02}:{:02}",
            date_label(entry.at),
            entry.at.hour(),
            entry.at.minute()
        )
    }
}

/// `GET /admin/audit`, optionally `?action=`.
pub async fn audit_log(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
) -> Result<HttpResponse, AppError> {
    let member = allowed(&visitor, Need::Admin)?;
    let page = page_number(&req);
    let action = query_param(&req, "action").unwrap_or_default();
    let filter = Some(action.clone()).filter(|a| !a.is_empty());
    let settings = settings(&state).await?;
    let (entries, total, actions) = db::run(&state.pool, move |conn| {
        let (entries, total) = audit::page(conn, filter.as_deref(), page.offset(50), 50)?;
        Ok((entries, total, audit::actions(conn)?))
    })
    .await?;
    let base = format!(
        "/admin/audit?{}",
        serde_urlencoded::to_string([("action", action.as_str())]).unwrap_or_default()
    );
    let pagination = Pagination::new(&base, page, 50, total).ok_or(AppError::NotFound)?;
    let page = AuditPage {
        layout: layout(&state, &visitor, &settings, "/admin/audit", "Audit log"),
        nav: nav(&member, "audit"),
        entries,
        actions,
        action,
        pagination,
    };
    render_private(&page, StatusCode::OK)
}
