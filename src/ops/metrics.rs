//! Prometheus metrics at `/metrics` (config `[metrics]`; off by default, optionally behind a
//! bearer token). Requests and latencies are counted as they happen; the scanner, transcoder,
//! cache and user figures are read from the running server at each scrape.

use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after their last authenticated request a user counts as active.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The server's metrics, in a registry of its own (nothing global).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    scanning: IntGauge,
    scan_seconds: Gauge,
    scan_files: IntGauge,
    scan_errors: IntGauge,
    catalog_tracks: IntGauge,
    transcodes_running: IntGauge,
    transcodes_waiting: IntGauge,
    cache_bytes: IntGaugeVec,
    active_users: IntGauge,
    /// Users' last authenticated request.
    seen: Mutex<HashMap<i32, Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "mediastreamer_http_requests_total",
                "HTTP requests answered, by method and status code",
            ),
            &["method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "mediastreamer_http_request_duration_seconds",
                "Time to the response's head, by method",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let scanning = gauge("mediastreamer_scan_running", "1 while a library scan runs");
        let scan_seconds = Gauge::new(
            "mediastreamer_scan_last_duration_seconds",
            "Duration of the last finished scan",
        )
        .expect("valid metric");
        let scan_files = gauge(
            "mediastreamer_scan_last_files",
            "Audio files the last finished scan looked at",
        );
        let scan_errors = gauge(
            "mediastreamer_scan_last_errors",
            "Files the last finished scan could not read",
        );
        let catalog_tracks = gauge(
            "mediastreamer_catalog_tracks",
            "Tracks in the catalog after the last finished scan",
        );
        let transcodes_running = gauge(
            "mediastreamer_transcodes_running",
            "Transcoded streams in progress",
        );
        let transcodes_waiting = gauge(
            "mediastreamer_transcodes_waiting",
            "Transcode requests waiting for a free slot",
        );
        let cache_bytes = IntGaugeVec::new(
            Opts::new("mediastreamer_cache_bytes", "Size of a disk cache"),
            &["cache"],
        )
        .expect("valid metric");
        let active_users = gauge(
            "mediastreamer_active_users",
            "Users with an authenticated request in the last 15 minutes",
        );
        let metrics = Metrics {
            registry,
            requests,
            latency,
            scanning,
            scan_seconds,
            scan_files,
            scan_errors,
            catalog_tracks,
            transcodes_running,
            transcodes_waiting,
            cache_bytes,
            active_users,
            seen: Mutex::new(HashMap::new()),
        };
        for collector in [
            Box::new(metrics.requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.latency.clone()),
            Box::new(metrics.scanning.clone()),
            Box::new(metrics.scan_seconds.clone()),
            Box::new(metrics.scan_files.clone()),
            Box::new(metrics.scan_errors.clone()),
            Box::new(metrics.catalog_tracks.clone()),
            Box::new(metrics.transcodes_running.clone()),
            Box::new(metrics.transcodes_waiting.clone()),
            Box::new(metrics.cache_bytes.clone()),
            Box::new(metrics.active_users.clone()),
        ] {
            metrics
                .registry
                .register(collector)
                .expect("metric names are unique");
        }
        metrics
    }

    /// Counts one answered request. Unusual methods share one label so that clients cannot
    /// grow the set of series.
    pub fn request(&self, method: &actix_web::http::Method, status: u16, elapsed: Duration) {
        use actix_web::http::Method;
        let method = match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            _ => "OTHER",
        };
        // The server picks the status codes, so they are a small set.
        self.requests
            .with_label_values(&[method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method])
            .observe(elapsed.as_secs_f64());
    }

    /// Notes an authenticated request of `user_id` (for the active-users gauge).
    pub fn user_seen(&self, user_id: i32) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user_id, Instant::now());
    }

    /// The exposition text, with the figures read from `state` now.
    fn render(&self, state: &AppState) -> String {
        let status = state.scans.status();
        self.scanning.set(i64::from(status.scanning));
        if let Some(report) = state.scans.last_report() {
            self.scan_seconds.set(report.seconds);
            self.scan_errors.set(report.errors as i64);
            self.catalog_tracks.set(report.tracks);
            if !status.scanning {
                // Between scans the progress counters hold the last scan's figures.
                self.scan_files.set(status.files_seen as i64);
            }
        }
        let (running, waiting) = state.transcoder.load();
        self.transcodes_running.set(running as i64);
        self.transcodes_waiting.set(waiting as i64);
        self.cache_bytes
            .with_label_values(&["transcode"])
            .set(state.transcoder.cache.total_bytes() as i64);
        self.cache_bytes
            .with_label_values(&["artwork"])
            .set(state.artwork.cache().total_bytes() as i64);
        let active = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.retain(|_, at| at.elapsed() < ACTIVE_WINDOW);
            seen.len()
        };
        self.active_users.set(active as i64);
        prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

/// Mounts `/metrics`: the metrics when `metrics.enabled`, else 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

async fn scrape(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let settings = &state.config.metrics;
    if !settings.enabled {
        return HttpResponse::NotFound().finish();
    }
    if !settings.token.is_empty() && !bearer_matches(&request, &settings.token) {
        return HttpResponse::build(StatusCode::UNAUTHORIZED)
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .finish();
    }
    let state = state.into_inner();
    // Cache sizes are summed from disk: off the async threads.
    let body = web::block(move || state.metrics.render(&state))
        .await
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn bearer_matches(request: &HttpRequest, token: &str) -> bool {
    let Some(given) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    // Compare in constant time: the token is a secret.
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
