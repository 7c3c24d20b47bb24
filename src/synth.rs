//! Synthetic tagged music libraries for integration tests and the scan benchmark.
//!
//! Every file is a copy of one of the tiny untagged templates in `tests/fixtures/templates/`
//! (made by `tools/make-templates.sh`) with tags written by lofty, so the scanner reads real,
//! decodable files. [`write_track`] writes one track from a [`TrackSpec`];
//! [`generate_library`] writes a whole deterministic library tree.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Cursor, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use lofty::ape::ApeTag;
use lofty::config::WriteOptions;
use lofty::id3::v2::{Frame, Id3v2Tag};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{ItemKey, ItemValue, Tag, TagExt, TagItem, TagType};

/// The tags of one synthetic track; empty strings and `None`s are not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackSpec {
    pub title: String,
    /// Display artist, e.g. "A feat. B" (ARTIST / TPE1 / ©ART).
    pub artist: String,
    /// Individual artists; written as the multi-valued ARTISTS tag when there are more than
    /// one, as MusicBrainz Picard does.
    pub artists: Vec<String>,
    pub album: String,
    pub album_artist: Option<String>,
    /// Track number and optional total.
    pub track: Option<(u32, Option<u32>)>,
    /// Disc number and optional total.
    pub disc: Option<(u32, Option<u32>)>,
    pub year: Option<i32>,
    /// Written as one multi-valued genre tag.
    pub genres: Vec<String>,
    pub compilation: bool,
    pub mb_recording_id: Option<String>,
    pub mb_release_id: Option<String>,
    /// ReplayGain track gain in dB.
    pub rg_track_gain: Option<f64>,
    /// ReplayGain album gain in dB.
    pub rg_album_gain: Option<f64>,
    pub lyrics: Option<String>,
    pub comment: Option<String>,
    pub composer: Option<String>,
    pub disc_subtitle: Option<String>,
    /// Record label (TPUB / LABEL).
    pub label: Option<String>,
    pub mood: Option<String>,
    /// Embed `cover.jpg` from the templates as the front cover.
    pub embedded_art: bool,
}

/// An audio format that a template exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Mp3,
    Flac,
    Ogg,
    Opus,
    Speex,
    M4a,
    Alac,
    Wav,
    Aiff,
    WavPack,
    Ape,
    Mpc,
    Aac,
    /// WMA (ASF); tags written by [`asf_tagged`], not lofty.
    Wma,
    /// DSD in a DSF file, generated (ffmpeg cannot encode DSD); an ID3v2 tag at the end.
    Dsf,
    /// DSD in a DSDIFF file, generated; an `ID3 ` chunk for tags.
    Dff,
}

impl Format {
    /// File extension (without the dot) used for this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Opus => "opus",
            Format::Speex => "spx",
            Format::M4a | Format::Alac => "m4a",
            Format::Wav => "wav",
            Format::Aiff => "aiff",
            Format::WavPack => "wv",
            Format::Ape => "ape",
            Format::Mpc => "mpc",
            Format::Aac => "aac",
            Format::Wma => "wma",
            Format::Dsf => "dsf",
            Format::Dff => "dff",
        }
    }

    /// Short lower-case name, as accepted by [`Format::from_str`](std::str::FromStr).
    pub fn name(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
            Format::Opus => "opus",
            Format::Speex => "speex",
            Format::M4a => "m4a",
            Format::Alac => "alac",
            Format::Wav => "wav",
            Format::Aiff => "aiff",
            Format::WavPack => "wavpack",
            Format::Ape => "ape",
            Format::Mpc => "mpc",
            Format::Aac => "aac",
            Format::Wma => "wma",
            Format::Dsf => "dsf",
            Format::Dff => "dff",
        }
    }

    /// Whether lofty reads this format (the scanner reads the others with its own readers).
    pub fn lofty_reads(self) -> bool {
        !matches!(self, Format::Wma | Format::Dsf | Format::Dff)
    }

    /// Every format, for tests that cover them all.
    pub fn all() -> &'static [Format] {
        &[
            Format::Mp3,
            Format::Flac,
            Format::Ogg,
            Format::Opus,
            Format::Speex,
            Format::M4a,
            Format::Alac,
            Format::Wav,
            Format::Aiff,
            Format::WavPack,
            Format::Ape,
            Format::Mpc,
            Format::Aac,
            Format::Wma,
            Format::Dsf,
            Format::Dff,
        ]
    }

    /// A realistic format mix for [`LibrarySpec::formats`]: repeated entries act as weights
    /// (about 45% MP3, 30% FLAC, 10% AAC in MP4, then a long tail).
    pub fn realistic_mix() -> Vec<Format> {
        let weights = [
            (Format::Mp3, 45),
            (Format::Flac, 30),
            (Format::M4a, 10),
            (Format::Ogg, 3),
            (Format::Opus, 3),
            (Format::Alac, 2),
            (Format::WavPack, 1),
            (Format::Ape, 1),
            (Format::Mpc, 1),
            (Format::Wav, 1),
            (Format::Aiff, 1),
            (Format::Aac, 1),
            (Format::Speex, 1),
        ];
        weights
            .iter()
            .flat_map(|&(format, weight)| std::iter::repeat_n(format, weight))
            .collect()
    }

    /// The tag type a tagger would naturally write for this format.
    fn tag_type(self) -> TagType {
        match self {
            Format::Mp3 | Format::Wav | Format::Aiff | Format::Aac | Format::Dsf | Format::Dff => {
                TagType::Id3v2
            }
            // ASF has no lofty tag type; `tag_audio` writes the generic tag's items itself.
            Format::Wma => TagType::VorbisComments,
            Format::Flac | Format::Ogg | Format::Opus | Format::Speex => TagType::VorbisComments,
            Format::M4a | Format::Alac => TagType::Mp4Ilst,
            Format::WavPack | Format::Ape | Format::Mpc => TagType::Ape,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// Parses a [`Format::name`] (case-insensitive).
    fn from_str(name: &str) -> Result<Self, String> {
        Format::all()
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<_> = Format::all().iter().map(|f| f.name()).collect();
                format!("unknown format {name:?} (known: {})", known.join(", "))
            })
    }
}

/// The untagged template file for `format`.
pub fn template_bytes(format: Format) -> &'static [u8] {
    macro_rules! template {
        ($name:literal) => {
            include_bytes!(concat!("../tests/fixtures/templates/", $name))
        };
    }
    match format {
        Format::Mp3 => template!("tone.mp3"),
        Format::Flac => template!("tone.flac"),
        Format::Ogg => template!("tone.ogg"),
        Format::Opus => template!("tone.opus"),
        Format::Speex => template!("tone.spx"),
        Format::M4a => template!("tone.m4a"),
        Format::Alac => template!("tone-alac.m4a"),
        Format::Wav => template!("tone.wav"),
        Format::Aiff => template!("tone.aiff"),
        Format::WavPack => template!("tone.wv"),
        Format::Ape => template!("tone.ape"),
        Format::Mpc => template!("tone.mpc"),
        Format::Aac => template!("tone.aac"),
        Format::Wma => template!("tone.wma"),
        Format::Dsf => generated(Format::Dsf),
        Format::Dff => generated(Format::Dff),
    }
}

