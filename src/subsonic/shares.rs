//! Shares: createShare, getShares, updateShare, deleteShare. The rules live in
//! `library::shares`; the public page a share's URL opens is `share_page`.
//!
//! createShare and updateShare need the share role; anyone may list and delete their own
//! shares (taking a public link down is always allowed), and an admin sees and manages all.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Child, Shares, View};
use super::response::{Element, ToElement};
use super::shared::actor;
use crate::db::{self, models::Role};
use crate::library::annotations::Annotation;
use crate::library::{Id, TrackView};
use crate::people::shares::{self, Share, ShareError, ShareUpdate, SharesWithSongs};
use std::collections::HashMap;

impl From<ShareError> for ApiError {
    fn from(e: ShareError) -> Self {
        match e {
            ShareError::NotFound => ApiError::NotFound("Share"),
            ShareError::ItemNotFound(_) => ApiError::NotFound("Item to share"),
            ShareError::NothingToShare => ApiError::MissingParam("id"),
            ShareError::ExpiryInPast | ShareError::ExpiryTooFar => ApiError::BadParam("expires"),
            ShareError::DescriptionTooLong => ApiError::BadParam("description"),
            e @ ShareError::TooManySongs(_) => ApiError::Refused(e.to_string()),
            ShareError::Random(e) => ApiError::Internal(e),
            ShareError::Db(e) => e.into(),
        }
    }
}

/// The public address of a share: `scheme://host/share/TOKEN`, from the request (behind a
/// reverse proxy, `Forwarded` / `X-Forwarded-*` name the public host).
pub fn share_url(ctx: &Ctx, token: &str) -> String {
    let base =
        crate::client_addr::public_base(&ctx.request, &ctx.state.config.server.trusted_proxies);
    format!("{base}/share/{token}")
}

/// `expires` in epoch milliseconds: absent or 0 means never; negative is refused.
fn expires_param(ctx: &Ctx) -> Result<Option<Option<i64>>, ApiError> {
    match ctx.params.number::<i64>("expires")? {
        None => Ok(None),
        Some(0) => Ok(Some(None)),
        Some(t) if t > 0 => Ok(Some(Some(t))),
        Some(_) => Err(ApiError::BadParam("expires")),
    }
}

/// The ids to share: songs, albums, artists, folders or playlists (70 for anything else).
fn item_ids(ctx: &Ctx) -> Result<Vec<Id>, ApiError> {
    let raw: Vec<&str> = ctx
        .params
        .all("id")
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if raw.is_empty() {
        return Err(ApiError::MissingParam("id"));
    }
    raw.into_iter()
        .map(|v| Id::parse(v).ok_or(ApiError::NotFound("Item to share")))
        .collect()
}

/// A `Share` with its songs as entries.
fn share_model(
    ctx: &Ctx,
    share: &Share,
    entries: &[i32],
    views: &HashMap<i32, TrackView>,
    notes: &HashMap<i32, Annotation>,
    view: &View,
) -> model::Share {
    let songs = entries
        .iter()
        .filter_map(|id| views.get(id))
        .map(|v| Child::song(v, notes.get(&v.track.id), view))
        .collect();
    model::Share {
        id: share.id.clone(),
        url: share_url(ctx, &share.id),
        description: share.description.clone(),
        username: share.owner_name.clone(),
        created: share.created_at,
        expires: share.expires_at,
        last_visited: share.last_visited,
        visit_count: share.visit_count,
        entries: songs,
    }
}

/// `shares` holding these shares (each with its songs).
fn shares_element(ctx: &Ctx, shares: SharesWithSongs) -> Element {
    let view = View::of(ctx);
    let (views, notes) = shares.songs;
    let views: HashMap<i32, TrackView> = views.into_iter().map(|v| (v.track.id, v)).collect();
    let items = shares
        .list
        .iter()
        .zip(&shares.entries)
        .map(|(share, ids)| share_model(ctx, share, ids, &views, &notes, &view));
    Shares(items.collect()).into_element("shares")
}

/// getShares: the caller's live shares (an admin's: everyone's). Like every share method it
/// needs shareRole; a user who lost it has their links taken down by an admin.
pub async fn get_shares(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Share)?;
    let actor = actor(&ctx).await?;
    let now = db::now_ms();
    let shares = ctx
        .db(move |c| {
            let list = shares::visible_to(c, &actor, now)?;
            Ok(shares::with_songs(c, &actor, list)?)
        })
        .await?;
    Ok(Some(shares_element(&ctx, shares)))
}

/// createShare: `id` (repeated: songs, albums, artists, folders, playlists), `description`,
/// `expires` (epoch ms; 0 or absent: never). Answers `shares` with the new share.
pub async fn create_share(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Share)?;
    let items = item_ids(&ctx)?;
    let expires = expires_param(&ctx)?.flatten();
    let description = ctx.params.get("description").map(str::to_string);
    let actor = actor(&ctx).await?;
    let now = db::now_ms();
    let shares = ctx
        .write(move |c| {
            let token = shares::create(c, &actor, &items, description.as_deref(), expires, now)?;
            let share = shares::find_live(c, &token, now)?.ok_or(ApiError::Internal(
                "a share just created cannot be read back".into(),
            ))?;
            Ok(shares::with_songs(c, &actor, vec![share])?)
        })
        .await?;
    Ok(Some(shares_element(&ctx, shares)))
}

/// updateShare: `id`, `description` (empty removes it), `expires` (epoch ms; 0 removes it).
pub async fn update_share(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Share)?;
    let token = ctx.params.required("id")?.trim().to_string();
    let change = ShareUpdate {
        description: ctx.params.get("description").map(str::to_string),
        expires_at: expires_param(&ctx)?,
    };
    let actor = actor(&ctx).await?;
    let now = db::now_ms();
    ctx.write(move |c| Ok(shares::update(c, &actor, &token, &change, now)?))
        .await?;
    Ok(None)
}

/// deleteShare: `id`; the owner or an admin.
pub async fn delete_share(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Share)?;
    let token = ctx.params.required("id")?.trim().to_string();
    let actor = actor(&ctx).await?;
    let now = db::now_ms();
    ctx.write(move |c| Ok(shares::delete(c, &actor, &token, now)?))
        .await?;
    Ok(None)
}
