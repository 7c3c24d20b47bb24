//! The album rules: what an album is (its artist, year, genres, cover, counts...), computed
//! from its tracks alone. No database here: the writer loads the tracks of a batch's albums,
//! calls [`album_facts`] per album and stores the result.

use super::grouping;
use super::writer::VARIOUS_ARTISTS;
use crate::db::schema::tracks;
use diesel::prelude::*;
use globset::GlobMatcher;
use std::collections::{BTreeSet, HashMap};

/// One rule of `library.cover_priority`, in order: a picture embedded in a track, or a folder
/// image whose name matches a glob.
pub enum CoverRule {
    Embedded,
    File(GlobMatcher),
}

/// The columns of a track the album rules read.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable)]
#[diesel(table_name = tracks)]
pub struct AlbumTrackRow {
    pub album_id: i32,
    pub id: i32,
    pub directory_id: i32,
    pub album_name: String,
    pub artist_display: String,
    pub album_artist_display: Option<String>,
    pub year: Option<i32>,
    pub original_date: Option<String>,
    pub release_date: Option<String>,
    pub disc_number: Option<i32>,
    pub compilation: bool,
    pub mb_release_id: Option<String>,
    pub mb_release_group_id: Option<String>,
    pub release_type: Option<String>,
    pub has_embedded_art: bool,
    pub duration_ms: i64,
    pub size: i64,
}

/// A track of the album with its links (artist and genre rows, in tag order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlbumTrack {
    pub row: AlbumTrackRow,
    /// Track-artist credits.
    pub artist_ids: Vec<i32>,
    /// Album-artist credits (empty when the file has no album-artist tag).
    pub album_artist_ids: Vec<i32>,
    pub genre_ids: Vec<i32>,
}

/// The folder images a track's directory offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FolderImages {
    /// The directory's own image file name.
    pub image: Option<String>,
    /// When the directory is a disc folder ("CD 1"): the album folder above it and its image.
    pub disc_parent: Option<(i32, String)>,
}

/// Who the album is credited to.
#[derive(Debug, Clone, PartialEq)]
pub enum AlbumArtists {
    /// These artist rows, in order.
    Credited(Vec<i32>),
    /// The tracks credit different artists and none is tagged as album artist.
    Various,
}

/// Where the album's cover comes from: a folder image or a track's embedded picture.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CoverChoice {
    pub directory_id: Option<i32>,
    pub track_id: Option<i32>,
}

/// Everything the writer stores on an album row and its links.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumFacts {
    pub name: String,
    pub artist_display: String,
    pub artists: AlbumArtists,
    pub year: Option<i32>,
    pub original_date: Option<String>,
    pub release_date: Option<String>,
    pub mbid: Option<String>,
    pub release_group_mbid: Option<String>,
    pub compilation: bool,
    pub release_type: Option<String>,
    /// Genres in order of first appearance over the tracks, each once.
    pub genre_ids: Vec<i32>,
    pub cover: CoverChoice,
    pub song_count: i32,
    pub disc_count: i32,
    pub duration_ms: i64,
    pub size: i64,
}

/// The album made of `tracks` (in album order: disc, track number, path; never empty).
///
/// - Artist: the album-artist tag when any track has one; else the track artist when every
///   track credits the same one; else Various Artists (which makes it a compilation).
/// - Year and dates: the earliest any track gives; MusicBrainz ids and release type: the first.
/// - Cover: by `cover_rules`, then any folder image, then any embedded picture.
pub fn album_facts(
    tracks: &[AlbumTrack],
    folders: &HashMap<i32, FolderImages>,
    cover_rules: &[CoverRule],
) -> AlbumFacts {
    let first = &tracks[0].row;
    let rows = || tracks.iter().map(|t| &t.row);
    let same_artist = rows().all(|t| {
        grouping::normalize(&t.artist_display) == grouping::normalize(&first.artist_display)
    });
    let artist_display = rows()
        .find_map(|t| t.album_artist_display.clone())
        .unwrap_or_else(|| {
            if same_artist {
                first.artist_display.clone()
            } else {
                VARIOUS_ARTISTS.to_string()
            }
        });
    let compilation = rows().any(|t| t.compilation) || artist_display == VARIOUS_ARTISTS;

    let mut discs: Vec<i32> = rows().map(|t| t.disc_number.unwrap_or(1)).collect();
    discs.sort_unstable();
    discs.dedup();

    AlbumFacts {
        name: first.album_name.clone(),
        artist_display,
        artists: album_artists(tracks, same_artist),
        year: rows().filter_map(|t| t.year).min(),
        original_date: rows().filter_map(|t| t.original_date.clone()).min(),
        release_date: rows().filter_map(|t| t.release_date.clone()).min(),
        mbid: rows().find_map(|t| t.mb_release_id.clone()),
        release_group_mbid: rows().find_map(|t| t.mb_release_group_id.clone()),
        compilation,
        release_type: rows().find_map(|t| t.release_type.clone()),
        genre_ids: first_appearances(tracks.iter().flat_map(|t| &t.genre_ids)),
        cover: choose_cover(tracks, folders, cover_rules),
        song_count: tracks.len() as i32,
        disc_count: discs.len() as i32,
        duration_ms: rows().map(|t| t.duration_ms).sum(),
        size: rows().map(|t| t.size).sum(),
    }
}

