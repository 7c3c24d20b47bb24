//! User accounts. Subsonic token authentication (t = md5(password + salt)) needs the password
//! itself, so it is stored encrypted (ChaCha20-Poly1305) with a key the server generates on
//! first start and keeps beside the database (`<database>.key`, mode 0600): a copy of the
//! database alone reveals no password.

use crate::db::models::{Role, User};
use crate::db::now_ms;
use crate::db::schema::{library_folders, user_folders, users};
use crate::keyfile::KeyFileError;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use diesel::prelude::*;
use std::path::{Path, PathBuf};

/// Problems with accounts, worded for the person at the command line.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("no user named `{0}`")]
    NotFound(String),
    #[error(
        "a user name must be 1 to 64 characters without control characters or spaces at the ends"
    )]
    BadName,
    #[error("the password must not be empty")]
    EmptyPassword,
    #[error("`{0}` is the last administrator; make another user an administrator first")]
    LastAdmin(String),
    #[error("a maximum bit rate must be 0 (no limit) or one of {BIT_RATE_LIST} kbps, not {0}")]
    BadBitRate(i32),
    #[error("there is no music folder {0}")]
    UnknownFolder(String),
    #[error("the server is already set up: an account exists")]
    AlreadySetUp,
    #[error("password key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("stored password cannot be decrypted (wrong or replaced key file?)")]
    Decrypt,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// The key that encrypts stored passwords.
#[derive(Clone)]
pub struct PasswordKey(ChaCha20Poly1305);

impl std::fmt::Debug for PasswordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordKey(..)")
    }
}

/// Where the key for a database lives: the database path with ".key" appended.
pub fn key_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

impl PasswordKey {
    /// Loads the key kept beside `database`, creating it (random, owner-only) on first start.
    pub fn load_or_create(database: &Path) -> Result<Self, UserError> {
        let path = key_path(database);
        let key_err = |message: String| UserError::Key {
            path: path.clone(),
            message,
        };
        let file = crate::keyfile::load_or_create(&path).map_err(|e| match e {
            KeyFileError::Malformed => {
                key_err("not a 64-digit hex key; restore it from a backup".into())
            }
            KeyFileError::Io(e) => key_err(e.to_string()),
        })?;
        if file.created {
            tracing::info!(path = %path.display(), "created the password encryption key");
        }
        Ok(Self(ChaCha20Poly1305::new(Key::from_slice(&file.key))))
    }

    /// hex(nonce || ciphertext) of a password.
    pub fn encrypt(&self, password: &str) -> Result<String, UserError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| UserError::Decrypt)?;
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), password.as_bytes())
            .map_err(|_| UserError::Decrypt)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(hex::encode(out))
    }

    /// The password back from what `encrypt` stored.
    pub fn decrypt(&self, stored: &str) -> Result<String, UserError> {
        let bytes = hex::decode(stored).map_err(|_| UserError::Decrypt)?;
        if bytes.len() < 12 {
            return Err(UserError::Decrypt);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .0
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| UserError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| UserError::Decrypt)
    }
}

/// The bit rates (kbps) a user's cap may take, as Subsonic clients offer them; 0 is no cap.
pub const BIT_RATES: &[i32] = &[
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
const BIT_RATE_LIST: &str = "32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320";

/// Which music folders a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderAccess {
    /// Every folder, including folders added later.
    All,
    /// Only these folder ids (none at all is allowed: the user then sees nothing).
    Only(Vec<i32>),
}

/// What a user may do besides browsing (admins may do everything whatever these say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub settings: bool,
    pub stream: bool,
    pub download: bool,
    pub playlist: bool,
    pub cover_art: bool,
    pub comment: bool,
    pub share: bool,
    /// Managing podcasts: admins only unless granted (not part of a new account's roles).
    pub podcast: bool,
}

impl Roles {
    /// Every role: what a new account gets from the command line (as in Navidrome).
    pub const ALL: Roles = Roles {
        settings: true,
        stream: true,
        download: true,
        playlist: true,
        cover_art: true,
        comment: true,
        share: true,
        podcast: false,
    };

