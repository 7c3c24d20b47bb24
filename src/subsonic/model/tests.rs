//! One snapshot per wire type, with and without its optional data, in XML and JSON (the JSON
//! as written, so key order shows). The per-method snapshots in tests/snapshots pin the same
//! types inside real answers.

use super::*;
use crate::transcode::Settings;
use std::time::Duration;

/// The type rendered as XML, then as JSON, one after the other.
fn render<T: ToElement>(name: &'static str, value: T) -> String {
    let el = value.into_element(name);
    let mut xml = String::new();
    el.write_xml(&mut xml, None);
    let mut json = String::new();
    el.write_json(&mut json);
    format!("{xml}\n{json}")
}

macro_rules! snap {
    ($snapshot:literal, $name:literal, $value:expr) => {
        insta::assert_snapshot!($snapshot, render($name, $value))
    };
}

const T0: i64 = 1_700_000_000_000;

fn full_notes() -> Annotations {
    Annotations {
        starred: Some(T0),
        user_rating: Some(4),
        average_rating: Some(3.5),
        play_count: Some(7),
        played: Some(T0 + 60_000),
    }
}

fn credit(id: i32, name: &str) -> ArtistRef {
    ArtistRef {
        id,
        name: name.into(),
    }
}

fn full_song() -> Child {
    Child {
        id: "tr-1".into(),
        parent: Some("dir-2".into()),
        is_dir: false,
        title: "Song & <Title>".into(),
        album: Some("Album".into()),
        artist: Some("Artist".into()),
        track: Some(3),
        year: Some(1999),
        genre: Some("Rock".into()),
        cover_art: Some("al-1".into()),
        size: Some(1234),
        content_type: Some("audio/flac".into()),
        suffix: Some("flac".into()),
        transcoded: Some(("mp3", "audio/mpeg")),
        duration: Some(61),
        bit_rate: Some(900),
        path: Some("Artist/Album/03.flac".into()),
        is_video: Some(false),
        disc_number: Some(1),
        created: Some(T0),
        album_id: Some("al-1".into()),
        artist_id: Some("ar-1".into()),
        media_type: Some(MediaType::Song),
        bpm: Some(120),
        comment: Some("comment".into()),
        sort_name: Some("Song".into()),
        music_brainz_id: Some("mbid".into()),
        display_artist: Some("Artist".into()),
        display_album_artist: Some("Artist".into()),
        channel_count: Some(2),
        sampling_rate: Some(44100),
        bit_depth: Some(16),
        display_composer: Some("Composer".into()),
        notes: Annotations {
            average_rating: None,
            ..full_notes()
        },
        nested: Some(SongNested {
            isrc: vec!["USRC17607839".into()],
            genres: vec![ItemGenre {
                name: "Rock".into(),
            }],
            moods: vec!["calm".into()],
            artists: vec![credit(1, "Artist")],
            album_artists: vec![credit(1, "Artist")],
            contributors: vec![Contributor {
                role: "composer",
                artist: credit(5, "Composer"),
            }],
            replay_gain: ReplayGain {
                track_gain: Some(-6.5),
                album_gain: Some(-7.0),
                track_peak: Some(0.98),
                album_peak: Some(1.0),
            },
        }),
    }
}

/// A song with only what every song has (and no nested elements, as a legacy client gets).
fn bare_song() -> Child {
    Child {
        id: "tr-2".into(),
        parent: Some("dir-2".into()),
        title: "Bare".into(),
        album: Some("Album".into()),
        artist: Some("Artist".into()),
        size: Some(10),
        content_type: Some("audio/mpeg".into()),
        suffix: Some("mp3".into()),
        duration: Some(0),
        path: Some("a.mp3".into()),
        is_video: Some(false),
        created: Some(T0),
        album_id: Some("al-1".into()),
        media_type: Some(MediaType::Song),
        display_artist: Some("Artist".into()),
        notes: Annotations::media(None),
        ..Child::default()
    }
}