/// The album-artist credits when tagged; else the track artists when every track credits the
/// same ones; else Various Artists.
fn album_artists(tracks: &[AlbumTrack], same_artist: bool) -> AlbumArtists {
    let tagged = first_appearances(tracks.iter().flat_map(|t| &t.album_artist_ids));
    if !tagged.is_empty() {
        return AlbumArtists::Credited(tagged);
    }
    let mut credited = tracks
        .iter()
        .map(|t| &t.artist_ids)
        .filter(|ids| !ids.is_empty());
    match credited.next() {
        Some(first) if same_artist && credited.all(|ids| ids == first) => {
            AlbumArtists::Credited(first.clone())
        }
        _ => AlbumArtists::Various,
    }
}

fn first_appearances<'a>(ids: impl Iterator<Item = &'a i32>) -> Vec<i32> {
    let mut out: Vec<i32> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out
}

/// The album's cover by the configured priority: a matching folder image (in the album's
/// folders, or the album folder above a disc folder), or the first track with a picture.
fn choose_cover(
    tracks: &[AlbumTrack],
    folders: &HashMap<i32, FolderImages>,
    cover_rules: &[CoverRule],
) -> CoverChoice {
    let mut candidates: Vec<(i32, &str)> = Vec::new();
    for t in tracks {
        if let Some(images) = folders.get(&t.row.directory_id) {
            if let Some(name) = &images.image {
                candidates.push((t.row.directory_id, name));
            }
            if let Some((parent, name)) = &images.disc_parent {
                candidates.push((*parent, name));
            }
        }
    }
    let folder = |dir: i32| CoverChoice {
        directory_id: Some(dir),
        track_id: None,
    };
    let embedded = || {
        tracks
            .iter()
            .find(|t| t.row.has_embedded_art)
            .map(|t| CoverChoice {
                directory_id: None,
                track_id: Some(t.row.id),
            })
    };
    for rule in cover_rules {
        match rule {
            CoverRule::Embedded => {
                if let Some(cover) = embedded() {
                    return cover;
                }
            }
            CoverRule::File(glob) => {
                if let Some((dir, _)) = candidates.iter().find(|(_, name)| glob.is_match(name)) {
                    return folder(*dir);
                }
            }
        }
    }
    // No rule matched: any folder image beats none.
    match candidates.first() {
        Some((dir, _)) => folder(*dir),
        None => embedded().unwrap_or_default(),
    }
}

/// An album that has tracks in a directory, as the sibling rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbumInDirectory {
    pub album_id: i32,
    pub album_name: String,
    /// The album's grouping key: `aa:` when grouped by its album-artist tag, `dir:` when
    /// grouped by folder (no tag).
    pub album_key: String,
    pub directory_id: i32,
    pub folder_id: i32,
    /// The directory's path relative to its music folder.
    pub directory_path: String,
}

/// What the sibling rule decides: the tracks of albums `from` that lie in `dirs` join album
/// `into`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiblingJoin {
    pub into: i32,
    pub from: Vec<i32>,
    pub dirs: Vec<i32>,
}

