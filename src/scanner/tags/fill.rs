//! Building the [`TrackMeta`] from the merged fields: which field wins, fallbacks from the path.

use std::path::Path;

use lofty::properties::FileProperties;

use crate::scanner::meta::TrackMeta;

use super::flatten::Merged;
use super::lyrics::is_lrc;
use super::names::Field;
use super::values::{
    clean_text, genres, is_disc_folder_name, is_truthy, parse_bpm, parse_date, parse_gain,
    parse_pair, split_names,
};
use super::{TagOptions, UNKNOWN_ALBUM, UNKNOWN_ARTIST, VARIOUS_ARTISTS};

pub(super) fn fill_properties(meta: &mut TrackMeta, p: &FileProperties) {
    let positive = |v: u32| (v > 0).then(|| i32::try_from(v).ok()).flatten();
    meta.audio.duration_ms = i64::try_from(p.duration().as_millis()).unwrap_or(i64::MAX);
    meta.audio.bitrate = p.overall_bitrate().or(p.audio_bitrate()).and_then(positive);
    meta.audio.sample_rate = p.sample_rate().and_then(positive);
    meta.audio.bit_depth = p.bit_depth().map(u32::from).and_then(positive);
    meta.audio.channels = p.channels().map(u32::from).and_then(positive);
}

pub(super) fn fill_from_tags(meta: &mut TrackMeta, m: &Merged<'_>, opts: &TagOptions) {
    let seps: Vec<&str> = opts
        .artist_separators
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();

    if let Some(title) = m.first(Field::Title) {
        meta.tags.title = title;
    }
    meta.tags.sort_title = m.first(Field::SortTitle);
    if let Some(album) = m.first(Field::Album) {
        meta.tags.album_name = album;
    }
    meta.sort_album = m.first(Field::SortAlbum);

    // Track artists.
    let (artists, display) = people(m, Field::Artist, Field::Artists, &seps);
    meta.artists = artists;
    meta.tags.artist_display = display.unwrap_or_default();
    meta.artist_sort = joined(m, Field::ArtistSort);

    // Album artists.
    let (album_artists, album_display) = people(m, Field::AlbumArtist, Field::AlbumArtists, &seps);
    meta.album_artists = album_artists;
    meta.tags.album_artist_display = album_display;
    meta.album_artist_sort = joined(m, Field::AlbumArtistSort);

    meta.composers = split_names(m.all(Field::Composer), &seps);
    meta.genres = genres(m.all(Field::Genre), &seps);

    // Numbering.
    let (track, track_total) = m
        .first(Field::Track)
        .map_or((None, None), |s| parse_pair(&s));
    meta.tags.track_number = track;
    meta.tags.track_total = track_total
        .or_else(|| m.first(Field::TrackTotal).and_then(|s| parse_pair(&s).0))
        .filter(|n| *n > 0);
    let (disc, disc_total) = m
        .first(Field::Disc)
        .map_or((None, None), |s| parse_pair(&s));
    meta.tags.disc_number = disc;
    meta.tags.disc_total = disc_total
        .or_else(|| m.first(Field::DiscTotal).and_then(|s| parse_pair(&s).0))
        .filter(|n| *n > 0);
    meta.tags.disc_subtitle = m.first(Field::DiscSubtitle);

    // Dates.
    let first_date = |field: Field| m.all(field).find_map(parse_date);
    let recorded = first_date(Field::Date).or_else(|| first_date(Field::Year));
    let released = first_date(Field::ReleaseDate);
    meta.tags.year = recorded.or(released).map(|d| d.year);
    meta.tags.release_date = released.or(recorded).map(|d| d.to_string());
    meta.tags.original_date = first_date(Field::OriginalDate).map(|d| d.to_string());

    // Other tags.
    meta.tags.comment = m
        .first(Field::Comment)
        .or_else(|| m.first(Field::Description));
    meta.tags.bpm = m.all(Field::Bpm).find_map(parse_bpm);
    meta.tags.isrc = m.first(Field::Isrc);
    meta.tags.compilation = m.first(Field::Compilation).is_some_and(|v| is_truthy(&v));
    let release_types = m.cleaned(Field::ReleaseType);
    meta.tags.release_type = (!release_types.is_empty()).then(|| release_types.join("; "));
    meta.tags.label = m.first(Field::Label);
    meta.tags.grouping = m
        .first(Field::Grouping)
        .or_else(|| m.first(Field::AppleGrouping));
    meta.tags.mood = m.first(Field::Mood);

    // MusicBrainz.
    meta.tags.mb_recording_id = m.first(Field::MbRecording);
    meta.tags.mb_track_id = m.first(Field::MbTrack);
    meta.tags.mb_release_id = m.first(Field::MbRelease);
    meta.tags.mb_release_group_id = m.first(Field::MbReleaseGroup);
    meta.tags.mb_artist_id = m.first(Field::MbArtist);
    meta.tags.mb_album_artist_id = m.first(Field::MbAlbumArtist);

    // ReplayGain; Opus R128 gains (Q7.8 dB relative to -23 LUFS) are converted to the
    // ReplayGain reference (-18 LUFS) when no ReplayGain tag exists.
    let gain = |field: Field| m.all(field).find_map(parse_gain);
    let r128 = |field: Field| {
        m.all(field)
            .find_map(|v| v.trim().parse::<i16>().ok())
            .map(|q| f64::from(q) / 256.0 + 5.0)
    };
    meta.tags.rg_track_gain = gain(Field::RgTrackGain).or_else(|| r128(Field::R128TrackGain));
    meta.tags.rg_track_peak = gain(Field::RgTrackPeak);
    meta.tags.rg_album_gain = gain(Field::RgAlbumGain).or_else(|| r128(Field::R128AlbumGain));
    meta.tags.rg_album_peak = gain(Field::RgAlbumPeak);

    // Lyrics: LRC-formatted lyrics tags count as synchronised.
    meta.attachments.synced_lyrics = m.first(Field::SyncedLyrics);
    for text in m.all(Field::Lyrics).filter_map(clean_text) {
        if is_lrc(&text) {
            if meta.attachments.synced_lyrics.is_none() {
                meta.attachments.synced_lyrics = Some(text);
            }
        } else if meta.attachments.lyrics.is_none() {
            meta.attachments.lyrics = Some(text);
        }
    }

    if meta.tags.compilation && meta.album_artists.is_empty() {
        meta.album_artists = vec![VARIOUS_ARTISTS.to_owned()];
        meta.tags.album_artist_display = Some(VARIOUS_ARTISTS.to_owned());
    }
}

