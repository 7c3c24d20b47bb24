//! `user ...`: manage user accounts.

use clap::{Args, Subcommand};
use diesel::SqliteConnection;
use mediastreamer::config::Config;
use mediastreamer::db::models::{Role, User};
use mediastreamer::error::AppError;
use mediastreamer::users::{FolderAccess, Profile};
use mediastreamer::{db, users};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum UserCommand {
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
pub struct ProfileArgs {
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
    /// Managing podcasts (not part of a new account's roles).
    Podcast,
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
            RoleArg::Podcast => Role::Podcast,
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
pub struct PasswordArg {
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

pub fn run(config: &Config, cmd: UserCommand) -> Result<(), AppError> {
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
        (r.podcast, "podcast"),
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