/// A WMA file (the template) with the given content description fields and text-valued
/// attributes, in order, for tests of attributes [`TrackSpec`] has no field for.
pub fn wma_with_attributes(title: &str, author: &str, attributes: &[(&str, &str)]) -> Vec<u8> {
    let attributes = attributes
        .iter()
        .map(|(name, value)| {
            let value: Vec<u8> = value
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect();
            ((*name).to_owned(), 0u16, value)
        })
        .collect();
    asf::with_objects(
        template_bytes(Format::Wma),
        [title, author, "", "", ""],
        attributes,
    )
    .expect("the WMA template is ASF")
}

/// The DSD templates, made once per process: 0.5 s of a quiet 440 Hz tone at DSD64.
fn generated(format: Format) -> &'static [u8] {
    static DSF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    static DFF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    match format {
        Format::Dff => DFF.get_or_init(|| dsd::dff(&dsd::tone(0.5), None)),
        _ => DSF.get_or_init(|| dsd::dsf(&dsd::tone(0.5), None)),
    }
}

/// A 64x64 JPEG for folder art (`cover.jpg`) and embedded art.
pub fn cover_jpg() -> &'static [u8] {
    include_bytes!("../tests/fixtures/templates/cover.jpg")
}

/// A 64x64 PNG for folder art (`cover.png`), a different colour from [`cover_jpg`].
pub fn cover_png() -> &'static [u8] {
    include_bytes!("../tests/fixtures/templates/cover.png")
}

/// Writes one tagged track of `format` to `dest` (the parent folder must exist).
pub fn write_track(dest: &Path, format: Format, spec: &TrackSpec) -> io::Result<()> {
    fs::write(dest, tagged_bytes(format, spec)?)
}

/// The bytes of a tagged track of `format`, for tests that want them in memory.
pub fn tagged_bytes(format: Format, spec: &TrackSpec) -> io::Result<Vec<u8>> {
    tag_audio(format, template_bytes(format).to_vec(), spec)
}

/// Tags `untagged`, an audio file of `format` made elsewhere (e.g. a longer tone a test
/// writes), as [`tagged_bytes`] tags the templates.
pub fn tag_audio(format: Format, untagged: Vec<u8>, spec: &TrackSpec) -> io::Result<Vec<u8>> {
    tag_audio_with_picture(format, untagged, spec, None)
}

/// [`tag_audio`], embedding `picture` (a JPEG) as the front cover too (in the ID3v2 tag of DSF
/// and DFF files). WMA files get no such picture: their writer here only knows the template
/// cover.
pub fn tag_audio_with_picture(
    format: Format,
    untagged: Vec<u8>,
    spec: &TrackSpec,
    picture: Option<&[u8]>,
) -> io::Result<Vec<u8>> {
    let mut tag = build_tag(format.tag_type(), spec);
    if let Some(picture) = picture {
        tag.push_picture(front_cover_jpeg(picture.to_vec()));
    }
    let options = WriteOptions::default();
    match format {
        Format::Wma => return asf::tagged(&untagged, spec),
        Format::Dsf | Format::Dff => {
            let mut id3 = Vec::new();
            sorted_id3v2(tag)
                .dump_to(&mut id3, options)
                .map_err(io::Error::other)?;
            return dsd::retag(format, &untagged, &id3);
        }
        _ => {}
    }
    let mut file = Cursor::new(untagged);
    let written = match format.tag_type() {
        TagType::Id3v2 => sorted_id3v2(tag).save_to(&mut file, options),
        // Saving a generic `Tag` as APE drops its pictures; the owned conversion keeps them.
        TagType::Ape => ApeTag::from(tag).save_to(&mut file, options),
        _ => tag.save_to(&mut file, options),
    };
    written.map_err(io::Error::other)?;
    Ok(file.into_inner())
}

/// lofty's ID3v2 conversion emits frames in hash-map order; sort them so the same spec
/// always gives the same bytes.
fn sorted_id3v2(tag: Tag) -> Id3v2Tag {
    let mut frames: Vec<Frame<'static>> = Id3v2Tag::from(tag).into_iter().collect();
    frames.sort_by_cached_key(|frame| format!("{frame:?}"));
    let mut sorted = Id3v2Tag::new();
    for frame in frames {
        sorted.insert(frame);
    }
    sorted
}

/// Maps a spec onto lofty's generic tag; lofty turns the keys into each format's native ones.
fn build_tag(tag_type: TagType, spec: &TrackSpec) -> Tag {
    let mut tag = Tag::new(tag_type);
    let t = &mut tag;
    push_text(t, ItemKey::TrackTitle, &spec.title);
    push_text(t, ItemKey::TrackArtist, &spec.artist);
    if spec.artists.len() > 1 {
        push_multi(t, ItemKey::TrackArtists, &spec.artists);
    }
    push_text(t, ItemKey::AlbumTitle, &spec.album);
    if let Some(album_artist) = &spec.album_artist {
        push_text(t, ItemKey::AlbumArtist, album_artist);
    }
    if let Some((number, total)) = spec.track {
        push_text(t, ItemKey::TrackNumber, &number.to_string());
        if let Some(total) = total {
            push_text(t, ItemKey::TrackTotal, &total.to_string());
        }
    }
    if let Some((number, total)) = spec.disc {
        push_text(t, ItemKey::DiscNumber, &number.to_string());
        if let Some(total) = total {
            push_text(t, ItemKey::DiscTotal, &total.to_string());
        }
    }
    if let Some(year) = spec.year {
        push_text(t, ItemKey::RecordingDate, &year.to_string());
    }
    push_multi(t, ItemKey::Genre, &spec.genres);
    if spec.compilation {
        push_text(t, ItemKey::FlagCompilation, "1");
    }
    if let Some(id) = &spec.mb_recording_id {
        push_text(t, ItemKey::MusicBrainzRecordingId, id);
    }
    if let Some(id) = &spec.mb_release_id {
        push_text(t, ItemKey::MusicBrainzReleaseId, id);
    }
    if let Some(gain) = spec.rg_track_gain {
        push_text(t, ItemKey::ReplayGainTrackGain, &format!("{gain:.2} dB"));
    }
    if let Some(gain) = spec.rg_album_gain {
        push_text(t, ItemKey::ReplayGainAlbumGain, &format!("{gain:.2} dB"));
    }
    if let Some(lyrics) = &spec.lyrics {
        // ID3v2 only has USLT for plain lyrics; lofty maps `Lyrics` for everything else.
        let key = if tag_type == TagType::Id3v2 {
            ItemKey::UnsyncLyrics
        } else {
            ItemKey::Lyrics
        };
        push_text(t, key, lyrics);
    }
    if let Some(composer) = &spec.composer {
        push_text(t, ItemKey::Composer, composer);
    }
    if let Some(subtitle) = &spec.disc_subtitle {
        push_text(t, ItemKey::SetSubtitle, subtitle);
    }
    if let Some(comment) = &spec.comment {
        push_text(t, ItemKey::Comment, comment);
    }
    if let Some(label) = &spec.label {
        push_text(t, ItemKey::Label, label);
    }
    if let Some(mood) = &spec.mood {
        push_text(t, ItemKey::Mood, mood);
    }
    if spec.embedded_art {
        tag.push_picture(front_cover_jpeg(cover_jpg().to_vec()));
    }
    tag
}

