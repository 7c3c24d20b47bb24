//! Cover-art ids: which item's art a client asks for, plus a short version that changes when
//! the art may have changed, so clients that cache images by id (all of them) fetch the new
//! one. `al-12-3f9a0c1e` is album 12's art at version 3f9a0c1e; the bare `al-12` is accepted
//! too. Versions come from catalog data the scanner keeps current (a track's mtime and size,
//! an album's or folder's last refresh), so listing thousands of items costs no file access.

use super::Id;
use super::sql::Cached;
use crate::db::models::{Album, Directory, ListedTrack};
use crate::db::schema::albums;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A cover-art id as clients see it in `coverArt` attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverArtId {
    pub item: Id,
    /// Eight hex digits, or none for a bare item id.
    pub version: Option<String>,
}

impl CoverArtId {
    /// The id of `item`'s art at the version made from `parts`.
    pub fn versioned(item: Id, parts: &[i64]) -> Self {
        let mut hash = Sha256::new();
        for p in parts {
            hash.update(p.to_le_bytes());
        }
        let digest = hash.finalize();
        CoverArtId {
            item,
            version: Some(hex::encode(&digest[..4])),
        }
    }

    /// Parses `al-12-3f9a0c1e` or a bare item id (`al-12`).
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(item) = Id::parse(s) {
            return Some(CoverArtId {
                item,
                version: None,
            });
        }
        let (item, version) = s.rsplit_once('-')?;
        let well_formed = (1..=16).contains(&version.len())
            && version
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return None;
        }
        Some(CoverArtId {
            item: Id::parse(item)?,
            version: Some(version.to_string()),
        })
    }
}

impl std::fmt::Display for CoverArtId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}-{v}", self.item),
            None => write!(f, "{}", self.item),
        }
    }
}

/// An album's cover id, when the scan found a cover for it (a folder image or a track with an
/// embedded picture). The album row is refreshed whenever one of its tracks or folders changes,
/// which is when its cover can change.
pub fn album_cover(album: &Album) -> Option<CoverArtId> {
    if album.cover_directory_id.is_none() && album.cover_track_id.is_none() {
        return None;
    }
    Some(CoverArtId::versioned(
        Id::Album(album.id),
        &[
            i64::from(album.cover_directory_id.unwrap_or(0)),
            i64::from(album.cover_track_id.unwrap_or(0)),
            album.updated_at,
        ],
    ))
}

/// A track's cover id: its own embedded picture when it has one, else its album's cover.
pub fn track_cover(track: &ListedTrack, album: Option<&CoverArtId>) -> Option<CoverArtId> {
    if track.has_embedded_art {
        return Some(CoverArtId::versioned(
            Id::Track(track.id),
            &[track.file.mtime, track.file.size],
        ));
    }
    album.cloned()
}

/// A folder's cover id, when the scan chose an image in it. The folder row changes when the
/// folder's listing does (an image added, removed or renamed).
pub fn directory_cover(dir: &Directory) -> Option<CoverArtId> {
    let name = dir.cover_art.as_deref()?;
    let name_hash = name
        .bytes()
        .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(i64::from(b)));
    Some(CoverArtId::versioned(
        Id::Directory(dir.id),
        &[name_hash, dir.mtime, dir.updated_at],
    ))
}

/// The cover ids of albums (those without a cover are missing from the map).
pub fn album_covers(
    conn: &mut SqliteConnection,
    album_ids: &[i32],
) -> QueryResult<HashMap<i32, CoverArtId>> {
    let mut out = HashMap::new();
    for chunk in album_ids.chunks(500) {
        let rows: Vec<(i32, Option<i32>, Option<i32>, i64)> = albums::table
            .filter(albums::id.eq_any(chunk))
            .filter(
                albums::cover_directory_id
                    .is_not_null()
                    .or(albums::cover_track_id.is_not_null()),
            )
            .select((
                albums::id,
                albums::cover_directory_id,
                albums::cover_track_id,
                albums::updated_at,
            ))
            .load(conn)?;
        for (id, dir, track, updated) in rows {
            out.insert(
                id,
                CoverArtId::versioned(
                    Id::Album(id),
                    &[
                        i64::from(dir.unwrap_or(0)),
                        i64::from(track.unwrap_or(0)),
                        updated,
                    ],
                ),
            );
        }
    }
    Ok(out)
}

/// The cover ids of album artists with at least one album cover (others are missing from the
/// map: telling whether an `artist.*` image exists would cost a folder listing per artist,
/// too much for a whole artist index). The image served is an `artist.*` file in their folder,
/// else one of their albums' covers; the version follows their albums' refreshes only, so a new
/// `artist.*` file does not change the id: getCoverArt serves artist art with a revalidated
/// (not immutable) cache policy for that reason. Following the folders too cost a join per
/// album (getArtists at 100,000 tracks: 10 ms instead of 3).
pub fn artist_covers(
    conn: &mut SqliteConnection,
    artist_ids: &[i32],
) -> QueryResult<HashMap<i32, CoverArtId>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        artist_id: i32,
        #[diesel(sql_type = BigInt)]
        albums_stamp: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        has_art: bool,
    }
    let mut out = HashMap::new();
    for chunk in artist_ids.chunks(5000) {
        let list = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
        let rows: Vec<Row> =
            Cached(diesel::sql_query(super::sql::ARTIST_COVER_STAMPS).bind::<Text, _>(list))
                .load(conn)?;
        for r in rows.into_iter().filter(|r| r.has_art) {
            out.insert(
                r.artist_id,
                CoverArtId::versioned(Id::Artist(r.artist_id), &[r.albums_stamp]),
            );
        }
    }
    Ok(out)
}

/// Sets the cover ids of artist views (one query for all of them).
pub fn fill_artist_covers(
    conn: &mut SqliteConnection,
    views: &mut [super::ArtistView],
) -> QueryResult<()> {
    let ids: Vec<i32> = views.iter().map(|v| v.id).collect();
    let mut covers = artist_covers(conn, &ids)?;
    for v in views {
        v.cover_art = covers.remove(&v.id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_ids_round_trip_with_and_without_a_version() {
        let v = CoverArtId::versioned(Id::Album(12), &[1, 2, 3]);
        let text = v.to_string();
        assert!(text.starts_with("al-12-"), "{text}");
        assert_eq!(text.len(), "al-12-".len() + 8);
        assert!(!text.contains(';'));
        assert_eq!(CoverArtId::parse(&text), Some(v.clone()));
        assert_eq!(
            CoverArtId::parse("al-12"),
            Some(CoverArtId {
                item: Id::Album(12),
                version: None
            })
        );
        assert_ne!(v, CoverArtId::versioned(Id::Album(12), &[1, 2, 4]));
        for bad in [
            "",
            "al-",
            "al-x-1",
            "al-12-",
            "al-12-XYZ",
            "zz-1-ab",
            "al-12-ab;c",
        ] {
            assert_eq!(CoverArtId::parse(bad), None, "{bad}");
        }
    }
}
