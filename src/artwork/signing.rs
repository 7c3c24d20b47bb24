//! Signed image URLs. Clients load the image URLs of artist and album info without adding
//! credentials, so those URLs must work without signing in, yet must not open the library to
//! anyone guessing ids: each carries an HMAC-SHA256 of the cover id and size under a key
//! kept beside the database (`<database>.artwork.key`, created on first start, owner-only).

use crate::error::AppError;
use crate::keyfile::KeyFileError;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// Bytes of the MAC kept in a URL (128 bits: unguessable, and short).
const SIGNATURE_BYTES: usize = 16;

/// Signs and checks public image URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

/// Where the signing key of a database lives.
pub fn key_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".artwork.key");
    PathBuf::from(name)
}

impl UrlSigner {
    /// A signer with the given key (tests).
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// Loads the key kept beside `database`, creating it on first start.
    pub fn load_or_create(database: &Path) -> Result<Self, AppError> {
        let path = key_path(database);
        let fail = |message: String| AppError::File {
            path: path.clone(),
            message,
        };
        match crate::keyfile::load_or_create(&path) {
            Ok(file) => Ok(Self::new(file.key)),
            Err(KeyFileError::Malformed) => Err(fail(
                "not a 64-digit hex key; delete it to make a new one".into(),
            )),
            Err(KeyFileError::Io(e)) => Err(fail(format!(
                "cannot read or create the URL signing key: {e}"
            ))),
        }
    }

    fn mac(&self, cover_id: &str, size: Option<u32>) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(cover_id.as_bytes());
        mac.update(b"\n");
        mac.update(size.unwrap_or(0).to_string().as_bytes());
        mac
    }

    /// The signature of an image URL for `cover_id` at `size`.
    pub fn sign(&self, cover_id: &str, size: Option<u32>) -> String {
        let tag = self.mac(cover_id, size).finalize().into_bytes();
        hex::encode(&tag[..SIGNATURE_BYTES])
    }

    /// Whether `signature` is the one for `cover_id` at `size` (constant-time).
    pub fn verify(&self, cover_id: &str, size: Option<u32>, signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(tag) if tag.len() == SIGNATURE_BYTES => {
                self.mac(cover_id, size).verify_truncated_left(&tag).is_ok()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_id_the_size_and_the_key() {
        let signer = UrlSigner::new([7; 32]);
        let sig = signer.sign("al-1-abcd", Some(300));
        assert_eq!(sig.len(), 32);
        assert!(signer.verify("al-1-abcd", Some(300), &sig));
        assert!(!signer.verify("al-2-abcd", Some(300), &sig));
        assert!(!signer.verify("al-1-abcd", Some(600), &sig));
        assert!(!signer.verify("al-1-abcd", None, &sig));
        assert!(!UrlSigner::new([8; 32]).verify("al-1-abcd", Some(300), &sig));
        assert!(!signer.verify("al-1-abcd", Some(300), "zz"));
        assert!(!signer.verify("al-1-abcd", Some(300), &sig[..30]));
    }

    #[test]
    fn the_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let a = UrlSigner::load_or_create(&db).unwrap();
        let b = UrlSigner::load_or_create(&db).unwrap();
        assert_eq!(a.sign("ar-1", None), b.sign("ar-1", None));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_path(&db))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(key_path(&db), "junk").unwrap();
        assert!(UrlSigner::load_or_create(&db).is_err());
    }
}
