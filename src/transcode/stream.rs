//! The one place `transcode` meets the web server: blocking work (decode, encode) feeding a
//! bounded channel whose receiving end is an HTTP body. The channel holds a few chunks, so a
//! stream's memory stays bounded however slowly its client reads; when the client goes away
//! the body is dropped, the next send fails and the work stops. A client that stops reading
//! for `idle` ends the work too: the thread and the transcode slot go to someone else, and
//! the body ends short of its length once what was queued has been read.

use super::Flow;
use actix_web::web::Bytes;
use futures_util::Stream;
use std::io;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// Bytes per body chunk.
const CHUNK: usize = 64 * 1024;
/// Bytes of a body's first chunk: small, so the client gets its first bytes (the headers,
/// the first frames) as soon as they exist rather than once 64 KiB are encoded.
pub const FIRST_CHUNK: usize = 4 * 1024;
/// Chunks waiting for the client at most (with CHUNK: 256 KiB per stream).
const CHANNEL_CHUNKS: usize = 4;

/// Where blocking work puts the bytes of a body.
pub struct ChunkSink {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
    /// How long a send waits for room before the client counts as gone.
    idle: Duration,
    /// Whether a chunk went out already (the first one is `FIRST_CHUNK` bytes).
    started: bool,
}

impl ChunkSink {
    /// Queues bytes; `Flow::Stop` once the client is gone.
    pub fn send(&mut self, bytes: &[u8]) -> Flow {
        self.buffer.extend_from_slice(bytes);
        let chunk = if self.started { CHUNK } else { FIRST_CHUNK };
        if self.buffer.len() >= chunk {
            self.started = true;
            return self.flush();
        }
        Flow::Continue
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) -> Flow {
        if self.buffer.is_empty() {
            return Flow::Continue;
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.send_item(Ok(chunk))
    }

    /// Queues one item, waiting at most `idle` for room. The wait polls with a growing pause
    /// (a few ms up to 100 ms) rather than parking on the channel: a blocking thread has no
    /// timer of its own to bound a parked wait.
    fn send_item(&mut self, item: io::Result<Bytes>) -> Flow {
        let deadline = Instant::now() + self.idle;
        let mut pause = Duration::from_millis(2);
        let mut item = item;
        loop {
            match self.tx.try_send(item) {
                Ok(()) => return Flow::Continue,
                Err(TrySendError::Closed(_)) => return Flow::Stop,
                Err(TrySendError::Full(back)) => item = back,
            }
            if Instant::now() >= deadline {
                tracing::info!(
                    "a client read nothing for {} s; its stream is given up",
                    self.idle.as_secs()
                );
                return Flow::Stop;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Sends what is buffered, then an error: the server closes the connection short of the
    /// announced length, which tells the client the body is incomplete.
    pub fn fail(&mut self, why: String) {
        if self.flush() == Flow::Continue {
            let _ = self.send_item(Err(io::Error::other(why)));
        }
    }
}

/// A body whose bytes `work` produces on a blocking thread; the work is told to stop when
/// the body is dropped or not read for `idle`.
pub fn blocking_body<F>(idle: Duration, work: F) -> impl Stream<Item = io::Result<Bytes>> + 'static
where
    F: FnOnce(&mut ChunkSink) + Send + 'static,
{
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    actix_web::rt::task::spawn_blocking(move || {
        let mut sink = ChunkSink {
            tx,
            buffer: Vec::with_capacity(CHUNK),
            idle,
            started: false,
        };
        work(&mut sink);
        sink.flush();
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn the_body_carries_every_byte_in_order() {
        let body = blocking_body(LONG, |sink| {
            for i in 0..200_000u32 {
                sink.send(&i.to_le_bytes());
            }
        });
        let chunks: Vec<Bytes> = body.map(|c| c.unwrap()).collect().await;
        // A small first chunk (an early first byte), then full ones.
        assert_eq!(chunks[0].len(), FIRST_CHUNK);
        assert_eq!(chunks[1].len(), CHUNK);
        let bytes: Vec<u8> = chunks.concat();
        assert_eq!(bytes.len(), 800_000);
        assert_eq!(&bytes[4..8], &1u32.to_le_bytes());
        assert_eq!(&bytes[799_996..], &199_999u32.to_le_bytes());
    }

    #[tokio::test]
    async fn work_stops_when_the_body_is_dropped() {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let mut body = Box::pin(blocking_body(LONG, move |sink| {
            while sink.send(&[0; 1024]) == Flow::Continue {
                counter.fetch_add(1024, Ordering::SeqCst);
            }
            done_tx.send(()).unwrap();
        }));
        let _first = body.next().await;
        drop(body);
        done_rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the producer stopped");
        // Bounded: the producer got at most a few chunks ahead of the reader.
        assert!(sent.load(Ordering::SeqCst) <= (CHANNEL_CHUNKS + 3) * CHUNK);
    }

    #[tokio::test]
    async fn work_stops_when_the_body_is_not_read_for_the_idle_time() {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let body = blocking_body(Duration::from_millis(200), move |sink| {
            while sink.send(&[0; 1024]) == Flow::Continue {}
            done_tx.send(()).unwrap();
        });
        let started = std::time::Instant::now();
        let stopped = tokio::task::spawn_blocking(move || {
            done_rx.recv_timeout(std::time::Duration::from_secs(5))
        })
        .await
        .unwrap();
        assert!(stopped.is_ok(), "the producer gave up");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // What was queued is still delivered, then the body ends.
        let chunks: Vec<io::Result<Bytes>> = body.collect().await;
        assert_eq!(chunks.len(), CHANNEL_CHUNKS);
        assert!(chunks.iter().all(|c| c.is_ok()));
    }
}
