//! User accounts. Subsonic token authentication (t = md5(password + salt)) needs the password
//! itself, so it is stored encrypted (ChaCha20-Poly1305) with a key the server generates on
//! first start and keeps beside the database (`<database>.key`, mode 0600): a copy of the
//! database alone reveals no password.

use crate::db::models::User;
use crate::db::now_ms;
use crate::db::schema::users;
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
        let bytes = match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| {
                    key_err("not a 64-digit hex key; restore it from a backup".into())
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| key_err(e.to_string()))?;
                write_private(&path, hex::encode(key).as_bytes())
                    .map_err(|e| key_err(e.to_string()))?;
                tracing::info!(path = %path.display(), "created the password encryption key");
                key.to_vec()
            }
            Err(e) => return Err(key_err(e.to_string())),
        };
        Ok(Self(ChaCha20Poly1305::new(Key::from_slice(&bytes))))
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

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if ok { Ok(()) } else { Err(UserError::BadName) }
}

/// Creates a user.
pub fn add(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
    admin: bool,
) -> Result<User, UserError> {
    check_name(name)?;
    if password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let encrypted = key.encrypt(password)?;
    conn.immediate_transaction(|conn| {
        if find(conn, name)?.is_some() {
            return Err(UserError::Exists(name.to_string()));
        }
        let now = now_ms();
        Ok(diesel::insert_into(users::table)
            .values((
                users::name.eq(name),
                users::is_admin.eq(admin),
                users::password_enc.eq(&encrypted),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .returning(User::as_returning())
            .get_result(conn)?)
    })
}

/// Looks a user up by name (case-insensitive).
pub fn find(conn: &mut SqliteConnection, name: &str) -> Result<Option<User>, UserError> {
    Ok(users::table
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Sets a new password.
pub fn set_password(
    conn: &mut SqliteConnection,
    key: &PasswordKey,
    name: &str,
    password: &str,
) -> Result<(), UserError> {
    if password.is_empty() {
        return Err(UserError::EmptyPassword);
    }
    let encrypted = key.encrypt(password)?;
    let changed = diesel::update(users::table.filter(users::name.eq(name)))
        .set((
            users::password_enc.eq(&encrypted),
            users::updated_at.eq(now_ms()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(UserError::NotFound(name.to_string()));
    }
    Ok(())
}

/// Deletes a user; the last administrator cannot be deleted.
pub fn delete(conn: &mut SqliteConnection, name: &str) -> Result<(), UserError> {
    conn.immediate_transaction(|conn| {
        let user = find(conn, name)?.ok_or_else(|| UserError::NotFound(name.to_string()))?;
        if user.is_admin {
            let admins: i64 = users::table
                .filter(users::is_admin.eq(true))
                .count()
                .get_result(conn)?;
            if admins <= 1 {
                return Err(UserError::LastAdmin(user.name));
            }
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

/// Creates an API key for a user (OpenSubsonic apiKeyAuthentication). Returns the key: it is
/// shown this once; only its SHA-256 is stored.
pub fn create_api_key(
    conn: &mut SqliteConnection,
    user_name: &str,
    label: &str,
) -> Result<String, UserError> {
    use crate::db::schema::api_keys;
    let user = find(conn, user_name)?.ok_or_else(|| UserError::NotFound(user_name.to_string()))?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|_| UserError::Decrypt)?;
    let key = format!("ms_{}", hex::encode(bytes));
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::user_id.eq(user.id),
            api_keys::key_hash.eq(hash_api_key(&key)),
            api_keys::name.eq(label),
            api_keys::created_at.eq(now_ms()),
        ))
        .execute(conn)?;
    Ok(key)
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
        set_password(&mut conn, &key, "bob", "new").unwrap();
        let bob = find(&mut conn, "bob").unwrap().unwrap();
        assert_eq!(password_of(&key, &bob).unwrap(), "new");
        let api_key = create_api_key(&mut conn, "bob", "phone").unwrap();
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
}
