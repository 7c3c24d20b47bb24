//! Users' avatars (the personal image getAvatar returns): checked to be an image, scaled down
//! to at most `AVATAR_SIZE` pixels, stored in the database with its content type.

use crate::artwork::picture;
use crate::db::schema::{user_avatars, users};
use diesel::prelude::*;
use std::path::Path;

/// Longest side of a stored avatar, in pixels (clients show them small).
pub const AVATAR_SIZE: u32 = 512;
/// Largest avatar stored, in bytes (after scaling).
pub const MAX_AVATAR_BYTES: usize = 1024 * 1024;
/// Largest image file read to make an avatar from.
pub const MAX_SOURCE_BYTES: u64 = 20 * 1024 * 1024;

/// A stored avatar.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Avatar {
    pub content_type: String,
    pub data: Vec<u8>,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

/// Why an avatar could not be set.
#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("no user named `{0}`")]
    NoSuchUser(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("not an image this server reads (JPEG, PNG, GIF, WebP, BMP): {0}")]
    NotAnImage(String),
    #[error("the image is still larger than {} KiB at {AVATAR_SIZE} pixels", MAX_AVATAR_BYTES / 1024)]
    TooLarge,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// The avatar to store for these image bytes: scaled to `AVATAR_SIZE` when larger (PNG stays
/// PNG, other formats become JPEG), with its content type.
pub fn prepare(bytes: &[u8]) -> Result<(Vec<u8>, &'static str), AvatarError> {
    let data = picture::fit(bytes, AVATAR_SIZE).map_err(AvatarError::NotAnImage)?;
    if data.len() > MAX_AVATAR_BYTES {
        return Err(AvatarError::TooLarge);
    }
    let content_type = picture::content_type(&data);
    Ok((data, content_type))
}

fn user_id(conn: &mut SqliteConnection, username: &str) -> Result<i32, AvatarError> {
    users::table
        .filter(users::name.eq(username))
        .select(users::id)
        .get_result(conn)
        .optional()?
        .ok_or_else(|| AvatarError::NoSuchUser(username.to_string()))
}

/// Sets a user's avatar from an image file; returns the stored avatar's size in bytes.
pub fn set_from_file(
    conn: &mut SqliteConnection,
    username: &str,
    path: &Path,
    now_ms: i64,
) -> Result<usize, AvatarError> {
    let file_error = |message: String| AvatarError::File {
        path: path.display().to_string(),
        message,
    };
    let id = user_id(conn, username)?;
    let len = std::fs::metadata(path)
        .map_err(|e| file_error(e.to_string()))?
        .len();
    if len > MAX_SOURCE_BYTES {
        return Err(file_error(format!(
            "larger than {} MiB",
            MAX_SOURCE_BYTES / 1024 / 1024
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| file_error(e.to_string()))?;
    let (data, content_type) = prepare(&bytes)?;
    diesel::replace_into(user_avatars::table)
        .values((
            user_avatars::user_id.eq(id),
            user_avatars::content_type.eq(content_type),
            user_avatars::data.eq(&data),
            user_avatars::updated_at.eq(now_ms),
        ))
        .execute(conn)?;
    Ok(data.len())
}

/// Removes a user's avatar; false when they had none.
pub fn remove(conn: &mut SqliteConnection, username: &str) -> Result<bool, AvatarError> {
    let id = user_id(conn, username)?;
    Ok(diesel::delete(user_avatars::table.find(id)).execute(conn)? > 0)
}

/// The avatar of the user named `username`, if they exist and have one.
pub fn of_user(conn: &mut SqliteConnection, username: &str) -> QueryResult<Option<Avatar>> {
    user_avatars::table
        .inner_join(users::table)
        .filter(users::name.eq(username))
        .select((
            user_avatars::content_type,
            user_avatars::data,
            user_avatars::updated_at,
        ))
        .get_result(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, RgbImage};
    use std::io::Cursor;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(RgbImage::from_pixel(
            width,
            height,
            image::Rgb([200, 40, 90]),
        ))
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
        out.into_inner()
    }

    #[test]
    fn images_are_scaled_and_other_bytes_refused() {
        let small = png(64, 32);
        let (data, content_type) = prepare(&small).unwrap();
        assert_eq!(data, small, "a small image is kept as it is");
        assert_eq!(content_type, "image/png");

        let (data, _) = prepare(&png(2000, 1000)).unwrap();
        let scaled = image::load_from_memory(&data).unwrap();
        assert_eq!(
            (scaled.width(), scaled.height()),
            (AVATAR_SIZE, AVATAR_SIZE / 2)
        );

        assert!(matches!(
            prepare(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(AvatarError::NotAnImage(_))
        ));
    }
}
