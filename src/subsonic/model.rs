//! Wire shapes of the catalog (Child, AlbumID3, ArtistID3...), built once as `Element`s and
//! rendered to XML or JSON by `response`.

use super::response::{Element, Value};
use crate::library::{AlbumView, ArtistView, Credit, Id, TrackView, covers};

/// ISO 8601 UTC with milliseconds, from epoch milliseconds.
pub fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn credit_list(list: &[Credit]) -> Vec<Element> {
    list.iter()
        .map(|c| {
            Element::new("artist")
                .attr("id", Id::Artist(c.id).to_string())
                .attr("name", &c.name)
        })
        .collect()
}

fn genre_list(genres: &[String]) -> Vec<Element> {
    genres
        .iter()
        .map(|g| Element::new("genre").attr("name", g))
        .collect()
}

/// A song as a `Child` (named `song`, `entry`, `child`... by the caller).
pub fn child(name: &'static str, v: &TrackView) -> Element {
    let t = &v.track;
    let mut replay_gain = Element::new("replayGain");
    replay_gain = replay_gain
        .attr_opt("trackGain", t.tags.rg_track_gain)
        .attr_opt("albumGain", t.tags.rg_album_gain)
        .attr_opt("trackPeak", t.tags.rg_track_peak)
        .attr_opt("albumPeak", t.tags.rg_album_peak);
    let display_album_artist = t
        .tags
        .album_artist_display
        .clone()
        .or_else(|| (!v.album_artists.is_empty()).then(|| join_names(&v.album_artists)));
    Element::new(name)
        .attr("id", Id::Track(t.id).to_string())
        .attr("parent", Id::Directory(t.directory_id).to_string())
        .attr("isDir", false)
        .attr("title", &t.tags.title)
        .attr("album", &t.tags.album_name)
        .attr("artist", &t.tags.artist_display)
        .attr_opt("track", t.tags.track_number)
        .attr_opt("year", t.tags.year)
        .attr_opt("genre", v.genres.first())
        .attr_opt("coverArt", v.cover_art.as_ref().map(ToString::to_string))
        .attr("size", t.file.size)
        .attr("contentType", &t.audio.content_type)
        .attr("suffix", &t.audio.suffix)
        .attr("duration", t.audio.duration_ms / 1000)
        .attr_opt("bitRate", t.audio.bitrate)
        .attr("path", &t.file.path)
        .attr("isVideo", false)
        .attr_opt("discNumber", t.tags.disc_number)
        .attr("created", iso_time(t.created_at))
        .attr("albumId", Id::Album(t.album_id).to_string())
        .attr_opt(
            "artistId",
            v.artists.first().map(|a| Id::Artist(a.id).to_string()),
        )
        .attr("type", "music")
        .attr("mediaType", "song")
        .attr_opt("bpm", t.tags.bpm)
        .attr_opt("comment", t.tags.comment.as_ref())
        .attr_opt("sortName", t.tags.sort_title.as_ref())
        .attr_opt("musicBrainzId", t.tags.mb_recording_id.as_ref())
        .attr("displayArtist", &t.tags.artist_display)
        .attr_opt("displayAlbumArtist", display_album_artist)
        .attr_opt("channelCount", t.audio.channels)
        .attr_opt("samplingRate", t.audio.sample_rate)
        .attr_opt("bitDepth", t.audio.bit_depth)
        .scalars(
            "isrc",
            t.tags
                .isrc
                .iter()
                .map(|s| Value::from(s.as_str()))
                .collect(),
        )
        .list("genres", genre_list(&v.genres))
        .scalars(
            "moods",
            t.tags
                .mood
                .iter()
                .map(|m| Value::from(m.as_str()))
                .collect(),
        )
        .list("artists", credit_list(&v.artists))
        .list("albumArtists", credit_list(&v.album_artists))
        .attr_opt(
            "displayComposer",
            (!v.composers.is_empty()).then(|| join_names(&v.composers)),
        )
        .list(
            "contributors",
            v.composers
                .iter()
                .map(|c| {
                    Element::new("contributor").attr("role", "composer").child(
                        Element::new("artist")
                            .attr("id", Id::Artist(c.id).to_string())
                            .attr("name", &c.name),
                    )
                })
                .collect(),
        )
        .child(replay_gain)
}

