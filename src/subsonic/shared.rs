//! What handlers share besides the response model: parameter helpers, the call's folder
//! scope, and the reads several endpoints make (items with the caller's annotations). Handler
//! files import from here, never from each other's data helpers.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{Annotations, InfoImages};
use crate::library::access::{AccessError, Viewer};
use crate::library::annotations::{self, Annotation, ItemKind};
use crate::library::covers::CoverArtId;
use crate::library::{self, Id, TrackView};
use crate::people::playlists::Actor;
use diesel::SqliteConnection;
use std::collections::HashMap;

/// A count-like parameter: `default` when absent, at most `max`, never negative.
pub(super) fn count_param(
    ctx: &Ctx,
    key: &'static str,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    Ok(ctx
        .params
        .number::<i64>(key)?
        .unwrap_or(default)
        .clamp(0, max))
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::NoSuchFolder => ApiError::NotFound("Music folder"),
            AccessError::Forbidden => ApiError::NotAuthorized,
            AccessError::Db(e) => e.into(),
        }
    }
}

/// Runs `work` in one read transaction as the caller narrowed to the request's
/// `musicFolderId` when given (error 70 for a folder that does not exist, 50 for one the user
/// may not see): the narrowing is the operation's first read, in the same snapshot.
pub(super) async fn read_as<T, F>(ctx: &Ctx, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut SqliteConnection, &Viewer) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let folder = ctx.params.number::<i32>("musicFolderId")?;
    let viewer = ctx.viewer.clone();
    ctx.db(move |c| {
        let viewer = viewer.narrowed(c, folder)?;
        work(c, &viewer)
    })
    .await
}

/// Tracks by id (in that order) with the user's annotations of them.
pub(super) fn annotated_tracks(
    c: &mut SqliteConnection,
    user_id: i32,
    ids: &[i32],
) -> Result<(Vec<TrackView>, HashMap<i32, Annotation>), ApiError> {
    let views = library::tracks_by_id(c, ids)?;
    let notes = annotations::of_items(c, user_id, ItemKind::Track, ids)?;
    Ok((views, notes))
}

/// The caller as the playlist rules see them.
pub(super) async fn actor(ctx: &Ctx) -> Result<Actor, ApiError> {
    Ok(ctx.viewer.clone())
}

/// Song ids of a repeated parameter, in order (empty values skipped).
pub(super) fn song_ids(ctx: &Ctx, key: &str) -> Result<Vec<i32>, ApiError> {
    ctx.params
        .all(key)
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|raw| match Id::parse(raw) {
            Some(Id::Track(n)) => Ok(n),
            _ => Err(ApiError::NotFound("Song")),
        })
        .collect()
}

pub(crate) use crate::library::catalog::FolderNotes;

impl FolderNotes {
    /// The notes of a directory entry: a `Child` with `isDir`, a folder-mode `Artist` or a
    /// `Directory` (all three carry `starred`, `userRating` and `averageRating` in the XSD).
    pub(crate) fn of(&self, dir_id: i32) -> Annotations {
        Annotations::folder(self.mine.get(&dir_id), self.average.get(&dir_id).copied())
    }
}

/// Sizes of the small, medium and large image URLs of artist and album info.
pub const INFO_IMAGE_SIZES: [u32; 3] = [150, 300, 600];

/// Absolute, signed URLs of `cover` at the info image sizes (small, medium, large), for
/// clients that load them without credentials.
pub(crate) fn info_images(ctx: &Ctx, cover: &CoverArtId) -> InfoImages {
    let base =
        crate::client_addr::public_base(&ctx.request, &ctx.state.config.server.trusted_proxies);
    let id = cover.to_string();
    let signer = ctx.state.artwork.signer();
    let url = |size: u32| {
        let sig = signer.sign(&id, Some(size));
        format!("{base}/img/{id}?size={size}&sig={sig}")
    };
    let [small, medium, large] = INFO_IMAGE_SIZES;
    InfoImages {
        small: url(small),
        medium: url(medium),
        large: url(large),
    }
}
