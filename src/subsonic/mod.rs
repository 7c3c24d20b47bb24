//! The Subsonic/OpenSubsonic API: the only module that knows Subsonic names, parameters, error
//! codes and wire formats. Every method answers at /rest/NAME and /rest/NAME.view, by GET and
//! POST (form body merged with the query string), and every failure — unknown method, bad
//! parameter, failed sign-in — is a Subsonic envelope at HTTP 200 in the format asked for.

pub mod annotation;
pub mod artwork;
pub mod auth;
pub mod avatar;
pub mod browsing;
pub mod chat;
pub mod error;
pub mod folders;
pub mod info;
pub mod lists;
pub mod loudness;
pub mod lyrics;
pub mod media;
pub mod model;
pub mod params;
pub mod play_queue;
pub mod playlists;
pub mod podcasts;
pub mod radio;
mod registry;
pub mod response;
pub mod scan_errors;
pub mod scrobble_links;
pub mod searching;
pub mod shared;
pub mod shares;
pub mod sort_keys;
pub mod streamed;
pub mod system;
pub mod transcode_decision;
pub mod transcoding;
pub mod users;

use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use auth::authenticate;
use error::ApiError;
use futures_util::StreamExt;
use params::Params;
use registry::Handler;
use response::{Element, Format, ToElement, render};

/// How much of a refused, too large body is read and dropped, so that the client (still
/// sending) gets to read the error; past it the connection is closed.
const DRAIN_AT_MOST: usize = 64 * 1024 * 1024;

/// The methods that read a JSON body (OpenSubsonic `transcoding`'s ClientInfo), and how large
/// it may be: a client's capabilities are a few KiB.
const JSON_BODY_METHODS: &[&str] = &["getTranscodeDecision"];
const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Mounts the API under /rest.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/rest/{method}").route(web::route().to(dispatch)));
}

/// CORS headers on every API response (envelopes and media alike), so web clients hosted
/// elsewhere work. Media responses expose the headers a player needs for ranged reads.
fn add_cors(headers: &mut header::HeaderMap) {
    let pairs = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            "GET, POST, HEAD, OPTIONS",
        ),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Content-Disposition",
        ),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ];
    for (name, value) in pairs {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
}

/// What a method answers with: an envelope payload, bytes (streams, images), or an envelope
/// written as it is read (`streamed`).
pub enum Reply {
    Envelope(Option<Element>),
    Media(HttpResponse),
    Streamed(streamed::Streamed),
}

async fn dispatch(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if req.method() == Method::OPTIONS {
        let mut response = HttpResponse::NoContent().finish();
        add_cors(response.headers_mut());
        return response;
    }
    let method = req
        .match_info()
        .get("method")
        .unwrap_or_default()
        .trim_end_matches(".view")
        .to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // Any body but a form is taken as the JSON (some clients leave the Content-Type out).
    let is_json = !is_form && JSON_BODY_METHODS.contains(&method.as_str());
    let limit = usize::try_from(state.config.limits.request_body_mb)
        .unwrap_or(usize::MAX)
        .saturating_mul(1024 * 1024);
    let body = if is_form {
        read_form(&mut payload, limit).await
    } else if is_json {
        read_form(&mut payload, limit.min(JSON_BODY_LIMIT)).await
    } else {
        Ok(Vec::new())
    };
    let (params, body_error) = match body {
        Ok(body) if is_json && !body.is_empty() => (
            Params::parse(req.query_string(), None).with_json_body(body),
            None,
        ),
        Ok(body) => (
            Params::parse(req.query_string(), is_form.then_some(body.as_slice())),
            None,
        ),
        Err(e) => (Params::parse(req.query_string(), None), Some(e)),
    };
    let (format, result) = match params.format() {
        Ok(format) => {
            let result = match body_error {
                Some(message) => Err(ApiError::Refused(message)),
                None => call(&method, state, params, format.clone(), &req).await,
            };
            (format, result)
        }
        Err((format, e)) => (format, Err(e)),
    };
    let (ok, payload) = match result {
        Ok(Reply::Media(mut response)) => {
            add_cors(response.headers_mut());
            return response;
        }
        Ok(Reply::Streamed(answer)) => {
            let mut response = HttpResponse::Ok()
                .content_type(answer.content_type)
                .streaming(answer.body);
            add_cors(response.headers_mut());
            return response;
        }
        Ok(Reply::Envelope(payload)) => (true, payload),
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                tracing::error!(method = %method, "internal error: {cause}");
            }
            (false, Some(model::Error::from(&e).into_element("error")))
        }
    };
    let (content_type, body) = render(&format, ok, payload);
    let mut response = HttpResponse::Ok().content_type(content_type).body(body);
    add_cors(response.headers_mut());
    response
}

/// The form body, up to `limit` bytes. A larger one is refused, never cut and processed (its
/// rest is read and dropped, up to a bound, so the client gets to read the error).
async fn read_form(payload: &mut web::Payload, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| format!("the request body could not be read: {e}"))?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            body = Vec::new();
            if seen > DRAIN_AT_MOST {
                break;
            }
        } else {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(format!(
            "the request body is larger than {} MiB (limits.request_body_mb)",
            limit / (1024 * 1024)
        ));
    }
    Ok(body)
}

async fn call(
    method: &str,
    state: web::Data<AppState>,
    params: Params,
    format: Format,
    req: &HttpRequest,
) -> Result<Reply, ApiError> {
    let Some(entry) = registry::find(method) else {
        return Err(ApiError::UnknownMethod(method.to_string()));
    };
    match entry.handler {
        Handler::Open(answer) => Ok(Reply::Envelope(Some(answer()))),
        Handler::Envelope(run) => {
            let ctx = authenticate(state, params, format, req.clone()).await?;
            run(ctx).await.map(Reply::Envelope)
        }
        Handler::Media(run) => {
            let ctx = authenticate(state, params, format, req.clone()).await?;
            run(ctx).await.map(Reply::Media)
        }
        Handler::Streamed(run) => {
            let ctx = authenticate(state, params, format, req.clone()).await?;
            run(ctx).await.map(Reply::Streamed)
        }
    }
}