    /// The roles the Subsonic API's createUser gives when none are named: settings and
    /// streaming only.
    pub const SUBSONIC_DEFAULT: Roles = Roles {
        settings: true,
        stream: true,
        download: false,
        playlist: false,
        cover_art: false,
        comment: false,
        share: false,
        podcast: false,
    };

    /// The roles stored for a user (not counting the admin flag).
    pub fn of(user: &User) -> Roles {
        Roles {
            settings: user.settings_role,
            stream: user.stream_role,
            download: user.download_role,
            playlist: user.playlist_role,
            cover_art: user.cover_art_role,
            comment: user.comment_role,
            share: user.share_role,
            podcast: user.podcast_role,
        }
    }

    /// Grants (`on`) or withdraws one role.
    pub fn set(&mut self, role: Role, on: bool) {
        let flag = match role {
            Role::Settings => &mut self.settings,
            Role::Stream => &mut self.stream,
            Role::Download => &mut self.download,
            Role::Playlist => &mut self.playlist,
            Role::CoverArt => &mut self.cover_art,
            Role::Comment => &mut self.comment,
            Role::Share => &mut self.share,
            Role::Podcast => &mut self.podcast,
        };
        *flag = on;
    }
}

/// Everything about an account but its name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub admin: bool,
    pub email: Option<String>,
    /// kbps; 0 means no cap. One of `BIT_RATES`.
    pub max_bit_rate: i32,
    pub roles: Roles,
    pub folders: FolderAccess,
}

impl Profile {
    /// A new account's profile: every role and every folder, no cap.
    pub fn new(admin: bool) -> Self {
        Profile {
            admin,
            email: None,
            max_bit_rate: 0,
            roles: Roles::ALL,
            folders: FolderAccess::All,
        }
    }
}

/// A user's profile as stored.
pub fn profile_of(conn: &mut SqliteConnection, user: &User) -> Result<Profile, UserError> {
    let folders = if user.all_folders {
        FolderAccess::All
    } else {
        FolderAccess::Only(crate::library::access::listed_folders(conn, user.id)?)
    };
    Ok(Profile {
        admin: user.is_admin,
        email: user.email.clone(),
        max_bit_rate: user.max_bit_rate,
        roles: Roles::of(user),
        folders,
    })
}

/// Checks a profile and puts it in its stored form: a blank e-mail is none, and a folder
/// list naming every folder becomes "all folders" (so folders added later are seen too).
fn normalize(conn: &mut SqliteConnection, mut profile: Profile) -> Result<Profile, UserError> {
    if !BIT_RATES.contains(&profile.max_bit_rate) {
        return Err(UserError::BadBitRate(profile.max_bit_rate));
    }
    profile.email = profile
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    if let FolderAccess::Only(ids) = &mut profile.folders {
        ids.sort_unstable();
        ids.dedup();
        let known: Vec<i32> = library_folders::table
            .order(library_folders::id)
            .select(library_folders::id)
            .load(conn)?;
        if let Some(unknown) = ids.iter().find(|id| !known.contains(id)) {
            return Err(UserError::UnknownFolder(unknown.to_string()));
        }
        if !ids.is_empty() && *ids == known {
            profile.folders = FolderAccess::All;
        }
    }
    Ok(profile)
}

