//! System and scanning endpoints: ping, getLicense, getOpenSubsonicExtensions, getScanStatus,
//! startScan, and our getScanInfo.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{License, OpenSubsonicExtension, ScanStatus, TokenInfo};
use super::response::{Element, ToElement};
use crate::scanner::ScanOptions;

/// The OpenSubsonic extensions that really work on this server, with their versions.
const EXTENSIONS: &[(&str, i64)] = &[
    ("apiKeyAuthentication", 1),
    ("formPost", 1),
    ("indexBasedQueue", 1),
    ("songLyrics", 1),
    ("transcodeOffset", 1),
    ("getPodcastEpisode", 1),
    ("transcoding", 1),
];

pub async fn ping(_ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(None)
}

pub async fn get_license(_ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(License { valid: true }.into_element("license")))
}

/// Answered without authentication (clients probe it before signing in).
pub fn open_subsonic_extensions() -> Element {
    Element::fragment().items(
        "openSubsonicExtensions",
        EXTENSIONS
            .iter()
            .map(|&(name, version)| OpenSubsonicExtension {
                name,
                versions: vec![version],
            }),
    )
}

/// Whether a scan runs, and `count`: files looked at so far while scanning, otherwise the
/// tracks in the catalog. The catalog is counted rather than taken from the last scan's
/// report, which a server started without a scan (`scan.on_startup = false`) does not have.
async fn scan_counts(ctx: &Ctx) -> Result<(bool, i64, Option<i64>), ApiError> {
    let status = ctx.state.scans.status();
    let count = if status.scanning {
        status.files_seen as i64
    } else {
        ctx.db(|c| Ok(crate::library::track_count(c)?)).await?
    };
    Ok((status.scanning, count, status.last_finished_ms))
}

/// `scanStatus` exactly as the spec has it (`scanning`, `count`): strict client libraries
/// reject unknown keys there. The end of the last scan is in our own getScanInfo.
async fn scan_status(ctx: &Ctx) -> Result<Element, ApiError> {
    let (scanning, count, _) = scan_counts(ctx).await?;
    let status = ScanStatus {
        scanning,
        count,
        last_scan: None,
    };
    Ok(status.into_element("scanStatus"))
}

pub async fn get_scan_status(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(scan_status(&ctx).await?))
}

/// getScanInfo (ours, for the web player's admin page): getScanStatus's `scanning` and
/// `count`, and `lastScan`, when the last scan since the server started ended.
pub async fn get_scan_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let (scanning, count, last) = scan_counts(&ctx).await?;
    let info = ScanStatus {
        scanning,
        count,
        last_scan: last,
    };
    Ok(Some(info.into_element("scanInfo")))
}

/// Starts a scan (admins only); `fullScan=true` re-reads every file.
pub async fn start_scan(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let full = ctx.params.boolean("fullScan")?.unwrap_or(false);
    ctx.state.scans.trigger(ScanOptions { full, paths: None });
    Ok(Some(scan_status(&ctx).await?))
}

/// OpenSubsonic tokenInfo: who the credentials (typically an API key) belong to.
pub async fn token_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    let info = TokenInfo {
        username: ctx.user.name.clone(),
    };
    Ok(Some(info.into_element("tokenInfo")))
}
