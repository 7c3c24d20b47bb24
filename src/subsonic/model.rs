//! The wire model: one typed struct per Subsonic/OpenSubsonic type the server sends (`Child`,
//! `AlbumID3`, `ArtistID3`, `Playlist`...). Each renders itself, once, as an `Element`
//! (`ToElement`), which `response` writes as XML or JSON, so every wire name of a type lives in
//! its one `into_element` and the two formats cannot drift. The attribute order is the order
//! of the calls in `into_element` (snapshots pin it).
//!
//! What depends on the caller is decided while building, from a `View` made once per request:
//! the `transcodedSuffix` hint, the legacy-client rule (no OpenSubsonic nested elements), and
//! the caller's annotations (`Annotations`, from `library::annotations::Annotation`).

use super::auth::Ctx;
use super::response::{self, Element, Format, RenderedList, ToElement, Value};
use super::transcoding::DefaultStream;
use crate::db::models::Directory as DirectoryRow;
use crate::library::annotations::Annotation;
use crate::library::{AlbumView, ArtistView, Credit, Id, TrackView, covers};
use crate::loudness::gain::{Gains, Measured};
use std::sync::Arc;

/// ISO 8601 UTC with milliseconds, from epoch milliseconds.
pub fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a response depends on besides the data: who asks, with which client, in which format.
/// Made once per request (`View::of`) and given to the builders.
pub struct View<'a> {
    /// What a plain `stream` of a song would send this caller (for `transcodedSuffix`).
    stream: DefaultStream<'a>,
    /// An XML client of `api.legacy_clients`: songs, albums and artists carry none of the
    /// nested elements OpenSubsonic added (`genres`, `artists`, `contributors`, `replayGain`,
    /// `discTitles`, `releaseDate`...). DSub and its kind find elements by start tag anywhere
    /// in the document, so a composer's `<artist>` inside `<contributors>` becomes an album's
    /// artist, and the other nested lists are at best noise to clients that predate
    /// OpenSubsonic. Payloads such as getGenres' `genres` are never affected.
    legacy_xml: bool,
}

/// What a caller's `View` is made of, owned: for work that outlives the request's `Ctx`
/// (a streamed answer's producer thread).
pub struct ViewOf {
    state: actix_web::web::Data<crate::state::AppState>,
    user_max_bit_rate: u32,
    client: Option<String>,
    legacy_xml: bool,
}

impl ViewOf {
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            state: ctx.state.clone(),
            user_max_bit_rate: ctx.user.max_bit_rate.max(0) as u32,
            client: ctx.params.get("c").map(str::to_string),
            legacy_xml: legacy_xml(ctx),
        }
    }

    /// The same `View` as `View::of` the request.
    pub fn view(&self) -> View<'_> {
        View::new(
            DefaultStream::new(
                &self.state.transcoder.settings,
                self.user_max_bit_rate,
                self.client.as_deref(),
            ),
            self.legacy_xml,
        )
    }
}

/// Whether the caller is an XML client of `api.legacy_clients` (see `View::legacy_xml`).
fn legacy_xml(ctx: &Ctx) -> bool {
    ctx.format == Format::Xml
        && response::is_legacy_client(&ctx.state.config.api.legacy_clients, ctx.params.get("c"))
}

impl<'a> View<'a> {
    pub fn of(ctx: &'a Ctx) -> Self {
        Self::new(DefaultStream::of(ctx), legacy_xml(ctx))
    }

    pub fn new(stream: DefaultStream<'a>, legacy_xml: bool) -> Self {
        Self { stream, legacy_xml }
    }

    /// The nested elements OpenSubsonic added to an item, unless the caller is a legacy XML
    /// client.
    fn nested<T>(&self, build: impl FnOnce() -> T) -> Option<T> {
        (!self.legacy_xml).then(build)
    }

    /// `transcodedSuffix` and `transcodedContentType` for a song of this suffix and bitrate
    /// (kbps), when a plain stream would not send the file itself.
    fn transcoded(
        &self,
        suffix: &str,
        bitrate: Option<i32>,
    ) -> Option<(&'static str, &'static str)> {
        self.stream
            .transcodes_to(suffix, bitrate)
            .map(|codec| (codec.suffix(), codec.content_type()))
    }
}

/// The caller's notes on an item, as the types that carry them write them (each type fills
/// only the ones its XSD has).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations {
    /// Epoch milliseconds.
    pub starred: Option<i64>,
    pub user_rating: Option<i32>,
    pub average_rating: Option<f64>,
    pub play_count: Option<i64>,
    /// Epoch milliseconds.
    pub played: Option<i64>,
}

