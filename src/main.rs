//! The `mediastreamer` command: parses the command line, loads the configuration, sets up
//! logging and hands over to the library. Wiring only.

use clap::{Args, Parser, Subcommand};
use mediastreamer::config::{self, CliOverrides, Config};
use mediastreamer::error::AppError;
use mediastreamer::scanner::{self, ScanOptions, ScanProgress, ScanReport};
use mediastreamer::{db, server, users};
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
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Add {
        name: String,
        #[command(flatten)]
        password: PasswordArg,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
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
        init_logging("warn");
        return inspect(&config, files);
    }
    let config = config::load(file.as_deref(), &env, &overrides)?;
    init_logging(&config.log.level);
    if let Some(path) = &file {
        tracing::debug!(config = %path.display(), "configuration loaded");
    }

    match command {
        Command::Serve => tokio_runtime()?.block_on(server::serve(config)),
        Command::Scan { full, json } => scan(&config, full, json),
        Command::Inspect { .. } => Ok(()),
        Command::User(cmd) => user(&config, cmd),
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, AppError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Logs go to stderr (stdout is for command output such as `scan --json`); RUST_LOG wins over
/// the configured level.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
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
        } => {
            let password = password.resolve()?;
            let user = users::add(&mut conn, &key, &name, &password, admin)?;
            println!(
                "created {}user {}",
                if user.is_admin { "admin " } else { "" },
                user.name
            );
        }
        UserCommand::Passwd { name, password } => {
            let password = password.resolve()?;
            users::set_password(&mut conn, &key, &name, &password)?;
            println!("password of {name} changed");
        }
        UserCommand::Delete { name } => {
            users::delete(&mut conn, &name)?;
            println!("deleted user {name}");
        }
        UserCommand::Apikey { name, label } => {
            let key = users::create_api_key(&mut conn, &name, &label)?;
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

fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