fn full_album() -> AlbumID3 {
    AlbumID3 {
        id: 1,
        name: "Album".into(),
        artist: "Artist".into(),
        artist_id: Some(1),
        cover_art: Some("al-1".into()),
        song_count: 2,
        duration: 122,
        created: T0,
        year: Some(1999),
        genre: Some("Rock".into()),
        sort_name: Some("album".into()),
        music_brainz_id: Some("mbid".into()),
        is_compilation: false,
        display_artist: "Artist".into(),
        notes: Annotations {
            average_rating: None,
            ..full_notes()
        },
        nested: Some(AlbumNested {
            genres: vec![ItemGenre {
                name: "Rock".into(),
            }],
            artists: vec![credit(1, "Artist")],
            disc_titles: vec![DiscTitle {
                disc: 1,
                title: "One".into(),
            }],
            original_release_date: Some(ItemDate {
                year: 1990,
                month: Some(5),
                day: None,
            }),
            release_date: Some(ItemDate {
                year: 1999,
                month: Some(3),
                day: Some(21),
            }),
            release_types: vec!["album".into(), "live".into()],
            labels_and_moods: Some((
                vec![RecordLabel {
                    name: "Label".into(),
                }],
                vec!["calm".into()],
            )),
        }),
    }
}

fn bare_album() -> AlbumID3 {
    AlbumID3 {
        id: 2,
        name: "Bare".into(),
        artist: "".into(),
        artist_id: None,
        cover_art: None,
        song_count: 0,
        duration: 0,
        created: T0,
        year: None,
        genre: None,
        sort_name: None,
        music_brainz_id: None,
        is_compilation: true,
        display_artist: "".into(),
        notes: Annotations::default(),
        nested: None,
    }
}

fn artist_id3(notes: Annotations) -> ArtistID3 {
    ArtistID3 {
        id: 1,
        name: "Artist".into(),
        cover_art: Some("ar-1".into()),
        album_count: 2,
        sort_name: Some("artist".into()),
        music_brainz_id: Some("mbid".into()),
        notes,
    }
}

#[test]
fn child() {
    snap!("child_song_full", "song", full_song());
    snap!("child_song_bare", "song", bare_song());
    let album = Child {
        id: "al-1".into(),
        parent: Some("ar-1".into()),
        is_dir: true,
        title: "Album".into(),
        album: Some("Album".into()),
        artist: Some("Artist".into()),
        year: Some(1999),
        genre: Some("Rock".into()),
        cover_art: Some("al-1".into()),
        duration: Some(122),
        created: Some(T0),
        artist_id: Some("ar-1".into()),
        media_type: Some(MediaType::Album),
        notes: Annotations::media(None),
        ..Child::default()
    };
    snap!("child_album", "album", album);
    let folder = Child {
        id: "dir-3".into(),
        parent: Some("dir-1".into()),
        is_dir: true,
        title: "Folder".into(),
        created: Some(T0),
        notes: Annotations {
            play_count: None,
            played: None,
            ..full_notes()
        },
        ..Child::default()
    };
    snap!("child_folder", "child", folder);
    let root = Child {
        id: "dir-1".into(),
        is_dir: true,
        title: "Root".into(),
        ..Child::default()
    };
    snap!("child_folder_bare", "child", root);
}

#[test]
fn album_id3() {
    snap!("album_id3_full", "album", full_album());
    snap!("album_id3_bare", "album", bare_album());
    let with_songs = AlbumWithSongs {
        album: bare_album(),
        songs: vec![bare_song()],
    };
    snap!("album_with_songs", "album", with_songs);
}

