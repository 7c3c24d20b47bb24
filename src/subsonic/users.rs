//! Users, read side: getUser and getUsers. Roles say true only for what this server can do.

use super::auth::Ctx;
use super::error::ApiError;
use super::response::Element;
use crate::db::models::User;
use crate::{library, users};

fn user_element(user: &User, folders: &[i32]) -> Element {
    let admin = user.is_admin;
    Element::new("user")
        .attr("username", &user.name)
        .attr("scrobblingEnabled", true)
        .attr("adminRole", admin)
        // Not offered over the API yet: settings, streaming and downloads (next steps of the
        // project), uploads, playlists, cover art, comments, podcasts, sharing, jukebox, video.
        .attr("settingsRole", false)
        .attr("downloadRole", false)
        .attr("uploadRole", false)
        .attr("playlistRole", false)
        .attr("coverArtRole", false)
        .attr("commentRole", false)
        .attr("podcastRole", false)
        .attr("streamRole", false)
        .attr("jukeboxRole", false)
        .attr("shareRole", false)
        .attr("videoConversionRole", false)
        .scalars("folder", folders.iter().map(|f| (*f).into()).collect())
}

fn folder_ids(conn: &mut diesel::SqliteConnection) -> Result<Vec<i32>, ApiError> {
    Ok(library::music_folders(conn)?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// getUser: yourself, or anyone for an admin.
pub async fn get_user(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let name = ctx.params.required("username")?.to_string();
    if !ctx.user.is_admin && !name.eq_ignore_ascii_case(&ctx.user.name) {
        return Err(ApiError::NotAuthorized);
    }
    let (user, folders) = ctx
        .db(move |c| {
            let user = users::find(c, &name)
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .ok_or(ApiError::NotFound("User"))?;
            Ok((user, folder_ids(c)?))
        })
        .await?;
    Ok(Some(user_element(&user, &folders)))
}

/// getUsers: every user (admins only).
pub async fn get_users(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let (all, folders) = ctx
        .db(|c| {
            let all = users::list(c).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((all, folder_ids(c)?))
        })
        .await?;
    Ok(Some(Element::new("users").list(
        "user",
        all.iter().map(|u| user_element(u, &folders)).collect(),
    )))
}
