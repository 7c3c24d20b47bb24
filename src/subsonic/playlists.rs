//! Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist.
//! The rules (who sees and changes what) live in `library::playlists`; this file parses
//! parameters and renders `Playlist` / `PlaylistWithSongs`.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, Child, Playlists, View, ViewOf};
use super::response::{Element, ToElement};
use super::shared::{actor, song_ids};
use super::streamed::{self, Streamed};
use crate::db::{self, models::Role};
use crate::library::covers::CoverArtId;
use crate::library::{Id, TrackView};
use crate::people::playlists::{
    self, Actor, Playlist, PlaylistError, PlaylistUpdate, Save, WithSongs,
};
use crate::transcode::Flow;
use std::collections::HashMap;

impl From<PlaylistError> for ApiError {
    fn from(e: PlaylistError) -> Self {
        match e {
            PlaylistError::NotFound => ApiError::NotFound("Playlist"),
            PlaylistError::NoSuchUser => ApiError::NotFound("User"),
            PlaylistError::NotAllowed => ApiError::NotAuthorized,
            PlaylistError::SongNotFound(_) => ApiError::NotFound("Song"),
            PlaylistError::BadIndex(_) => ApiError::BadParam("songIndexToRemove"),
            PlaylistError::EmptyName | PlaylistError::NameTooLong => ApiError::BadParam("name"),
            PlaylistError::CommentTooLong => ApiError::BadParam("comment"),
            PlaylistError::Db(e) => e.into(),
        }
    }
}

/// A playlist id parameter (`pl-N`); anything else names no playlist.
fn playlist_id(ctx: &Ctx, key: &'static str) -> Result<i32, ApiError> {
    match Id::parse(ctx.params.required(key)?.trim()) {
        Some(Id::Playlist(n)) => Ok(n),
        _ => Err(ApiError::NotFound("Playlist")),
    }
}

/// A `Playlist` (without its songs). `readonly` (OpenSubsonic) tells the client whether the
/// caller may edit its songs.
fn playlist_model(p: &Playlist, actor: &Actor) -> model::Playlist {
    model::Playlist {
        id: p.id,
        name: p.name.clone(),
        comment: p.comment.clone(),
        owner: p.owner_name.clone(),
        public: p.public,
        song_count: p.song_count,
        duration: p.duration_ms / 1000,
        created: p.created_at,
        changed: p.updated_at,
        cover_art: cover_art(p),
        readonly: !p.editable_by(actor),
        entries: None,
    }
}

/// The playlist's cover id (the art of its first song that has some): versioned by the
/// playlist's last change and that song's art, so clients refetch when either changes.
fn cover_art(p: &Playlist) -> Option<String> {
    let track = p.cover_track_id?;
    let parts = [p.updated_at, i64::from(track), p.cover_stamp.unwrap_or(0)];
    Some(CoverArtId::versioned(Id::Playlist(p.id), &parts).to_string())
}

/// createPlaylist answers with a playlist of at most this many songs as one tree, rendered
/// by the envelope path every other answer takes; longer ones are streamed as getPlaylist's
/// are. Tests compare the two: the tree is what a streamed answer must equal.
const TREE_AT_MOST: usize = 1_000;

/// Answers with a playlist the caller may read, its songs as `entry` children (repeats kept),
/// streamed a chunk at a time (a playlist may hold 100,000 songs) in one read transaction.
async fn playlist_with_songs(
    ctx: &Ctx,
    method: &str,
    actor: Actor,
    id: i32,
) -> Result<Streamed, ApiError> {
    let user_id = ctx.user.id;
    let view = ViewOf::new(ctx);
    let what = format!("{method} {}", Id::Playlist(id));
    streamed::answer(ctx, what, move |c, out| {
        let playlist = playlists::readable(c, &actor, id)?;
        let order = playlists::track_ids(c, &actor.scope, id)?;
        let head = model::Playlist {
            entries: Some(Vec::new()),
            ..playlist_model(&playlist, &actor)
        };
        if out.open(head.into_element("playlist"), "entry") == Flow::Continue {
            out.songs(c, user_id, &view.view(), &order)?;
        }
        Ok(())
    })
    .await
}

