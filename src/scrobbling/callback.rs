//! Where Last.fm's web authentication sends the browser back: `GET PATH?state=…&token=…`.
//! No sign-in here (it is a redirect from Last.fm): the one-time `state` made for the signed-in
//! user by `getLastFmAuthUrl` says whose link it is.

use super::store;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use std::collections::HashMap;

pub const PATH: &str = "/scrobbling/lastfm/callback";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(lastfm_callback));
}

fn page(status: actix_web::http::StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(text.to_string())
}

async fn lastfm_callback(
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let (Some(auth_state), Some(token)) = (query.get("state"), query.get("token")) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Last.fm was not linked: the address lacks its state or token.",
        );
    };
    let (auth_state, token) = (auth_state.clone(), token.clone());
    let app = state.clone();
    let linked = web::block(move || -> Result<(), String> {
        let (user_id, key, name) = app.scrobbler.lastfm_session(&auth_state, &token)?;
        let mut conn = app.pool.get().map_err(|e| e.to_string())?;
        store::link(
            &mut conn,
            user_id,
            crate::config::LASTFM_SERVICE,
            &key,
            &name,
            crate::db::now_ms(),
        )
        .map_err(|e| e.to_string())?;
        app.scrobbler.wake();
        Ok(())
    })
    .await;
    match linked {
        Ok(Ok(())) => HttpResponse::SeeOther()
            .insert_header(("Location", "/settings"))
            .finish(),
        Ok(Err(reason)) => page(
            StatusCode::BAD_REQUEST,
            &format!("Last.fm was not linked: {reason}"),
        ),
        Err(e) => page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
