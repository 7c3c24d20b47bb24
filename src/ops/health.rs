//! `GET /health` for Docker and orchestrators: no credentials, and nothing revealed beyond
//! the server's version and whether the database answers (200, or 503 when it does not).

use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

/// Mounts `/health`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health));
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let database = web::block(move || {
        let mut conn = pool.get().ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).ok()
    })
    .await
    .ok()
    .flatten()
    .is_some();
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "status": if database { "ok" } else { "unavailable" },
            "version": env!("CARGO_PKG_VERSION"),
            "database": database,
        }))
}
