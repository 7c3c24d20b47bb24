//! What media streams may take from the server, so that hostile or careless clients cannot
//! starve it: streams read their files in short blocking tasks, at most `io_threads` of them
//! at once (the blocking pool, which the database calls share, keeps the rest of its
//! capacity), and each user holds at most `per_user` media connections at once.

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::Semaphore;

/// The limits of `[limits]` that media streams obey.
pub struct MediaLimits {
    pub io: BlockingIo,
    pub streams: UserStreams,
    /// Streamed API answers (huge playlists) being produced at once. Each holds a blocking
    /// thread, a pooled connection and its read transaction while its client reads, so they
    /// get a fixed share of the pool (8 connections) and the rest waits.
    pub answers: AnswerTurns,
}

/// Streamed API answers produced at once, server-wide (see `MediaLimits::answers`).
const ANSWERS_AT_ONCE: usize = 4;
/// ... and per user: one user's slow readers cannot take every turn from everyone else.
const ANSWERS_PER_USER: usize = 2;

impl MediaLimits {
    pub fn from_config(config: &crate::config::LimitsConfig) -> Self {
        Self {
            io: BlockingIo::new(config.stream_io_threads),
            streams: UserStreams::new(config.streams_per_user),
            answers: AnswerTurns::new(ANSWERS_AT_ONCE, ANSWERS_PER_USER),
        }
    }
}

/// Turns to produce a streamed answer: at most `at_once` server-wide and `per_user` per user.
/// Waiting for a turn is async and holds nothing.
pub struct AnswerTurns {
    server: Arc<Semaphore>,
    per_user: usize,
    users: Mutex<HashMap<i32, Arc<Semaphore>>>,
}

/// A turn held while an answer is produced; dropping it gives it back.
pub struct AnswerTurn {
    _user: tokio::sync::OwnedSemaphorePermit,
    _server: tokio::sync::OwnedSemaphorePermit,
}

impl AnswerTurns {
    pub fn new(at_once: usize, per_user: usize) -> Self {
        Self {
            server: Arc::new(Semaphore::new(at_once.max(1))),
            per_user: per_user.max(1),
            users: Mutex::default(),
        }
    }

    /// Waits for `user`'s turn: first one of the user's own, then one of the server's (so a
    /// user over their share waits without holding a server-wide turn).
    pub async fn take(&self, user: i32) -> Result<AnswerTurn, tokio::sync::AcquireError> {
        let mine = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            // Users with no answer running or waiting are forgotten.
            users.retain(|_, s| Arc::strong_count(s) > 1);
            users
                .entry(user)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_user)))
                .clone()
        };
        let user_turn = mine.acquire_owned().await?;
        let server_turn = self.server.clone().acquire_owned().await?;
        Ok(AnswerTurn {
            _user: user_turn,
            _server: server_turn,
        })
    }
}

/// Runs the blocking file work of streams, a bounded number of tasks at a time.
#[derive(Clone)]
pub struct BlockingIo {
    permits: Arc<Semaphore>,
}

impl BlockingIo {
    /// At most `threads` tasks at once (at least one).
    pub fn new(threads: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(threads.max(1))),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free. The wait is async: a stream
    /// waiting here holds no thread.
    pub async fn run<T, F>(&self, work: F) -> io::Result<T>
    where
        F: FnOnce() -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(io::Error::other)?;
        actix_web::rt::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// Media connections open per user.
pub struct UserStreams {
    per_user: usize,
    open: Arc<Mutex<HashMap<i32, usize>>>,
}

/// One open media connection of a user; dropping it (with the response body) closes it.
pub struct StreamSlot {
    user: i32,
    open: Arc<Mutex<HashMap<i32, usize>>>,
}

impl UserStreams {
    /// At most `per_user` connections per user (0: no limit).
    pub fn new(per_user: usize) -> Self {
        Self {
            per_user,
            open: Arc::default(),
        }
    }

    /// The limit per user (0: none).
    pub fn per_user(&self) -> usize {
        self.per_user
    }

    /// A slot for one more connection of `user`, or None when the user has all theirs open.
    pub fn open(&self, user: i32) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user).or_insert(0);
        if self.per_user > 0 && *count >= self.per_user {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            user,
            open: self.open.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// A response body that keeps a connection slot until it is done or dropped.
pub struct SlotBody<B> {
    body: B,
    _slot: StreamSlot,
}

impl<B> SlotBody<B> {
    pub fn new(body: B, slot: StreamSlot) -> Self {
        Self { body, _slot: slot }
    }
}

impl<B: MessageBody + Unpin> MessageBody for SlotBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_user_and_given_back() {
        let streams = UserStreams::new(2);
        let a1 = streams.open(1).unwrap();
        let _a2 = streams.open(1).unwrap();
        assert!(streams.open(1).is_none(), "a third for user 1");
        let _b = streams.open(2).expect("user 2 has their own");
        drop(a1);
        assert!(streams.open(1).is_some(), "freed by the drop");
        let unlimited = UserStreams::new(0);
        let many: Vec<_> = (0..100).filter_map(|_| unlimited.open(1)).collect();
        assert_eq!(many.len(), 100);
    }

    #[actix_web::test]
    async fn one_user_cannot_take_every_answer_turn() {
        use std::time::Duration;
        let turns = AnswerTurns::new(3, 2);
        let _a1 = turns.take(1).await.unwrap();
        let a2 = turns.take(1).await.unwrap();
        // User 1's third answer waits, though the server has a turn left...
        let third = tokio::time::timeout(Duration::from_millis(50), turns.take(1)).await;
        assert!(third.is_err(), "user 1 got a third turn");
        // ... which user 2 gets.
        let b1 = tokio::time::timeout(Duration::from_millis(50), turns.take(2)).await;
        assert!(b1.is_ok(), "user 2 waited behind user 1");
        // The server's turns are all taken now: user 2's second waits for one.
        let b2 = tokio::time::timeout(Duration::from_millis(50), turns.take(2)).await;
        assert!(b2.is_err(), "more than three turns at once");
        drop(a2);
        let again = tokio::time::timeout(Duration::from_millis(50), turns.take(1)).await;
        assert!(again.is_ok(), "a given-back turn is taken again");
    }

    #[actix_web::test]
    async fn blocking_work_runs_a_bounded_number_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let io = BlockingIo::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            io.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        });
        for r in futures_util::future::join_all(tasks).await {
            r.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