fn front_cover_jpeg(jpeg: Vec<u8>) -> Picture {
    Picture::unchecked(jpeg)
        .pic_type(PictureType::CoverFront)
        .mime_type(MimeType::Jpeg)
        .build()
}

fn push_text(tag: &mut Tag, key: ItemKey, value: &str) {
    if !value.is_empty() {
        let pushed = tag.push(TagItem::new(key, ItemValue::Text(value.to_owned())));
        debug_assert!(pushed, "{key:?} cannot be written to {:?}", tag.tag_type());
    }
}

/// Writes a multi-valued field the way the format expects it.
fn push_multi(tag: &mut Tag, key: ItemKey, values: &[String]) {
    if tag.tag_type() == TagType::Ape {
        // APE items are unique per key: the values share one item, NUL-separated.
        push_text(tag, key, &values.join("\0"));
    } else {
        for value in values {
            push_text(tag, key, value);
        }
    }
}

/// What [`generate_library`] should write.
#[derive(Debug, Clone)]
pub struct LibrarySpec {
    /// Exact number of audio files to write.
    pub tracks: usize,
    /// Same seed, same tree, byte for byte.
    pub seed: u64,
    /// Each album picks one format uniformly from this list (repeat entries to weight them).
    pub formats: Vec<Format>,
    /// Real-sized audio and pictures instead of the tiny templates (the benchmarks'
    /// `--material real`); None writes the tiny templates.
    pub material: Option<Arc<RealMaterial>>,
}

impl Default for LibrarySpec {
    fn default() -> Self {
        Self {
            tracks: 1000,
            seed: 1,
            formats: Format::realistic_mix(),
            material: None,
        }
    }
}

/// Real-world material: audio files of the sizes people's files have (four minutes; MP3 at
/// 256 kbps is 7.7 MB, FLAC 31 MB, WAV 42 MB), made by `tools/make-real-templates.sh`, and
/// cover pictures of real sizes (up to 3000 px, 2.6 MB), embedded in about a third of the
/// albums. Musepack and Monkey's Audio keep their tiny templates (no encoder in Debian), DSD
/// files are 30 s (21 MB) since four minutes of DSD64 would be 169 MB each.
pub struct RealMaterial {
    audio: HashMap<Format, Vec<u8>>,
    pictures: Vec<Vec<u8>>,
    folder_jpg: Vec<u8>,
    folder_png: Vec<u8>,
    /// Write each file's real size but only its head and tail (tags, pictures and the first
    /// and last 256 KiB of audio), leaving the middle a hole: a 20,000-track library then takes
    /// a few GB of disk instead of about 300 GB. The scanner reads heads and tails only.
    pub sparse: bool,
}

impl std::fmt::Debug for RealMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealMaterial")
            .field("formats", &self.audio.len())
            .field("pictures", &self.pictures.len())
            .field("sparse", &self.sparse)
            .finish()
    }
}

impl RealMaterial {
    /// Loads what `tools/make-real-templates.sh DIR` wrote.
    pub fn load(dir: &Path, sparse: bool) -> io::Result<Self> {
        let read = |name: &str| {
            fs::read(dir.join(name)).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{}: {e} (make it with tools/make-real-templates.sh {})",
                        dir.join(name).display(),
                        dir.display()
                    ),
                )
            })
        };
        let mut audio = HashMap::new();
        for &format in Format::all() {
            let name = match format {
                Format::Alac => "real-alac.m4a".to_owned(),
                Format::Mpc | Format::Ape => continue,
                Format::Dsf => {
                    audio.insert(format, dsd::dsf(&dsd::tone(30.0), None));
                    continue;
                }
                Format::Dff => {
                    audio.insert(format, dsd::dff(&dsd::tone(30.0), None));
                    continue;
                }
                _ => format!("real.{}", format.extension()),
            };
            audio.insert(format, read(&name)?);
        }
        Ok(Self {
            audio,
            pictures: vec![read("cover-3000.jpg")?, read("cover-1200.jpg")?],
            folder_jpg: read("cover-1200.jpg")?,
            folder_png: read("cover-1000.png")?,
            sparse,
        })
    }

    /// Every format the scanner reads, weighted like [`Format::realistic_mix`] plus WMA, DSF
    /// and DFF.
    pub fn mix() -> Vec<Format> {
        let mut mix = Format::realistic_mix();
        mix.extend([Format::Wma, Format::Dsf, Format::Dff]);
        mix
    }

    fn audio(&self, format: Format) -> &[u8] {
        self.audio
            .get(&format)
            .map_or_else(|| template_bytes(format), Vec::as_slice)
    }

    /// Writes `tagged` (made from `untagged`, one of [`Self::audio`]) whole, or sparse. Ogg
    /// and ADTS AAC files are always whole: their pages or frames run through the whole file
    /// and readers walk them all (a tag writer re-pages every Ogg page; lofty's ADTS reader
    /// reads every frame header, and in a hole would search zeros byte by byte).
    fn write(&self, dest: &Path, format: Format, tagged: &[u8], untagged: &[u8]) -> io::Result<()> {
        let walked = matches!(
            format,
            Format::Ogg | Format::Opus | Format::Speex | Format::Aac
        );
        // Tags grow the file at its head (ID3v2, FLAC, MP4 with the index first) or at its
        // end (WAV and AIFF chunks, APE): keep what they added at that end, and 256 KiB of
        // audio at both.
        const AUDIO: usize = 256 * 1024;
        let growth = tagged.len().saturating_sub(untagged.len());
        let tags_at_end = !tagged.ends_with(&untagged[untagged.len().saturating_sub(4096)..]);
        let (head, tail) = if tags_at_end {
            (AUDIO, growth + AUDIO)
        } else {
            (growth + AUDIO, AUDIO)
        };
        if !self.sparse || walked || tagged.len() <= head + tail {
            return fs::write(dest, tagged);
        }
        let mut file = fs::File::create(dest)?;
        file.write_all(&tagged[..head])?;
        file.set_len(tagged.len() as u64)?;
        file.seek(SeekFrom::Start((tagged.len() - tail) as u64))?;
        file.write_all(&tagged[tagged.len() - tail..])
    }
}

/// Counts of what [`generate_library`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedLibrary {
    pub tracks: usize,
    /// Distinct (album artist, album) pairs, one folder each.
    pub albums: usize,
    /// Distinct names among album artists (including "Various Artists") and individual
    /// track artists (each name of a "feat." track counts, the display string does not).
    pub artists: usize,
    /// Folder art files written (`cover.jpg` or `cover.png`).
    pub covers: usize,
}

const VARIOUS_ARTISTS: &str = "Various Artists";
/// Pseudo pool index for "Various Artists" in the artist sets.
const VARIOUS: usize = usize::MAX;