impl Annotations {
    /// What a `Child` or an `AlbumID3` carries: `starred`, `userRating`, `playCount` (always)
    /// and `played`.
    pub fn media(a: Option<&Annotation>) -> Self {
        Self {
            starred: a.and_then(|a| a.starred_at),
            user_rating: a.and_then(|a| a.rating),
            average_rating: None,
            play_count: Some(a.map_or(0, |a| a.play_count)),
            played: a.and_then(|a| a.last_played),
        }
    }

    /// `starred` only (an `ArtistID3`).
    pub fn star(a: Option<&Annotation>) -> Self {
        Self {
            starred: a.and_then(|a| a.starred_at),
            ..Self::default()
        }
    }

    /// `starred` and `userRating` (a folder-mode `Artist` from tags).
    pub fn star_and_rating(a: Option<&Annotation>) -> Self {
        Self {
            user_rating: a.and_then(|a| a.rating),
            ..Self::star(a)
        }
    }

    /// `starred`, `userRating` and everyone's `averageRating` (folders).
    pub fn folder(a: Option<&Annotation>, average: Option<f64>) -> Self {
        Self {
            average_rating: average.map(|a| (a * 100.0).round() / 100.0),
            ..Self::star_and_rating(a)
        }
    }

    fn write(self, el: Element) -> Element {
        el.attr_opt("starred", self.starred.map(iso_time))
            .attr_opt("userRating", self.user_rating)
            .attr_opt("averageRating", self.average_rating)
            .attr_opt("playCount", self.play_count)
            .attr_opt("played", self.played.map(iso_time))
    }
}

/// An artist credit inside an item (OpenSubsonic's minimal `ArtistID3`: id and name).
#[derive(Debug, Clone, PartialEq)]
pub struct ArtistRef {
    pub id: i32,
    pub name: String,
}

impl ArtistRef {
    fn of(c: &Credit) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
        }
    }
}

impl ToElement for ArtistRef {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", Id::Artist(self.id).to_string())
            .attr("name", self.name)
    }
}

/// OpenSubsonic `ItemGenre`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemGenre {
    pub name: String,
}

impl ToElement for ItemGenre {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("name", self.name)
    }
}

/// OpenSubsonic `Contributor`: an artist in a role (we credit composers).
#[derive(Debug, Clone, PartialEq)]
pub struct Contributor {
    pub role: &'static str,
    pub artist: ArtistRef,
}

impl ToElement for Contributor {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("role", self.role)
            .child(self.artist.into_element("artist"))
    }
}

/// OpenSubsonic `ReplayGain`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayGain {
    pub track_gain: Option<f64>,
    pub album_gain: Option<f64>,
    pub track_peak: Option<f64>,
    pub album_peak: Option<f64>,
}

impl ReplayGain {
    /// The track's ReplayGain tags, else what the server measured (`loudness::gain`).
    fn served(t: &crate::db::models::TrackTags, measured: Option<&Measured>) -> Self {
        let g = Gains::served(Gains::tagged(t), measured);
        ReplayGain {
            track_gain: g.track_gain,
            album_gain: g.album_gain,
            track_peak: g.track_peak,
            album_peak: g.album_peak,
        }
    }
}

impl ToElement for ReplayGain {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr_opt("trackGain", self.track_gain)
            .attr_opt("albumGain", self.album_gain)
            .attr_opt("trackPeak", self.track_peak)
            .attr_opt("albumPeak", self.album_peak)
    }
}

/// OpenSubsonic `ItemDate`: a possibly partial date.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDate {
    pub year: i32,
    pub month: Option<i32>,
    pub day: Option<i32>,
}

impl ItemDate {
    /// From a stored, possibly partial, ISO date ("1999", "1999-03", "1999-03-21"); None when
    /// it has no valid year.
    pub fn parse(date: Option<&str>) -> Option<Self> {
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
        Some(Self { year, month, day })
    }
}

impl ToElement for ItemDate {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("year", self.year)
            .attr_opt("month", self.month)
            .attr_opt("day", self.day)
    }
}

/// OpenSubsonic `DiscTitle`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscTitle {
    pub disc: i32,
    pub title: String,
}

impl ToElement for DiscTitle {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("disc", self.disc)
            .attr("title", self.title)
    }
}

/// OpenSubsonic `RecordLabel`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLabel {
    pub name: String,
}

impl ToElement for RecordLabel {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name).attr("name", self.name)
    }
}

fn scalars(items: Vec<String>) -> Vec<Value> {
    items.into_iter().map(Value::from).collect()
}

fn join_names(list: &[Credit]) -> String {
    list.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// `Child.mediaType` (with `type` "music" for songs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Song,
    Album,
}

/// The nested elements OpenSubsonic added to a song `Child`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SongNested {
    pub isrc: Vec<String>,
    pub genres: Vec<ItemGenre>,
    pub moods: Vec<String>,
    pub artists: Vec<ArtistRef>,
    pub album_artists: Vec<ArtistRef>,
    pub contributors: Vec<Contributor>,
    pub replay_gain: ReplayGain,
}

