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

/// A whole track row: the catalog's links plus the field groups the scanner produces.
///
/// Each group is one `#[diesel(embed)]`ded struct, so the scanner's output is the very value the
/// writer inserts and the read side selects (a new tag column is one field in [`TrackTags`]).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tracks)]
pub struct Track {
    pub id: i32,
    pub folder_id: i32,
    pub directory_id: i32,
    pub album_id: i32,
    #[diesel(embed)]
    pub file: FileFacts,
    #[diesel(embed)]
    pub audio: AudioProps,
    #[diesel(embed)]
    pub tags: TrackTags,
    #[diesel(embed)]
    pub attachments: Attachments,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A track row as lists and views show it: everything but the lyrics, which only getLyrics
/// reads (real libraries carry kilobytes of them per track; a page of 500 songs would read
/// them all for nothing).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tracks)]
pub struct ListedTrack {
    pub id: i32,
    pub folder_id: i32,
    pub directory_id: i32,
    pub album_id: i32,
    #[diesel(embed)]
    pub file: FileFacts,
    #[diesel(embed)]
    pub audio: AudioProps,
    #[diesel(embed)]
    pub tags: TrackTags,
    pub has_embedded_art: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where the file is and how it is recognised: known from the walk (and the fingerprint).
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tracks)]
pub struct FileFacts {
    /// Relative to the music folder.
    pub path: String,
    pub size: i64,
    /// Milliseconds since the epoch.
    pub mtime: i64,
    /// See `scanner::writer::fingerprint`.
    pub fingerprint: i64,
}

/// What kind of audio the file holds, read from the file itself.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tracks, treat_none_as_null = true)]
pub struct AudioProps {
    /// Lower-case extension without the dot ("mp3", "flac", ...).
    pub suffix: String,
    /// MIME type for the container ("audio/mpeg", "audio/flac", ...).
    pub content_type: String,
    /// Codec name as users know it ("MP3", "FLAC", "AAC", "ALAC", "Vorbis", "Opus", ...).
    pub codec: String,
    pub duration_ms: i64,
    /// Overall bitrate in kbit/s.
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
    pub bit_depth: Option<i32>,
    pub channels: Option<i32>,
}

/// The tags kept on the track row (people and genres are rows of their own).
///
/// Text is already cleaned (control characters stripped, whitespace trimmed); `None` means
/// "not present in the file", never an empty string. `treat_none_as_null` so that a tag
/// removed from a file is cleared on update.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tracks, treat_none_as_null = true)]
pub struct TrackTags {
    /// Falls back to the file name without extension when the tag has none.
    pub title: String,
    pub sort_title: Option<String>,
    /// Falls back to the folder name when the tag has none.
    pub album_name: String,
    /// The artist credit as written in the tag ("A feat. B"), for display.
    pub artist_display: String,
    pub album_artist_display: Option<String>,
    pub track_number: Option<i32>,
    pub track_total: Option<i32>,
    pub disc_number: Option<i32>,
    pub disc_total: Option<i32>,
    pub disc_subtitle: Option<String>,
    pub year: Option<i32>,
    /// ISO 8601, possibly partial: "1999", "1999-03", "1999-03-21".
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
    /// ReplayGain in dB, peaks linear.
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
}

/// What the file carries besides tags: lyrics and whether a picture is embedded.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tracks, treat_none_as_null = true)]
pub struct Attachments {
    pub lyrics: Option<String>,
    /// LRC text ("[mm:ss.xx]line" lines), from a SYLT frame, an LRC-formatted lyrics tag or a
    /// sidecar .lrc file.
    pub synced_lyrics: Option<String>,
    pub has_embedded_art: bool,
}

/// The columns the scanner writes for a track (everything but id and created_at), borrowing
/// the groups it read. Inserted and updated through [`TrackData::columns`]: Diesel's derives
/// cannot embed borrowed groups.
#[derive(Debug, Clone, Copy)]
pub struct TrackData<'a> {
    pub folder_id: i32,
    pub directory_id: i32,
    pub album_id: i32,
    pub file: &'a FileFacts,
    pub audio: &'a AudioProps,
    pub tags: &'a TrackTags,
    pub attachments: &'a Attachments,
    pub updated_at: i64,
}

/// [`TrackData`] as a tuple that is both `Insertable` and `AsChangeset`.
pub type TrackColumns<'a> = (
    diesel::dsl::Eq<tracks::folder_id, i32>,
    diesel::dsl::Eq<tracks::directory_id, i32>,
    diesel::dsl::Eq<tracks::album_id, i32>,
    &'a FileFacts,
    &'a AudioProps,
    &'a TrackTags,
    &'a Attachments,
    diesel::dsl::Eq<tracks::updated_at, i64>,
);

impl<'a> TrackData<'a> {
    /// The same columns, borrowed from a stored row (used when a moved file's row is folded
    /// into the row it replaces).
    pub fn from_row(t: &'a Track) -> Self {
        Self {
            folder_id: t.folder_id,
            directory_id: t.directory_id,
            album_id: t.album_id,
            file: &t.file,
            audio: &t.audio,
            tags: &t.tags,
            attachments: &t.attachments,
            updated_at: t.updated_at,
        }
    }

    /// The values to insert or set.
    pub fn columns(&self) -> TrackColumns<'a> {
        (
            tracks::folder_id.eq(self.folder_id),
            tracks::directory_id.eq(self.directory_id),
            tracks::album_id.eq(self.album_id),
            self.file,
            self.audio,
            self.tags,
            self.attachments,
            tracks::updated_at.eq(self.updated_at),
        )
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
    /// Subscribing to and managing podcasts (admins always may).
    pub podcast_role: bool,
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
    Podcast,
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
                Role::Podcast => self.podcast_role,
            }
    }
}
