//! System and scanning endpoints: ping, getLicense, getOpenSubsonicExtensions, getScanStatus,
//! startScan.

use super::auth::Ctx;
use super::error::ApiError;
use super::response::{Element, Value};
use crate::scanner::ScanOptions;

/// The OpenSubsonic extensions that really work on this server, with their versions.
const EXTENSIONS: &[(&str, i64)] = &[
    ("apiKeyAuthentication", 1),
    ("formPost", 1),
    ("indexBasedQueue", 1),
    ("songLyrics", 1),
    ("transcodeOffset", 1),
];

pub async fn ping(_ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(None)
}

pub async fn get_license(_ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(Element::new("license").attr("valid", true)))
}

/// Answered without authentication (clients probe it before signing in).
pub fn open_subsonic_extensions() -> Element {
    Element::fragment().list(
        "openSubsonicExtensions",
        EXTENSIONS
            .iter()
            .map(|(name, version)| {
                Element::new("openSubsonicExtensions")
                    .attr("name", *name)
                    .scalars("versions", vec![Value::Int(*version)])
            })
            .collect(),
    )
}

fn scan_status(ctx: &Ctx) -> Element {
    let status = ctx.state.scans.status();
    Element::new("scanStatus")
        .attr("scanning", status.scanning)
        .attr(
            "count",
            if status.scanning {
                status.files_seen as i64
            } else {
                status.tracks
            },
        )
        .attr_opt(
            "lastScan",
            status.last_finished_ms.map(super::model::iso_time),
        )
}

pub async fn get_scan_status(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(scan_status(&ctx)))
}

/// Starts a scan (admins only); `fullScan=true` re-reads every file.
pub async fn start_scan(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let full = ctx.params.boolean("fullScan")?.unwrap_or(false);
    ctx.state.scans.trigger(ScanOptions { full, paths: None });
    Ok(Some(scan_status(&ctx)))
}

/// OpenSubsonic tokenInfo: who the credentials (typically an API key) belong to.
pub async fn token_info(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    Ok(Some(
        Element::new("tokenInfo").attr("username", &ctx.user.name),
    ))
}
