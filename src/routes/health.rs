//! `GET /healthz`: is the process alive and can it read the database? JSON, for load balancers
//! and uptime checks.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use diesel::sql_types::Integer;

use crate::db;
use crate::views::AppState;

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let database = db::run(&state.pool, |conn| {
        diesel::select(diesel::dsl::sql::<Integer>("1"))
            .get_result::<i32>(conn)
            .map_err(Into::into)
    })
    .await;
    match database {
        Ok(_) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(error) => {
            tracing::error!("health check cannot reach the database: {error:#}");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Cache-Control", "no-store"))
                .json(serde_json::json!({"status": "error", "database": "unavailable"}))
        }
    }
}
