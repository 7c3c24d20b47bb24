//! The command-line interface: what the `mediastreamer` command accepts, and one module per
//! command group that does the work (main.rs only wires them up).

pub mod backup;
pub mod inspect;
pub mod playlist;
pub mod scan;
pub mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

use playlist::PlaylistCommand;
use user::UserCommand;

#[derive(Parser)]
#[command(
    name = "mediastreamer",
    version,
    about = "A self-hosted music streaming server (Subsonic/OpenSubsonic API)"
)]
pub struct Cli {
    /// Config file (default: ./config.toml when present, or $MEDIASTREAMER_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Overrides server.address (host:port).
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// Overrides library.folders (repeat for several folders).
    #[arg(long = "music-folder", global = true, value_name = "PATH")]
    pub music_folders: Vec<PathBuf>,
    /// Overrides database.path.
    #[arg(long, global = true, value_name = "PATH")]
    pub database: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Scan the music folders once and report what changed.
    Scan {
        /// Re-read every file's tags, not only new and changed files.
        #[arg(long)]
        full: bool,
        /// Print one JSON object with the results instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Show the raw tags of audio files, the fields mapped from them and their album key.
    Inspect {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// List playlists, or export one as an M3U8 file.
    #[command(subcommand)]
    Playlist(PlaylistCommand),
    /// Copy the database (a consistent snapshot, safe while the server runs) and its key
    /// files into a folder.
    Backup {
        /// The folder to write into (created when missing; must not hold a backup already).
        dir: PathBuf,
    },
}

/// A multi-threaded runtime for commands that run async library code.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, mediastreamer::error::AppError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
