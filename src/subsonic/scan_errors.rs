//! getScanErrors (ours, admins only): the files the scans could not read, and why, for the
//! web player's admin page. The scanner keeps them in `scan_errors` until the file is read
//! successfully or disappears.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{ScanError, ScanErrors};
use super::response::{Element, ToElement};

/// Most entries one call returns.
const MAX_PAGE: i64 = 1000;

/// getScanErrors: `size` (default 100, at most 1000) entries from `offset`, ordered by folder
/// and path; `count` is the total.
pub async fn get_scan_errors(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let size = ctx.params.number::<i64>("size")?.unwrap_or(100);
    let offset = ctx.params.number::<i64>("offset")?.unwrap_or(0);
    if !(0..=MAX_PAGE).contains(&size) {
        return Err(ApiError::BadParam("size"));
    }
    if offset < 0 {
        return Err(ApiError::BadParam("offset"));
    }
    let (total, rows) = ctx
        .db(move |c| Ok(crate::library::scan_errors(c, size, offset)?))
        .await?;
    let errors = rows
        .into_iter()
        .map(|(folder, path, size, reason, seen)| ScanError {
            folder,
            path,
            size,
            reason,
            seen,
        })
        .collect();
    let page = ScanErrors {
        count: total,
        errors,
    };
    Ok(Some(page.into_element("scanErrors")))
}
