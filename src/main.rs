//! The `mediastreamer` command: parses the command line, loads the configuration, sets up
//! logging and hands over to the library. Wiring only.

use clap::{Args, Parser, Subcommand};
use diesel::SqliteConnection;
use mediastreamer::config::{self, CliOverrides, Config, LogFormat};
use mediastreamer::db::models::{Role, User};
use mediastreamer::error::AppError;
use mediastreamer::scanner::{self, ScanOptions, ScanProgress, ScanReport};
use mediastreamer::users::{FolderAccess, Profile};
use mediastreamer::{db, server, setup, users};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "mediastreamer",
    version,
    about = "A self-hosted music streaming server (Subsonic/OpenSubsonic API)"
)]
struct Cli {
    /// Config file (default: ./config.toml when present, or $MEDIASTREAMER_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Overrides server.address (host:port).
    #[arg(long, global = true, value_name = "HOST:PORT")]
    address: Option<String>,
    /// Overrides library.folders (repeat for several folders).
    #[arg(long = "music-folder", global = true, value_name = "PATH")]
    music_folders: Vec<PathBuf>,
    /// Overrides database.path.
    #[arg(long, global = true, value_name = "PATH")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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

#[derive(Subcommand)]
enum PlaylistCommand {
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

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (every role and every music folder unless told otherwise).
    Add {
        name: String,
        #[command(flatten)]
        password: PasswordArg,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Change a user's admin flag, roles, music folders, bit rate cap or e-mail.
    Set {
        name: String,
        /// Make the user an administrator (true) or not (false); the last administrator
        /// stays one.
        #[arg(long, value_name = "true|false")]
        admin: Option<bool>,
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Show a user's admin flag, roles, music folders, bit rate cap and e-mail.
    Show { name: String },
    /// Change a user's password.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Delete a user.
    Delete { name: String },
    /// List users.
    List,
    /// Create an API key (OpenSubsonic apiKeyAuthentication); the key is shown once.
    Apikey {
        name: String,
        /// A label for the key, e.g. the device it is for.
        #[arg(long, default_value = "api key")]
        label: String,
    },
    /// List a user's API keys (ids and labels; keys themselves are not stored).
    Apikeys { name: String },
    /// Revoke one of a user's API keys by id (see `user apikeys`).
    Revoke { name: String, key_id: i32 },
    /// Set a user's avatar from an image file (scaled to 512 px), or remove it.
    Avatar {
        name: String,
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        /// Remove the avatar instead.
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

#[derive(Args)]
struct ProfileArgs {
    /// Roles to grant (repeat or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ROLE")]
    allow: Vec<RoleArg>,
    /// Roles to withdraw (repeat or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ROLE")]
    deny: Vec<RoleArg>,
    /// A music folder the user may see, by id, name or path (repeat for several); the user
    /// then sees only these. Folders are known after the first scan.
    #[arg(long = "folder", value_name = "FOLDER")]
    folders: Vec<String>,
    /// Let the user see every music folder, also folders added later.
    #[arg(long, conflicts_with = "folders")]
    all_folders: bool,
    /// Cap on the bit rate of the user's streams in kbps (0: no cap).
    #[arg(long, value_name = "KBPS")]
    max_bit_rate: Option<i32>,
    /// E-mail address ("" removes it).
    #[arg(long)]
    email: Option<String>,
}

/// A role as named on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Settings,
    Stream,
    Download,
    Playlist,
    CoverArt,
    Comment,
    Share,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Settings => Role::Settings,
            RoleArg::Stream => Role::Stream,
            RoleArg::Download => Role::Download,
            RoleArg::Playlist => Role::Playlist,
            RoleArg::CoverArt => Role::CoverArt,
            RoleArg::Comment => Role::Comment,
            RoleArg::Share => Role::Share,
        }
    }
}

impl ProfileArgs {
    /// Resolves folder names to ids (before the change, so a bad name changes nothing).
    fn folder_access(&self, conn: &mut SqliteConnection) -> Result<Option<FolderAccess>, AppError> {
        if self.all_folders {
            return Ok(Some(FolderAccess::All));
        }
        if self.folders.is_empty() {
            return Ok(None);
        }
        let ids = self
            .folders
            .iter()
            .map(|f| users::folder_by_name(conn, f))
            .collect::<Result<Vec<i32>, _>>()?;
        Ok(Some(FolderAccess::Only(ids)))
    }

