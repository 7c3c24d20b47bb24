//! The scanner's neutral description of one audio file: what tags.rs produces and writer.rs stores.

use crate::db::models::{Attachments, AudioProps, TrackTags};

/// Everything the catalog keeps about one audio file, read from its tags and properties.
///
/// The groups are the track row's own (`db::models::Track`): the writer inserts them as read.
/// The rest are the credits and names stored in tables of their own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackMeta {
    pub audio: AudioProps,
    pub tags: TrackTags,
    pub attachments: Attachments,

    // --- stored outside the track row ---
    pub sort_album: Option<String>,
    /// Track artists in tag order (split on the configured separators); never empty
    /// ("Unknown Artist" when the file names none).
    pub artists: Vec<String>,
    pub artist_sort: Option<String>,
    /// Album artists as tagged (empty when the file has no album-artist tag).
    pub album_artists: Vec<String>,
    pub album_artist_sort: Option<String>,
    pub composers: Vec<String>,
    pub genres: Vec<String>,
}