/// Writes a realistic library of `spec.tracks` tagged files under `root`.
///
/// Layout: `Artist/Year - Album/NN - Title.ext`, with `Disc N/` sub-folders for multi-disc
/// albums and `Various Artists/Year - Album/NN - Artist - Title.ext` for compilations. Some
/// tracks are "A feat. B", some genres multi-valued, some albums have folder or embedded art,
/// and about a tenth of the names use accents, CJK or Cyrillic. Albums are written in
/// parallel; the result depends only on `spec`.
pub fn generate_library(root: &Path, spec: &LibrarySpec) -> io::Result<GeneratedLibrary> {
    if spec.formats.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "LibrarySpec::formats is empty",
        ));
    }
    let plan = plan_library(spec);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<io::Result<(HashSet<usize>, usize)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut artists = HashSet::new();
                    let mut covers = 0;
                    // Albums are claimed one at a time so both cores stay busy to the end.
                    while !failed.load(Ordering::Relaxed) {
                        let Some(album) = plan.albums.get(next.fetch_add(1, Ordering::Relaxed))
                        else {
                            break;
                        };
                        let material = spec.material.as_deref();
                        match write_album(root, album, &plan.pool, material, &mut artists) {
                            Ok(cover) => covers += usize::from(cover),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                    Ok((artists, covers))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("library writer thread panicked")))
            })
            .collect()
    });
    let mut artists = HashSet::new();
    let mut covers = 0;
    for result in results {
        let (seen, written) = result?;
        artists.extend(seen);
        covers += written;
    }
    Ok(GeneratedLibrary {
        tracks: plan.albums.iter().map(|a| a.tracks).sum(),
        albums: plan.albums.len(),
        artists: artists.len(),
        covers,
    })
}

struct LibraryPlan {
    /// Artist names, unique (case-insensitively).
    pool: Vec<String>,
    albums: Vec<AlbumPlan>,
}

/// Album-level choices, made sequentially so the tree does not depend on thread timing.
struct AlbumPlan {
    /// Pool index of the album artist, or [`VARIOUS`].
    artist: usize,
    title: String,
    year: Option<i32>,
    tracks: usize,
    discs: u32,
    format: Format,
    genres: Vec<String>,
    folder_art: Option<FolderArt>,
    /// Per-album seed for the track-level choices.
    seed: u64,
}

#[derive(Clone, Copy)]
enum FolderArt {
    Jpg,
    Png,
}

fn plan_library(spec: &LibrarySpec) -> LibraryPlan {
    let mut rng = Rng::new(spec.seed);
    // About three albums per artist.
    let pool_size = (spec.tracks / 35).max(4);
    let mut taken = HashSet::new();
    let pool: Vec<String> = (0..pool_size)
        .map(|_| {
            // Redraw a few times before falling back to a numbered duplicate.
            let fresh = (0..10)
                .map(|_| artist_name(&mut rng))
                .find(|name| !taken.contains(&name.to_lowercase()));
            unique(&mut taken, fresh.unwrap_or_else(|| artist_name(&mut rng)))
        })
        .collect();

    let mut albums = Vec::new();
    let mut album_keys = HashSet::new();
    let mut remaining = spec.tracks;
    while remaining > 0 {
        let tracks = (8 + rng.below(7)).min(remaining);
        remaining -= tracks;
        let artist = if rng.percent(6) {
            VARIOUS
        } else {
            rng.below(pool.len())
        };
        let artist_name = pool.get(artist).map_or(VARIOUS_ARTISTS, String::as_str);
        let title = unique(
            &mut album_keys,
            (artist_name.to_lowercase(), album_title(&mut rng)),
        )
        .1;
        let year = (!rng.percent(3)).then(|| 1960 + rng.below(65) as i32);
        let discs = if tracks >= 10 && rng.percent(8) { 2 } else { 1 };
        let format = *rng.pick(&spec.formats);
        let mut genres = vec![rng.word(GENRES).to_owned()];
        if rng.percent(20) {
            let second = rng.word(GENRES).to_owned();
            if second != genres[0] {
                genres.push(second);
            }
        }
        let folder_art = match rng.below(100) {
            0..50 => Some(FolderArt::Jpg),
            50..58 => Some(FolderArt::Png),
            _ => None,
        };
        let seed = rng.next_u64();
        albums.push(AlbumPlan {
            artist,
            title,
            year,
            tracks,
            discs,
            format,
            genres,
            folder_art,
            seed,
        });
    }
    LibraryPlan { pool, albums }
}

/// Makes `value` unique in `taken` by appending a number (" 2", " Vol. 2", ...).
fn unique<K: Uniquify>(taken: &mut HashSet<K::Key>, value: K) -> K {
    let mut candidate = value.clone();
    let mut n = 2;
    while !taken.insert(candidate.key()) {
        candidate = value.with_suffix(n);
        n += 1;
    }
    candidate
}

trait Uniquify: Clone {
    type Key: std::hash::Hash + Eq;
    fn key(&self) -> Self::Key;
    fn with_suffix(&self, n: usize) -> Self;
}

impl Uniquify for String {
    type Key = String;
    fn key(&self) -> String {
        self.to_lowercase()
    }
    fn with_suffix(&self, n: usize) -> Self {
        format!("{self} {n}")
    }
}

/// (lower-cased album artist, album title): unique per album artist.
impl Uniquify for (String, String) {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.0.clone(), self.1.to_lowercase())
    }
    fn with_suffix(&self, n: usize) -> Self {
        (self.0.clone(), format!("{} Vol. {n}", self.1))
    }
}