#[test]
fn artists() {
    snap!(
        "artist_id3_full",
        "artist",
        artist_id3(Annotations::star(Some(&Annotation {
            starred_at: Some(T0),
            rating: Some(5),
            play_count: 3,
            last_played: Some(T0),
        })))
    );
    let bare = ArtistID3 {
        cover_art: None,
        sort_name: None,
        music_brainz_id: None,
        ..artist_id3(Annotations::default())
    };
    snap!("artist_id3_bare", "artist", bare);
    let with_albums = ArtistWithAlbums {
        artist: artist_id3(Annotations::default()),
        albums: vec![bare_album()],
    };
    snap!("artist_with_albums", "artist", with_albums);
    let folder_artist = Artist {
        id: Id::Directory(4),
        name: "Folder".into(),
        notes: Annotations::folder(
            Some(&Annotation {
                starred_at: Some(T0),
                rating: Some(2),
                play_count: 9,
                last_played: None,
            }),
            Some(3.333),
        ),
    };
    snap!("artist_folder", "artist", folder_artist.clone());
    let bare = Artist {
        id: Id::Artist(1),
        name: "Tag artist".into(),
        notes: Annotations::star_and_rating(None),
    };
    snap!("artist_bare", "artist", bare);
    let index = ArtistsID3 {
        ignored_articles: "The",
        index: Arc::new(written_index(vec![Index {
            name: "A".into(),
            artists: vec![artist_id3(Annotations::default())],
        }])),
    };
    snap!("artists_id3", "artists", index);
    let empty = ArtistsID3 {
        ignored_articles: "The",
        index: Arc::new(written_index::<ArtistID3>(vec![])),
    };
    snap!("artists_id3_empty", "artists", empty);
    let letters = || {
        vec![Index {
            name: "F".into(),
            artists: vec![folder_artist.clone()],
        }]
    };
    let indexes = Indexes {
        last_modified: T0,
        ignored_articles: "The",
        content: Some((Letters::Built(letters()), vec![bare_song()])),
    };
    snap!("indexes", "indexes", indexes);
    // Written beforehand, the same bytes.
    let written = Indexes {
        last_modified: T0,
        ignored_articles: "The",
        content: Some((
            Letters::Written(Arc::new(written_index(letters()))),
            vec![bare_song()],
        )),
    };
    snap!("indexes", "indexes", written);
    let unchanged = Indexes {
        last_modified: T0,
        ignored_articles: "The",
        content: None,
    };
    snap!("indexes_unchanged", "indexes", unchanged);
}

#[test]
fn directory() {
    let dir = Directory {
        id: Id::Directory(3),
        parent: Some(Id::Directory(1)),
        name: "Folder".into(),
        notes: Annotations::folder(None, Some(4.0)),
        children: vec![bare_song()],
    };
    snap!("directory", "directory", dir);
    let root = Directory {
        id: Id::Directory(1),
        parent: None,
        name: "Music".into(),
        notes: Annotations::default(),
        children: vec![],
    };
    snap!("directory_bare", "directory", root);
}

#[test]
fn small_types() {
    let folder = MusicFolder {
        id: 1,
        name: "Music".into(),
    };
    snap!("music_folder", "musicFolder", folder);
    let genre = Genre {
        name: "Rock & Roll".into(),
        song_count: 3,
        album_count: 1,
    };
    snap!("genre", "genre", genre);
    snap!(
        "item_date_bare",
        "releaseDate",
        ItemDate {
            year: 1999,
            month: None,
            day: None
        }
    );
    snap!("replay_gain_bare", "replayGain", ReplayGain::default());
    snap!(
        "contributor",
        "contributor",
        Contributor {
            role: "composer",
            artist: credit(5, "Composer"),
        }
    );
}