fn join_names(list: &[Credit]) -> String {
    list.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// An OpenSubsonic `ItemDate` from a stored, possibly partial, ISO date ("1999", "1999-03",
/// "1999-03-21"); None when it has no valid year.
fn item_date(name: &'static str, date: Option<&str>) -> Option<Element> {
    let mut parts = date?.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: Option<i32> = parts
        .next()
        .and_then(|m| m.parse().ok())
        .filter(|m| (1..=12).contains(m));
    let day: Option<i32> = month
        .and(parts.next())
        .and_then(|d| d.get(..2).unwrap_or(d).parse().ok())
        .filter(|d| (1..=31).contains(d));
    Some(
        Element::new(name)
            .attr("year", year)
            .attr_opt("month", month)
            .attr_opt("day", day),
    )
}

/// The record labels and moods of an album's songs (distinct, in track order), for getAlbum
/// where the songs are at hand; album lists leave them out rather than read every track.
pub fn with_labels_and_moods(album: Element, songs: &[TrackView]) -> Element {
    let mut labels: Vec<&str> = Vec::new();
    let mut moods: Vec<&str> = Vec::new();
    for t in songs.iter().map(|s| &s.track) {
        if let Some(l) = t.tags.label.as_deref().filter(|l| !labels.contains(l)) {
            labels.push(l);
        }
        if let Some(m) = t.tags.mood.as_deref().filter(|m| !moods.contains(m)) {
            moods.push(m);
        }
    }
    album
        .list(
            "recordLabels",
            labels
                .into_iter()
                .map(|l| Element::new("recordLabel").attr("name", l))
                .collect(),
        )
        .scalars("moods", moods.into_iter().map(Value::from).collect())
}

/// An album as `AlbumID3` (named `album` by default).
pub fn album(name: &'static str, v: &AlbumView) -> Element {
    let a = &v.album;
    Element::new(name)
        .attr("id", Id::Album(a.id).to_string())
        .attr("name", &a.name)
        .attr("artist", &a.artist_display)
        .attr_opt(
            "artistId",
            v.artists.first().map(|c| Id::Artist(c.id).to_string()),
        )
        .attr_opt("coverArt", covers::album_cover(a).map(|c| c.to_string()))
        .attr("songCount", a.song_count)
        .attr("duration", a.duration_ms / 1000)
        .attr("created", iso_time(a.created_at))
        .attr_opt("year", a.year)
        .attr_opt("genre", v.genres.first())
        .attr_opt("sortName", a.sort_name.as_ref())
        .attr_opt("musicBrainzId", a.mbid.as_ref())
        .attr("isCompilation", a.compilation)
        .attr("displayArtist", &a.artist_display)
        .list("genres", genre_list(&v.genres))
        .list("artists", credit_list(&v.artists))
        .list(
            "discTitles",
            v.disc_titles
                .iter()
                .map(|(disc, title)| {
                    Element::new("discTitle")
                        .attr("disc", *disc)
                        .attr("title", title)
                })
                .collect(),
        )
        .child_opt(item_date("originalReleaseDate", a.original_date.as_deref()))
        .child_opt(item_date("releaseDate", a.release_date.as_deref()))
        .scalars(
            "releaseTypes",
            a.release_type
                .iter()
                .flat_map(|t| t.split(';'))
                .map(|t| Value::from(t.trim()))
                .collect(),
        )
}

/// An artist as `ArtistID3` (named `artist` by default).
pub fn artist(name: &'static str, v: &ArtistView) -> Element {
    Element::new(name)
        .attr("id", Id::Artist(v.id).to_string())
        .attr("name", &v.name)
        .attr_opt("coverArt", v.cover_art.as_ref().map(ToString::to_string))
        .attr("albumCount", v.album_count)
        .attr_opt("sortName", v.sort_name.as_ref())
        .attr_opt("musicBrainzId", v.mbid.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_become_item_dates() {
        let full = item_date("releaseDate", Some("1999-03-21"))
            .unwrap()
            .to_json();
        assert_eq!(
            full,
            serde_json::json!({"year": 1999, "month": 3, "day": 21})
        );
        let year = item_date("releaseDate", Some("1999")).unwrap().to_json();
        assert_eq!(year, serde_json::json!({"year": 1999}));
        let month = item_date("releaseDate", Some("1999-11")).unwrap().to_json();
        assert_eq!(month, serde_json::json!({"year": 1999, "month": 11}));
        assert!(item_date("releaseDate", Some("soon")).is_none());
        assert!(item_date("releaseDate", None).is_none());
    }
}