/// Writes one album folder; returns whether it wrote folder art.
fn write_album(
    root: &Path,
    album: &AlbumPlan,
    pool: &[String],
    material: Option<&RealMaterial>,
    artists: &mut HashSet<usize>,
) -> io::Result<bool> {
    let mut rng = Rng::new(album.seed);
    let compilation = album.artist == VARIOUS;
    let album_artist = pool
        .get(album.artist)
        .map_or(VARIOUS_ARTISTS, String::as_str);
    artists.insert(album.artist);
    let folder = match album.year {
        Some(year) => format!("{year} - {}", album.title),
        None => album.title.clone(),
    };
    let album_dir = root.join(file_name(album_artist)).join(file_name(&folder));
    fs::create_dir_all(&album_dir)?;

    // Album-level tagging habits.
    let tag_album_artist = compilation || rng.percent(70);
    let with_totals = rng.percent(90);
    let tag_single_disc = rng.percent(30);
    let mb_release = rng.percent(60).then(|| uuid(&mut rng));
    let album_gain = rng.percent(50).then(|| gain(&mut rng));
    let embedded_art = rng.percent(10);
    // Real material: a third of the albums carry a large picture in every file.
    let big_picture = material.and_then(|m| {
        rng.percent(33)
            .then(|| m.pictures[rng.below(m.pictures.len())].as_slice())
    });

    let per_disc = album.tracks.div_ceil(album.discs as usize);
    for index in 0..album.tracks {
        let disc = (index / per_disc) as u32 + 1;
        let number = (index % per_disc) as u32 + 1;
        let on_disc = per_disc.min(album.tracks - (disc as usize - 1) * per_disc) as u32;

        let main = if compilation {
            rng.below(pool.len())
        } else {
            album.artist
        };
        let featured = rng.percent(10).then(|| rng.below(pool.len()));
        let featured = featured.filter(|&f| f != main);
        artists.insert(main);
        let (artist, track_artists) = match featured {
            Some(f) => {
                artists.insert(f);
                (
                    format!("{} feat. {}", pool[main], pool[f]),
                    vec![pool[main].clone(), pool[f].clone()],
                )
            }
            None => (pool[main].clone(), vec![pool[main].clone()]),
        };
        let title = track_title(&mut rng);
        let spec = TrackSpec {
            title: title.clone(),
            artist: artist.clone(),
            artists: track_artists,
            album: album.title.clone(),
            // "feat." tracks always carry the album artist so they group with their album.
            album_artist: (tag_album_artist || featured.is_some()).then(|| album_artist.to_owned()),
            track: Some((number, with_totals.then_some(on_disc))),
            disc: if album.discs > 1 {
                Some((disc, Some(album.discs)))
            } else {
                tag_single_disc.then_some((1, Some(1)))
            },
            year: album.year,
            genres: album.genres.clone(),
            compilation,
            mb_recording_id: mb_release.is_some().then(|| uuid(&mut rng)),
            mb_release_id: mb_release.clone(),
            rg_track_gain: album_gain.map(|_| gain(&mut rng)),
            rg_album_gain: album_gain,
            lyrics: rng
                .percent(4)
                .then(|| format!("{title}\n{}\n", track_title(&mut rng))),
            comment: rng.percent(8).then(|| "Synthetic test track".to_owned()),
            composer: None,
            disc_subtitle: None,
            label: None,
            mood: None,
            embedded_art: embedded_art && material.is_none(),
        };

        let dir = if album.discs > 1 {
            album_dir.join(format!("Disc {disc}"))
        } else {
            album_dir.clone()
        };
        if number == 1 && album.discs > 1 {
            fs::create_dir_all(&dir)?;
        }
        let name = if compilation {
            format!("{number:02} - {artist} - {title}")
        } else {
            format!("{number:02} - {title}")
        };
        let path = dir.join(format!("{}.{}", file_name(&name), album.format.extension()));
        match material {
            Some(m) => {
                let untagged = m.audio(album.format);
                let tagged =
                    tag_audio_with_picture(album.format, untagged.to_vec(), &spec, big_picture)?;
                m.write(&path, album.format, &tagged, untagged)?;
            }
            None => write_track(&path, album.format, &spec)?,
        }
    }

    let (jpg, png) = match material {
        Some(m) => (m.folder_jpg.as_slice(), m.folder_png.as_slice()),
        None => (cover_jpg(), cover_png()),
    };
    match album.folder_art {
        Some(FolderArt::Jpg) => fs::write(album_dir.join("cover.jpg"), jpg)?,
        Some(FolderArt::Png) => fs::write(album_dir.join("cover.png"), png)?,
        None => return Ok(false),
    }
    Ok(true)
}

/// Makes a tag value safe as a single path component.
fn file_name(value: &str) -> String {
    let name: String = value
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = name.trim_end_matches(['.', ' ']);
    if name.is_empty() {
        "_".to_owned()
    } else {
        name.to_owned()
    }
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn gain(rng: &mut Rng) -> f64 {
    -((rng.below(1400) as f64) / 100.0)
}

fn artist_name(rng: &mut Rng) -> String {
    if rng.percent(10) {
        if rng.percent(20) {
            return rng.word(UNICODE_ARTISTS).to_owned();
        }
        return format!(
            "{} {}",
            rng.word(UNICODE_FIRST_NAMES),
            rng.word(UNICODE_LAST_NAMES)
        );
    }
    match rng.below(4) {
        0 => format!("The {} {}", rng.word(ADJECTIVES), rng.word(NOUNS)),
        1 => format!("{} {}", rng.word(FIRST_NAMES), rng.word(LAST_NAMES)),
        2 => format!("{} & the {}", rng.word(FIRST_NAMES), rng.word(NOUNS)),
        _ => format!("{} {}", rng.word(ADJECTIVES), rng.word(NOUNS)),
    }
}

fn album_title(rng: &mut Rng) -> String {
    if rng.percent(10) {
        return rng.word(UNICODE_TITLES).to_owned();
    }
    match rng.below(3) {
        0 => format!("{} {}", rng.word(ADJECTIVES), rng.word(NOUNS)),
        1 => format!("The {} of {}", rng.word(NOUNS), rng.word(NOUNS)),
        _ => rng.word(NOUNS).to_owned(),
    }
}

fn track_title(rng: &mut Rng) -> String {
    if rng.percent(8) {
        return rng.word(UNICODE_TITLES).to_owned();
    }
    let words = 1 + rng.below(4);
    let mut title = String::new();
    for i in 0..words {
        if i > 0 {
            title.push(' ');
        }
        let words = if i % 2 == 0 { ADJECTIVES } else { NOUNS };
        title.push_str(rng.word(words));
    }
    title
}

/// splitmix64: tiny, fast and good enough to make test data look random.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; `n` must be positive.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len())]
    }
}

const ADJECTIVES: &[&str] = &[
    "Silver", "Electric", "Quiet", "Golden", "Broken", "Velvet", "Midnight", "Crimson", "Hollow",
    "Neon", "Wild", "Paper", "Iron", "Lonely", "Burning", "Frozen", "Distant", "Secret", "Crystal",
    "Savage", "Gentle", "Restless", "Northern", "Amber", "Little", "Endless", "Hidden", "Bright",
    "Sleepy", "Wooden", "Violet", "Static",
];

const NOUNS: &[&str] = &[
    "Foxes",
    "Harbor",
    "Engines",
    "Lanterns",
    "Orchids",
    "Ravens",
    "Machines",
    "Rivers",
    "Satellites",
    "Wolves",
    "Tides",
    "Pilots",
    "Gardens",
    "Echoes",
    "Mirrors",
    "Horses",
    "Ghosts",
    "Comets",
    "Daughters",
    "Kings",
    "Summer",
    "Highways",
    "Radio",
    "Stones",
    "Oceans",
    "Bells",
    "Cities",
    "Letters",
    "Shadows",
    "Islands",
    "Sparrows",
    "Clocks",
];

const FIRST_NAMES: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Eva", "Frank", "Grace", "Henry", "Iris", "Jack", "Karen",
    "Leo", "Maya", "Nick", "Olivia", "Paul", "Rosa", "Sam", "Tom", "Vera", "Alice", "Brian",
    "Chloe", "Daniel", "Ellen", "Felix", "Gina", "Hugo", "Ivy", "Jonas", "Kim", "Lucas", "Mia",
    "Nora", "Oscar", "Petra", "Quinn", "Ruth", "Simon", "Tara",
];

const LAST_NAMES: &[&str] = &[
    "Walker",
    "Hughes",
    "Morgan",
    "Fischer",
    "Novak",
    "Rossi",
    "Silva",
    "Berg",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Jensen",
    "Brennan",
    "Okafor",
    "Tanaka",
    "Duarte",
    "Adams",
    "Baker",
    "Carter",
    "Dalton",
    "Evans",
    "Foster",
    "Gray",
    "Hayes",
    "Irwin",
    "Keller",
    "Lang",
    "Mercer",
    "Nolan",
    "Parker",
    "Reed",
    "Stone",
];

/// Made-up names with accents, CJK, Hangul, Cyrillic and Greek.
const UNICODE_ARTISTS: &[&str] = &[
    "Les Éléphants Bleus",
    "Żółta Łódź",
    "Ñandú Trío",
    "Çalışkan Kardeşler",
    "東京ノイズ",
    "夜の森",
    "青い鳥楽団",
    "서울 소년",
    "Москва Бит",
    "Θάλασσα",
    "Straße Neun",
];

