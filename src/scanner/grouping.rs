//! The album grouping rule: which tracks form one album. Peers most often get this wrong (one
//! album split in two), so it lives in one small, pure, tested function.
//!
//! 1. A MusicBrainz release id, when tagged, identifies the album by itself.
//! 2. Else the album name plus the album artist (the album-artist tag; "Various Artists" for
//!    compilations), compared case-insensitively. Track artists and years do not take part, so
//!    "A feat. B" tracks and a mixed-year album stay one album, across disc sub-folders.
//! 3. Else (no album-artist tag) the album name plus the album's folder, where a disc sub-folder
//!    ("Disc 1", "CD2") counts as its parent. Grouping by the track artist here would split
//!    every album whose tracks credit different artists.

use super::meta::TrackMeta;

/// The grouping key of the album `meta` belongs to, for a track in directory `dir_rel_path`
/// (relative to its music folder, '/'-separated) of music folder `folder_id`.
pub fn album_key(meta: &TrackMeta, folder_id: i32, dir_rel_path: &str) -> String {
    if let Some(release) = meta.tags.mb_release_id.as_deref().filter(|s| !s.is_empty()) {
        return format!("mb:{}", release.to_lowercase());
    }
    let album = normalize(&meta.tags.album_name);
    if let Some(album_artist) = meta.tags.album_artist_display.as_deref() {
        return format!("aa:{album}\u{1f}{}", normalize(album_artist));
    }
    format!(
        "dir:{album}\u{1f}{folder_id}:{}",
        album_folder(dir_rel_path)
    )
}

// The parts of the rule the read side shares live in `crate::names`.
pub use crate::names::{album_folder, normalize};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::TrackTags;

    fn meta(album: &str, album_artist: Option<&str>, artist: &str) -> TrackMeta {
        TrackMeta {
            tags: TrackTags {
                album_name: album.into(),
                album_artist_display: album_artist.map(Into::into),
                artist_display: artist.into(),
                ..Default::default()
            },
            artists: vec![artist.into()],
            ..Default::default()
        }
    }

    #[test]
    fn differing_track_artists_do_not_split_an_album_artist_album() {
        let a = meta("Hits", Some("The Band"), "The Band");
        let b = meta("Hits", Some("the band"), "The Band feat. Guest");
        assert_eq!(
            album_key(&a, 1, "The Band/Hits"),
            album_key(&b, 1, "The Band/Hits")
        );
    }

    #[test]
    fn disc_folders_join_their_album() {
        let a = meta("Box", None, "X");
        let b = meta("Box", None, "Y");
        assert_eq!(
            album_key(&a, 1, "X/Box/Disc 1"),
            album_key(&b, 1, "X/Box/CD2")
        );
        assert_eq!(album_key(&a, 1, "X/Box/Disc 1"), album_key(&a, 1, "X/Box"));
    }

    #[test]
    fn same_name_different_artists_are_different_albums() {
        let a = meta("Greatest Hits", Some("Queen"), "Queen");
        let b = meta("Greatest Hits", Some("ABBA"), "ABBA");
        assert_ne!(album_key(&a, 1, "x"), album_key(&b, 1, "x"));
        let c = meta("Greatest Hits", None, "Queen");
        let d = meta("Greatest Hits", None, "ABBA");
        assert_ne!(album_key(&c, 1, "Queen/GH"), album_key(&d, 1, "ABBA/GH"));
    }

    #[test]
    fn musicbrainz_release_wins() {
        let mut a = meta("Album", Some("A"), "A");
        let mut b = meta("Album (Deluxe)", Some("A"), "A");
        a.tags.mb_release_id = Some("ABC".into());
        b.tags.mb_release_id = Some("abc".into());
        assert_eq!(album_key(&a, 1, "x"), album_key(&b, 2, "y"));
    }
}