/// `Child`: a song (`isDir` false), or a directory entry (an album or a folder, `isDir` true).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Child {
    pub id: String,
    pub parent: Option<String>,
    pub is_dir: bool,
    pub title: String,
    pub album: Option<String>,
    pub artist: Option<String>,
    pub track: Option<i32>,
    pub year: Option<i32>,
    pub genre: Option<String>,
    pub cover_art: Option<String>,
    pub size: Option<i64>,
    pub content_type: Option<String>,
    pub suffix: Option<String>,
    /// What a plain stream sends this caller, when it is not the file itself:
    /// `transcodedSuffix` and `transcodedContentType`.
    pub transcoded: Option<(&'static str, &'static str)>,
    /// Seconds.
    pub duration: Option<i64>,
    pub bit_rate: Option<i32>,
    pub path: Option<String>,
    pub is_video: Option<bool>,
    pub disc_number: Option<i32>,
    /// Epoch milliseconds.
    pub created: Option<i64>,
    pub album_id: Option<String>,
    pub artist_id: Option<String>,
    pub media_type: Option<MediaType>,
    pub bpm: Option<i32>,
    pub comment: Option<String>,
    pub sort_name: Option<String>,
    pub music_brainz_id: Option<String>,
    pub display_artist: Option<String>,
    pub display_album_artist: Option<String>,
    pub channel_count: Option<i32>,
    pub sampling_rate: Option<i32>,
    pub bit_depth: Option<i32>,
    pub display_composer: Option<String>,
    pub notes: Annotations,
    /// Songs only, and never for legacy XML clients.
    pub nested: Option<SongNested>,
}

impl Child {
    /// A song, with the caller's notes and the hints of `view`.
    pub fn song(v: &TrackView, note: Option<&Annotation>, view: &View) -> Self {
        let t = &v.track;
        let display_album_artist = t
            .tags
            .album_artist_display
            .clone()
            .or_else(|| (!v.album_artists.is_empty()).then(|| join_names(&v.album_artists)));
        let nested = view.nested(|| SongNested {
            isrc: t.tags.isrc.iter().cloned().collect(),
            genres: v
                .genres
                .iter()
                .map(|g| ItemGenre { name: g.clone() })
                .collect(),
            moods: t.tags.mood.iter().cloned().collect(),
            artists: v.artists.iter().map(ArtistRef::of).collect(),
            album_artists: v.album_artists.iter().map(ArtistRef::of).collect(),
            contributors: v
                .composers
                .iter()
                .map(|c| Contributor {
                    role: "composer",
                    artist: ArtistRef::of(c),
                })
                .collect(),
            replay_gain: ReplayGain::served(&t.tags, v.measured_loudness.as_ref()),
        });
        Self {
            id: Id::Track(t.id).to_string(),
            parent: Some(Id::Directory(t.directory_id).to_string()),
            is_dir: false,
            title: t.tags.title.clone(),
            album: Some(t.tags.album_name.clone()),
            artist: Some(t.tags.artist_display.clone()),
            track: t.tags.track_number,
            year: t.tags.year,
            genre: v.genres.first().cloned(),
            cover_art: v.cover_art.as_ref().map(ToString::to_string),
            size: Some(t.file.size),
            content_type: Some(t.audio.content_type.clone()),
            suffix: Some(t.audio.suffix.clone()),
            transcoded: view.transcoded(&t.audio.suffix, t.audio.bitrate),
            duration: Some(t.audio.duration_ms / 1000),
            bit_rate: t.audio.bitrate,
            path: Some(t.file.path.clone()),
            is_video: Some(false),
            disc_number: t.tags.disc_number,
            created: Some(t.created_at),
            album_id: Some(Id::Album(t.album_id).to_string()),
            artist_id: v.artists.first().map(|a| Id::Artist(a.id).to_string()),
            media_type: Some(MediaType::Song),
            bpm: t.tags.bpm,
            comment: t.tags.comment.clone(),
            sort_name: t.tags.sort_title.clone(),
            music_brainz_id: t.tags.mb_recording_id.clone(),
            display_artist: Some(t.tags.artist_display.clone()),
            display_album_artist,
            channel_count: t.audio.channels,
            sampling_rate: t.audio.sample_rate,
            bit_depth: t.audio.bit_depth,
            display_composer: (!v.composers.is_empty()).then(|| join_names(&v.composers)),
            notes: Annotations::media(note),
            nested,
        }
    }