/// Accented given and family names, combined for most Unicode artists.
const UNICODE_FIRST_NAMES: &[&str] = &[
    "Måns", "Zoë", "Björn", "Jérôme", "Søren", "Łucja", "Çağla", "Ýrr", "Ñuria", "Dvořák",
    "Ingrid", "Renée",
];

const UNICODE_LAST_NAMES: &[&str] = &[
    "Ångström",
    "Brontë",
    "Sjöström",
    "Núñez",
    "Müller",
    "Østergård",
    "Kovačević",
    "Ó Súilleabháin",
    "Þórsdóttir",
    "Lefèvre",
    "Żak",
    "山田",
];

const UNICODE_TITLES: &[&str] = &[
    "Été Indien",
    "Nuits Blanches",
    "Sueño Eterno",
    "Mañana Será",
    "Fräulein Schön",
    "東京の夜",
    "花火",
    "さくら色",
    "봄날",
    "Зима",
    "Ночь и Город",
    "Ωκεανός",
    "Crème Brûlée",
    "Smörgåsbord",
];

const GENRES: &[&str] = &[
    "Rock",
    "Pop",
    "Jazz",
    "Electronic",
    "Hip-Hop",
    "Classical",
    "Folk",
    "Metal",
    "Blues",
    "Soul",
    "Reggae",
    "Ambient",
    "Indie",
    "Punk",
    "Country",
];

/// Writes ASF tags: a content description and an extended content description object put at
/// the start of the header (the template has neither), the header's size and object count
/// and the file properties' file size updated.
mod asf {
    use super::{TrackSpec, cover_jpg};
    use crate::scanner::asf::{CONTENT_DESCRIPTION, EXTENDED_CONTENT_DESCRIPTION, HEADER};
    use std::io;

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    fn object(id: [u8; 16], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(24 + body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    /// The attributes a tagger (MusicBrainz Picard) writes for `spec`: (name, type, value).
    fn attributes(spec: &TrackSpec) -> Vec<(&'static str, u16, Vec<u8>)> {
        let mut out: Vec<(&'static str, u16, Vec<u8>)> = Vec::new();
        let mut text = |name: &'static str, value: &str| {
            if !value.is_empty() {
                out.push((name, 0, utf16z(value)));
            }
        };
        if spec.artists.len() > 1 {
            for a in &spec.artists {
                text("WM/ARTISTS", a);
            }
        }
        text("WM/AlbumTitle", &spec.album);
        if let Some(v) = &spec.album_artist {
            text("WM/AlbumArtist", v);
        }
        if let Some((n, _)) = spec.track {
            text("WM/TrackNumber", &n.to_string());
        }
        if let Some((n, total)) = spec.disc {
            let v = total.map_or(n.to_string(), |t| format!("{n}/{t}"));
            text("WM/PartOfSet", &v);
        }
        if let Some(y) = spec.year {
            text("WM/Year", &y.to_string());
        }
        for g in &spec.genres {
            text("WM/Genre", g);
        }
        if let Some(v) = &spec.mb_recording_id {
            text("MusicBrainz/Track Id", v);
        }
        if let Some(v) = &spec.mb_release_id {
            text("MusicBrainz/Album Id", v);
        }
        if let Some(g) = spec.rg_track_gain {
            text("REPLAYGAIN_TRACK_GAIN", &format!("{g:.2} dB"));
        }
        if let Some(g) = spec.rg_album_gain {
            text("REPLAYGAIN_ALBUM_GAIN", &format!("{g:.2} dB"));
        }
        if let Some(v) = &spec.lyrics {
            text("WM/Lyrics", v);
        }
        if let Some(v) = &spec.composer {
            text("WM/Composer", v);
        }
        if let Some(v) = &spec.disc_subtitle {
            text("WM/SetSubTitle", v);
        }
        if let Some(v) = &spec.label {
            text("WM/Publisher", v);
        }
        if let Some(v) = &spec.mood {
            text("WM/Mood", v);
        }
        if spec.compilation {
            out.push(("WM/IsCompilation", 2, 1u32.to_le_bytes().to_vec()));
        }
        if spec.embedded_art {
            let mut p = vec![3u8]; // front cover
            p.extend_from_slice(&(cover_jpg().len() as u32).to_le_bytes());
            p.extend(utf16z("image/jpeg"));
            p.extend(utf16z(""));
            p.extend_from_slice(cover_jpg());
            out.push(("WM/Picture", 1, p));
        }
        out
    }

    pub fn tagged(untagged: &[u8], spec: &TrackSpec) -> io::Result<Vec<u8>> {
        let content = [
            spec.title.as_str(),
            spec.artist.as_str(),
            "",
            spec.comment.as_deref().unwrap_or(""),
            "",
        ];
        let attributes = attributes(spec)
            .into_iter()
            .map(|(n, k, v)| (n.to_owned(), k, v))
            .collect();
        with_objects(untagged, content, attributes)
    }

    /// `untagged` with a content description (title, author, copyright, description, rating;
    /// none when all are empty) and the given attributes (name, ASF data type, value bytes).
    pub fn with_objects(
        untagged: &[u8],
        content: [&str; 5],
        attributes: Vec<(String, u16, Vec<u8>)>,
    ) -> io::Result<Vec<u8>> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "not an ASF template");
        if untagged.len() < 30 || untagged[..16] != HEADER {
            return Err(bad());
        }
        let mut new_objects = Vec::new();
        let mut count = 0u32;
        if content.iter().any(|f| !f.is_empty()) {
            let strings: Vec<Vec<u8>> = content
                .iter()
                .map(|f| if f.is_empty() { Vec::new() } else { utf16z(f) })
                .collect();
            let mut body = Vec::new();
            for s in &strings {
                body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            }
            for s in &strings {
                body.extend_from_slice(s);
            }
            new_objects.extend(object(CONTENT_DESCRIPTION, &body));
            count += 1;
        }
        if !attributes.is_empty() {
            let mut body = (attributes.len() as u16).to_le_bytes().to_vec();
            for (name, kind, value) in &attributes {
                let name = utf16z(name);
                body.extend_from_slice(&(name.len() as u16).to_le_bytes());
                body.extend(name);
                body.extend_from_slice(&kind.to_le_bytes());
                body.extend_from_slice(&(value.len() as u16).to_le_bytes());
                body.extend_from_slice(value);
            }
            new_objects.extend(object(EXTENDED_CONTENT_DESCRIPTION, &body));
            count += 1;
        }
        let mut out = untagged[..30].to_vec();
        out.extend(new_objects);
        out.extend_from_slice(&untagged[30..]);
        let grown = (out.len() - untagged.len()) as u64;
        let field =
            |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        let header_size = field(&out, 16) + grown;
        out[16..24].copy_from_slice(&header_size.to_le_bytes());
        let objects = u32::from_le_bytes(out[24..28].try_into().map_err(|_| bad())?) + count;
        out[24..28].copy_from_slice(&objects.to_le_bytes());
        // The file properties object's file size (after its GUID, size and file id).
        let mut pos = 30;
        while pos + 24 <= out.len() && (pos as u64) < header_size {
            let size = field(&out, pos + 16) as usize;
            if out[pos..pos + 16] == crate::scanner::asf::FILE_PROPERTIES && pos + 48 <= out.len() {
                let len = out.len() as u64;
                out[pos + 40..pos + 48].copy_from_slice(&len.to_le_bytes());
                break;
            }
            if size < 24 {
                break;
            }
            pos += size;
        }
        Ok(out)
    }
}

