//! One thread per configured service: sends what the queue holds for it, oldest first per
//! user, in batches, removing items only once the service answered 2xx; a failure waits
//! (exponential backoff, per link), a rejected credential breaks the link. "Now playing"
//! notices come through the same thread's channel, best effort.

use super::listen::TrackInfo;
use super::store::{self, Kind, Queued};
use super::{Outcome, lastfm, listenbrainz};
use crate::db::DbPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

pub enum Message {
    /// Something was queued.
    Wake,
    NowPlaying {
        credential: String,
        track: Box<TrackInfo>,
    },
}

/// How a service is spoken to.
pub enum Sender {
    ListenBrainz(listenbrainz::Client),
    LastFm(lastfm::Client),
}

impl Sender {
    fn batch(&self) -> usize {
        match self {
            Sender::ListenBrainz(_) => listenbrainz::BATCH,
            Sender::LastFm(_) => lastfm::BATCH,
        }
    }

    /// Sends a run of items of one kind (several listens, or one love).
    fn send(&self, credential: &str, items: &[Queued]) -> Outcome {
        let listens: Vec<(i64, &TrackInfo)> =
            items.iter().map(|q| (q.played_at, &q.track)).collect();
        match (self, items[0].kind) {
            (Sender::ListenBrainz(c), Kind::Listen) => c.listens(credential, &listens),
            (Sender::LastFm(c), Kind::Listen) => c.scrobble(credential, &listens),
            (Sender::LastFm(c), kind) => c.love(credential, &items[0].track, kind == Kind::Love),
            // Loves are only queued for Last.fm links; one found elsewhere has nowhere to go.
            (Sender::ListenBrainz(_), _) => Outcome::Delivered,
        }
    }

    fn now_playing(&self, credential: &str, track: &TrackInfo) -> Outcome {
        match self {
            Sender::ListenBrainz(c) => c.now_playing(credential, track),
            Sender::LastFm(c) => c.now_playing(credential, track),
        }
    }
}

/// The wait after `failures` consecutive failures: `initial_ms` doubled per failure after
/// the first, at most `max_ms`.
pub fn backoff(failures: u32, initial_ms: u64, max_ms: u64) -> u64 {
    let doublings = failures.saturating_sub(1).min(40);
    initial_ms.saturating_mul(1u64 << doublings).min(max_ms)
}

/// The first items of a link's queue that go in one request: consecutive listens (up to the
/// batch size), or a single love/unlove.
pub fn run_of(mut head: Vec<Queued>) -> Vec<Queued> {
    let Some(first) = head.first() else {
        return head;
    };
    let end = if first.kind == Kind::Listen {
        head.iter()
            .position(|q| q.kind != Kind::Listen)
            .unwrap_or(head.len())
    } else {
        1
    };
    head.truncate(end);
    head
}

pub struct Worker {
    pub service: String,
    pub sender: Sender,
    pub pool: DbPool,
    pub inbox: Receiver<Message>,
    pub stop: Arc<AtomicBool>,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

/// Longest sleep with nothing due (a safety net; wakes come through the channel).
const IDLE: Duration = Duration::from_secs(60);

impl Worker {
    pub fn run(self) {
        tracing::debug!(service = %self.service, "scrobbling worker started");
        while !self.stop.load(Ordering::Relaxed) {
            let wait = match self.send_due() {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(service = %self.service, "scrobbling queue: {e}");
                    Duration::from_secs(1)
                }
            };
            match self.inbox.recv_timeout(wait) {
                Ok(Message::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Message::NowPlaying { credential, track }) => {
                    if let Outcome::Retry(reason) | Outcome::Rejected(reason) =
                        self.sender.now_playing(&credential, &track)
                    {
                        tracing::debug!(service = %self.service, "now playing not sent: {reason}");
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    /// Sends everything due, a batch per link in turn, until nothing is due; returns how long
    /// to wait for the next retry.
    fn send_due(&self) -> Result<Duration, Box<dyn std::error::Error>> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(Duration::ZERO);
            }
            let now = crate::db::now_ms();
            let due = store::due(&mut *self.pool.get()?, &self.service, now)?;
            if due.is_empty() {
                let next = store::next_retry(&mut *self.pool.get()?, &self.service)?;
                return Ok(match next {
                    Some(at) => Duration::from_millis((at - now).max(0) as u64).min(IDLE),
                    None => IDLE,
                });
            }
            for link in due {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                let head = store::head(
                    &mut *self.pool.get()?,
                    link.user_id,
                    &self.service,
                    self.sender.batch(),
                )?;
                let items = run_of(head);
                if items.is_empty() {
                    continue;
                }
                let outcome = self.sender.send(&link.credential, &items);
                let mut conn = self.pool.get()?;
                match outcome {
                    Outcome::Delivered => {
                        let ids: Vec<i64> = items.iter().map(|q| q.id).collect();
                        store::delivered(&mut conn, link.user_id, &self.service, &ids)?;
                    }
                    Outcome::Retry(reason) => {
                        let failures = (link.failures.max(0) as u32).saturating_add(1);
                        let wait = backoff(failures, self.retry_initial_ms, self.retry_max_ms);
                        tracing::debug!(
                            service = %self.service,
                            user = link.user_id,
                            "send failed ({failures} in a row), retrying in {wait} ms: {reason}"
                        );
                        let retry_at = crate::db::now_ms() + wait as i64;
                        store::failed(&mut conn, link.user_id, &self.service, &reason, retry_at)?;
                    }
                    Outcome::Rejected(reason) => {
                        tracing::warn!(
                            service = %self.service,
                            user = link.user_id,
                            "the service rejected the user's link, not retrying: {reason}"
                        );
                        store::rejected(
                            &mut conn,
                            link.user_id,
                            &self.service,
                            &link.credential,
                            &reason,
                        )?;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1, 100, 10_000), 100);
        assert_eq!(backoff(2, 100, 10_000), 200);
        assert_eq!(backoff(5, 100, 10_000), 1_600);
        assert_eq!(backoff(8, 100, 10_000), 10_000);
        assert_eq!(backoff(u32::MAX, 100, 10_000), 10_000);
        assert_eq!(backoff(0, 100, 10_000), 100);
    }

    fn q(id: i64, kind: Kind) -> Queued {
        Queued {
            id,
            kind,
            played_at: id,
            track: TrackInfo::default(),
        }
    }

    #[test]
    fn a_run_is_consecutive_listens_or_one_love() {
        let ids = |v: Vec<Queued>| v.iter().map(|q| q.id).collect::<Vec<_>>();
        let head = vec![
            q(1, Kind::Listen),
            q(2, Kind::Listen),
            q(3, Kind::Love),
            q(4, Kind::Listen),
        ];
        assert_eq!(ids(run_of(head)), vec![1, 2]);
        let head = vec![q(3, Kind::Love), q(4, Kind::Unlove), q(5, Kind::Listen)];
        assert_eq!(ids(run_of(head)), vec![3]);
        assert!(run_of(Vec::new()).is_empty());
    }
}