    /// An album as a folder-mode directory entry (getAlbumList, getStarred, search2, an
    /// artist opened as a directory).
    pub fn album(v: &AlbumView, notes: Annotations) -> Self {
        let a = &v.album;
        let artist_id = v.artists.first().map(|c| Id::Artist(c.id).to_string());
        Self {
            id: Id::Album(a.id).to_string(),
            parent: artist_id.clone(),
            is_dir: true,
            title: a.name.clone(),
            album: Some(a.name.clone()),
            artist: Some(a.artist_display.clone()),
            year: a.year,
            genre: v.genres.first().cloned(),
            cover_art: covers::album_cover(a).map(|c| c.to_string()),
            duration: Some(a.duration_ms / 1000),
            created: Some(a.created_at),
            artist_id,
            media_type: Some(MediaType::Album),
            notes,
            ..Self::default()
        }
    }

    /// A folder of the directory tree.
    pub fn folder(dir: &DirectoryRow, notes: Annotations) -> Self {
        Self {
            id: Id::Directory(dir.id).to_string(),
            parent: dir.parent_id.map(|p| Id::Directory(p).to_string()),
            is_dir: true,
            title: dir.name.clone(),
            cover_art: covers::directory_cover(dir).map(|c| c.to_string()),
            created: Some(dir.created_at),
            notes,
            ..Self::default()
        }
    }
}

impl ToElement for Child {
    fn into_element(self, name: &'static str) -> Element {
        let (transcoded_suffix, transcoded_content_type) = self.transcoded.unzip();
        let el = Element::new(name)
            .attr("id", self.id)
            .attr_opt("parent", self.parent)
            .attr("isDir", self.is_dir)
            .attr("title", self.title)
            .attr_opt("album", self.album)
            .attr_opt("artist", self.artist)
            .attr_opt("track", self.track)
            .attr_opt("year", self.year)
            .attr_opt("genre", self.genre)
            .attr_opt("coverArt", self.cover_art)
            .attr_opt("size", self.size)
            .attr_opt("contentType", self.content_type)
            .attr_opt("suffix", self.suffix)
            .attr_opt("transcodedSuffix", transcoded_suffix)
            .attr_opt("transcodedContentType", transcoded_content_type)
            .attr_opt("duration", self.duration)
            .attr_opt("bitRate", self.bit_rate)
            .attr_opt("path", self.path)
            .attr_opt("isVideo", self.is_video)
            .attr_opt("discNumber", self.disc_number)
            .attr_opt("created", self.created.map(iso_time))
            .attr_opt("albumId", self.album_id)
            .attr_opt("artistId", self.artist_id)
            .attr_opt(
                "type",
                (self.media_type == Some(MediaType::Song)).then_some("music"),
            )
            .attr_opt(
                "mediaType",
                self.media_type.map(|m| match m {
                    MediaType::Song => "song",
                    MediaType::Album => "album",
                }),
            )
            .attr_opt("bpm", self.bpm)
            .attr_opt("comment", self.comment)
            .attr_opt("sortName", self.sort_name)
            .attr_opt("musicBrainzId", self.music_brainz_id)
            .attr_opt("displayArtist", self.display_artist)
            .attr_opt("displayAlbumArtist", self.display_album_artist)
            .attr_opt("channelCount", self.channel_count)
            .attr_opt("samplingRate", self.sampling_rate)
            .attr_opt("bitDepth", self.bit_depth)
            .attr_opt("displayComposer", self.display_composer);
        let el = self.notes.write(el);
        match self.nested {
            None => el,
            Some(n) => el
                .scalars("isrc", scalars(n.isrc))
                .items("genres", n.genres)
                .scalars("moods", scalars(n.moods))
                .items("artists", n.artists)
                .items("albumArtists", n.album_artists)
                .items("contributors", n.contributors)
                .child(n.replay_gain.into_element("replayGain")),
        }
    }
}

/// The nested elements OpenSubsonic added to an `AlbumID3`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlbumNested {
    pub genres: Vec<ItemGenre>,
    pub artists: Vec<ArtistRef>,
    pub disc_titles: Vec<DiscTitle>,
    pub original_release_date: Option<ItemDate>,
    pub release_date: Option<ItemDate>,
    pub release_types: Vec<String>,
    /// With the songs at hand only (getAlbum): album lists do not read every track.
    pub labels_and_moods: Option<(Vec<RecordLabel>, Vec<String>)>,
}

/// `AlbumID3`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumID3 {
    pub id: i32,
    pub name: String,
    pub artist: String,
    pub artist_id: Option<i32>,
    pub cover_art: Option<String>,
    pub song_count: i32,
    /// Seconds.
    pub duration: i64,
    /// Epoch milliseconds.
    pub created: i64,
    pub year: Option<i32>,
    pub genre: Option<String>,
    pub sort_name: Option<String>,
    pub music_brainz_id: Option<String>,
    pub is_compilation: bool,
    pub display_artist: String,
    pub notes: Annotations,
    /// Never for legacy XML clients.
    pub nested: Option<AlbumNested>,
}

