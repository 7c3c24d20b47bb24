//! Secret keys kept in files beside the database (the password key, the image URL signing
//! key): 32 random bytes as hex, created readable by the owner only on first use.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A key read from its file, or just made.
pub struct KeyFile {
    pub key: [u8; 32],
    /// The file did not exist and was created now.
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file is there but does not hold 64 hex digits.
    #[error("not a 64-digit hex key")]
    Malformed,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads the key at `path`, or creates it (0600, synced) when there is no file.
pub fn load_or_create(path: &Path) -> Result<KeyFile, KeyFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = hex::decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or(KeyFileError::Malformed)?;
            Ok(KeyFile {
                key,
                created: false,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
            write_private(path, hex::encode(key).as_bytes())?;
            Ok(KeyFile { key, created: true })
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes `contents` to a new file readable by the owner only (fails if it exists), synced.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_key_is_made_once_private_and_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.key");
        let made = load_or_create(&path).unwrap();
        assert!(made.created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create(&path).unwrap();
        assert!(!again.created);
        assert_eq!(again.key, made.key);
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Malformed)
        ));
    }
}
