//! The public side of shares: what a share's URL opens, without signing in.
//!
//! - `GET /share/TOKEN`: a self-contained HTML page (inline CSS and script allowed by hash in
//!   a strict Content-Security-Policy, nothing loaded from elsewhere) listing the songs with
//!   title, artist, album, duration and cover, and a player that plays them in order. Each
//!   GET counts a visit (visitCount, lastVisited); HEAD does not.
//! - `GET /share/TOKEN/stream/tr-N`: the song's file with Range, HEAD and conditional
//!   requests (`delivery::serve_file`), only for songs of that share; with `format=mp3` (and an
//!   optional `maxBitRate`) the server's MP3 transcode of it, as `stream` sends it, which the
//!   page plays when the browser cannot play the original.
//! - `GET /share/TOKEN/cover/tr-N`: the song's cover, at most `COVER_SIZE` pixels.
//!
//! Anything else (no such share, an expired one, a song not in it) is a plain 404, so a
//! token opens exactly the files its owner shared. Every text from the catalog is escaped.

use crate::artwork::resolve;
use crate::db;
use crate::delivery::transcoded::{SendError, send_mp3};
use crate::delivery::{FileInfo, ServeError, serve_file};
use crate::library::{self, Id, TrackView};
use crate::people::shares::{self, Share, SharedTrack};
use crate::scanner::ScanOptions;
use crate::state::AppState;
use crate::transcode::{Decision, SourceFacts, StreamRequest};
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use quick_xml::escape::escape;
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::sync::OnceLock;

/// Longest side of the covers the page shows, in pixels.
pub const COVER_SIZE: u32 = 300;

const STYLE: &str = r#"
:root { color-scheme: light dark; --accent: #d9480f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: Canvas; color: CanvasText; }
main { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
header { display: flex; gap: 1.25rem; align-items: center; margin-bottom: 1.25rem; }
header img { width: 9rem; height: 9rem; object-fit: cover; border-radius: .5rem;
  flex: none; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
h1 { font-size: 1.5rem; margin: 0 0 .35rem; overflow-wrap: anywhere; }
.sub { margin: 0; opacity: .75; font-size: .95rem; }
audio { width: 100%; margin: .5rem 0 1rem; }
ol { list-style: none; margin: 0; padding: 0; }
li button { display: grid; grid-template-columns: 2.75rem 1fr auto; gap: .75rem;
  align-items: center; width: 100%; padding: .45rem .5rem; border: 0; border-radius: .4rem;
  background: none; color: inherit; font: inherit; text-align: left; cursor: pointer; }
li button:hover, li button:focus-visible { background: rgba(127,127,127,.15); }
li.playing button { background: rgba(217,72,15,.15); }
li.playing .title { color: var(--accent); font-weight: 600; }
.thumb { width: 2.75rem; height: 2.75rem; border-radius: .25rem; object-fit: cover;
  background: rgba(127,127,127,.2); }
.title, .meta { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.meta { font-size: .85rem; opacity: .7; }
.time { font-variant-numeric: tabular-nums; opacity: .7; font-size: .9rem; }
.error { color: #e03131; font-weight: 600; }
footer { margin-top: 2rem; font-size: .8rem; opacity: .6; }
@media (max-width: 30rem) { header { flex-direction: column; align-items: flex-start; } }
"#;

// Plays the list in order. A file the browser cannot play (by its type, or failing to load)
// is played as the server's MP3; a song that fails even so shows one message and stops.
const SCRIPT: &str = r##"
(function () {
  var audio = document.getElementById("player");
  var message = document.getElementById("message");
  var items = Array.prototype.slice.call(document.querySelectorAll("#tracks li[data-src]"));
  var current = -1;
  var transcoded = false;
  function select(i) {
    if (current >= 0) items[current].classList.remove("playing");
    current = i;
    var li = items[i];
    li.classList.add("playing");
    message.hidden = true;
    var button = li.querySelector("button");
    var mp3 = button.getAttribute("data-mp3");
    transcoded = !!mp3 && !audio.canPlayType(button.getAttribute("data-type"));
    audio.src = transcoded ? mp3 : li.getAttribute("data-src");
  }
  function play(i) {
    if (i < 0 || i >= items.length) return;
    select(i);
    var started = audio.play();
    if (started && started.catch) started.catch(function () {});
  }
  items.forEach(function (li, i) {
    li.querySelector("button").addEventListener("click", function () { play(i); });
  });
  audio.addEventListener("ended", function () { play(current + 1); });
  audio.addEventListener("error", function () {
    var li = items[current];
    if (!li || !audio.getAttribute("src")) return;
    var mp3 = li.querySelector("button").getAttribute("data-mp3");
    if (!transcoded && mp3) {
      transcoded = true;
      audio.src = mp3;
      var again = audio.play();
      if (again && again.catch) again.catch(function () {});
      return;
    }
    message.textContent = "Cannot play \u201c" + li.querySelector(".title").textContent + "\u201d.";
    message.hidden = false;
  });
  if (items.length) select(0);
})();
"##;

/// `'sha256-…'` of an inline block, for the Content-Security-Policy.
fn csp_hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page's policy: nothing but its own inline style and script, and media and images
/// from this server.
fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {}; style-src {}; img-src 'self'; \
             media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            csp_hash(SCRIPT),
            csp_hash(STYLE)
        )
    })
}

/// Mounts the public share routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/share/{token}")
            .route(web::get().to(page))
            .route(web::head().to(page)),
    )
    .service(
        web::resource("/share/{token}/stream/{track}")
            .route(web::get().to(stream))
            .route(web::head().to(stream)),
    )
    .service(
        web::resource("/share/{token}/cover/{track}")
            .route(web::get().to(cover))
            .route(web::head().to(cover)),
    );
}

