//! Outgoing HTTP for podcasts (ureq, blocking: only ever called on the podcast threads): feeds
//! and images read whole under a size limit, episodes streamed into a `.part` file that a
//! later attempt resumes with a Range request. Redirects are followed here, not by ureq, so a
//! loop is named as one and a permanent move (301, 308) is known to the caller.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Limits every fetch obeys.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    pub max_redirects: u32,
    pub max_feed_bytes: u64,
    pub max_episode_bytes: u64,
}

/// Why a fetch failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not an http(s) URL")]
    BadUrl(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the answer is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the redirects loop back to {0}")]
    RedirectLoop(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    #[error("the connection failed: {0}")]
    Network(String),
    #[error(
        "the download was cut off after {got} of {expected} bytes; it resumes from there next time"
    )]
    CutOff { got: u64, expected: u64 },
    #[error("the download stopped: {0}; it resumes from there next time")]
    Interrupted(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("the server is shutting down")]
    Stopped,
}

/// A whole document and where it was found.
#[derive(Debug)]
pub struct Document {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// The URL to use from now on when every redirect on the way was permanent.
    pub moved_to: Option<String>,
}

/// The HTTP client of the podcast threads.
pub struct Client {
    agent: ureq::Agent,
    limits: Limits,
}

impl Client {
    pub fn new(limits: Limits) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(limits.timeout))
            .timeout_recv_response(Some(limits.timeout))
            .timeout_per_read(Some(limits.timeout))
            .user_agent(concat!("MediaStreamer/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// GETs `url` (following redirects), the whole body at most `limit` bytes, within the
    /// timeout in all.
    pub fn document(&self, url: &str, limit: u64) -> Result<Document, FetchError> {
        let started = Instant::now();
        let (mut response, moved_to) = self.open(url, None)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(FetchError::Status(status));
        }
        let content_type = header(&response, "content-type");
        if let Some(length) =
            header(&response, "content-length").and_then(|l| l.parse::<u64>().ok())
            && length > limit
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut reader = response.body_mut().as_reader();
        let mut bytes = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if started.elapsed() > self.limits.timeout {
                return Err(FetchError::Network(format!(
                    "no complete answer within {} s",
                    self.limits.timeout.as_secs()
                )));
            }
            let n = reader
                .read(&mut chunk)
                .map_err(|e| FetchError::Network(e.to_string()))?;
            if n == 0 {
                break;
            }
            if bytes.len() as u64 + n as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk[..n]);
        }
        Ok(Document {
            bytes,
            content_type,
            moved_to,
        })
    }

    /// Downloads `url` into `part`, continuing what an earlier attempt left there (a Range
    /// request; a server that ignores it sends everything again). Calls `progress` with the
    /// bytes on disk and the total when known. Returns the size and the content type.
    pub fn download(
        &self,
        url: &str,
        part: &Path,
        stop: &AtomicBool,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<(u64, Option<String>), FetchError> {
        let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        let (mut response, _) = self.open(url, (have > 0).then_some(have))?;
        let status = response.status().as_u16();
        let resumed = match status {
            206 if content_range_start(&response) == Some(have) => true,
            200..=299 => false,
            // The part file is already whole, or the server lost track of it: start again.
            416 => {
                let _ = std::fs::remove_file(part);
                return Err(FetchError::Interrupted(
                    "the server refused to resume".into(),
                ));
            }
            other => return Err(FetchError::Status(other)),
        };
        let content_type = header(&response, "content-type");
        let remaining = header(&response, "content-length").and_then(|l| l.parse::<u64>().ok());
        let start = if resumed { have } else { 0 };
        let expected = remaining.map(|r| r + start);
        if let Some(total) = expected
            && total > self.limits.max_episode_bytes
        {
            return Err(FetchError::TooLarge {
                limit: self.limits.max_episode_bytes,
            });
        }
        let write_error = |e: std::io::Error| FetchError::Write {
            path: part.display().to_string(),
            message: e.to_string(),
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(part)
            .map_err(write_error)?;
        let mut reader = response.body_mut().as_reader();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut written = start;
        progress(written, expected);
        let mut last_report = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                file.flush().map_err(write_error)?;
                return Err(FetchError::Stopped);
            }
            let n = match reader.read(&mut chunk) {
                Ok(n) => n,
                Err(e) => {
                    file.flush().map_err(write_error)?;
                    return Err(match expected {
                        Some(expected) => FetchError::CutOff {
                            got: written,
                            expected,
                        },
                        None => FetchError::Interrupted(e.to_string()),
                    });
                }
            };
            if n == 0 {
                break;
            }
            if written + n as u64 > self.limits.max_episode_bytes {
                drop(file);
                let _ = std::fs::remove_file(part);
                return Err(FetchError::TooLarge {
                    limit: self.limits.max_episode_bytes,
                });
            }
            file.write_all(&chunk[..n]).map_err(write_error)?;
            written += n as u64;
            if last_report.elapsed() > Duration::from_millis(500) {
                progress(written, expected);
                last_report = Instant::now();
            }
        }
        file.sync_all().map_err(write_error)?;
        if let Some(expected) = expected
            && written < expected
        {
            return Err(FetchError::CutOff {
                got: written,
                expected,
            });
        }
        progress(written, Some(written));
        Ok((written, content_type))
    }

    /// Sends a GET (with a Range from `from` when given) and follows redirects by hand.
    /// Returns the final response and, when every hop was permanent, the final URL.
    fn open(
        &self,
        url: &str,
        from: Option<u64>,
    ) -> Result<(ureq::http::Response<ureq::Body>, Option<String>), FetchError> {
        let mut current = checked_url(url)?;
        let mut seen = vec![current.to_string()];
        let mut permanent = true;
        for _ in 0..=self.limits.max_redirects {
            let mut request = self.agent.get(current.as_str());
            if let Some(from) = from {
                request = request.header("Range", format!("bytes={from}-"));
            }
            let response = request
                .call()
                .map_err(|e| FetchError::Network(e.to_string()))?;
            let status = response.status().as_u16();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                let moved = (seen.len() > 1 && permanent).then(|| current.to_string());
                return Ok((response, moved));
            }
            permanent &= matches!(status, 301 | 308);
            let location = header(&response, "location").ok_or(FetchError::Status(status))?;
            let next = current
                .join(&location)
                .map_err(|_| FetchError::BadUrl(location.clone()))?;
            let next = checked_url(next.as_str())?;
            if seen.iter().any(|s| s == next.as_str()) {
                return Err(FetchError::RedirectLoop(next.to_string()));
            }
            seen.push(next.to_string());
            current = next;
        }
        Err(FetchError::TooManyRedirects(self.limits.max_redirects))
    }
}

/// `url` when it is an absolute http(s) URL.
pub fn checked_url(url: &str) -> Result<url::Url, FetchError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| FetchError::BadUrl(url.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(FetchError::BadUrl(url.to_string()));
    }
    Ok(parsed)
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The first byte of a 206's `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = header(response, "content-range")?;
    let range = value.strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}