impl AlbumID3 {
    pub fn new(v: &AlbumView, note: Option<&Annotation>, view: &View) -> Self {
        let a = &v.album;
        let nested = view.nested(|| AlbumNested {
            genres: v
                .genres
                .iter()
                .map(|g| ItemGenre { name: g.clone() })
                .collect(),
            artists: v.artists.iter().map(ArtistRef::of).collect(),
            disc_titles: v
                .disc_titles
                .iter()
                .map(|(disc, title)| DiscTitle {
                    disc: *disc,
                    title: title.clone(),
                })
                .collect(),
            original_release_date: ItemDate::parse(a.original_date.as_deref()),
            release_date: ItemDate::parse(a.release_date.as_deref()),
            release_types: a
                .release_type
                .iter()
                .flat_map(|t| t.split(';'))
                .map(|t| t.trim().to_string())
                .collect(),
            labels_and_moods: None,
        });
        Self {
            id: a.id,
            name: a.name.clone(),
            artist: a.artist_display.clone(),
            artist_id: v.artists.first().map(|c| c.id),
            cover_art: covers::album_cover(a).map(|c| c.to_string()),
            song_count: a.song_count,
            duration: a.duration_ms / 1000,
            created: a.created_at,
            year: a.year,
            genre: v.genres.first().cloned(),
            sort_name: a.sort_name.clone(),
            music_brainz_id: a.mbid.clone(),
            is_compilation: a.compilation,
            display_artist: a.artist_display.clone(),
            notes: Annotations::media(note),
            nested,
        }
    }

    /// Adds the record labels and moods of the album's songs (distinct, in track order).
    pub fn with_labels_and_moods(mut self, songs: &[TrackView]) -> Self {
        if let Some(nested) = self.nested.as_mut() {
            let mut labels: Vec<RecordLabel> = Vec::new();
            let mut moods: Vec<String> = Vec::new();
            for t in songs.iter().map(|s| &s.track) {
                if let Some(l) = t
                    .tags
                    .label
                    .as_ref()
                    .filter(|l| !labels.iter().any(|x| x.name == **l))
                {
                    labels.push(RecordLabel { name: l.clone() });
                }
                if let Some(m) = t.tags.mood.as_ref().filter(|m| !moods.contains(m)) {
                    moods.push(m.clone());
                }
            }
            nested.labels_and_moods = Some((labels, moods));
        }
        self
    }
}

impl ToElement for AlbumID3 {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", Id::Album(self.id).to_string())
            .attr("name", self.name)
            .attr("artist", self.artist)
            .attr_opt(
                "artistId",
                self.artist_id.map(|a| Id::Artist(a).to_string()),
            )
            .attr_opt("coverArt", self.cover_art)
            .attr("songCount", self.song_count)
            .attr("duration", self.duration)
            .attr("created", iso_time(self.created))
            .attr_opt("year", self.year)
            .attr_opt("genre", self.genre)
            .attr_opt("sortName", self.sort_name)
            .attr_opt("musicBrainzId", self.music_brainz_id)
            .attr("isCompilation", self.is_compilation)
            .attr("displayArtist", self.display_artist);
        let el = self.notes.write(el);
        let Some(n) = self.nested else {
            return el;
        };
        let el = el
            .items("genres", n.genres)
            .items("artists", n.artists)
            .items("discTitles", n.disc_titles)
            .child_opt(
                n.original_release_date
                    .map(|d| d.into_element("originalReleaseDate")),
            )
            .child_opt(n.release_date.map(|d| d.into_element("releaseDate")))
            .scalars("releaseTypes", scalars(n.release_types));
        match n.labels_and_moods {
            None => el,
            Some((labels, moods)) => el
                .items("recordLabels", labels)
                .scalars("moods", scalars(moods)),
        }
    }
}

/// `AlbumWithSongsID3` (getAlbum).
pub struct AlbumWithSongs {
    pub album: AlbumID3,
    pub songs: Vec<Child>,
}

impl ToElement for AlbumWithSongs {
    fn into_element(self, name: &'static str) -> Element {
        self.album.into_element(name).items("song", self.songs)
    }
}

/// `ArtistID3`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtistID3 {
    pub id: i32,
    pub name: String,
    pub cover_art: Option<String>,
    pub album_count: i64,
    pub sort_name: Option<String>,
    pub music_brainz_id: Option<String>,
    /// `starred` only.
    pub notes: Annotations,
}

impl ArtistID3 {
    pub fn new(v: &ArtistView, notes: Annotations) -> Self {
        Self {
            id: v.id,
            name: v.name.clone(),
            cover_art: v.cover_art.as_ref().map(ToString::to_string),
            album_count: v.album_count,
            sort_name: v.sort_name.clone(),
            music_brainz_id: v.mbid.clone(),
            notes,
        }
    }
}

