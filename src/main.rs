//! The `mediastreamer` command: parses the command line, loads the configuration, sets up
//! logging and hands over to the library (the server) or to a command in `cli/`. Wiring only.

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use mediastreamer::config::{self, CliOverrides, Config, LogFormat};
use mediastreamer::error::AppError;
use mediastreamer::{server, setup};
use std::io::IsTerminal;
use std::process::ExitCode;

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
        return cli::inspect::run(&config, files);
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
            cli::tokio_runtime()?.block_on(server::serve(config, stop_on_stdin_eof))
        }
        Command::Scan { full, json } => cli::scan::run(&config, full, json),
        Command::Inspect { .. } => Ok(()),
        Command::User(cmd) => cli::user::run(&config, cmd),
        Command::Playlist(cmd) => cli::playlist::run(&config, cmd),
        Command::Backup { dir } => cli::backup::run(&config, &dir),
    }
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
