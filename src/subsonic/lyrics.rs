//! getLyrics (by artist and title) and getLyricsBySongId (OpenSubsonic `songLyrics`), from the
//! lyrics the scanner stored: plain ones (USLT, LYRICS...) and synchronised ones (SYLT, LRC
//! text in a tag, sidecar `.lrc` files).

use super::auth::Ctx;
use super::error::ApiError;
use super::response::Element;
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
        return Ok(Some(Element::new("lyrics").text("")));
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
        return Ok(Some(Element::new("lyrics").text("")));
    };
    // Plain lyrics read best as plain text; else the synchronised ones without their times.
    let parsed = found.parsed();
    let text = parsed
        .iter()
        .find(|l| !l.synced)
        .or(parsed.first())
        .map(Lyrics::plain_text)
        .unwrap_or_default();
    Ok(Some(
        Element::new("lyrics")
            .attr("artist", &found.artist)
            .attr("title", &found.title)
            .text(text),
    ))
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
        .map(|l| structured(&l, &found.artist, &found.title))
        .collect();
    Ok(Some(
        Element::new("lyricsList").list("structuredLyrics", entries),
    ))
}

/// The largest lyrics text served (`[limits] lyrics_kb`), in bytes.
fn lyrics_limit(ctx: &Ctx) -> u64 {
    ctx.state.config.limits.lyrics_kb.saturating_mul(1024)
}

/// One OpenSubsonic `structuredLyrics` entry.
fn structured(l: &Lyrics, artist: &str, title: &str) -> Element {
    Element::new("structuredLyrics")
        .attr("displayArtist", l.artist.as_deref().unwrap_or(artist))
        .attr("displayTitle", l.title.as_deref().unwrap_or(title))
        .attr("lang", &l.lang)
        .attr("offset", l.offset_ms)
        .attr("synced", l.synced)
        .list(
            "line",
            l.lines
                .iter()
                .map(|line| {
                    Element::new("line")
                        .attr_opt("start", line.start_ms)
                        .text(&line.text)
                })
                .collect(),
        )
}