    /// Applies the changes to a profile.
    fn apply(self, folders: Option<FolderAccess>, p: &mut Profile) {
        for role in self.allow {
            p.roles.set(role.into(), true);
        }
        for role in self.deny {
            p.roles.set(role.into(), false);
        }
        if let Some(folders) = folders {
            p.folders = folders;
        }
        if let Some(rate) = self.max_bit_rate {
            p.max_bit_rate = rate;
        }
        if let Some(email) = self.email {
            p.email = Some(email);
        }
    }
}

#[derive(Args)]
struct PasswordArg {
    /// The password; when omitted it is read from the first line of standard input
    /// (which keeps it out of the process list and shell history).
    #[arg(long)]
    password: Option<String>,
}

impl PasswordArg {
    fn resolve(self) -> Result<String, AppError> {
        match self.password {
            Some(p) => Ok(p),
            None => {
                if std::io::stdin().is_terminal() {
                    eprint!("Password: ");
                }
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Ok(line.trim_end_matches(['\r', '\n']).to_string())
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mediastreamer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), AppError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let file = config::config_file_path(cli.config.as_deref(), &env);
    let overrides = CliOverrides {
        address: cli.address,
        folders: cli.music_folders,
        database: cli.database,
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Inspect { files } = &command {
        // Inspecting files needs no library or database.
        let config = config::load(file.as_deref(), &env, &CliOverrides::default())
            .unwrap_or_else(|_| Config::default());
        init_logging("warn", LogFormat::Text);
        return inspect(&config, files);
    }
    let config = config::load(file.as_deref(), &env, &overrides)?;
    init_logging(&config.log.level, config.log.format);
    if let Some(path) = &file {
        tracing::debug!(config = %path.display(), "configuration loaded");
    }

    match command {
        Command::Serve => {
            let admin_password = env
                .iter()
                .find(|(k, _)| k == setup::ADMIN_PASSWORD_ENV)
                .map(|(_, v)| v.as_str());
            // First, so a second server on this database changes nothing before it stops.
            let _lock = server::lock_database(&config.database.path)?;
            setup::first_run(&config, admin_password)?;
            let stop_on_stdin_eof = env
                .iter()
                .any(|(k, v)| k == server::STOP_ON_STDIN_EOF_ENV && v == "1");
            tokio_runtime()?.block_on(server::serve(config, stop_on_stdin_eof))
        }
        Command::Scan { full, json } => scan(&config, full, json),
        Command::Inspect { .. } => Ok(()),
        Command::User(cmd) => user(&config, cmd),
        Command::Playlist(cmd) => playlist(&config, cmd),
        Command::Backup { dir } => backup(&config, &dir),
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, AppError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Logs go to stderr (stdout is for command output such as `scan --json`); RUST_LOG wins over
/// the configured level. `json`: one JSON object per line, for log collectors.
fn init_logging(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

fn backup(config: &Config, dir: &std::path::Path) -> Result<(), AppError> {
    let done = mediastreamer::ops::backup::backup(&config.database.path, dir)?;
    println!("{} ({} bytes)", done.database.display(), done.bytes);
    for key in &done.keys {
        println!("{}", key.display());
    }
    Ok(())
}

fn scan(config: &Config, full: bool, json: bool) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let progress = ScanProgress::default();
    let cancel = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let options = ScanOptions { full, paths: None };
    let show_bar = !json && std::io::stderr().is_terminal();
    let runtime = tokio_runtime()?;
    let report = std::thread::scope(|s| {
        // Ctrl-C stops the scan at a batch boundary; the catalog stays consistent.
        s.spawn(|| {
            runtime.block_on(async {
                tokio::select! {
                    _ = server::shutdown_signal() => {
                        eprintln!("stopping the scan…");
                        cancel.store(true, Ordering::Relaxed);
                    }
                    _ = wait_flag(&done) => {}
                }
            })
        });
        if show_bar {
            s.spawn(|| progress_bar(&progress, &done));
        }
        let result = scanner::run_scan(config, &options, &progress, &cancel);
        done.store(true, Ordering::Relaxed);
        result
    })?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| AppError::Io(e.into()))?
        );
    } else {
        print_summary(&report);
    }
    Ok(())
}

async fn wait_flag(flag: &AtomicBool) {
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn progress_bar(progress: &ScanProgress, done: &AtomicBool) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    while !done.load(Ordering::Relaxed) {
        bar.set_message(format!(
            "{} files seen, {} read, {} errors",
            progress.files_seen.load(Ordering::Relaxed),
            progress.files_read.load(Ordering::Relaxed),
            progress.errors.load(Ordering::Relaxed)
        ));
        bar.tick();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn print_summary(r: &ScanReport) {
    println!(
        "{} in {:.2} s: {} tracks, {} albums, {} artists in the catalog",
        if r.interrupted {
            "Scan interrupted"
        } else {
            "Scan finished"
        },
        r.seconds,
        r.tracks,
        r.albums,
        r.artists
    );
    println!(
        "  {} added, {} updated, {} moved, {} removed, {} could not be read",
        r.added, r.updated, r.moved, r.removed, r.errors
    );
    for issue in r.error_list.iter().take(20) {
        println!("  ! {}: {}", issue.path, issue.reason);
    }
    if r.error_list.len() > 20 {
        println!("  … and {} more (see scan --json)", r.errors - 20);
    }
}

fn inspect(config: &Config, files: &[PathBuf]) -> Result<(), AppError> {
    use scanner::tags;
    let options = tags::TagOptions {
        artist_separators: config.scan.artist_separators.clone(),
    };
    for path in files {
        println!("== {}", path.display());
        match tags::read_raw_tags(path) {
            Ok(raw) => {
                for tag in raw {
                    println!("-- raw tag: {}", tag.tag_type);
                    for (key, value) in tag.items {
                        println!("   {key} = {value}");
                    }
                }
            }
            Err(e) => {
                println!("   cannot read: {e}");
                continue;
            }
        }
        let sidecar = path.with_extension("lrc");
        let sidecar = sidecar.is_file().then_some(sidecar);
        match tags::read_track(path, sidecar.as_deref(), &options) {
            Ok(meta) => {
                println!("-- mapped fields");
                println!("{meta:#?}");
                let dir = path
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                println!(
                    "-- album key: {}",
                    scanner::grouping::album_key(&meta, 0, &dir).replace('\u{1f}', " | ")
                );
            }
            Err(e) => println!("   cannot map: {e}"),
        }
    }
    Ok(())
}

fn user(config: &Config, cmd: UserCommand) -> Result<(), AppError> {
    db::open_and_migrate(&config.database.path)?;
    let key = users::PasswordKey::load_or_create(&config.database.path)?;
    let mut conn = db::connect(&config.database.path)?;
    match cmd {
        UserCommand::Add {
            name,
            password,
            admin,
            profile,
        } => {
            let folders = profile.folder_access(&mut conn)?;
            let password = password.resolve()?;
            let mut new = Profile::new(admin);
            profile.apply(folders, &mut new);
            let user = users::create(&mut conn, &key, &name, &password, new)?;
            println!(
                "created {}user {}",
                if user.is_admin { "admin " } else { "" },
                user.name
            );
        }
        UserCommand::Set {
            name,
            admin,
            profile,
        } => {
            let folders = profile.folder_access(&mut conn)?;
            let user = users::update(&mut conn, &key, &name, None, None, |p| {
                if let Some(admin) = admin {
                    p.admin = admin;
                }
                profile.apply(folders, p);
            })?;
            print_user(&mut conn, &user)?;
        }
        UserCommand::Show { name } => {
            let user = users::find(&mut conn, &name)?.ok_or(users::UserError::NotFound(name))?;
            print_user(&mut conn, &user)?;
        }
        UserCommand::Passwd { name, password } => {
            let password = password.resolve()?;
            users::set_password(&mut conn, &key, &name, &password, None)?;
            println!("password of {name} changed");
        }
        UserCommand::Delete { name } => {
            users::delete(&mut conn, &name)?;
            println!("deleted user {name}");
        }
        UserCommand::Apikey { name, label } => {
            let (_, key) = users::create_api_key(&mut conn, &name, &label)?;
            println!("{key}");
            eprintln!("API key for {name} created; it is shown only this once.");
        }
        UserCommand::Apikeys { name } => {
            for (id, label, created, last_used) in users::api_keys_of(&mut conn, &name)? {
                println!(
                    "{id}\t{label}\tcreated {}\tlast used {}",
                    fmt_time(created),
                    last_used.map_or_else(|| "never".to_string(), fmt_time)
                );
            }
        }
        UserCommand::Revoke { name, key_id } => {
            users::revoke_api_key(&mut conn, &name, key_id)?;
            println!("revoked API key {key_id} of {name}");
        }
        UserCommand::Avatar { name, file, remove } => user_avatar(&mut conn, &name, file, remove)?,
        UserCommand::List => {
            for user in users::list(&mut conn)? {
                println!(
                    "{}{}",
                    user.name,
                    if user.is_admin { " (admin)" } else { "" }
                );
            }
        }
    }
    Ok(())
}

/// `user avatar NAME FILE` / `user avatar NAME --remove`.
fn user_avatar(
    conn: &mut SqliteConnection,
    name: &str,
    file: Option<PathBuf>,
    remove: bool,
) -> Result<(), AppError> {
    use mediastreamer::people::avatars;
    let failed = |e: avatars::AvatarError| AppError::Io(std::io::Error::other(e.to_string()));
    match file {
        Some(path) if !remove => {
            let bytes = avatars::set_from_file(conn, name, &path, db::now_ms()).map_err(failed)?;
            println!("avatar of {name} set ({} KiB)", bytes.div_ceil(1024));
        }
        _ => match avatars::remove(conn, name).map_err(failed)? {
            true => println!("avatar of {name} removed"),
            false => println!("{name} has no avatar"),
        },
    }
    Ok(())
}

fn playlist(config: &Config, cmd: PlaylistCommand) -> Result<(), AppError> {
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

/// A user's account as `key: value` lines.
fn print_user(conn: &mut SqliteConnection, user: &User) -> Result<(), AppError> {
    let profile = users::profile_of(conn, user)?;
    let r = profile.roles;
    let roles: Vec<&str> = [
        (r.settings, "settings"),
        (r.stream, "stream"),
        (r.download, "download"),
        (r.playlist, "playlist"),
        (r.cover_art, "cover-art"),
        (r.comment, "comment"),
        (r.share, "share"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let folders = match &profile.folders {
        FolderAccess::All => "all".to_string(),
        FolderAccess::Only(ids) if ids.is_empty() => "none".to_string(),
        FolderAccess::Only(ids) => {
            let names: std::collections::HashMap<i32, String> =
                mediastreamer::library::music_folders(conn)
                    .map_err(db::DbError::from)?
                    .into_iter()
                    .collect();
            ids.iter()
                .map(|id| format!("{id} ({})", names.get(id).map_or("?", String::as_str)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    println!("user: {}", user.name);
    println!("admin: {}", profile.admin);
    println!(
        "roles: {}{}",
        roles.join(", "),
        if profile.admin {
            " (an admin may do everything)"
        } else {
            ""
        }
    );
    println!("folders: {folders}");
    println!(
        "max bit rate: {}",
        match profile.max_bit_rate {
            0 => "none".to_string(),
            n => format!("{n} kbps"),
        }
    );
    println!("email: {}", profile.email.as_deref().unwrap_or("-"));
    Ok(())
}

fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