impl ToElement for ArtistID3 {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", Id::Artist(self.id).to_string())
            .attr("name", self.name)
            .attr_opt("coverArt", self.cover_art)
            .attr("albumCount", self.album_count)
            .attr_opt("sortName", self.sort_name)
            .attr_opt("musicBrainzId", self.music_brainz_id);
        self.notes.write(el)
    }
}

/// `ArtistWithAlbumsID3` (getArtist).
pub struct ArtistWithAlbums {
    pub artist: ArtistID3,
    pub albums: Vec<AlbumID3>,
}

impl ToElement for ArtistWithAlbums {
    fn into_element(self, name: &'static str) -> Element {
        self.artist.into_element(name).items("album", self.albums)
    }
}

/// `Artist`: an artist of the folder-mode answers (an artist folder, or a tag artist).
#[derive(Debug, Clone, PartialEq)]
pub struct Artist {
    pub id: Id,
    pub name: String,
    pub notes: Annotations,
}

impl Artist {
    pub fn folder(dir: &DirectoryRow, notes: Annotations) -> Self {
        Self {
            id: Id::Directory(dir.id),
            name: dir.name.clone(),
            notes,
        }
    }
}

impl ToElement for Artist {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", self.id.to_string())
            .attr("name", self.name);
        self.notes.write(el)
    }
}

/// `Index` (folder mode, of `Artist`) and `IndexID3` (of `ArtistID3`): one letter's artists.
pub struct Index<T> {
    pub name: String,
    pub artists: Vec<T>,
}

impl<T: ToElement> ToElement for Index<T> {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("name", self.name)
            .items("artist", self.artists)
    }
}

/// `ArtistsID3` (getArtists).
pub struct ArtistsID3 {
    pub ignored_articles: &'static str,
    /// The letters, written beforehand (`written_index`): nothing in them is per
    /// user, so one catalog state and scope write them once for every request.
    pub index: Arc<RenderedList>,
}

/// Index letters (getArtists', getIndexes') written once, as the list `index`.
pub fn written_index<T: ToElement>(index: Vec<Index<T>>) -> RenderedList {
    let letters: Vec<Element> = index
        .into_iter()
        .map(|letter| letter.into_element("index"))
        .collect();
    RenderedList::of("index", &letters)
}

impl ToElement for ArtistsID3 {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("ignoredArticles", self.ignored_articles)
            .rendered_list("index", self.index)
    }
}

/// `Indexes` (getIndexes). Without `content` (unchanged since `ifModifiedSince`) it has no
/// index and no files.
pub struct Indexes {
    pub last_modified: i64,
    pub ignored_articles: &'static str,
    /// The letters and the files in the music folders' roots.
    pub content: Option<(Letters, Vec<Child>)>,
}

/// getIndexes' letters: built for this request (the caller's folder notes in them), or
/// written beforehand (`written_index`) when they carry nothing per user.
pub enum Letters {
    Built(Vec<Index<Artist>>),
    Written(Arc<RenderedList>),
}

impl ToElement for Indexes {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("lastModified", self.last_modified)
            .attr("ignoredArticles", self.ignored_articles);
        match self.content {
            None => el,
            Some((Letters::Built(index), files)) => el.items("index", index).items("child", files),
            Some((Letters::Written(index), files)) => {
                el.rendered_list("index", index).items("child", files)
            }
        }
    }
}

/// `Directory` (getMusicDirectory).
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    pub id: Id,
    pub parent: Option<Id>,
    pub name: String,
    pub notes: Annotations,
    pub children: Vec<Child>,
}

impl ToElement for Directory {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", self.id.to_string())
            .attr_opt("parent", self.parent.map(|p| p.to_string()))
            .attr("name", self.name);
        self.notes.write(el).items("child", self.children)
    }
}

/// `MusicFolder`.
#[derive(Debug, Clone, PartialEq)]
pub struct MusicFolder {
    pub id: i32,
    pub name: String,
}

impl ToElement for MusicFolder {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id)
            .attr("name", self.name)
    }
}

/// `Genre`: the name is the text content.
#[derive(Debug, Clone, PartialEq)]
pub struct Genre {
    pub name: String,
    pub song_count: i64,
    pub album_count: i64,
}

impl ToElement for Genre {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("songCount", self.song_count)
            .attr("albumCount", self.album_count)
            .text(self.name)
    }
}

/// `NowPlayingEntry`: a song `Child` and who plays it.
#[derive(Debug, Clone, PartialEq)]
pub struct NowPlayingEntry {
    pub song: Child,
    pub username: String,
    pub minutes_ago: i32,
    pub player_id: i32,
    pub player_name: Option<String>,
}

impl ToElement for NowPlayingEntry {
    fn into_element(self, name: &'static str) -> Element {
        self.song
            .into_element(name)
            .attr("username", self.username)
            .attr("minutesAgo", self.minutes_ago)
            .attr("playerId", self.player_id)
            .attr_opt("playerName", self.player_name)
    }
}