/// Tracks without an album-artist tag join the album of the same name in the same album
/// folder (disc sub-folders included) that has one: a folder where only some tracks carry the
/// tag ("feat." tracks, say) is one album, not two. Only when exactly one tagged album of
/// that name is there. Sorted by `into` (ids in each join ascending).
pub fn untagged_sibling_joins(rows: &[AlbumInDirectory]) -> Vec<SiblingJoin> {
    #[derive(Default)]
    struct Siblings {
        tagged: BTreeSet<i32>,
        untagged: BTreeSet<i32>,
        dirs: BTreeSet<i32>,
    }
    // (folder, album folder, album name) -> its albums and directories
    let mut groups: HashMap<(i32, &str, String), Siblings> = HashMap::new();
    for row in rows {
        let group = groups
            .entry((
                row.folder_id,
                grouping::album_folder(&row.directory_path),
                grouping::normalize(&row.album_name),
            ))
            .or_default();
        if row.album_key.starts_with("aa:") {
            group.tagged.insert(row.album_id);
        } else if row.album_key.starts_with("dir:") {
            group.untagged.insert(row.album_id);
        }
        group.dirs.insert(row.directory_id);
    }
    let mut joins: Vec<SiblingJoin> = groups
        .into_values()
        .filter(|g| g.tagged.len() == 1 && !g.untagged.is_empty())
        .map(|g| SiblingJoin {
            into: g.tagged.into_iter().next().unwrap_or_default(),
            from: g.untagged.into_iter().collect(),
            dirs: g.dirs.into_iter().collect(),
        })
        .collect();
    joins.sort_by_key(|j| j.into);
    joins
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: i32, artist: &str, artist_ids: &[i32]) -> AlbumTrack {
        AlbumTrack {
            row: AlbumTrackRow {
                album_id: 1,
                id,
                directory_id: 10,
                album_name: "Album".into(),
                artist_display: artist.into(),
                duration_ms: 1_000,
                size: 100,
                ..Default::default()
            },
            artist_ids: artist_ids.to_vec(),
            ..Default::default()
        }
    }

    fn facts(tracks: &[AlbumTrack]) -> AlbumFacts {
        album_facts(tracks, &HashMap::new(), &[])
    }

    fn glob(p: &str) -> CoverRule {
        CoverRule::File(globset::Glob::new(p).unwrap().compile_matcher())
    }

    #[test]
    fn one_artist_throughout_is_the_album_artist() {
        let f = facts(&[track(1, "Band", &[5]), track(2, "band", &[5])]);
        assert_eq!(f.artist_display, "Band");
        assert_eq!(f.artists, AlbumArtists::Credited(vec![5]));
        assert!(!f.compilation);
        assert_eq!((f.song_count, f.duration_ms, f.size), (2, 2_000, 200));
    }

    #[test]
    fn mixed_artists_without_album_artist_are_various_artists_and_a_compilation() {
        let f = facts(&[track(1, "A", &[5]), track(2, "B", &[6])]);
        assert_eq!(f.artist_display, VARIOUS_ARTISTS);
        assert_eq!(f.artists, AlbumArtists::Various);
        assert!(f.compilation);
    }

    #[test]
    fn a_tagged_album_artist_wins_over_mixed_track_artists() {
        let mut a = track(1, "A", &[5]);
        let mut b = track(2, "B feat. C", &[6, 7]);
        a.row.album_artist_display = Some("A".into());
        a.album_artist_ids = vec![5];
        b.album_artist_ids = vec![5];
        let f = facts(&[a, b]);
        assert_eq!(f.artist_display, "A");
        assert_eq!(f.artists, AlbumArtists::Credited(vec![5]));
        assert!(!f.compilation);
    }

    #[test]
    fn same_display_artist_but_different_credits_is_various() {
        let f = facts(&[track(1, "A & B", &[5, 6]), track(2, "A & B", &[5])]);
        assert_eq!(f.artist_display, "A & B");
        assert_eq!(f.artists, AlbumArtists::Various);
        assert!(!f.compilation);
    }

    #[test]
    fn a_compilation_flag_on_any_track_marks_the_album() {
        let mut b = track(2, "A", &[5]);
        b.row.compilation = true;
        assert!(facts(&[track(1, "A", &[5]), b]).compilation);
    }

    #[test]
    fn year_and_dates_are_the_earliest_and_ids_the_first_given() {
        let mut a = track(1, "A", &[5]);
        let mut b = track(2, "A", &[5]);
        let mut c = track(3, "A", &[5]);
        a.row.year = Some(2001);
        b.row.year = Some(1999);
        b.row.original_date = Some("1999-05".into());
        c.row.original_date = Some("1998".into());
        b.row.mb_release_id = Some("rel-b".into());
        c.row.mb_release_id = Some("rel-c".into());
        c.row.release_type = Some("album".into());
        let f = facts(&[a, b, c]);
        assert_eq!(f.year, Some(1999));
        assert_eq!(f.original_date.as_deref(), Some("1998"));
        assert_eq!(f.release_date, None);
        assert_eq!(f.mbid.as_deref(), Some("rel-b"));
        assert_eq!(f.release_type.as_deref(), Some("album"));
    }

    #[test]
    fn genres_keep_first_appearance_order_without_repeats() {
        let mut a = track(1, "A", &[5]);
        let mut b = track(2, "A", &[5]);
        a.genre_ids = vec![3, 1];
        b.genre_ids = vec![1, 2, 3];
        assert_eq!(facts(&[a, b]).genre_ids, vec![3, 1, 2]);
    }

    #[test]
    fn discs_count_distinct_numbers_with_untagged_as_disc_one() {
        let mut a = track(1, "A", &[5]);
        let mut b = track(2, "A", &[5]);
        let c = track(3, "A", &[5]);
        a.row.disc_number = Some(1);
        b.row.disc_number = Some(2);
        assert_eq!(facts(&[a, b, c]).disc_count, 2);
    }

    #[test]
    fn cover_follows_the_rules_then_any_folder_image_then_embedded() {
        let mut a = track(1, "A", &[5]);
        let mut b = track(2, "A", &[5]);
        b.row.has_embedded_art = true;
        b.row.directory_id = 11;
        a.row.directory_id = 11;
        let folders = HashMap::from([(
            11,
            FolderImages {
                image: Some("scan.png".into()),
                disc_parent: Some((7, "folder.jpg".into())),
            },
        )]);
        let tracks = [a, b];
        let by = |rules: &[CoverRule]| album_facts(&tracks, &folders, rules).cover;
        let dir = |d| CoverChoice {
            directory_id: Some(d),
            track_id: None,
        };
        // The disc folder's parent image matches the first rule.
        assert_eq!(by(&[glob("folder.*"), CoverRule::Embedded]), dir(7));
        assert_eq!(
            by(&[CoverRule::Embedded, glob("folder.*")]),
            CoverChoice {
                directory_id: None,
                track_id: Some(2)
            }
        );
        // Nothing matches: the first folder image.
        assert_eq!(by(&[glob("cover.*")]), dir(11));
        // No folder image at all: the embedded picture.
        assert_eq!(
            album_facts(&tracks, &HashMap::new(), &[glob("cover.*")]).cover,
            CoverChoice {
                directory_id: None,
                track_id: Some(2)
            }
        );
    }

    fn in_dir(album_id: i32, name: &str, key: &str, dir: (i32, &str)) -> AlbumInDirectory {
        AlbumInDirectory {
            album_id,
            album_name: name.into(),
            album_key: key.into(),
            directory_id: dir.0,
            folder_id: 1,
            directory_path: dir.1.into(),
        }
    }

    #[test]
    fn untagged_tracks_join_the_one_tagged_album_of_their_name_in_their_album_folder() {
        let rows = [
            in_dir(1, "Album", "aa:artist|album", (10, "A/Album")),
            in_dir(2, "album ", "dir:1:A/Album|album", (10, "A/Album")),
            // A disc sub-folder belongs to the album folder above it.
            in_dir(3, "Album", "dir:1:A/Album/CD2|album", (11, "A/Album/CD2")),
            // Another name in the same folder stays apart.
            in_dir(4, "Other", "dir:1:A/Album|other", (10, "A/Album")),
        ];
        assert_eq!(
            untagged_sibling_joins(&rows),
            [SiblingJoin {
                into: 1,
                from: vec![2, 3],
                dirs: vec![10, 11],
            }]
        );
    }

    #[test]
    fn no_join_without_exactly_one_tagged_album_or_across_folders() {
        let two_tagged = [
            in_dir(1, "Album", "aa:x|album", (10, "A")),
            in_dir(2, "Album", "aa:y|album", (10, "A")),
            in_dir(3, "Album", "dir:1:A|album", (10, "A")),
        ];
        assert!(untagged_sibling_joins(&two_tagged).is_empty());
        let apart = [
            in_dir(1, "Album", "aa:x|album", (10, "A")),
            in_dir(2, "Album", "dir:1:B|album", (20, "B")),
        ];
        assert!(untagged_sibling_joins(&apart).is_empty());
        let only_tagged = [in_dir(1, "Album", "aa:x|album", (10, "A"))];
        assert!(untagged_sibling_joins(&only_tagged).is_empty());
    }
}