#[test]
fn people_things() {
    let entry = NowPlayingEntry {
        song: bare_song(),
        username: "alice".into(),
        minutes_ago: 2,
        player_id: 0,
        player_name: Some("Symfonium".into()),
    };
    snap!("now_playing_entry", "entry", entry);
    let entry = NowPlayingEntry {
        song: bare_song(),
        username: "bob".into(),
        minutes_ago: 0,
        player_id: 0,
        player_name: None,
    };
    snap!("now_playing_entry_bare", "entry", entry);
    let playlist = Playlist {
        id: 1,
        name: "Mix".into(),
        comment: Some("for the road".into()),
        owner: "alice".into(),
        public: true,
        song_count: 1,
        duration: 61,
        created: T0,
        changed: T0 + 1,
        cover_art: Some("pl-1".into()),
        readonly: false,
        entries: Some(vec![bare_song()]),
    };
    snap!("playlist_with_songs", "playlist", playlist.clone());
    let bare = Playlist {
        comment: None,
        cover_art: None,
        readonly: true,
        entries: None,
        ..playlist
    };
    snap!("playlist_bare", "playlist", bare);
    let share = Share {
        id: "abc".into(),
        url: "http://localhost/share/abc".into(),
        description: Some("listen".into()),
        username: "alice".into(),
        created: T0,
        expires: Some(T0 + 86_400_000),
        last_visited: Some(T0 + 1000),
        visit_count: 3,
        entries: vec![bare_song()],
    };
    snap!("share", "share", share.clone());
    let bare = Share {
        description: None,
        expires: None,
        last_visited: None,
        visit_count: 0,
        entries: vec![],
        ..share
    };
    snap!("share_bare", "share", bare);
    let bookmark = Bookmark {
        position: 5000,
        username: "alice".into(),
        comment: Some("here".into()),
        created: T0,
        changed: T0 + 1,
        entry: bare_song(),
    };
    snap!("bookmark", "bookmark", bookmark.clone());
    snap!(
        "bookmark_bare",
        "bookmark",
        Bookmark {
            comment: None,
            ..bookmark
        }
    );
    let queue = PlayQueue {
        current: QueueCurrent::Id(Some("tr-2".into())),
        position: 1000,
        username: "alice".into(),
        changed: T0,
        changed_by: "Symfonium".into(),
        entries: vec![bare_song()],
    };
    snap!("play_queue", "playQueue", queue.clone());
    let by_index = PlayQueue {
        current: QueueCurrent::Index(Some(0)),
        ..queue.clone()
    };
    snap!("play_queue_by_index", "playQueueByIndex", by_index);
    let empty = PlayQueue {
        current: QueueCurrent::Id(None),
        entries: vec![],
        ..queue
    };
    snap!("play_queue_bare", "playQueue", empty);
}

#[test]
fn annotations_carry_what_each_type_has() {
    let a = Annotation {
        starred_at: Some(T0),
        rating: Some(3),
        play_count: 4,
        last_played: Some(T0),
    };
    let media = Annotations::media(Some(&a));
    assert_eq!(
        (media.starred, media.user_rating, media.play_count),
        (Some(T0), Some(3), Some(4))
    );
    assert_eq!(media.average_rating, None);
    // Media always carry a play count, even unplayed; the others never do.
    assert_eq!(Annotations::media(None).play_count, Some(0));
    assert_eq!(Annotations::star(Some(&a)).user_rating, None);
    assert_eq!(Annotations::star_and_rating(Some(&a)).play_count, None);
    assert_eq!(
        Annotations::folder(None, Some(3.333)).average_rating,
        Some(3.33)
    );
}

fn settings(default_cap: u32) -> Settings {
    Settings {
        cache_dir: "/nonexistent".into(),
        cache_bytes: 0,
        max_concurrent: 1,
        wait: Duration::ZERO,
        idle: Duration::from_secs(1),
        max_bit_rate: default_cap,
        client_max_bit_rate: vec![("DSub".into(), 128)],
        default_bit_rate: 192,
        ffmpeg: None,
        client_format: Vec::new(),
    }
}

#[test]
fn the_view_decides_transcode_hints_per_caller() {
    let none = settings(0);
    let view = View::new(DefaultStream::new(&none, 0, Some("Symfonium")), false);
    assert_eq!(view.transcoded("flac", Some(900)), None);
    // The user's cap, then the client's cap from [transcode].
    let view = View::new(DefaultStream::new(&none, 160, None), false);
    assert_eq!(
        view.transcoded("flac", Some(900)),
        Some(("mp3", "audio/mpeg"))
    );
    assert_eq!(view.transcoded("mp3", Some(128)), None);
    let view = View::new(DefaultStream::new(&none, 0, Some("DSub")), false);
    assert_eq!(
        view.transcoded("mp3", Some(320)),
        Some(("mp3", "audio/mpeg"))
    );
    // Unknown (or nonsense) bitrates are above any cap.
    assert!(view.transcoded("ogg", None).is_some());
    assert!(view.transcoded("ogg", Some(-1)).is_some());
}

