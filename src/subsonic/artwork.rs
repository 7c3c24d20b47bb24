//! getCoverArt, the public signed image route (`/img/{coverArtId}?size=N&sig=...`) that the
//! image URLs of getArtistInfo/getAlbumInfo point at, and those URLs.
//!
//! Caching: a versioned cover id (`al-12-3f9a0c1e`) names one version of the art, so its
//! image is served `immutable` for a year; a bare id (`al-12`) only for a day. The ETag
//! follows the source file itself, so revalidation notices even an image replaced in place.

use super::auth::Ctx;
use super::error::ApiError;
use crate::artwork::{ArtworkError, Image, resolve};
use crate::db::models::Role;
use crate::library::Id;
use crate::library::access::Scope;
use crate::library::covers::CoverArtId;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// Larger `size` requests are served at this size (bounds the work and the cache's variety).
const MAX_SIZE: u32 = 3000;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE_DAILY: &str = "public, max-age=86400";

/// getCoverArt: `id` (a cover-art id), `size` (longest side in pixels, optional).
pub async fn get_cover_art(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    ctx.require_role(Role::CoverArt)?;
    let cover =
        CoverArtId::parse(ctx.params.required("id")?).ok_or(ApiError::NotFound("Cover art"))?;
    // Art of a music folder the user may not see is "not found" (no query for most users).
    // A playlist's art is its owner's business: someone else's private playlist is not found.
    // Its image comes from its first song the caller may see (a public playlist may hold songs
    // of folders hidden from them). Both checks read in one transaction.
    let playlist = match cover.item {
        crate::library::Id::Playlist(id) => Some(id),
        _ => None,
    };
    if !ctx.viewer.scope.is_all() || playlist.is_some() {
        let (viewer, item) = (ctx.viewer.clone(), cover.item);
        let actor = crate::people::playlists::Actor::everything(ctx.user.id, ctx.user.is_admin);
        let visible = ctx
            .db(move |c| {
                if !viewer.scope.is_all() && viewer.hides(c, item)? {
                    return Ok(false);
                }
                Ok(match playlist {
                    Some(id) => crate::people::playlists::find(c, &actor.scope, id)?
                        .is_some_and(|p| p.readable_by(&actor)),
                    None => true,
                })
            })
            .await?;
        if !visible {
            return Err(ApiError::NotFound("Cover art"));
        }
    }
    let scope = match playlist {
        Some(_) => ctx.viewer.scope.clone(),
        None => Scope::All,
    };
    let size = ctx
        .params
        .number::<u32>("size")?
        .filter(|s| *s > 0)
        .map(|s| s.min(MAX_SIZE));
    let image = render(ctx.state.clone(), &cover, size, scope).await?;
    Ok(image_response(&ctx.request, image, &cover))
}

/// Finds and renders the art of `cover` off the async threads; 70 when there is none.
async fn render(
    state: web::Data<AppState>,
    cover: &CoverArtId,
    size: Option<u32>,
    scope: Scope,
) -> Result<Image, ApiError> {
    let item = cover.item;
    let shown = cover.to_string();
    web::block(move || {
        let podcasts = state.podcasts.folder().to_path_buf();
        let source = state.catalog.read(|c| {
            match item {
                Id::PodcastChannel(_) | Id::PodcastEpisode(_) => {
                    resolve::podcast_image(c, item, &podcasts)
                }
                _ => resolve::resolve_in(c, item, &scope),
            }
            .map_err(artwork_error)
        })?;
        let source = source.ok_or(ApiError::NotFound("Cover art"))?;
        state.artwork.render(&source, size).map_err(|e| {
            tracing::warn!(cover = %shown, "cover art unavailable: {e}");
            artwork_error(e)
        })
    })
    .await?
}

fn artwork_error(e: ArtworkError) -> ApiError {
    match e {
        ArtworkError::Db(e) => ApiError::Internal(e.to_string()),
        // A file gone since the scan, a picture that is not one: no art to show.
        ArtworkError::Io { .. }
        | ArtworkError::NoPicture { .. }
        | ArtworkError::BadImage { .. } => ApiError::NotFound("Cover art"),
    }
}

/// Whether the request's If-None-Match names `etag` (or `*`).
fn not_modified(request: &HttpRequest, etag: &str) -> bool {
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// The image, or 304 when the client has it; caching headers on both.
/// A versioned id names one image for ever, except an artist's: its version follows their
/// albums, not a new artist.* file in their folder (see covers::artist_covers), so artist art
/// is revalidated.
fn image_response(request: &HttpRequest, image: Image, cover: &CoverArtId) -> HttpResponse {
    let forever = cover.version.is_some() && !matches!(cover.item, crate::library::Id::Artist(_));
    let cache = if forever { IMMUTABLE } else { REVALIDATE_DAILY };
    if not_modified(request, &image.etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, image.etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(image.content_type)
        .insert_header((header::ETAG, image.etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(image.bytes)
}

/// Mounts the public image route.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/img/{cover}")
            .route(web::get().to(public_image))
            .route(web::head().to(public_image)),
    );
}

#[derive(serde::Deserialize)]
struct ImageQuery {
    size: Option<u32>,
    sig: Option<String>,
}

/// `/img/{coverArtId}?size=N&sig=S`: the image when the signature is ours; 403 otherwise,
/// 404 when there is no art. Plain HTTP statuses: this is not a Subsonic method.
async fn public_image(
    request: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ImageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let raw = path.into_inner();
    let signed = query
        .sig
        .as_deref()
        .is_some_and(|sig| state.artwork.signer().verify(&raw, query.size, sig));
    if !signed {
        return HttpResponse::Forbidden().body("bad or missing signature");
    }
    let Some(cover) = CoverArtId::parse(&raw) else {
        return HttpResponse::NotFound().finish();
    };
    let size = query.size.filter(|s| *s > 0).map(|s| s.min(MAX_SIZE));
    // Signed URLs name art the signing answer's caller could see.
    match render(state, &cover, size, Scope::All).await {
        Ok(image) => {
            let mut response = image_response(&request, image, &cover);
            response.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                header::HeaderValue::from_static("*"),
            );
            response
        }
        Err(ApiError::NotFound(_)) => HttpResponse::NotFound().finish(),
        Err(e) => {
            tracing::error!("public image: {e:?}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