/// Writes a (normalized) profile into a user's row and folder list.
fn store_profile(
    conn: &mut SqliteConnection,
    user_id: i32,
    p: &Profile,
) -> Result<User, UserError> {
    let r = &p.roles;
    let user = diesel::update(users::table.find(user_id))
        .set((
            users::is_admin.eq(p.admin),
            users::email.eq(&p.email),
            users::max_bit_rate.eq(p.max_bit_rate),
            users::settings_role.eq(r.settings),
            users::stream_role.eq(r.stream),
            users::download_role.eq(r.download),
            users::playlist_role.eq(r.playlist),
            users::cover_art_role.eq(r.cover_art),
            users::comment_role.eq(r.comment),
            users::share_role.eq(r.share),
            users::podcast_role.eq(r.podcast),
            users::all_folders.eq(p.folders == FolderAccess::All),
            users::updated_at.eq(now_ms()),
        ))
        .returning(User::as_returning())
        .get_result(conn)?;
    diesel::delete(user_folders::table.filter(user_folders::user_id.eq(user_id))).execute(conn)?;
    if let FolderAccess::Only(ids) = &p.folders {
        let rows: Vec<_> = ids
            .iter()
            .map(|f| {
                (
                    user_folders::user_id.eq(user_id),
                    user_folders::folder_id.eq(*f),
                )
            })
            .collect();
        diesel::insert_into(user_folders::table)
            .values(&rows)
            .execute(conn)?;
    }
    Ok(user)
}