#[test]
fn legacy_xml_clients_get_no_nested_elements() {
    let s = settings(0);
    let modern = View::new(DefaultStream::new(&s, 0, None), false);
    let legacy = View::new(DefaultStream::new(&s, 0, Some("DSub")), true);
    assert_eq!(modern.nested(|| 1), Some(1));
    assert_eq!(legacy.nested(|| 1), None);
    // Without them a song keeps its attributes (displayComposer is one) and loses only the
    // nested elements.
    let xml = render(
        "song",
        Child {
            nested: None,
            ..full_song()
        },
    );
    assert!(xml.contains("displayComposer=\"Composer\""), "{xml}");
    for nested in [
        "<genres",
        "<artists",
        "<contributors",
        "<replayGain",
        "<isrc",
    ] {
        assert!(!xml.contains(nested), "{nested} in {xml}");
    }
}

#[test]
fn partial_dates_become_item_dates() {
    let date = |s| ItemDate::parse(s).map(|d| d.into_element("releaseDate").to_json());
    assert_eq!(
        date(Some("1999-03-21")),
        Some(serde_json::json!({"year": 1999, "month": 3, "day": 21}))
    );
    assert_eq!(date(Some("1999")), Some(serde_json::json!({"year": 1999})));
    assert_eq!(
        date(Some("1999-11")),
        Some(serde_json::json!({"year": 1999, "month": 11}))
    );
    assert_eq!(date(Some("soon")), None);
    assert_eq!(date(None), None);
}

#[test]
fn service_types() {
    let user = User {
        username: "alice".into(),
        email: Some("a@example.org".into()),
        max_bit_rate: 320,
        admin_role: true,
        settings_role: true,
        download_role: true,
        playlist_role: true,
        cover_art_role: true,
        comment_role: true,
        stream_role: true,
        share_role: true,
        podcast_role: false,
        folders: vec![1, 2],
    };
    snap!("user", "user", user.clone());
    let bare = User {
        email: None,
        max_bit_rate: 0,
        admin_role: false,
        settings_role: false,
        download_role: false,
        playlist_role: false,
        cover_art_role: false,
        comment_role: false,
        stream_role: false,
        share_role: false,
        folders: vec![],
        ..user
    };
    snap!("user_bare", "user", bare);
    let key = ApiKey {
        id: 1,
        name: "phone".into(),
        key: Some("secret".into()),
        created: T0,
        last_used: None,
    };
    snap!("api_key_created", "apiKey", key.clone());
    let listed = ApiKey {
        key: None,
        last_used: Some(T0 + 1),
        ..key
    };
    snap!("api_key_listed", "apiKey", listed);
    let station = InternetRadioStation {
        id: 1,
        name: "Radio".into(),
        stream_url: "http://radio.example/stream".into(),
        home_page_url: Some("http://radio.example".into()),
    };
    snap!("radio_station", "internetRadioStation", station.clone());
    snap!(
        "radio_station_bare",
        "internetRadioStation",
        InternetRadioStation {
            home_page_url: None,
            ..station
        }
    );
    let message = ChatMessage {
        username: "alice".into(),
        time: T0,
        message: "hi <all>".into(),
    };
    snap!("chat_message", "chatMessage", message);
    let lyrics = Lyrics {
        artist: Some("Artist".into()),
        title: Some("Song".into()),
        text: "la la\nla".into(),
    };
    snap!("lyrics", "lyrics", lyrics);
    snap!("lyrics_none", "lyrics", Lyrics::default());
    let synced = StructuredLyrics {
        display_artist: "Artist".into(),
        display_title: "Song".into(),
        lang: "eng".into(),
        offset: -100,
        synced: true,
        lines: vec![LyricLine {
            start: Some(1500),
            text: "la".into(),
        }],
    };
    snap!("structured_lyrics_synced", "structuredLyrics", synced);
    let plain = StructuredLyrics {
        display_artist: "Artist".into(),
        display_title: "Song".into(),
        lang: "und".into(),
        offset: 0,
        synced: false,
        lines: vec![LyricLine {
            start: None,
            text: "la".into(),
        }],
    };
    snap!("structured_lyrics_plain", "structuredLyrics", plain);
    let status = ScanStatus {
        scanning: false,
        count: 42,
        last_scan: None,
    };
    snap!("scan_status", "scanStatus", status);
    let info = ScanStatus {
        scanning: true,
        count: 7,
        last_scan: Some(T0),
    };
    snap!("scan_info", "scanInfo", info);
    let error = ScanError {
        folder: "Music".into(),
        path: "bad.flac".into(),
        size: 12,
        reason: "not audio".into(),
        seen: T0,
    };
    snap!("scan_error", "scanError", error);
    let extension = OpenSubsonicExtension {
        name: "formPost",
        versions: vec![1],
    };
    snap!(
        "open_subsonic_extension",
        "openSubsonicExtensions",
        extension
    );
}

