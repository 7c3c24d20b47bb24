//! Scheduled rescans: a cron job whose only action is to trigger a quick scan.

use super::{ScanHandle, ScanOptions};
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

/// Starts the scheduler for `expression` (already validated by the config; 5 or 6 fields,
/// local time). Returns the running scheduler; dropping it does not stop it, `shutdown` does.
pub async fn start(expression: &str, scans: ScanHandle) -> Result<JobScheduler, JobSchedulerError> {
    let normalized =
        crate::config::cron_schedule(expression).map_err(|_| JobSchedulerError::ParseSchedule)?;
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async_tz(normalized.as_str(), chrono::Local, move |_, _| {
        let scans = scans.clone();
        Box::pin(async move {
            tracing::info!("scheduled scan");
            scans.trigger(ScanOptions::default());
        })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