/// A music folder by id, name or path (for the command line), as its id.
pub fn folder_by_name(conn: &mut SqliteConnection, name: &str) -> Result<i32, UserError> {
    let rows: Vec<(i32, String, String)> = library_folders::table
        .order(library_folders::id)
        .select((
            library_folders::id,
            library_folders::name,
            library_folders::path,
        ))
        .load(conn)?;
    rows.iter()
        .find(|(id, _, _)| id.to_string() == name)
        .or_else(|| rows.iter().find(|(_, n, _)| n == name))
        .or_else(|| rows.iter().find(|(_, _, p)| p == name))
        .map(|(id, _, _)| *id)
        .ok_or_else(|| {
            let known: Vec<String> = rows.iter().map(|(id, n, _)| format!("{id} {n}")).collect();
            UserError::UnknownFolder(format!(
                "`{name}` (known: {}; folders appear after the first scan)",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
}

fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok { Ok(()) } else { Err(UserError::BadName) }
}

/// Creates a user with every role and every folder.
pub fn add(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
    admin: bool,
) -> Result<User, UserError> {
    create(conn, key, name, password, Profile::new(admin))
}

/// Creates a user with a profile, in one transaction (nothing is written if anything is
/// wrong).
pub fn create(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
    profile: Profile,
) -> Result<User, UserError> {
    check_name(name)?;
    if password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let encrypted = key.encrypt(password)?;
    crate::db::immediate(conn, |conn| {
        if find(conn, name)?.is_some() {
            return Err(UserError::Exists(name.to_string()));
        }
        let profile = normalize(conn, profile)?;
        insert(conn, name, &encrypted, profile)
    })
}

fn insert(
    conn: &mut SqliteConnection,
    name: &str,
    encrypted: &str,
    profile: Profile,
) -> Result<User, UserError> {
    let now = now_ms();
    let id: i32 = diesel::insert_into(users::table)
        .values((
            users::name.eq(name),
            users::is_admin.eq(profile.admin),
            users::password_enc.eq(encrypted),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?;
    store_profile(conn, id, &profile)
}

/// Creates the first account, an administrator with every role, only while no account
/// exists (first-run setup). The check and the insert share one immediate transaction, so
/// two concurrent attempts cannot both succeed.
pub fn create_first_admin(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
) -> Result<User, UserError> {
    check_name(name)?;
    if password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let encrypted = key.encrypt(password)?;
    crate::db::immediate(conn, |conn| {
        if count(conn)? > 0 {
            return Err(UserError::AlreadySetUp);
        }
        insert(conn, name, &encrypted, Profile::new(true))
    })
}

/// How many accounts exist.
pub fn count(conn: &mut SqliteConnection) -> Result<i64, UserError> {
    Ok(users::table.count().get_result(conn)?)
}

/// Changes a user: `change` edits the stored profile, `password` (when given) replaces the
/// password and revokes the user's API keys but `keep_api_key` (see `set_password`). One
/// transaction; the last administrator cannot lose the admin flag.
pub fn update(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: Option<&str>,
    keep_api_key: Option<&str>,
    change: impl FnOnce(&mut Profile),
) -> Result<User, UserError> {
    let encrypted = match password {
        Some("") => return Err(UserError::EmptyPassword),
        Some(p) => Some(key.encrypt(p)?),
        None => None,
    };
    crate::db::immediate(conn, |conn| {
        let user = find(conn, name)?.ok_or_else(|| UserError::NotFound(name.to_string()))?;
        let mut profile = profile_of(conn, &user)?;
        change(&mut profile);
        let profile = normalize(conn, profile)?;
        if user.is_admin && !profile.admin && admin_count(conn)? <= 1 {
            return Err(UserError::LastAdmin(user.name));
        }
        if let Some(encrypted) = &encrypted {
            diesel::update(users::table.find(user.id))
                .set(users::password_enc.eq(encrypted))
                .execute(conn)?;
            revoke_api_keys(conn, user.id, keep_api_key)?;
        }
        store_profile(conn, user.id, &profile)
    })
}

fn admin_count(conn: &mut SqliteConnection) -> Result<i64, UserError> {
    Ok(users::table
        .filter(users::is_admin.eq(true))
        .count()
        .get_result(conn)?)
}

/// Looks a user up by name (case-insensitive).
pub fn find(conn: &mut SqliteConnection, name: &str) -> Result<Option<User>, UserError> {
    Ok(users::table
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Sets a new password and revokes the user's API keys, except `keep_api_key` (the key the
/// change was made with, so the browser or app that changed it stays signed in). A password
/// is changed because it leaked or someone left: keys made with it must not outlive it.
pub fn set_password(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
    keep_api_key: Option<&str>,
) -> Result<(), UserError> {
    if password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let encrypted = key.encrypt(password)?;
    crate::db::immediate(conn, |conn| {
        let user = find(conn, name)?.ok_or_else(|| UserError::NotFound(name.to_string()))?;
        diesel::update(users::table.find(user.id))
            .set((
                users::password_enc.eq(&encrypted),
                users::updated_at.eq(now_ms()),
            ))
            .execute(conn)?;
        revoke_api_keys(conn, user.id, keep_api_key)?;
        Ok(())
    })
}

/// Deletes a user's API keys, except `keep` when it is one of them.
fn revoke_api_keys(
    conn: &mut SqliteConnection,
    user_id: i32,
    keep: Option<&str>,
) -> Result<usize, UserError> {
    use crate::db::schema::api_keys;
    let keep_hash = keep.map(hash_api_key).unwrap_or_default();
    Ok(diesel::delete(
        api_keys::table
            .filter(api_keys::user_id.eq(user_id))
            .filter(api_keys::key_hash.ne(keep_hash)),
    )
    .execute(conn)?)
}

/// Deletes a user; the last administrator cannot be deleted.
pub fn delete(conn: &mut SqliteConnection, name: &str) -> Result<(), UserError> {
    crate::db::immediate(conn, |conn| {
        let user = find(conn, name)?.ok_or_else(|| UserError::NotFound(name.to_string()))?;
        if user.is_admin && admin_count(conn)? <= 1 {
            return Err(UserError::LastAdmin(user.name));
        }
        diesel::delete(users::table.find(user.id)).execute(conn)?;
        Ok(())
    })
}

/// Every user, by name.
pub fn list(conn: &mut SqliteConnection) -> Result<Vec<User>, UserError> {
    Ok(users::table
        .order(users::name)
        .select(User::as_select())
        .load(conn)?)
}

/// Creates an API key for a user (OpenSubsonic apiKeyAuthentication). Returns the key's id
/// and the key itself: it is shown this once; only its SHA-256 is stored.
pub fn create_api_key(
    conn: &mut SqliteConnection,
    user_name: &str,
    label: &str,
) -> Result<(i32, String), UserError> {
    use crate::db::schema::api_keys;
    let user = find(conn, user_name)?.ok_or_else(|| UserError::NotFound(user_name.to_string()))?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|_| UserError::Decrypt)?;
    let key = format!("ms_{}", hex::encode(bytes));
    let id = diesel::insert_into(api_keys::table)
        .values((
            api_keys::user_id.eq(user.id),
            api_keys::key_hash.eq(hash_api_key(&key)),
            api_keys::name.eq(label),
            api_keys::created_at.eq(now_ms()),
        ))
        .returning(api_keys::id)
        .get_result(conn)?;
    Ok((id, key))
}

/// The user an API key belongs to (and notes its use).
pub fn find_by_api_key(conn: &mut SqliteConnection, key: &str) -> Result<Option<User>, UserError> {
    use crate::db::schema::api_keys;
    let hash = hash_api_key(key);
    let user: Option<User> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::key_hash.eq(&hash))
        .select(User::as_select())
        .get_result(conn)
        .optional()?;
    if user.is_some() {
        diesel::update(api_keys::table.filter(api_keys::key_hash.eq(&hash)))
            .set(api_keys::last_used.eq(now_ms()))
            .execute(conn)?;
    }
    Ok(user)
}

/// One API key as listed: (id, label, created, last used), times in epoch ms.
pub type ApiKeyListing = (i32, String, i64, Option<i64>);

/// A user's API keys.
pub fn api_keys_of(
    conn: &mut SqliteConnection,
    user_name: &str,
) -> Result<Vec<ApiKeyListing>, UserError> {
    use crate::db::schema::api_keys;
    let user = find(conn, user_name)?.ok_or_else(|| UserError::NotFound(user_name.to_string()))?;
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user.id))
        .order(api_keys::id)
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::created_at,
            api_keys::last_used,
        ))
        .load(conn)?)
}

