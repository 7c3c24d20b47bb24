//! Building helpers for lists of items with the caller's annotations: the song and album
//! lists several handlers answer with.

use super::{AlbumID3, Annotations, Child, View};
use crate::library::annotations::Annotation;
use crate::library::{AlbumView, TrackView};
use std::collections::HashMap;

/// Tracks as song `Child`ren, with the caller's stars, ratings and plays.
pub fn song_list(songs: &[TrackView], notes: &HashMap<i32, Annotation>, view: &View) -> Vec<Child> {
    songs
        .iter()
        .map(|t| Child::song(t, notes.get(&t.track.id), view))
        .collect()
}

/// Songs as `Child`ren, with annotations.
pub fn song_children(
    (views, notes): &(Vec<TrackView>, HashMap<i32, Annotation>),
    view: &View,
) -> Vec<Child> {
    views
        .iter()
        .map(|v| Child::song(v, notes.get(&v.track.id), view))
        .collect()
}

/// Albums as `AlbumID3`s, with annotations.
pub fn albums_id3(
    (views, notes): &(Vec<AlbumView>, HashMap<i32, Annotation>),
    view: &View,
) -> Vec<AlbumID3> {
    views
        .iter()
        .map(|v| AlbumID3::new(v, notes.get(&v.album.id), view))
        .collect()
}

/// Albums as folder-style `Child`ren (`isDir` true), with annotations.
pub fn album_children((views, notes): &(Vec<AlbumView>, HashMap<i32, Annotation>)) -> Vec<Child> {
    views
        .iter()
        .map(|v| Child::album(v, Annotations::media(notes.get(&v.album.id))))
        .collect()
}
