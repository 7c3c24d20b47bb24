//! The scanner's neutral description of one audio file: what tags.rs produces and writer.rs stores.

/// Everything the catalog keeps about one audio file, read from its tags and properties.
///
/// Text fields are already cleaned (control characters stripped, whitespace trimmed); `None`
/// means "not present in the file", never an empty string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackMeta {
    // --- the file ---
    /// Lower-case extension without the dot ("mp3", "flac", ...).
    pub suffix: String,
    /// MIME type for the container ("audio/mpeg", "audio/flac", ...).
    pub content_type: String,
    /// Codec name as users know it ("MP3", "FLAC", "AAC", "ALAC", "Vorbis", "Opus", ...).
    pub codec: String,

    // --- audio properties ---
    pub duration_ms: i64,
    /// Overall bitrate in kbit/s.
    pub bitrate: Option<i32>,
    pub sample_rate: Option<i32>,
    pub bit_depth: Option<i32>,
    pub channels: Option<i32>,

    // --- names ---
    /// Title; falls back to the file name without extension when the tag has none.
    pub title: String,
    pub sort_title: Option<String>,
    /// Album; falls back to the folder name when the tag has none.
    pub album: String,
    pub sort_album: Option<String>,
    /// Track artists in tag order (split on the configured separators); never empty
    /// ("Unknown Artist" when the file names none).
    pub artists: Vec<String>,
    /// The artist credit as written in the tag ("A feat. B"), for display.
    pub artist_display: String,
    pub artist_sort: Option<String>,
    /// Album artists as tagged (empty when the file has no album-artist tag).
    pub album_artists: Vec<String>,
    pub album_artist_display: Option<String>,
    pub album_artist_sort: Option<String>,
    pub composers: Vec<String>,
    pub genres: Vec<String>,

    // --- numbering and dates ---
    pub track_number: Option<i32>,
    pub track_total: Option<i32>,
    pub disc_number: Option<i32>,
    pub disc_total: Option<i32>,
    pub disc_subtitle: Option<String>,
    pub year: Option<i32>,
    /// ISO 8601, possibly partial: "1999", "1999-03", "1999-03-21".
    pub release_date: Option<String>,
    pub original_date: Option<String>,

    // --- other tags ---
    pub comment: Option<String>,
    pub bpm: Option<i32>,
    pub isrc: Option<String>,
    pub compilation: bool,
    pub release_type: Option<String>,
    pub label: Option<String>,
    pub grouping: Option<String>,
    pub mood: Option<String>,

    // --- MusicBrainz ---
    pub mb_recording_id: Option<String>,
    pub mb_track_id: Option<String>,
    pub mb_release_id: Option<String>,
    pub mb_release_group_id: Option<String>,
    pub mb_artist_id: Option<String>,
    pub mb_album_artist_id: Option<String>,

    // --- ReplayGain (dB and linear peak) ---
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,

    // --- lyrics ---
    pub lyrics: Option<String>,
    /// LRC text ("[mm:ss.xx]line" lines), from a SYLT frame, an LRC-formatted lyrics tag or a
    /// sidecar .lrc file.
    pub synced_lyrics: Option<String>,

    pub has_embedded_art: bool,
}
