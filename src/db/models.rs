//! Row types for the catalog tables.

use super::schema::{albums, directories, library_folders, tracks, users};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = library_folders)]
pub struct LibraryFolder {
    pub id: i32,
    pub path: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = directories)]
pub struct Directory {
    pub id: i32,
    pub folder_id: i32,
    pub parent_id: Option<i32>,
    pub path: String,
    pub name: String,
    pub mtime: i64,
    pub cover_art: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A whole track row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tracks)]
pub struct Track {
    pub id: i32,
    pub folder_id: i32,
    pub directory_id: i32,
    pub album_id: i32,
    pub path: String,
    pub size: i64,
    pub mtime: i64,
    pub suffix: String,
    pub content_type: String,
    pub codec: String,
    pub duration_ms: i64,
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
    pub bit_depth: Option<i32>,
    pub channels: Option<i32>,
    pub title: String,
    pub sort_title: Option<String>,
    pub album_name: String,
    pub artist_display: String,
    pub album_artist_display: Option<String>,
    pub track_number: Option<i32>,
    pub track_total: Option<i32>,
    pub disc_number: Option<i32>,
    pub disc_total: Option<i32>,
    pub disc_subtitle: Option<String>,
    pub year: Option<i32>,
    pub release_date: Option<String>,
    pub original_date: Option<String>,
    pub comment: Option<String>,
    pub bpm: Option<i32>,
    pub isrc: Option<String>,
    pub compilation: bool,
    pub release_type: Option<String>,
    pub label: Option<String>,
    pub grouping: Option<String>,
    pub mood: Option<String>,
    pub mb_recording_id: Option<String>,
    pub mb_track_id: Option<String>,
    pub mb_release_id: Option<String>,
    pub mb_release_group_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub mb_album_artist_id: Option<String>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
    pub lyrics: Option<String>,
    pub synced_lyrics: Option<String>,
    pub has_embedded_art: bool,
    pub fingerprint: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns the scanner writes for a track (everything but id and created_at).
/// `treat_none_as_null` so that a tag removed from a file is cleared on update.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = tracks, treat_none_as_null = true)]
pub struct TrackData<'a> {
    pub folder_id: i32,
    pub directory_id: i32,
    pub album_id: i32,
    pub path: &'a str,
    pub size: i64,
    pub mtime: i64,
    pub suffix: &'a str,
    pub content_type: &'a str,
    pub codec: &'a str,
    pub duration_ms: i64,
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
    pub bit_depth: Option<i32>,
    pub channels: Option<i32>,
    pub title: &'a str,
    pub sort_title: Option<&'a str>,
    pub album_name: &'a str,
    pub artist_display: &'a str,
    pub album_artist_display: Option<&'a str>,
    pub track_number: Option<i32>,
    pub track_total: Option<i32>,
    pub disc_number: Option<i32>,
    pub disc_total: Option<i32>,
    pub disc_subtitle: Option<&'a str>,
    pub year: Option<i32>,
    pub release_date: Option<&'a str>,
    pub original_date: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub bpm: Option<i32>,
    pub isrc: Option<&'a str>,
    pub compilation: bool,
    pub release_type: Option<&'a str>,
    pub label: Option<&'a str>,
    pub grouping: Option<&'a str>,
    pub mood: Option<&'a str>,
    pub mb_recording_id: Option<&'a str>,
    pub mb_track_id: Option<&'a str>,
    pub mb_release_id: Option<&'a str>,
    pub mb_release_group_id: Option<&'a str>,
    pub mb_artist_id: Option<&'a str>,
    pub mb_album_artist_id: Option<&'a str>,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
    pub lyrics: Option<&'a str>,
    pub synced_lyrics: Option<&'a str>,
    pub has_embedded_art: bool,
    pub fingerprint: i64,
    pub updated_at: i64,
}

