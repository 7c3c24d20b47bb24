//! getLyrics (by artist and title) and getLyricsBySongId (OpenSubsonic `songLyrics`), from the
//! lyrics the scanner stored: plain ones (USLT, LYRICS...) and synchronised ones (SYLT, LRC
//! text in a tag, sidecar `.lrc` files).

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{self, LyricLine, LyricsList, StructuredLyrics};
use super::response::{Element, ToElement};
use crate::library::Id;
use crate::library::lyrics::{self, Lyrics};

/// getLyrics: the plain text of the first song whose title (and artist, when given) match,
/// ignoring case; synchronised lyrics lose their time tags. Nothing found: an empty `lyrics`
/// element, as Subsonic answers.
pub async fn get_lyrics(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let given = |key: &str| {
        ctx.params
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (artist, title) = (given("artist"), given("title"));
    let Some(title) = title else {
        if artist.is_none() {
            return Err(ApiError::MissingParam("title"));
        }
        return Ok(Some(model::Lyrics::default().into_element("lyrics")));
    };
    let viewer = ctx.viewer.clone();
    let max_bytes = lyrics_limit(&ctx);
    let found = ctx
        .db(move |c| {
            // A song of a music folder the user may not see counts as not found.
            Ok(
                match lyrics::find_by_artist_title(c, artist.as_deref(), &title, max_bytes)? {
                    Some(f) if viewer.hides(c, Id::Track(f.track_id))? => None,
                    found => found,
                },
            )
        })
        .await?;
    let Some(found) = found else {
        return Ok(Some(model::Lyrics::default().into_element("lyrics")));
    };
    // Plain lyrics read best as plain text; else the synchronised ones without their times.
    let parsed = found.parsed();
    let text = parsed
        .iter()
        .find(|l| !l.synced)
        .or(parsed.first())
        .map(Lyrics::plain_text)
        .unwrap_or_default();
    let lyrics = model::Lyrics {
        artist: Some(found.artist),
        title: Some(found.title),
        text,
    };
    Ok(Some(lyrics.into_element("lyrics")))
}

/// getLyricsBySongId: every version of a song's lyrics (synchronised first), each with its
/// language, offset and lines (with start times in ms when synchronised). `enhanced` (version
/// 2 of the extension) is not offered, so it is ignored.
pub async fn get_lyrics_by_song_id(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let id = ctx.params.required("id")?;
    let Some(Id::Track(track_id)) = Id::parse(id) else {
        return Err(ApiError::NotFound("Song"));
    };
    let viewer = ctx.viewer.clone();
    let max_bytes = lyrics_limit(&ctx);
    let found = ctx
        .db(move |c| {
            if viewer.hides(c, Id::Track(track_id))? {
                return Ok(None);
            }
            Ok(lyrics::of_track(c, track_id, max_bytes)?)
        })
        .await?
        .ok_or(ApiError::NotFound("Song"))?;
    let entries = found
        .parsed()
        .into_iter()
        .map(|l| structured(l, &found.artist, &found.title));
    Ok(Some(
        LyricsList(entries.collect()).into_element("lyricsList"),
    ))
}

/// The largest lyrics text served (`[limits] lyrics_kb`), in bytes.
fn lyrics_limit(ctx: &Ctx) -> u64 {
    ctx.state.config.limits.lyrics_kb.saturating_mul(1024)
}

/// One OpenSubsonic `structuredLyrics` entry.
fn structured(l: Lyrics, artist: &str, title: &str) -> StructuredLyrics {
    StructuredLyrics {
        display_artist: l.artist.unwrap_or_else(|| artist.to_string()),
        display_title: l.title.unwrap_or_else(|| title.to_string()),
        lang: l.lang,
        offset: l.offset_ms,
        synced: l.synced,
        lines: l
            .lines
            .into_iter()
            .map(|line| LyricLine {
                start: line.start_ms,
                text: line.text,
            })
            .collect(),
    }
}
