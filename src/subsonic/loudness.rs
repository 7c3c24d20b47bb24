//! Loudness analysis methods (ours, admins only): getLoudnessStatus for the admin page and
//! scripts, startLoudnessAnalysis (`full=true` measures every track again) and
//! stopLoudnessAnalysis. The job itself is `crate::loudness`.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{LoudnessFailure, LoudnessStatus};
use super::response::{Element, ToElement};
use crate::library::Id;
use crate::loudness::{RunEnd, store};

/// Most failures listed (the count is complete).
const FAILURES_LISTED: i64 = 200;

async fn status(ctx: &Ctx) -> Result<Element, ApiError> {
    let job = ctx.state.loudness.status();
    let (pending, (measured, failed), failures) = ctx
        .db(|c| {
            Ok((
                store::pending_count(c)?,
                store::outcome_counts(c)?,
                store::failures(c, FAILURES_LISTED)?,
            ))
        })
        .await?;
    let status = LoudnessStatus {
        enabled: job.enabled,
        running: job.running,
        pending,
        measured,
        failed,
        run_tracks: job.tracks_done,
        run_seconds: job.audio_ms as f64 / 1000.0,
        last_run: job.last_end.map(|(ms, end)| {
            let end = match end {
                RunEnd::Finished => "finished",
                RunEnd::Cancelled => "cancelled",
                RunEnd::Deferred => "deferred",
                RunEnd::Failed => "failed",
            };
            (ms, end)
        }),
        failures: failures
            .into_iter()
            .map(|f| LoudnessFailure {
                id: Id::Track(f.track_id).to_string(),
                path: f.path,
                reason: f.reason,
            })
            .collect(),
    };
    Ok(status.into_element("loudnessStatus"))
}

pub async fn get_loudness_status(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    Ok(Some(status(&ctx).await?))
}

/// Starts a run now (after a running scan); `full=true` forgets every measurement first.
pub async fn start_loudness_analysis(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    let full = ctx.params.boolean("full")?.unwrap_or(false);
    if !ctx.state.loudness.enabled() {
        return Err(ApiError::Refused(
            "loudness analysis is turned off (config key loudness.enabled)".into(),
        ));
    }
    ctx.state.loudness.trigger(full);
    Ok(Some(status(&ctx).await?))
}

/// Stops the running analysis (what is measured stays; the next scan resumes it).
pub async fn stop_loudness_analysis(ctx: Ctx) -> Result<Option<Element>, ApiError> {
    ctx.require_admin()?;
    ctx.state.loudness.stop();
    Ok(Some(status(&ctx).await?))
}