impl<'a> TrackData<'a> {
    /// The same columns, borrowed from a stored row (used when a moved file's row is folded
    /// into the row it replaces).
    pub fn from_row(t: &'a Track) -> Self {
        Self {
            folder_id: t.folder_id,
            directory_id: t.directory_id,
            album_id: t.album_id,
            path: &t.path,
            size: t.size,
            mtime: t.mtime,
            suffix: &t.suffix,
            content_type: &t.content_type,
            codec: &t.codec,
            duration_ms: t.duration_ms,
            bitrate: t.bitrate,
            sample_rate: t.sample_rate,
            bit_depth: t.bit_depth,
            channels: t.channels,
            title: &t.title,
            sort_title: t.sort_title.as_deref(),
            album_name: &t.album_name,
            artist_display: &t.artist_display,
            album_artist_display: t.album_artist_display.as_deref(),
            track_number: t.track_number,
            track_total: t.track_total,
            disc_number: t.disc_number,
            disc_total: t.disc_total,
            disc_subtitle: t.disc_subtitle.as_deref(),
            year: t.year,
            release_date: t.release_date.as_deref(),
            original_date: t.original_date.as_deref(),
            comment: t.comment.as_deref(),
            bpm: t.bpm,
            isrc: t.isrc.as_deref(),
            compilation: t.compilation,
            release_type: t.release_type.as_deref(),
            label: t.label.as_deref(),
            grouping: t.grouping.as_deref(),
            mood: t.mood.as_deref(),
            mb_recording_id: t.mb_recording_id.as_deref(),
            mb_track_id: t.mb_track_id.as_deref(),
            mb_release_id: t.mb_release_id.as_deref(),
            mb_release_group_id: t.mb_release_group_id.as_deref(),
            mb_artist_id: t.mb_artist_id.as_deref(),
            mb_album_artist_id: t.mb_album_artist_id.as_deref(),
            rg_track_gain: t.rg_track_gain,
            rg_track_peak: t.rg_track_peak,
            rg_album_gain: t.rg_album_gain,
            rg_album_peak: t.rg_album_peak,
            lyrics: t.lyrics.as_deref(),
            synced_lyrics: t.synced_lyrics.as_deref(),
            has_embedded_art: t.has_embedded_art,
            fingerprint: t.fingerprint,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = albums)]
pub struct Album {
    pub id: i32,
    pub album_key: String,
    pub name: String,
    pub sort_name: Option<String>,
    pub artist_display: String,
    pub year: Option<i32>,
    pub original_date: Option<String>,
    pub release_date: Option<String>,
    pub mbid: Option<String>,
    pub release_group_mbid: Option<String>,
    pub compilation: bool,
    pub release_type: Option<String>,
    pub cover_directory_id: Option<i32>,
    pub cover_track_id: Option<i32>,
    pub song_count: i32,
    pub disc_count: i32,
    pub duration_ms: i64,
    pub size: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub is_admin: bool,
    pub password_enc: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub email: Option<String>,
    /// kbps; 0 means no cap.
    pub max_bit_rate: i32,
    pub settings_role: bool,
    pub stream_role: bool,
    pub download_role: bool,
    pub playlist_role: bool,
    pub cover_art_role: bool,
    pub comment_role: bool,
    pub share_role: bool,
    /// Sees every music folder (else only those in user_folders).
    pub all_folders: bool,
}

/// What a user may do beyond browsing. Admins may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Settings,
    Stream,
    Download,
    Playlist,
    CoverArt,
    Comment,
    Share,
}

impl User {
    /// Whether the user holds `role` (admins hold every role).
    pub fn has_role(&self, role: Role) -> bool {
        self.is_admin
            || match role {
                Role::Settings => self.settings_role,
                Role::Stream => self.stream_role,
                Role::Download => self.download_role,
                Role::Playlist => self.playlist_role,
                Role::CoverArt => self.cover_art_role,
                Role::Comment => self.comment_role,
                Role::Share => self.share_role,
            }
    }
}
