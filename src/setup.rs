//! First-run setup. There is never a default password: while no account exists the server
//! offers a one-time setup instead.
//!
//! - `GET /setup` answers `{"needed": true|false}` (the web player shows a setup form while
//!   it is true).
//! - `POST /setup` with `username` and `password` (a JSON object, or an HTML form body),
//!   unauthenticated, creates the first administrator: 201 `{"username": ...}`; 409 once any
//!   account exists; 400 for a missing or bad field; 403 for a cross-site request (a page on
//!   another site must not be able to claim a fresh server through the owner's browser).
//! - Who may do it: a request from this machine (the connection from loopback, no forwarding
//!   headers except from a trusted proxy, and a `Host` that is a loopback name: a DNS
//!   rebinding page has its own host name), or anyone with the one-time setup token that
//!   `serve` prints in its log as `http://localhost:PORT/setup?token=...` (field or query
//!   `token`). Anyone else gets 403: a fresh server on a network is not claimed by whoever
//!   finds it first. The token works once and is dropped when the administrator exists.
//! - `GET /setup?token=...` is that link: a small form of its own that carries the token.
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

/// Start-up step of `serve`: creates `admin` from `admin_password` when no account exists.
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
        // `serve` logs the setup link (with its token) once it knows its port.
        None => {}
    }
    Ok(())
}

/// The one-time setup token: made at start-up while no account exists, dropped once the
/// administrator is created.
#[derive(Default)]
pub struct SetupToken(std::sync::Mutex<Option<String>>);

impl SetupToken {
    /// A new random token (32 hex digits), replacing any other.
    pub fn issue(&self) -> Result<String, AppError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::Io(std::io::Error::other(e.to_string())))?;
        let token = hex::encode(bytes);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        Ok(token)
    }

    fn matches(&self, given: &str) -> bool {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_deref().is_some_and(|t| {
            t.len() == given.len()
                && t.bytes()
                    .zip(given.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }

    fn revoke(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// `serve`'s start-up step once it listens at `base_url` (a URL a person can open, see
/// `server::browse_url`): while no account exists, issues the setup token and logs the link
/// that carries it.
pub fn announce(state: &AppState, base_url: &str) -> Result<(), AppError> {
    let mut conn = state.pool.get().map_err(db::DbError::from)?;
    if users::count(&mut conn)? > 0 {
        return Ok(());
    }
    let token = state.setup_token.issue()?;
    tracing::warn!(
        "no user account exists yet: open {base_url}setup?token={token} in a browser \
         (from another machine, use this server's name instead of localhost) to create the \
         administrator, or run `mediastreamer user add NAME --admin`, or start with \
         {ADMIN_PASSWORD_ENV} set"
    );
    Ok(())
}

fn json(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

fn refuse(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    json(status, serde_json::json!({ "error": message.into() }))
}

async fn status(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = query_token(&req) {
        return setup_page(&state, &token, "");
    }
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
    token: Option<String>,
}

fn query_token(req: &HttpRequest) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// The page the logged setup link opens: a form that posts the token with the account.
fn setup_page(state: &AppState, token: &str, message: &str) -> HttpResponse {
    if !state.setup_token.matches(token) {
        return HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .body(page_html(
                "<p>This setup link is not valid (any more). The server prints a new one when \
                 it starts without an account.</p>",
            ));
    }
    let message = quick_xml::escape::escape(message);
    let token = quick_xml::escape::escape(token);
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(page_html(&format!(
            "<p>Create the administrator account of this server.</p>\
             <form method=\"post\" action=\"/setup\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <p><label>User name <input name=\"username\" value=\"admin\" required \
             autocomplete=\"username\"></label></p>\
             <p><label>Password <input type=\"password\" name=\"password\" required \
             autocomplete=\"new-password\"></label></p>\
             <p role=\"alert\">{message}</p><button type=\"submit\">Create</button></form>"
        )))
}

fn page_html(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>MediaStreamer setup</title></head><body><h1>MediaStreamer setup</h1>{body}\
         </body></html>"
    )
}

/// Whether the request comes from this machine (see the module notes).
fn is_local(req: &HttpRequest, state: &AppState) -> bool {
    let proxies = &state.config.server.trusted_proxies;
    let Some(peer) = req.peer_addr().map(|a| a.ip().to_canonical()) else {
        return false;
    };
    let from_trusted_proxy = proxies.iter().any(|p| p.contains(peer));
    if !from_trusted_proxy && crate::client_addr::has_forwarding_headers(req.headers()) {
        // A proxy we were not told about: the client may be anywhere.
        return false;
    }
    let client_is_loopback =
        crate::client_addr::client_ip(req, proxies).is_some_and(|ip| ip.is_loopback());
    client_is_loopback && host_is_loopback(req)
}

/// `localhost`, `127.0.0.1`, `[::1]` (any port): names an attacker's DNS cannot supply.
fn host_is_loopback(req: &HttpRequest) -> bool {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(h, _)| h),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the request asks for a page (a browser submitting the setup form).
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
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
        token: None,
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "username" => out.username = Some(v.into_owned()),
            "password" => out.password = Some(v.into_owned()),
            "token" => out.token = Some(v.into_owned()),
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
    let token = fields.token.clone().or_else(|| query_token(&req));
    let with_token = token
        .as_deref()
        .is_some_and(|t| state.setup_token.matches(t));
    if !with_token && !is_local(&req, &state) {
        return refuse(
            StatusCode::FORBIDDEN,
            "setup is possible from the server's own machine (http://localhost:PORT/) or with \
             the setup link printed in the server's log",
        );
    }
    let html = wants_html(&req);
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
            // The token has served its one purpose.
            state.setup_token.revoke();
            tracing::info!(
                user = %crate::log_safe::short(&name),
                "first administrator created through /setup"
            );
            if html {
                // The setup form's browser goes on to the web player to sign in.
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/"))
                    .finish();
            }
            json(StatusCode::CREATED, serde_json::json!({ "username": name }))
        }
        Ok(Ok(Err(e @ UserError::AlreadySetUp))) => refuse(StatusCode::CONFLICT, e.to_string()),
        Ok(Ok(Err(e @ (UserError::BadName | UserError::EmptyPassword)))) => match token {
            Some(token) if html => {
                let mut page = setup_page(&state, &token, &e.to_string());
                *page.status_mut() = StatusCode::BAD_REQUEST;
                page
            }
            _ => refuse(StatusCode::BAD_REQUEST, e.to_string()),
        },
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
