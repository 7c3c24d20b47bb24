//! First-run setup. There is never a default password: while no account exists the server
//! offers a one-time setup instead.
//!
//! - `GET /setup` answers `{"needed": true|false}` (the web player shows a setup form while
//!   it is true).
//! - `POST /setup` with `username` and `password` (a JSON object, or an HTML form body),
//!   unauthenticated, creates the first administrator: 201 `{"username": ...}`; 409 once any
//!   account exists; 400 for a missing or bad field; 403 for a cross-site request (a page on
//!   another site must not be able to claim a fresh server through the owner's browser).
//! - At start-up, `MEDIASTREAMER_ADMIN_PASSWORD` creates `admin` with that password when no
//!   account exists (unattended installs); it never changes an existing account.

use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::users::{self, PasswordKey, UserError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The environment variable that creates `admin` at start-up when no account exists.
pub const ADMIN_PASSWORD_ENV: &str = "MEDIASTREAMER_ADMIN_PASSWORD";
/// The name of the account `ADMIN_PASSWORD_ENV` creates.
pub const DEFAULT_ADMIN_NAME: &str = "admin";

/// Mounts `/setup`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/setup")
            .route(web::get().to(status))
            .route(web::post().to(create_admin)),
    );
}

/// Start-up step of `serve`: creates `admin` from `admin_password` when no account exists,
/// and otherwise, while there is still no account, logs how to create one.
pub fn first_run(config: &Config, admin_password: Option<&str>) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let key = PasswordKey::load_or_create(&config.database.path)?;
    let mut conn = db::connect(&config.database.path)?;
    let existing = users::count(&mut conn)?;
    match admin_password.filter(|p| !p.is_empty()) {
        Some(password) if existing == 0 => {
            users::create_first_admin(&mut conn, &key, DEFAULT_ADMIN_NAME, password)?;
            tracing::info!(
                "created the administrator `{DEFAULT_ADMIN_NAME}` from {ADMIN_PASSWORD_ENV}"
            );
        }
        Some(_) => tracing::info!(
            "{ADMIN_PASSWORD_ENV} is set but accounts exist already; nothing was changed"
        ),
        None if existing == 0 => tracing::warn!(
            "no user account exists yet: open {} in a browser to create the administrator, \
             or run `mediastreamer user add NAME --admin`, or start with {ADMIN_PASSWORD_ENV} set",
            crate::server::browse_url(&config.server.address)
        ),
        None => {}
    }
    Ok(())
}

fn json(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    json(status, serde_json::json!({ "error": message.into() }))
}

async fn status(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let count = web::block(move || -> Result<i64, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        users::count(&mut conn).map_err(|e| e.to_string())
    })
    .await;
    match count {
        Ok(Ok(n)) => json(StatusCode::OK, serde_json::json!({ "needed": n == 0 })),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

fn internal(cause: impl std::fmt::Display) -> HttpResponse {
    tracing::error!("setup: {cause}");
    refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
}

#[derive(Deserialize)]
struct SetupRequest {
    username: Option<String>,
    password: Option<String>,
}

/// The fields of a JSON or form body.
fn parse_body(req: &HttpRequest, body: &[u8]) -> Result<SetupRequest, String> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return serde_json::from_slice(body)
            .map_err(|e| format!("the body is not valid JSON: {e}"));
    }
    let mut out = SetupRequest {
        username: None,
        password: None,
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "username" => out.username = Some(v.into_owned()),
            "password" => out.password = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok(out)
}

/// Whether the request comes from a page of another site: browsers send `Origin` with every
/// cross-site POST, and its host must then be the one the request was sent to.
fn is_cross_site(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .map(|u| match u.port() {
            Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_string(),
        });
    origin_host.is_none_or(|o| !o.eq_ignore_ascii_case(host))
}

async fn create_admin(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    if is_cross_site(&req) {
        return refuse(
            StatusCode::FORBIDDEN,
            "setup must come from this server's own page",
        );
    }
    let fields = match parse_body(&req, &body) {
        Ok(f) => f,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let (Some(name), Some(password)) = (fields.username, fields.password) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "username and password are required",
        );
    };
    let pool = state.pool.clone();
    let key = state.password_key.clone();
    let created = web::block(move || -> Result<Result<String, UserError>, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        Ok(users::create_first_admin(&mut conn, &key, &name, &password).map(|u| u.name))
    })
    .await;
    match created {
        Ok(Ok(Ok(name))) => {
            tracing::info!(user = %name, "first administrator created through /setup");
            json(StatusCode::CREATED, serde_json::json!({ "username": name }))
        }
        Ok(Ok(Err(e @ UserError::AlreadySetUp))) => refuse(StatusCode::CONFLICT, e.to_string()),
        Ok(Ok(Err(e @ (UserError::BadName | UserError::EmptyPassword)))) => {
            refuse(StatusCode::BAD_REQUEST, e.to_string())
        }
        Ok(Ok(Err(e))) => internal(e),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn cross_site_posts_are_told_apart_from_same_site_ones() {
        let req = |origin: Option<&str>| {
            let mut r = TestRequest::post().insert_header((header::HOST, "music.lan:4533"));
            if let Some(o) = origin {
                r = r.insert_header((header::ORIGIN, o));
            }
            r.to_http_request()
        };
        assert!(!is_cross_site(&req(None)));
        assert!(!is_cross_site(&req(Some("http://music.lan:4533"))));
        assert!(is_cross_site(&req(Some("https://evil.example"))));
        assert!(is_cross_site(&req(Some("http://music.lan:9999"))));
        assert!(is_cross_site(&req(Some("null"))));
    }

    #[test]
    fn bodies_are_read_as_json_or_as_a_form() {
        let json_req = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .to_http_request();
        let f = parse_body(&json_req, br#"{"username":"me","password":"p w"}"#).unwrap();
        assert_eq!(
            (f.username.as_deref(), f.password.as_deref()),
            (Some("me"), Some("p w"))
        );
        assert!(parse_body(&json_req, b"{").is_err());
        let form_req = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .to_http_request();
        let f = parse_body(&form_req, b"username=me&password=p+w%21").unwrap();
        assert_eq!(
            (f.username.as_deref(), f.password.as_deref()),
            (Some("me"), Some("p w!"))
        );
    }
}
