//! People's own things, kept beside the music catalog rather than in it: playlists, shares,
//! the saved play queue, bookmarks, chat, internet radio stations and avatars. Plain sync
//! functions over a connection; writes run in one immediate transaction each.

pub mod avatars;
pub mod bookmarks;
pub mod chat;
pub mod play_queue;
pub mod playlists;
pub mod radio;
pub mod shares;