/// A 404 page that says why without saying whether the token ever existed.
fn gone() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not found</title>\
             <p>This link does not exist or has expired.</p></html>",
        )
}

fn internal(e: impl std::fmt::Display) -> HttpResponse {
    tracing::error!("share page: {e}");
    HttpResponse::InternalServerError().finish()
}

/// The share page.
async fn page(
    request: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let token = token.into_inner();
    if !shares::is_token(&token) {
        return gone();
    }
    let visit = request.method() == Method::GET;
    let pool = state.pool.clone();
    let found = web::block(move || -> Result<Option<(Share, Vec<TrackView>)>, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        let now = db::now_ms();
        let Some(mut share) =
            shares::find_live(&mut conn, &token, now).map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        if visit && shares::record_visit(&mut conn, &token, now).map_err(|e| e.to_string())? {
            share.visit_count += 1;
            share.last_visited = Some(now);
        }
        let ids = shares::track_ids(&mut conn, &share).map_err(|e| e.to_string())?;
        let views = library::tracks_by_id(&mut conn, &ids).map_err(|e| e.to_string())?;
        Ok(Some((share, views)))
    })
    .await;
    match found {
        Ok(Ok(Some((share, views)))) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header(("X-Robots-Tag", "noindex, nofollow"))
            .body(render_page(&share, &views)),
        Ok(Ok(None)) => gone(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// "3:07", or "1:02:03" from an hour on.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The page's HTML. Links are relative to `/share/TOKEN`, so the page also works under a
/// reverse proxy's path prefix.
pub fn render_page(share: &Share, songs: &[TrackView]) -> String {
    let token = escape(&share.id);
    let title = share
        .description
        .clone()
        .unwrap_or_else(|| format!("Music shared by {}", share.owner_name));
    let total_ms: i64 = songs.iter().map(|v| v.track.audio.duration_ms).sum();
    let mut html = String::with_capacity(2048 + songs.len() * 400);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <title>{}</title><style>{STYLE}</style></head><body><main><header>",
        escape(&title)
    );
    if let Some(first) = songs.iter().find(|v| v.cover_art.is_some()) {
        let _ = write!(
            html,
            "<img src=\"{token}/cover/{}\" alt=\"\">",
            Id::Track(first.track.id)
        );
    }
    let count = match songs.len() {
        1 => "1 song".to_string(),
        n => format!("{n} songs"),
    };
    let _ = write!(
        html,
        "<div><h1>{}</h1><p class=\"sub\">Shared by {} · {count} · {}</p>",
        escape(&title),
        escape(&share.owner_name),
        duration(total_ms)
    );
    if let Some(expires) = share.expires_at {
        let _ = write!(
            html,
            "<p class=\"sub\">Available until {}</p>",
            chrono::DateTime::from_timestamp_millis(expires)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        );
    }
    html.push_str(
        "</div></header><audio id=\"player\" controls preload=\"none\"></audio>\
         <p id=\"message\" class=\"error\" role=\"alert\" hidden></p><ol id=\"tracks\">",
    );
    for v in songs {
        let t = &v.track;
        let id = Id::Track(t.id);
        let _ = write!(
            html,
            "<li data-src=\"{token}/stream/{id}\"><button type=\"button\" data-type=\"{}\"",
            escape(&t.audio.content_type)
        );
        if !t.audio.suffix.eq_ignore_ascii_case("mp3") {
            let _ = write!(html, " data-mp3=\"{token}/stream/{id}?format=mp3\"");
        }
        html.push('>');
        if v.cover_art.is_some() {
            let _ = write!(
                html,
                "<img class=\"thumb\" src=\"{token}/cover/{id}\" alt=\"\" loading=\"lazy\">"
            );
        } else {
            html.push_str("<span class=\"thumb\"></span>");
        }
        let _ = write!(
            html,
            "<span><span class=\"title\">{}</span><span class=\"meta\">{} — {}</span></span>\
             <span class=\"time\">{}</span></button></li>",
            escape(&t.tags.title),
            escape(&t.tags.artist_display),
            escape(&t.tags.album_name),
            duration(t.audio.duration_ms)
        );
    }
    if songs.is_empty() {
        html.push_str("<li><p>None of the shared songs is available any more.</p></li>");
    }
    let _ = write!(
        html,
        "</ol><footer>Shared with MediaStreamer.</footer></main><script>{SCRIPT}</script>\
         </body></html>"
    );
    html
}

/// The shared song named by the path, if the token opens it.
async fn shared_file(
    state: &web::Data<AppState>,
    token: String,
    track: &str,
) -> Result<Option<SharedTrack>, HttpResponse> {
    let Some(Id::Track(track_id)) = Id::parse(track) else {
        return Ok(None);
    };
    if !shares::is_token(&token) {
        return Ok(None);
    }
    let pool = state.pool.clone();
    let found = web::block(move || -> Result<Option<SharedTrack>, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        shares::shared_track(&mut conn, &token, track_id, db::now_ms()).map_err(|e| e.to_string())
    })
    .await;
    match found {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

/// What a share's stream URL may ask for.
#[derive(serde::Deserialize)]
struct StreamQuery {
    /// `mp3`: the server's transcode (of a file that is not MP3 already).
    format: Option<String>,
    #[serde(rename = "maxBitRate")]
    max_bit_rate: Option<u32>,
}

/// A shared song's audio, with Range support: the file, or its MP3 transcode on request.
async fn stream(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<StreamQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (token, track) = path.into_inner();
    let shared = match shared_file(&state, token, &track).await {
        Ok(Some(shared)) => shared,
        Ok(None) => return gone(),
        Err(response) => return response,
    };
    if let Some(response) = transcoded(&request, &query, &state, &shared).await {
        return response;
    }
    let file = shared.file;
    let info = FileInfo {
        content_type: &file.track.audio.content_type,
        identity: file.track.id as u64,
        download_name: None,
    };
    match serve_file(&request, &file.path, info, &state.media.io).await {
        Ok(mut response) => {
            response.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                header::HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(ServeError::Missing(path)) => {
            // The catalog is behind the disk: let the scanner catch up with that folder.
            tracing::warn!(path = %path.display(), "a shared file is gone; rescanning its folder");
            state.scans.trigger(ScanOptions {
                full: false,
                paths: path.parent().map(|p| vec![p.to_path_buf()]),
            });
            gone()
        }
        Err(e) => internal(e),
    }
}

/// The MP3 transcode `query` asks for, or the sharer's bitrate cap needs, decided as `stream`
/// decides (the server's caps apply); None for the original file (no `format=mp3` and within
/// the cap, an MP3 already, or a file gone from disk, which the original path reports and
/// rescans).
async fn transcoded(
    request: &HttpRequest,
    query: &StreamQuery,
    state: &web::Data<AppState>,
    shared: &SharedTrack,
) -> Option<HttpResponse> {
    let file = &shared.file;
    let ask = StreamRequest {
        format: query
            .format
            .as_deref()
            .filter(|f| f.eq_ignore_ascii_case("mp3")),
        max_bit_rate: query.max_bit_rate,
        user_max_bit_rate: shared.owner_max_bit_rate,
        ..StreamRequest::default()
    };
    let facts = SourceFacts {
        suffix: &file.track.audio.suffix,
        bitrate: file.track.audio.bitrate.map(|b| b.max(0) as u32),
    };
    let Decision::Mp3 { kbps } = state.transcoder.settings.decide(&ask, facts) else {
        return None;
    };
    let path = file.path.clone();
    if !web::block(move || path.is_file()).await.unwrap_or(false) {
        return None;
    }
    Some(match send_mp3(request, state, file, kbps, 0.0).await {
        Ok(response) => response,
        // Busy, or a file no decoder reads: the page says it cannot play the song.
        // The reason stays in the log: this page is public.
        Err(SendError::Refused(why)) => {
            tracing::info!(track = file.track.id, "share transcode refused: {why}");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body("This song cannot be converted right now.")
        }
        Err(e) => internal(e),
    })
}

/// A shared song's cover, at most `COVER_SIZE` pixels.
async fn cover(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (token, track) = path.into_inner();
    let file = match shared_file(&state, token, &track).await {
        Ok(Some(shared)) => shared.file,
        Ok(None) => return gone(),
        Err(response) => return response,
    };
    let track_id = file.track.id;
    let worker = state.clone();
    let image = web::block(move || {
        let mut conn = worker.pool.get().map_err(|e| e.to_string())?;
        let source = resolve(&mut conn, Id::Track(track_id)).map_err(|e| e.to_string())?;
        match source {
            Some(source) => worker
                .artwork
                .render(&source, Some(COVER_SIZE))
                .map(Some)
                .map_err(|e| e.to_string()),
            None => Ok(None),
        }
    })
    .await;
    let image = match image {
        Ok(Ok(Some(image))) => image,
        Ok(Ok(None)) => return gone(),
        Ok(Err(e)) => {
            tracing::warn!(track = track_id, "shared cover unavailable: {e}");
            return gone();
        }
        Err(e) => return internal(e),
    };
    let revalidated = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().trim_start_matches("W/") == image.etag);
    let mut response = if revalidated {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, image.etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if revalidated {
        response.finish()
    } else {
        response.content_type(image.content_type).body(image.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_player() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(187_400), "3:07");
        assert_eq!(duration(3_723_000), "1:02:03");
    }

    #[test]
    fn the_policy_allows_exactly_the_inline_blocks() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'"));
        assert!(csp.contains(&csp_hash(SCRIPT)));
        assert!(csp.contains(&csp_hash(STYLE)));
        assert!(!csp.contains("unsafe-inline"));
    }
}