/// A playlist with its songs as one tree: what a streamed answer of it must equal.
fn playlist_tree(answer: WithSongs, actor: &Actor, view: &View) -> Element {
    let WithSongs {
        playlist,
        order,
        songs: (views, notes),
    } = answer;
    let views: HashMap<i32, &TrackView> = views.iter().map(|v| (v.track.id, v)).collect();
    let entries = order
        .iter()
        .filter_map(|id| views.get(id))
        .map(|v| Child::song(v, notes.get(&v.track.id), view))
        .collect();
    model::Playlist {
        entries: Some(entries),
        ..playlist_model(&playlist, actor)
    }
    .into_element("playlist")
}

/// getPlaylists: the caller's own and the public playlists; an admin may pass `username` to
/// see what another user sees.
pub async fn get_playlists(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let actor = actor(&ctx).await?;
    let other = ctx
        .params
        .get("username")
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != ctx.user.name)
        .map(str::to_string);
    let reader = actor.clone();
    let list = ctx
        .db(move |c| Ok(playlists::lists(c, &reader, other.as_deref())?))
        .await?;
    Ok(Some(
        Playlists(list.iter().map(|p| playlist_model(p, &actor)).collect())
            .into_element("playlists"),
    ))
}

/// getPlaylist: one playlist with its songs, streamed.
pub async fn get_playlist(ctx: Ctx) -> Result<Streamed, ApiError> {
    let id = playlist_id(&ctx, "id")?;
    let actor = actor(&ctx).await?;
    playlist_with_songs(&ctx, "getPlaylist", actor, id).await
}

/// createPlaylist: a new playlist named `name`, or, with `playlistId`, that playlist's songs
/// replaced (and its name changed when `name` is given). Answers with the playlist.
pub async fn create_playlist(ctx: Ctx) -> Result<Streamed, ApiError> {
    ctx.require_role(Role::Playlist)?;
    let songs = song_ids(&ctx, "songId")?;
    let tree = songs.len() <= TREE_AT_MOST;
    let name = ctx
        .params
        .get("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let existing = match ctx.params.get("playlistId").map(str::trim) {
        Some(raw) if !raw.is_empty() => Some(playlist_id(&ctx, "playlistId")?),
        _ => None,
    };
    let save = match (existing, name) {
        (Some(id), name) => Save::Replace { id, name },
        (None, Some(name)) => Save::New { name },
        (None, None) => return Err(ApiError::MissingParam("name")),
    };
    let actor = actor(&ctx).await?;
    let writer = actor.clone();
    let now = db::now_ms();
    if tree {
        // The write and the read of its answer in one immediate transaction.
        let answer = ctx
            .write(move |c| {
                let id = playlists::save(c, &writer, &save, &songs, now)?;
                Ok(playlists::with_songs(c, &writer, id)?)
            })
            .await?;
        return Ok(streamed::whole(
            &ctx,
            playlist_tree(answer, &actor, &View::of(&ctx)),
        ));
    }
    // A long answer is streamed to the client, which may read slowly: no write transaction
    // may wait on it, so the songs are read back in a read transaction after the commit.
    let id = ctx
        .write(move |c| Ok(playlists::save(c, &writer, &save, &songs, now)?))
        .await?;
    playlist_with_songs(&ctx, "createPlaylist", actor, id).await
}

/// updatePlaylist: name, comment, public, songs appended (`songIdToAdd`) and removed by
/// 0-based index into the list as it was (`songIndexToRemove`), all or nothing.
pub async fn update_playlist(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Playlist)?;
    let id = playlist_id(&ctx, "playlistId")?;
    let remove = ctx
        .params
        .all("songIndexToRemove")
        .into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| ApiError::BadParam("songIndexToRemove"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let change = PlaylistUpdate {
        name: ctx.params.get("name").map(str::to_string),
        comment: ctx
            .params
            .get("comment")
            .map(|c| Some(c.trim().to_string()).filter(|c| !c.is_empty())),
        public: ctx.params.boolean("public")?,
        add: song_ids(&ctx, "songIdToAdd")?,
        remove,
    };
    let actor = actor(&ctx).await?;
    let now = db::now_ms();
    ctx.write(move |c| Ok(playlists::update(c, &actor, id, &change, now)?))
        .await?;
    Ok(None)
}

/// deletePlaylist: the owner or an admin deletes it.
pub async fn delete_playlist(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_role(Role::Playlist)?;
    let id = playlist_id(&ctx, "id")?;
    let actor = actor(&ctx).await?;
    ctx.write(move |c| Ok(playlists::delete(c, &actor, id)?))
        .await?;
    Ok(None)
}