/// DSD files: a tone made by a first-order sigma-delta modulator, written as DSF or DFF.
mod dsd {
    use super::Format;
    use std::io;

    pub const RATE: u32 = 2_822_400;
    const CHANNELS: usize = 2;
    /// DSF stores each channel in blocks of this many bytes.
    const DSF_BLOCK: usize = 4096;

    /// `seconds` of a quiet 440 Hz sine as 1-bit samples, one `Vec<bool>` per channel.
    pub fn tone(seconds: f64) -> Vec<Vec<bool>> {
        let n = (f64::from(RATE) * seconds) as usize;
        let mut bits = Vec::with_capacity(n);
        let mut integrator = 0.0f64;
        for i in 0..n {
            let x = 0.25 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(RATE)).sin();
            let out = integrator >= 0.0;
            integrator += x - if out { 1.0 } else { -1.0 };
            bits.push(out);
        }
        vec![bits; CHANNELS]
    }

    /// Packs bits into bytes, MSB first (DFF) or LSB first (DSF).
    fn pack(bits: &[bool], lsb_first: bool) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| {
                c.iter().enumerate().fold(0u8, |byte, (i, &b)| {
                    let shift = if lsb_first { i } else { 7 - i };
                    byte | (u8::from(b) << shift)
                })
            })
            .collect()
    }

    pub fn dsf(channels: &[Vec<bool>], id3: Option<&[u8]>) -> Vec<u8> {
        let samples = channels[0].len();
        let per_channel = samples.div_ceil(8).div_ceil(DSF_BLOCK) * DSF_BLOCK;
        let packed: Vec<Vec<u8>> = channels
            .iter()
            .map(|c| {
                let mut p = pack(c, true);
                p.resize(per_channel, 0x69); // DSD idle pattern
                p
            })
            .collect();
        let mut data = Vec::with_capacity(per_channel * channels.len());
        for block in 0..per_channel / DSF_BLOCK {
            for p in &packed {
                data.extend_from_slice(&p[block * DSF_BLOCK..(block + 1) * DSF_BLOCK]);
            }
        }
        let mut out = b"DSD ".to_vec();
        out.extend_from_slice(&28u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // file size, set below
        out.extend_from_slice(&0u64.to_le_bytes()); // metadata offset
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&52u64.to_le_bytes());
        for v in [1u32, 0, 2, channels.len() as u32, RATE, 1] {
            out.extend_from_slice(&v.to_le_bytes()); // version, DSD raw, stereo, ...
        }
        out.extend_from_slice(&(samples as u64).to_le_bytes());
        out.extend_from_slice(&(DSF_BLOCK as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(12 + data.len() as u64).to_le_bytes());
        out.extend(data);
        let len = out.len() as u64;
        out[12..20].copy_from_slice(&len.to_le_bytes());
        match id3 {
            Some(tag) => retag_dsf(out, tag),
            None => out,
        }
    }

    fn retag_dsf(mut file: Vec<u8>, tag: &[u8]) -> Vec<u8> {
        let at = file.len() as u64;
        file.extend_from_slice(tag);
        let len = file.len() as u64;
        file[12..20].copy_from_slice(&len.to_le_bytes());
        file[20..28].copy_from_slice(&at.to_le_bytes());
        file
    }

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    }

    pub fn dff(channels: &[Vec<bool>], id3: Option<&[u8]>) -> Vec<u8> {
        let packed: Vec<Vec<u8>> = channels.iter().map(|c| pack(c, false)).collect();
        let mut data = Vec::with_capacity(packed[0].len() * channels.len());
        for i in 0..packed[0].len() {
            for p in &packed {
                data.push(p[i]);
            }
        }
        let mut prop = b"SND ".to_vec();
        prop.extend(chunk(b"FS  ", &RATE.to_be_bytes()));
        let mut chnl = (channels.len() as u16).to_be_bytes().to_vec();
        chnl.extend_from_slice(b"SLFTSRGT");
        prop.extend(chunk(b"CHNL", &chnl));
        let mut cmpr = b"DSD ".to_vec();
        cmpr.push(14);
        cmpr.extend_from_slice(b"not compressed\0");
        prop.extend(chunk(b"CMPR", &cmpr));
        let mut body = b"DSD ".to_vec();
        body.extend(chunk(b"FVER", &0x0105_0000u32.to_be_bytes()));
        body.extend(chunk(b"PROP", &prop));
        body.extend(chunk(b"DSD ", &data));
        let file = chunk(b"FRM8", &body);
        match id3 {
            Some(tag) => retag_dff(file, tag),
            None => file,
        }
    }

    fn retag_dff(mut file: Vec<u8>, tag: &[u8]) -> Vec<u8> {
        file.extend(chunk(b"ID3 ", tag));
        let size = file.len() as u64 - 12;
        file[4..12].copy_from_slice(&size.to_be_bytes());
        file
    }

    /// Adds an ID3v2 tag (none when `id3` is empty) to an untagged file.
    pub fn retag(format: Format, untagged: &[u8], id3: &[u8]) -> io::Result<Vec<u8>> {
        if id3.is_empty() {
            return Ok(untagged.to_vec());
        }
        match format {
            Format::Dsf if untagged.starts_with(b"DSD ") => Ok(retag_dsf(untagged.to_vec(), id3)),
            Format::Dff if untagged.starts_with(b"FRM8") => Ok(retag_dff(untagged.to_vec(), id3)),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an untagged DSD file",
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    use lofty::file::{AudioFile, TaggedFileExt};
    use lofty::probe::Probe;
    use lofty::tag::Accessor;

    fn read(bytes: &[u8]) -> Result<lofty::file::TaggedFile, lofty::error::FileParseError> {
        Probe::new(Cursor::new(bytes)).guess_file_type()?.read()
    }

    /// A 16-bit stereo 44.1 kHz WAV of `bytes` of silence.
    fn silent_wav(bytes: u32) -> Vec<u8> {
        let mut wav = b"RIFF".to_vec();
        wav.extend((36 + bytes).to_le_bytes());
        wav.extend(b"WAVEfmt ");
        wav.extend(16u32.to_le_bytes());
        wav.extend(1u16.to_le_bytes()); // PCM
        wav.extend(2u16.to_le_bytes());
        wav.extend(44_100u32.to_le_bytes());
        wav.extend((44_100u32 * 4).to_le_bytes());
        wav.extend(4u16.to_le_bytes());
        wav.extend(16u16.to_le_bytes());
        wav.extend(b"data");
        wav.extend(bytes.to_le_bytes());
        wav.resize(wav.len() + bytes as usize, 0);
        wav
    }

    #[test]
    fn real_material_writes_real_sizes_as_sparse_files_with_readable_tags() {
        use std::os::unix::fs::MetadataExt;
        let audio_bytes = 8 << 20;
        let mut picture = vec![0xFF, 0xD8, 0xFF, 0xE0];
        picture.resize(1_500_000, 7);
        let material = RealMaterial {
            audio: HashMap::from([(Format::Wav, silent_wav(audio_bytes))]),
            pictures: vec![picture.clone()],
            folder_jpg: cover_jpg().to_vec(),
            folder_png: cover_png().to_vec(),
            sparse: true,
        };
        let dir = tempfile::tempdir().unwrap();
        let spec = LibrarySpec {
            tracks: 60,
            seed: 5,
            formats: vec![Format::Wav],
            material: Some(Arc::new(material)),
        };
        generate_library(dir.path(), &spec).unwrap();
        let mut files = 0;
        let mut with_picture = 0;
        let mut dirs = vec![dir.path().to_path_buf()];
        while let Some(d) = dirs.pop() {
            for entry in fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_some_and(|e| e == "jpg" || e == "png") {
                    continue;
                }
                files += 1;
                let meta = fs::metadata(&path).unwrap();
                assert!(meta.len() > u64::from(audio_bytes), "{}", path.display());
                // The middle is a hole: at least a MiB fewer bytes stored than the size.
                assert!(
                    meta.blocks() * 512 + (1 << 20) < meta.len(),
                    "{}",
                    path.display()
                );
                let tagged = lofty::read_from_path(&path).unwrap();
                let tag = tagged.primary_tag().unwrap();
                assert!(!tag.title().unwrap_or_default().is_empty());
                let seconds = tagged.properties().duration().as_secs_f64();
                assert!((seconds - 8_388_608.0 / 176_400.0).abs() < 0.1, "{seconds}");
                if tag
                    .pictures()
                    .iter()
                    .any(|p| p.data() == picture.as_slice())
                {
                    with_picture += 1;
                }
            }
        }
        assert_eq!(files, 60);
        assert!(with_picture > 0 && with_picture < files, "{with_picture}");
    }

    /// A spec with every field the formats carry, for round-trip tests (also the tag reader's).
    pub(crate) fn full_spec() -> TrackSpec {
        TrackSpec {
            title: "Été – 東京".to_owned(),
            artist: "Anna feat. Ben".to_owned(),
            artists: vec!["Anna".to_owned(), "Ben".to_owned()],
            album: "Album".to_owned(),
            album_artist: Some("Anna".to_owned()),
            track: Some((3, Some(12))),
            disc: Some((2, Some(2))),
            year: Some(1999),
            genres: vec!["Rock".to_owned(), "Jazz".to_owned()],
            compilation: true,
            mb_recording_id: Some("0b4e3c1a-1111-4222-8333-444455556666".to_owned()),
            mb_release_id: Some("1b4e3c1a-1111-4222-8333-444455556666".to_owned()),
            rg_track_gain: Some(-6.5),
            rg_album_gain: Some(-7.25),
            lyrics: Some("la la".to_owned()),
            comment: Some("hello".to_owned()),
            composer: Some("Clara Writer".to_owned()),
            disc_subtitle: None,
            label: Some("Label Records".to_owned()),
            mood: Some("Calm".to_owned()),
            embedded_art: true,
        }
    }

    #[test]
    fn every_format_round_trips_through_lofty() {
        let spec = full_spec();
        // The formats lofty does not read are checked by the scanner's reader tests.
        for &format in Format::all().iter().filter(|f| f.lofty_reads()) {
            let bytes = tagged_bytes(format, &spec).expect("write tags");
            let file = read(&bytes).expect("read back");
            let props = file.properties();
            assert!(!props.duration().is_zero(), "{format:?}: no duration");
            assert!(props.sample_rate().is_some(), "{format:?}: no sample rate");
            let tag = file
                .tag(format.tag_type())
                .unwrap_or_else(|| panic!("{format:?}: no {:?}", format.tag_type()));
            assert_eq!(tag.title().as_deref(), Some("Été – 東京"), "{format:?}");
            assert_eq!(
                tag.artist().as_deref(),
                Some("Anna feat. Ben"),
                "{format:?}"
            );
            assert_eq!(tag.album().as_deref(), Some("Album"), "{format:?}");
            assert_eq!(tag.track(), Some(3), "{format:?}");
            assert_eq!(tag.track_total(), Some(12), "{format:?}");
            assert_eq!(tag.disk(), Some(2), "{format:?}");
            assert_eq!(
                tag.get_string(ItemKey::AlbumArtist),
                Some("Anna"),
                "{format:?}"
            );
            let artists: Vec<&str> = tag.get_strings(ItemKey::TrackArtists).collect();
            assert!(
                artists == ["Anna", "Ben"] || artists == ["Anna\0Ben"] || artists == ["Anna/Ben"],
                "{format:?}: artists {artists:?}"
            );
            assert!(
                tag.get_string(ItemKey::MusicBrainzRecordingId).is_some(),
                "{format:?}: recording id"
            );
            assert!(
                tag.get_string(ItemKey::ReplayGainTrackGain).is_some(),
                "{format:?}: track gain"
            );
            if format.tag_type() == TagType::Ape {
                // lofty does not turn APE cover items back into pictures of the generic tag.
                let key: &[u8] = b"Cover Art (Front)";
                assert!(
                    bytes.windows(key.len()).any(|w| w == key),
                    "{format:?}: picture"
                );
            } else {
                assert_eq!(tag.picture_count(), 1, "{format:?}: picture");
            }
        }
    }

    #[test]
    fn empty_spec_writes_a_readable_file() {
        for &format in Format::all().iter().filter(|f| f.lofty_reads()) {
            let bytes = tagged_bytes(format, &TrackSpec::default()).expect("write");
            read(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        }
    }

    #[test]
    fn library_is_deterministic_and_counts_match() {
        let spec = LibrarySpec {
            tracks: 150,
            seed: 7,
            ..LibrarySpec::default()
        };
        let (a, b) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let first = generate_library(a.path(), &spec).expect("generate");
        let second = generate_library(b.path(), &spec).expect("generate");
        assert_eq!(first, second);
        assert_eq!(first.tracks, 150);

        let list = |root: &Path| {
            let mut files = Vec::new();
            let mut dirs = vec![root.to_path_buf()];
            while let Some(dir) = dirs.pop() {
                for entry in fs::read_dir(&dir).expect("read_dir") {
                    let path = entry.expect("entry").path();
                    if path.is_dir() {
                        dirs.push(path);
                    } else {
                        let bytes = fs::read(&path).expect("read");
                        files.push((path.strip_prefix(root).expect("prefix").to_owned(), bytes));
                    }
                }
            }
            files.sort();
            files
        };
        let files = list(a.path());
        let other = list(b.path());
        let names =
            |files: &[(PathBuf, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&files), names(&other));
        for (x, y) in files.iter().zip(&other) {
            assert!(x.1 == y.1, "{} differs between runs", x.0.display());
        }
        let audio: Vec<_> = files
            .iter()
            .filter(|(p, _)| !p.ends_with("cover.jpg") && !p.ends_with("cover.png"))
            .collect();
        assert_eq!(audio.len(), 150);
        assert_eq!(files.len() - audio.len(), first.covers);
        for (path, bytes) in audio {
            let file = read(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(file.primary_tag().and_then(|t| t.title()).is_some());
        }
    }
}
