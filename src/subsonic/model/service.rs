//! Wire types of the server's own services (users, API keys, radio, chat, lyrics, scanning,
//! license, extensions): one struct each, rendered once by `ToElement` like the catalog types.

use super::iso_time;
use crate::subsonic::response::{Element, ToElement, Value};

/// `User`: the roles the user holds and the music folders they may see. Uploads, the jukebox and video conversion are features this server does not have: those roles are
/// always false, and scrobbling is always on.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub max_bit_rate: i32,
    pub admin_role: bool,
    pub settings_role: bool,
    pub download_role: bool,
    pub playlist_role: bool,
    pub cover_art_role: bool,
    pub comment_role: bool,
    pub stream_role: bool,
    pub share_role: bool,
    pub podcast_role: bool,
    pub folders: Vec<i32>,
}

impl ToElement for User {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("username", self.username)
            .attr_opt("email", self.email)
            .attr("scrobblingEnabled", true)
            .attr("maxBitRate", self.max_bit_rate)
            .attr("adminRole", self.admin_role)
            .attr("settingsRole", self.settings_role)
            .attr("downloadRole", self.download_role)
            .attr("uploadRole", false)
            .attr("playlistRole", self.playlist_role)
            .attr("coverArtRole", self.cover_art_role)
            .attr("commentRole", self.comment_role)
            .attr("podcastRole", self.podcast_role)
            .attr("streamRole", self.stream_role)
            .attr("jukeboxRole", false)
            .attr("shareRole", self.share_role)
            .attr("videoConversionRole", false)
            .scalars(
                "folder",
                self.folders.into_iter().map(Value::from).collect(),
            )
    }
}

/// Our `apiKey`: the key itself only once, when it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: i32,
    pub name: String,
    pub key: Option<String>,
    /// Epoch milliseconds, as `last_used`.
    pub created: i64,
    pub last_used: Option<i64>,
}

impl ToElement for ApiKey {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id.to_string())
            .attr("name", self.name)
            .attr_opt("key", self.key)
            .attr("created", iso_time(self.created))
            .attr_opt("lastUsed", self.last_used.map(iso_time))
    }
}

/// `InternetRadioStation`.
#[derive(Debug, Clone, PartialEq)]
pub struct InternetRadioStation {
    pub id: i32,
    pub name: String,
    pub stream_url: String,
    pub home_page_url: Option<String>,
}

impl ToElement for InternetRadioStation {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id.to_string())
            .attr("name", self.name)
            .attr("streamUrl", self.stream_url)
            .attr_opt("homePageUrl", self.home_page_url)
    }
}

/// `ChatMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub username: String,
    /// Epoch milliseconds.
    pub time: i64,
    pub message: String,
}

impl ToElement for ChatMessage {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("username", self.username)
            .attr("time", self.time)
            .attr("message", self.message)
    }
}

/// `Lyrics` (getLyrics): the text is the content, empty when nothing was found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lyrics {
    pub artist: Option<String>,
    pub title: Option<String>,
    pub text: String,
}

impl ToElement for Lyrics {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr_opt("artist", self.artist)
            .attr_opt("title", self.title)
            .text(self.text)
    }
}

/// OpenSubsonic `StructuredLyrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredLyrics {
    pub display_artist: String,
    pub display_title: String,
    pub lang: String,
    /// Milliseconds.
    pub offset: i64,
    pub synced: bool,
    pub lines: Vec<LyricLine>,
}

impl ToElement for StructuredLyrics {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("displayArtist", self.display_artist)
            .attr("displayTitle", self.display_title)
            .attr("lang", self.lang)
            .attr("offset", self.offset)
            .attr("synced", self.synced)
            .items("line", self.lines)
    }
}

/// OpenSubsonic `Line`: `start` (ms) only in synchronised lyrics.
#[derive(Debug, Clone, PartialEq)]
pub struct LyricLine {
    pub start: Option<i64>,
    pub text: String,
}

impl ToElement for LyricLine {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr_opt("start", self.start)
            .text(self.text)
    }
}

/// `ScanStatus` exactly as the spec has it (strict client libraries reject other keys); our
/// getScanInfo adds `lastScan`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStatus {
    pub scanning: bool,
    pub count: i64,
    /// Epoch milliseconds; getScanInfo only.
    pub last_scan: Option<i64>,
}

impl ToElement for ScanStatus {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("scanning", self.scanning)
            .attr("count", self.count)
            .attr_opt("lastScan", self.last_scan.map(iso_time))
    }
}

/// Our `scanError`: a file the scanner could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanError {
    pub folder: String,
    pub path: String,
    pub size: i64,
    pub reason: String,
    /// Epoch milliseconds.
    pub seen: i64,
}

impl ToElement for ScanError {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("folder", self.folder)
            .attr("path", self.path)
            .attr("size", self.size)
            .attr("reason", self.reason)
            .attr("seen", iso_time(self.seen))
    }
}

/// Our `scanErrors`: one page of them, and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanErrors {
    pub count: i64,
    pub errors: Vec<ScanError>,
}

impl ToElement for ScanErrors {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("count", self.count)
            .items("scanError", self.errors)
    }
}

/// OpenSubsonic `OpenSubsonicExtension`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenSubsonicExtension {
    pub name: &'static str,
    pub versions: Vec<i64>,
}

impl ToElement for OpenSubsonicExtension {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("name", self.name).scalars(
            "versions",
            self.versions.into_iter().map(Value::from).collect(),
        )
    }
}

/// `License`: always valid (there is nothing to buy).
#[derive(Debug, Clone, PartialEq)]
pub struct License {
    pub valid: bool,
}

impl ToElement for License {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("valid", self.valid)
    }
}

/// OpenSubsonic `TokenInfo`: who the credentials belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub username: String,
}

impl ToElement for TokenInfo {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("username", self.username)
    }
}

/// `Error`: the payload of a failed response.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

impl From<&crate::subsonic::error::ApiError> for Error {
    fn from(e: &crate::subsonic::error::ApiError) -> Self {
        Error {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl ToElement for Error {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("code", self.code)
            .attr("message", self.message)
    }
}
