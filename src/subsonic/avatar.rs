//! getAvatar: a user's avatar image (set with `mediastreamer user avatar NAME FILE`). Any
//! signed-in user may fetch anyone's avatar, as in Subsonic (clients show them beside chat
//! messages); a user without one, or no such user, is error 70.

use super::auth::Ctx;
use super::error::ApiError;
use crate::people::avatars;
use actix_web::HttpResponse;
use actix_web::http::header::{self, HttpDate};
use std::time::{Duration, UNIX_EPOCH};

/// Avatars change rarely; clients revalidate with the ETag after this.
const CACHE_CONTROL: &str = "private, max-age=3600";

/// getAvatar: `username`.
pub async fn get_avatar(ctx: Ctx) -> Result<HttpResponse, ApiError> {
    let username = ctx.params.required("username")?.to_string();
    let avatar = ctx
        .db(move |c| Ok(avatars::of_user(c, &username)?))
        .await?
        .ok_or(ApiError::NotFound("Avatar"))?;
    let etag = format!("\"av-{:x}-{:x}\"", avatar.updated_at, avatar.data.len());
    let modified =
        HttpDate::from(UNIX_EPOCH + Duration::from_millis(avatar.updated_at.max(0) as u64));
    let matches = ctx
        .request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, modified))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if matches {
        return Ok(response.finish());
    }
    Ok(response.content_type(avatar.content_type).body(avatar.data))
}
