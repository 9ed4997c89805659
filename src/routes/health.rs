//! `GET /healthz`: is the process alive, can it read the database, and could it write now? JSON,
//! for load balancers and uptime checks. While writes fail it answers 503 and names the problem
//! (`"writes": "disk_full"`, `"read_only"`, `"locked"` or `"io_error"`): pages are still served,
//! but the instance cannot take sign-ups or edits.
//!
//! The write check takes the write lock and gives it back, and writes and syncs a small file beside
//! the database (see [`crate::db::health::probe`]); it changes nothing. Its answer is kept for a
//! second, so a flood of health checks costs at most one check a second.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use diesel::sql_types::Integer;
use serde_json::json;

use crate::db::{self, health};
use crate::views::AppState;

/// How long one check's answer is kept.
const KEPT: Duration = Duration::from_secs(1);

/// The latest answer, shared by every worker.
#[derive(Debug, Default)]
pub struct LastCheck(Mutex<Option<(Instant, Report)>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Healthy,
    NoDatabase,
    NoWrites(health::WriteProblem),
}

pub async fn healthz(state: web::Data<AppState>, last: web::Data<LastCheck>) -> HttpResponse {
    let kept = last
        .0
        .lock()
        .ok()
        .and_then(|kept| *kept)
        .filter(|(at, _)| at.elapsed() < KEPT)
        .map(|(_, report)| report);
    let report = match kept {
        Some(report) => report,
        None => {
            let report = check(&state).await;
            if let Ok(mut kept) = last.0.lock() {
                *kept = Some((Instant::now(), report));
            }
            report
        }
    };
    let (mut response, body) = match report {
        Report::Healthy => (
            HttpResponse::Ok(),
            json!({"status": "ok", "database": "ok", "writes": "ok"}),
        ),
        Report::NoDatabase => (
            HttpResponse::ServiceUnavailable(),
            json!({"status": "error", "database": "unavailable", "writes": "unavailable"}),
        ),
        Report::NoWrites(problem) => (
            HttpResponse::ServiceUnavailable(),
            json!({"status": "error", "database": "ok", "writes": problem.name()}),
        ),
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

async fn check(state: &AppState) -> Report {
    let database = state.database.clone();
    let result = db::run(&state.pool, move |conn| {
        diesel::select(diesel::dsl::sql::<Integer>("1")).get_result::<i32>(conn)?;
        Ok(health::probe(conn, &database))
    })
    .await;
    match result {
        Ok(Ok(())) => Report::Healthy,
        Ok(Err(problem)) => {
            tracing::warn!("the health check cannot write: {problem}");
            Report::NoWrites(problem)
        }
        Err(error) => {
            tracing::error!("health check cannot reach the database: {error:#}");
            Report::NoDatabase
        }
    }
}
