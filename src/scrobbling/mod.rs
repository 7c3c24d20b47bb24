//! Scrobbling to outside services: ListenBrainz-compatible servers and Last.fm.
//!
//! The `scrobble` handler writes listens into a durable queue (`store`, in the same
//! transaction as the local play counts) and wakes this module's workers (`worker`, one
//! thread per configured service, blocking `ureq` calls, never on the async threads), which
//! send them in order per user, in batches, with retries and backoff, and remove them only
//! once the service took them. "Now playing" is best effort and never queued durably.
//! Linking: ListenBrainz tokens are validated (`listenbrainz`), Last.fm sessions come from
//! its web authentication (`lastfm`, `callback`).

pub mod callback;
#[cfg(any(test, feature = "synth"))]
pub mod fake;
pub mod lastfm;
pub mod listen;
pub mod listenbrainz;
pub mod store;
pub mod worker;

use crate::config::{LASTFM_SERVICE, ScrobblingConfig};
use crate::db::DbPool;
use listen::TrackInfo;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use worker::{Message, Sender, Worker};

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service took it (2xx).
    Delivered,
    /// Worth trying again later (connection failed, 5xx, rate limit...).
    Retry(String),
    /// The service does not accept the user's token or session: retrying cannot help.
    Rejected(String),
}

impl Outcome {
    pub fn reason(self) -> String {
        match self {
            Outcome::Delivered => "delivered".into(),
            Outcome::Retry(r) | Outcome::Rejected(r) => r,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    ListenBrainz,
    LastFm,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::ListenBrainz => "listenbrainz",
            ServiceKind::LastFm => "lastfm",
        }
    }
}

/// A configured service people may link.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub kind: ServiceKind,
}

/// How long a Last.fm authorisation started by `lastfm_auth_url` may take.
const AUTH_STATE_TTL_MS: i64 = 30 * 60 * 1000;

/// The running scrobbling service (in `AppState`).
pub struct Scrobbler {
    config: ScrobblingConfig,
    services: Vec<Service>,
    inboxes: HashMap<String, SyncSender<Message>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    stop: Arc<AtomicBool>,
    /// Last.fm authorisations under way: the `state` of the callback URL → (user, expiry).
    auth_states: Mutex<HashMap<String, (i32, i64)>>,
    agent: ureq::Agent,
}

/// An HTTP agent that hands every status to the caller and gives up after `timeout`.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(format!(
            "{}/{}",
            listen::SUBMISSION_CLIENT,
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .into()
}

impl Scrobbler {
    /// Starts one worker thread per configured service; with none, nothing runs. The queue
    /// left by an earlier run is read at once.
    pub fn start(config: &ScrobblingConfig, pool: DbPool) -> Self {
        let agent = agent(Duration::from_secs(config.timeout_secs));
        let stop = Arc::new(AtomicBool::new(false));
        let mut services = Vec::new();
        let mut workers = Vec::new();
        for lb in &config.listenbrainz {
            services.push(Service {
                id: lb.id.clone(),
                name: lb.name.clone(),
                kind: ServiceKind::ListenBrainz,
            });
            workers.push((
                lb.id.clone(),
                Sender::ListenBrainz(listenbrainz::Client::new(&lb.url, agent.clone())),
            ));
        }
        if config.lastfm.enabled() {
            services.push(Service {
                id: LASTFM_SERVICE.into(),
                name: "Last.fm".into(),
                kind: ServiceKind::LastFm,
            });
            workers.push((
                LASTFM_SERVICE.into(),
                Sender::LastFm(lastfm::Client::new(config.lastfm.clone(), agent.clone())),
            ));
        }
        let mut inboxes = HashMap::new();
        let mut threads = Vec::new();
        for (id, sender) in workers {
            // Wakes and "now playing" notices; when full, a wake is redundant and a notice
            // is dropped (best effort).
            let (tx, rx) = std::sync::mpsc::sync_channel(64);
            let worker = Worker {
                service: id.clone(),
                sender,
                pool: pool.clone(),
                inbox: rx,
                stop: stop.clone(),
                retry_initial_ms: config.retry_initial_ms,
                retry_max_ms: config.retry_max_ms,
            };
            match std::thread::Builder::new()
                .name(format!("scrobble-{id}"))
                .spawn(move || worker.run())
            {
                Ok(handle) => threads.push(handle),
                Err(e) => tracing::error!("cannot start the scrobbling worker of {id}: {e}"),
            }
            inboxes.insert(id, tx);
        }
        Self {
            config: config.clone(),
            services,
            inboxes,
            threads: Mutex::new(threads),
            stop,
            auth_states: Mutex::default(),
            agent,
        }
    }

    /// The services people may link, in configuration order (Last.fm last).
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Tells the workers something was queued.
    pub fn wake(&self) {
        for inbox in self.inboxes.values() {
            let _ = inbox.try_send(Message::Wake);
        }
    }

    /// Hands "now playing" to the workers of the user's working links; never waits.
    pub fn now_playing(&self, targets: Vec<store::Target>, track: &TrackInfo) {
        for target in targets {
            if let Some(inbox) = self.inboxes.get(&target.service) {
                let message = Message::NowPlaying {
                    credential: target.credential,
                    track: Box::new(track.clone()),
                };
                if let Err(TrySendError::Full(_)) = inbox.try_send(message) {
                    tracing::debug!(service = %target.service, "now playing dropped: busy");
                }
            }
        }
    }

    /// Checks a ListenBrainz token with the service (blocking): the account name, or why not.
    pub fn validate_listenbrainz(&self, service: &str, token: &str) -> Result<String, String> {
        let lb = self
            .config
            .listenbrainz
            .iter()
            .find(|s| s.id == service)
            .ok_or_else(|| format!("{service} is not a ListenBrainz service"))?;
        listenbrainz::Client::new(&lb.url, self.agent.clone()).validate(token)
    }

    /// Starts a Last.fm authorisation for a user: the page to send them to, whose callback
    /// is `<base>/scrobbling/lastfm/callback?state=…`. None when Last.fm is not configured.
    pub fn lastfm_auth_url(&self, user_id: i32, request_base: &str) -> Option<String> {
        if !self.config.lastfm.enabled() {
            return None;
        }
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        let state: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = crate::db::now_ms();
        {
            let mut states = self.auth_states.lock().unwrap_or_else(|e| e.into_inner());
            states.retain(|_, (_, expires)| *expires > now);
            states.insert(state.clone(), (user_id, now + AUTH_STATE_TTL_MS));
        }
        let base = if self.config.public_url.is_empty() {
            request_base.trim_end_matches('/')
        } else {
            &self.config.public_url
        };
        let callback = format!("{base}{}?state={state}", callback::PATH);
        Some(lastfm::auth_url(&self.config.lastfm, &callback))
    }

    /// Finishes a Last.fm authorisation (blocking): the user who started it, the session key
    /// and the account name. The state is used once.
    pub fn lastfm_session(
        &self,
        state: &str,
        token: &str,
    ) -> Result<(i32, String, String), String> {
        let now = crate::db::now_ms();
        let user = {
            let mut states = self.auth_states.lock().unwrap_or_else(|e| e.into_inner());
            states.remove(state)
        };
        let user_id = match user {
            Some((user_id, expires)) if expires > now => user_id,
            _ => {
                return Err(
                    "this link is unknown or expired; start again from Settings".to_string()
                );
            }
        };
        let client = lastfm::Client::new(self.config.lastfm.clone(), self.agent.clone());
        let (key, name) = client.session(token)?;
        Ok((user_id, key, name))
    }

    /// Stops the workers (after the request each is making, if any).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}
