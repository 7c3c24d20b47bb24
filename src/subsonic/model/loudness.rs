//! Our `loudnessStatus` (getLoudnessStatus, startLoudnessAnalysis, stopLoudnessAnalysis).

use super::iso_time;
use crate::subsonic::response::{Element, ToElement};

/// Our `loudnessStatus`: the analysis job and its progress (tracks still to measure).
#[derive(Debug, Clone, PartialEq)]
pub struct LoudnessStatus {
    /// `loudness.enabled`.
    pub enabled: bool,
    /// A run is going on or about to.
    pub running: bool,
    /// Tracks without gain tags still waiting for a measurement.
    pub pending: i64,
    /// Tracks with a current measurement.
    pub measured: i64,
    /// Tracks that could not be measured (see `failure`).
    pub failed: i64,
    /// Tracks measured in the current (or last) run, and the seconds of audio they held.
    pub run_tracks: u64,
    pub run_seconds: f64,
    /// When the last run ended (epoch ms) and how: finished, cancelled, deferred, failed.
    pub last_run: Option<(i64, &'static str)>,
    pub failures: Vec<LoudnessFailure>,
}

/// Our `failure`: a track that got no computed gain, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LoudnessFailure {
    pub id: String,
    pub path: String,
    pub reason: String,
}

impl ToElement for LoudnessFailure {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("id", self.id)
            .attr("path", self.path)
            .attr("reason", self.reason)
    }
}

impl ToElement for LoudnessStatus {
    fn into_element(self, name: &'static str) -> Element {
        Element::new(name)
            .attr("enabled", self.enabled)
            .attr("running", self.running)
            .attr("pending", self.pending)
            .attr("measured", self.measured)
            .attr("failed", self.failed)
            .attr("runTracks", self.run_tracks as i64)
            .attr("runSeconds", (self.run_seconds * 10.0).round() / 10.0)
            .attr_opt("lastRun", self.last_run.map(|(ms, _)| iso_time(ms)))
            .attr_opt("lastRunEnd", self.last_run.map(|(_, end)| end))
            .items("failure", self.failures)
    }
}