/// Title, album and artist fallbacks for files whose tags lack them.
pub(super) fn fill_fallbacks(meta: &mut TrackMeta, path: &Path) {
    if meta.tags.title.is_empty() {
        meta.tags.title = path
            .file_stem()
            .and_then(|s| clean_text(&s.to_string_lossy()))
            .unwrap_or_default();
    }
    if meta.tags.album_name.is_empty() {
        meta.tags.album_name = album_from_folders(path).unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
    }
    if meta.artists.is_empty() {
        meta.artists = vec![UNKNOWN_ARTIST.to_owned()];
    }
    if meta.tags.artist_display.is_empty() {
        meta.tags.artist_display = meta.artists.join(" / ");
    }
}

pub(super) fn album_from_folders(path: &Path) -> Option<String> {
    let folder_name = |p: &Path| p.file_name().and_then(|n| clean_text(&n.to_string_lossy()));
    let parent = path.parent()?;
    let name = folder_name(parent)?;
    if is_disc_folder_name(&name)
        && let Some(above) = parent.parent().and_then(folder_name)
    {
        return Some(above);
    }
    Some(name)
}

/// Artists (or album artists) from the single-name field and the explicit multi-name field:
/// the list prefers the explicit field (ARTISTS), else splits the display values on the
/// separators; the display string is the single display value, else the values joined.
pub(super) fn people(
    m: &Merged<'_>,
    display_field: Field,
    list_field: Field,
    seps: &[&str],
) -> (Vec<String>, Option<String>) {
    let display_values = m.cleaned(display_field);
    let explicit = m.cleaned(list_field);
    let display = match display_values.len() {
        0 if explicit.is_empty() => None,
        0 => Some(explicit.join(" / ")),
        1 => display_values.first().cloned(),
        _ => Some(display_values.join(" / ")),
    };
    let list = if explicit.is_empty() {
        split_names(display_values.iter().map(String::as_str), seps)
    } else {
        explicit
    };
    (list, display)
}

/// All cleaned values of `field`, joined with " / " when there are several.
pub(super) fn joined(m: &Merged<'_>, field: Field) -> Option<String> {
    let values = m.cleaned(field);
    (!values.is_empty()).then(|| values.join(" / "))
}