/// `Playlist`; with `entries`, `PlaylistWithSongs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Playlist {
    pub id: i32,
    pub name: String,
    pub comment: Option<String>,
    pub owner: String,
    pub public: bool,
    pub song_count: i64,
    /// Seconds.
    pub duration: i64,
    /// Epoch milliseconds.
    pub created: i64,
    pub changed: i64,
    pub cover_art: Option<String>,
    /// OpenSubsonic: whether the caller may not edit its songs.
    pub readonly: bool,
    /// The songs (`PlaylistWithSongs`); None in playlist lists.
    pub entries: Option<Vec<Child>>,
}

impl ToElement for Playlist {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name)
            .attr("id", Id::Playlist(self.id).to_string())
            .attr("name", self.name)
            .attr_opt("comment", self.comment)
            .attr("owner", self.owner)
            .attr("public", self.public)
            .attr("songCount", self.song_count)
            .attr("duration", self.duration)
            .attr("created", iso_time(self.created))
            .attr("changed", iso_time(self.changed))
            .attr_opt("coverArt", self.cover_art)
            .attr("readonly", self.readonly);
        match self.entries {
            None => el,
            Some(entries) => el.items("entry", entries),
        }
    }
}

/// `Share`.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    pub username: String,
    /// Epoch milliseconds, as the three below.
    pub created: i64,
    pub expires: Option<i64>,
    pub last_visited: Option<i64>,
    pub visit_count: i32,
    pub entries: Vec<Child>,
}

impl ToElement for Share {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id)
            .attr("url", self.url)
            .attr_opt("description", self.description)
            .attr("username", self.username)
            .attr("created", iso_time(self.created))
            .attr_opt("expires", self.expires.map(iso_time))
            .attr_opt("lastVisited", self.last_visited.map(iso_time))
            .attr("visitCount", self.visit_count)
            .items("entry", self.entries)
    }
}

/// `Bookmark`: a position in a song.
#[derive(Debug, Clone, PartialEq)]
pub struct Bookmark {
    /// Milliseconds.
    pub position: i64,
    pub username: String,
    pub comment: Option<String>,
    /// Epoch milliseconds, as `changed`.
    pub created: i64,
    pub changed: i64,
    pub entry: Child,
}

impl ToElement for Bookmark {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("position", self.position)
            .attr("username", self.username)
            .attr_opt("comment", self.comment)
            .attr("created", iso_time(self.created))
            .attr("changed", iso_time(self.changed))
            .child(self.entry.into_element("entry"))
    }
}

/// Which song of a `PlayQueue` is current: by id (`playQueue`) or by 0-based index
/// (OpenSubsonic's `playQueueByIndex`).
#[derive(Debug, Clone, PartialEq)]
pub enum QueueCurrent {
    Id(Option<String>),
    Index(Option<usize>),
}

/// `PlayQueue` / `PlayQueueByIndex`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayQueue {
    pub current: QueueCurrent,
    /// Milliseconds.
    pub position: i64,
    pub username: String,
    /// Epoch milliseconds.
    pub changed: i64,
    pub changed_by: String,
    pub entries: Vec<Child>,
}

impl ToElement for PlayQueue {
    fn into_element(self, name: &'static str) -> Element {
        let el = Element::new(name);
        let el = match self.current {
            QueueCurrent::Id(id) => el.attr_opt("current", id),
            QueueCurrent::Index(i) => el.attr_opt("currentIndex", i),
        };
        el.attr("position", self.position)
            .attr("username", self.username)
            .attr("changed", iso_time(self.changed))
            .attr("changedBy", self.changed_by)
            .items("entry", self.entries)
    }
}

/// Artists, albums and songs: `Starred`, `Starred2`, `SearchResult2` and `SearchResult3`
/// (folder-mode answers list `Artist`s and album `Child`ren, ID3 ones `ArtistID3`s and
/// `AlbumID3`s).
#[derive(Debug, Clone, PartialEq)]
pub struct ArtistsAlbumsSongs<Ar, Al> {
    pub artists: Vec<Ar>,
    pub albums: Vec<Al>,
    pub songs: Vec<Child>,
}

pub type Starred = ArtistsAlbumsSongs<Artist, Child>;
pub type Starred2 = ArtistsAlbumsSongs<ArtistID3, AlbumID3>;
pub type SearchResult2 = ArtistsAlbumsSongs<Artist, Child>;
pub type SearchResult3 = ArtistsAlbumsSongs<ArtistID3, AlbumID3>;

impl<Ar: ToElement, Al: ToElement> ToElement for ArtistsAlbumsSongs<Ar, Al> {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .items("artist", self.artists)
            .items("album", self.albums)
            .items("song", self.songs)
    }
}

