//! Sending files over HTTP: byte ranges, validators and conditional requests, and zip archives
//! streamed as they are made. Knows files and HTTP, nothing of Subsonic or of the catalog;
//! `subsonic::media` and the share page decide which files to send.

pub mod conditional;
pub mod file_response;
pub mod limits;
pub mod range;
pub mod transcoded;
pub mod zip;

pub use file_response::{FileInfo, ServeError, serve_file};
pub use limits::{BlockingIo, MediaLimits};
pub use zip::{ZipEntry, zip_stream};