#[test]
fn info_types() {
    let images = InfoImages {
        small: "http://h/img/ar-1?size=150&sig=a".into(),
        medium: "http://h/img/ar-1?size=300&sig=b".into(),
        large: "http://h/img/ar-1?size=600&sig=c".into(),
    };
    let info = ArtistInfo {
        music_brainz_id: Some("mbid".into()),
        images: Some(images.clone()),
        similar: vec![
            SimilarArtist::Id3(artist_id3(Annotations::default())),
            SimilarArtist::Folder(Artist {
                id: Id::Directory(4),
                name: "Folder".into(),
                notes: Annotations::star(None),
            }),
        ],
    };
    snap!("artist_info", "artistInfo2", info);
    let bare = ArtistInfo {
        music_brainz_id: None,
        images: None,
        similar: vec![],
    };
    snap!("artist_info_bare", "artistInfo", bare);
    let album = AlbumInfo {
        music_brainz_id: Some("mbid".into()),
        images: Some(images),
    };
    snap!("album_info", "albumInfo", album);
    let bare = AlbumInfo {
        music_brainz_id: None,
        images: None,
    };
    snap!("album_info_bare", "albumInfo", bare);
}

#[test]
fn listings() {
    let starred = Starred2 {
        artists: vec![artist_id3(Annotations::default())],
        albums: vec![bare_album()],
        songs: vec![bare_song()],
    };
    snap!("starred2", "starred2", starred);
    let empty = Starred {
        artists: vec![],
        albums: vec![],
        songs: vec![],
    };
    snap!("starred_empty", "starred", empty);
    let result = SearchResult {
        offset: 0,
        total_hits: 1,
        matches: vec![bare_song()],
    };
    snap!("search_result", "searchResult", result);
}

#[test]
fn envelope_payloads() {
    snap!("license", "license", License { valid: true });
    snap!(
        "token_info",
        "tokenInfo",
        TokenInfo {
            username: "alice".into()
        }
    );
    snap!(
        "error",
        "error",
        Error {
            code: 10,
            message: "Required parameter is missing: id".into()
        }
    );
}

#[test]
fn list_payloads() {
    let folders = MusicFolders(vec![MusicFolder {
        id: 1,
        name: "Music".into(),
    }]);
    snap!("music_folders", "musicFolders", folders);
    snap!("songs_empty", "randomSongs", Songs(vec![]));
    snap!("songs", "songsByGenre", Songs(vec![bare_song()]));
    let errors = ScanErrors {
        count: 3,
        errors: vec![ScanError {
            folder: "Music".into(),
            path: "bad.flac".into(),
            size: 12,
            reason: "not audio".into(),
            seen: T0,
        }],
    };
    snap!("scan_errors", "scanErrors", errors);
}
