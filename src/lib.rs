//! MediaStreamer: a self-hosted music streaming server speaking the Subsonic/OpenSubsonic API.
//!
//! The binary (src/main.rs) parses the command line and calls into these modules:
//! `config` → `db` (catalog) → `scanner` (fills the catalog) → `server` (runs it all).
//! The HTTP API (Subsonic) will live in `subsonic`, mounted by `server`.

pub mod artwork;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod delivery;
pub mod error;
pub mod keyfile;
pub mod library;
pub mod log_safe;
pub mod loudness;
pub mod lrc;
pub mod memory;
pub mod names;
pub mod ops;
pub mod people;
pub mod podcasts;
pub mod scanner;
pub mod scrobbling;
pub mod server;
pub mod setup;
pub mod share_page;
pub mod state;
pub mod subsonic;
#[cfg(any(test, feature = "synth"))]
pub mod synth;
pub mod transcode;
pub mod users;
#[cfg(test)]
mod walls;
pub mod web;