/// `SearchResult` of the deprecated `search`: one page of matching songs.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub offset: i64,
    pub total_hits: i64,
    pub matches: Vec<Child>,
}

impl ToElement for SearchResult {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("offset", self.offset)
            .attr("totalHits", self.total_hits)
            .items("match", self.matches)
    }
}

/// The image URLs of an `ArtistInfo` or `AlbumInfo` (signed public links to our cover art).
#[derive(Debug, Clone, PartialEq)]
pub struct InfoImages {
    pub small: String,
    pub medium: String,
    pub large: String,
}

impl InfoImages {
    fn write(info: Element, images: Option<Self>) -> Element {
        let Some(i) = images else {
            return info;
        };
        info.field_opt("smallImageUrl", Some(&i.small))
            .field_opt("mediumImageUrl", Some(&i.medium))
            .field_opt("largeImageUrl", Some(&i.large))
    }
}

/// `AlbumInfo`: no notes (we have no Last.fm), only what the tags and our art give.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumInfo {
    pub music_brainz_id: Option<String>,
    pub images: Option<InfoImages>,
}

impl ToElement for AlbumInfo {
    fn into_element(self, name: &'static str) -> Element {
        let info = Element::new(name).field_opt("musicBrainzId", self.music_brainz_id.as_deref());
        InfoImages::write(info, self.images)
    }
}

/// A `similarArtist`: an `Artist` in getArtistInfo, an `ArtistID3` in getArtistInfo2.
#[derive(Debug, Clone, PartialEq)]
pub enum SimilarArtist {
    Folder(Artist),
    Id3(ArtistID3),
}

impl ToElement for SimilarArtist {
    fn into_element(self, name: &'static str) -> Element {
        match self {
            SimilarArtist::Folder(a) => a.into_element(name),
            SimilarArtist::Id3(a) => a.into_element(name),
        }
    }
}

/// `ArtistInfo` / `ArtistInfo2` (no biography: we have no Last.fm).
#[derive(Debug, Clone, PartialEq)]
pub struct ArtistInfo {
    pub music_brainz_id: Option<String>,
    pub images: Option<InfoImages>,
    pub similar: Vec<SimilarArtist>,
}

impl ToElement for ArtistInfo {
    fn into_element(self, name: &'static str) -> Element {
        let info = Element::new(name).field_opt("musicBrainzId", self.music_brainz_id.as_deref());
        InfoImages::write(info, self.images).items("similarArtist", self.similar)
    }
}

/// A payload that is one list: `$ty(items)` renders as an element whose items are named
/// `$item` (`musicFolders` → `musicFolder`...).
macro_rules! list_type {
    ($(#[$doc:meta])* $ty:ident($item_ty:ty) = $item:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $ty(pub Vec<$item_ty>);

        impl ToElement for $ty {
            fn into_element(self, name: &'static str) -> Element {
                Element::new(name).items($item, self.0)
            }
        }
    };
}

list_type!(
    /// `Videos`: we serve no videos, so only ever empty.
    Videos(Child) = "video"
);
list_type!(
    /// `MusicFolders`.
    MusicFolders(MusicFolder) = "musicFolder"
);
list_type!(
    /// `Genres`.
    Genres(Genre) = "genre"
);
list_type!(
    /// `NowPlaying`.
    NowPlaying(NowPlayingEntry) = "entry"
);
list_type!(
    /// `Playlists` (without their songs).
    Playlists(Playlist) = "playlist"
);
list_type!(
    /// `Shares`.
    Shares(Share) = "share"
);
list_type!(
    /// `Bookmarks`.
    Bookmarks(Bookmark) = "bookmark"
);
list_type!(
    /// `AlbumList` (folder mode: albums and album folders as `Child`ren).
    AlbumList(Child) = "album"
);
list_type!(
    /// `AlbumList2`.
    AlbumList2(AlbumID3) = "album"
);
list_type!(
    /// `Songs`: randomSongs, songsByGenre, similarSongs(2), topSongs.
    Songs(Child) = "song"
);
list_type!(
    /// `Users`.
    Users(User) = "user"
);
list_type!(
    /// Our `apiKeys`.
    ApiKeys(ApiKey) = "apiKey"
);
list_type!(
    /// `InternetRadioStations`.
    InternetRadioStations(InternetRadioStation) = "internetRadioStation"
);
list_type!(
    /// `ChatMessages`.
    ChatMessages(ChatMessage) = "chatMessage"
);
list_type!(
    /// OpenSubsonic `LyricsList`.
    LyricsList(StructuredLyrics) = "structuredLyrics"
);

mod lists;
mod podcasts;
mod service;
pub use lists::*;
pub use podcasts::*;
pub use service::*;
mod scrobble_links;
pub use scrobble_links::*;

mod loudness;
pub use loudness::*;
mod transcode_decision;
pub use transcode_decision::*;

#[cfg(test)]
mod tests;