/// Revokes one of a user's API keys by its id.
pub fn revoke_api_key(
    conn: &mut SqliteConnection,
    user_name: &str,
    key_id: i32,
) -> Result<(), UserError> {
    use crate::db::schema::api_keys;
    let user = find(conn, user_name)?.ok_or_else(|| UserError::NotFound(user_name.to_string()))?;
    let n = diesel::delete(
        api_keys::table
            .filter(api_keys::id.eq(key_id))
            .filter(api_keys::user_id.eq(user.id)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(UserError::NotFound(format!(
            "API key {key_id} of {user_name}"
        )));
    }
    Ok(())
}

fn hash_api_key(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// The user's password in clear, for token authentication (md5(password + salt)).
pub fn password_of(key: &PasswordKey, user: &User) -> Result<String, UserError> {
    key.decrypt(&user.password_enc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_are_not_stored_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        crate::db::open_and_migrate(&db).unwrap();
        let key = PasswordKey::load_or_create(&db).unwrap();
        let mut conn = crate::db::connect(&db).unwrap();
        let user = add(&mut conn, &key, "alice", "s3cret-pass", true).unwrap();
        assert!(!user.password_enc.contains("s3cret"));
        assert_eq!(password_of(&key, &user).unwrap(), "s3cret-pass");
        let raw = std::fs::read(&db).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"s3cret"));

        // The key survives a restart; another key cannot read the password.
        let again = PasswordKey::load_or_create(&db).unwrap();
        assert_eq!(password_of(&again, &user).unwrap(), "s3cret-pass");
        let other = PasswordKey::load_or_create(&dir.path().join("other.db")).unwrap();
        assert!(password_of(&other, &user).is_err());

        assert!(matches!(
            add(&mut conn, &key, "ALICE", "x", false),
            Err(UserError::Exists(_))
        ));
        assert!(matches!(
            delete(&mut conn, "alice"),
            Err(UserError::LastAdmin(_))
        ));
        add(&mut conn, &key, "bob", "pw", false).unwrap();
        set_password(&mut conn, &key, "bob", "new", None).unwrap();
        let bob = find(&mut conn, "bob").unwrap().unwrap();
        assert_eq!(password_of(&key, &bob).unwrap(), "new");
        let (_, api_key) = create_api_key(&mut conn, "bob", "phone").unwrap();
        assert_eq!(
            find_by_api_key(&mut conn, &api_key).unwrap().unwrap().name,
            "bob"
        );
        assert!(find_by_api_key(&mut conn, "ms_nope").unwrap().is_none());
        let raw = std::fs::read(&db).unwrap();
        assert!(!raw.windows(api_key.len()).any(|w| w == api_key.as_bytes()));
        let keys = api_keys_of(&mut conn, "bob").unwrap();
        assert_eq!(keys.len(), 1);
        revoke_api_key(&mut conn, "bob", keys[0].0).unwrap();
        assert!(find_by_api_key(&mut conn, &api_key).unwrap().is_none());
        delete(&mut conn, "bob").unwrap();
        assert_eq!(list(&mut conn).unwrap().len(), 1);
    }

    #[test]
    fn profiles_change_in_one_transaction_and_keep_an_admin() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        crate::db::open_and_migrate(&db).unwrap();
        let key = PasswordKey::load_or_create(&db).unwrap();
        let mut conn = crate::db::connect(&db).unwrap();
        for (path, name) in [("/a", "A"), ("/b", "B")] {
            diesel::insert_into(library_folders::table)
                .values((
                    library_folders::path.eq(path),
                    library_folders::name.eq(name),
                    library_folders::created_at.eq(0),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        let ids: Vec<i32> = library_folders::table
            .order(library_folders::id)
            .select(library_folders::id)
            .load(&mut conn)
            .unwrap();
        assert!(
            create_first_admin(&mut conn, &key, "root", "pw")
                .unwrap()
                .is_admin
        );
        assert!(matches!(
            create_first_admin(&mut conn, &key, "again", "pw"),
            Err(UserError::AlreadySetUp)
        ));
        let first = add(&mut conn, &key, "kim", "pw", false).unwrap();
        let only_a = FolderAccess::Only(vec![ids[0]]);
        let kim_only_a = only_a.clone();
        update(&mut conn, &key, "kim", None, None, |p| {
            p.folders = kim_only_a;
            p.roles.set(Role::Download, false);
            p.max_bit_rate = 128;
        })
        .unwrap();
        let stored = find(&mut conn, "kim").unwrap().unwrap();
        let p = profile_of(&mut conn, &stored).unwrap();
        assert_eq!(
            (p.folders, p.roles.download, p.max_bit_rate),
            (only_a.clone(), false, 128)
        );
        // A bad change leaves everything as it was.
        let bad = update(&mut conn, &key, "kim", Some("new"), None, |p| {
            p.folders = FolderAccess::Only(vec![999]);
            p.max_bit_rate = 0;
        });
        assert!(matches!(bad, Err(UserError::UnknownFolder(_))));
        let stored = find(&mut conn, "kim").unwrap().unwrap();
        assert_eq!(password_of(&key, &stored).unwrap(), "pw");
        assert_eq!(profile_of(&mut conn, &stored).unwrap().folders, only_a);
        assert!(matches!(
            update(&mut conn, &key, "kim", None, None, |p| p.max_bit_rate = 100),
            Err(UserError::BadBitRate(100))
        ));
        // Every folder named means all folders (later ones too).
        let both = FolderAccess::Only(ids.clone());
        let kim = update(&mut conn, &key, "kim", None, None, |p| p.folders = both).unwrap();
        assert!(kim.all_folders);
        // The last admin keeps the flag until another admin exists.
        assert!(matches!(
            update(&mut conn, &key, "root", None, None, |p| p.admin = false),
            Err(UserError::LastAdmin(_))
        ));
        update(&mut conn, &key, "kim", None, None, |p| p.admin = true).unwrap();
        assert!(
            !update(&mut conn, &key, "root", None, None, |p| p.admin = false)
                .unwrap()
                .is_admin
        );
        assert_eq!(first.id, find(&mut conn, "kim").unwrap().unwrap().id);
    }
}
