//! `playlist ...`: list playlists, export one as M3U8.

use clap::Subcommand;
use mediastreamer::config::Config;
use mediastreamer::db;
use mediastreamer::error::AppError;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PlaylistCommand {
    /// List every playlist: id, name, owner, songs, visibility, source file.
    List,
    /// Write a playlist as extended M3U8 (absolute paths) to standard output or a file.
    Export {
        /// The playlist's id (pl-N or N) or exact name.
        playlist: String,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(config: &Config, cmd: PlaylistCommand) -> Result<(), AppError> {
    use mediastreamer::people::playlists;
    db::open_and_migrate(&config.database.path)?;
    let mut conn = db::connect(&config.database.path)?;
    let query = |e: diesel::result::Error| AppError::Db(db::DbError::Query(e));
    match cmd {
        PlaylistCommand::List => {
            for p in playlists::all(&mut conn).map_err(query)? {
                println!(
                    "pl-{}\t{}\t{}\t{} songs\t{}{}",
                    p.id,
                    p.name,
                    p.owner_name,
                    p.song_count,
                    if p.public { "public" } else { "private" },
                    p.source_path
                        .map(|s| format!("\tfrom {s}"))
                        .unwrap_or_default()
                );
            }
        }
        PlaylistCommand::Export { playlist, output } => {
            let found = playlists::lookup(&mut conn, &playlist).map_err(query)?;
            let p = match found.as_slice() {
                [p] => p,
                [] => {
                    return Err(AppError::Io(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no playlist `{playlist}` (see `playlist list`)"),
                    )));
                }
                several => {
                    let ids: Vec<String> = several.iter().map(|p| format!("pl-{}", p.id)).collect();
                    return Err(AppError::Io(std::io::Error::other(format!(
                        "several playlists are named `{playlist}`: {}; give an id",
                        ids.join(", ")
                    ))));
                }
            };
            let text = playlists::export_m3u8(&mut conn, p).map_err(query)?;
            match output {
                Some(path) => std::fs::write(&path, text).map_err(|e| AppError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?,
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
