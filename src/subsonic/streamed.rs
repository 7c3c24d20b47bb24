//! Answers too big to build whole (getPlaylist of 100,000 songs, ~80 MB of text): the
//! envelope's head, then the items of its one list, then its tail, written while they are
//! read from the database, so a call's memory is a few chunks whatever the list's length.
//!
//! The producer is blocking work (`transcode::stream::blocking_body`) holding one pooled
//! connection and one read transaction from its first read to its last, so the whole answer
//! is one snapshot, as every other operation's. Its bytes go through a bounded channel to the
//! HTTP body; a client that goes away, or reads nothing for `transcode.idle_secs`, ends it
//! (thread, connection and transaction given back). At most `MediaLimits::answers` producers
//! run at once (four, two per user); the others wait for a turn without holding a thread.
//!
//! Errors before the head (no such playlist, not allowed, no connection) are ordinary error
//! envelopes. After the head the status is already "ok" on the wire: an error ends the body
//! early (the connection closes without the chunked terminator, so the client sees a broken
//! transfer, never a complete-looking document) and is logged with the method and its item.

use super::auth::Ctx;
use super::error::ApiError;
use super::model::{Child, View};
use super::response::{self, Element, Format, ToElement};
use super::shared::annotated_tracks;
use crate::library::TrackView;
use crate::transcode::Flow;
use crate::transcode::stream::{ChunkSink, blocking_body};
use actix_web::web::Bytes;
use diesel::SqliteConnection;
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;

/// Songs loaded (views, annotations) and rendered at a time.
const SONGS_PER_CHUNK: usize = 500;

/// A streamed answer for `dispatch`: its content type and its body.
pub struct Streamed {
    pub content_type: &'static str,
    pub body: Pin<Box<dyn Stream<Item = io::Result<Bytes>>>>,
}

/// Where a producer writes its answer: `open` with the head, then `push` each item.
pub struct Items<'s> {
    sink: &'s mut ChunkSink,
    format: Format,
    /// Told once the head is out (or the producer failed before it).
    opened: Option<oneshot::Sender<Result<(), ApiError>>>,
    list: &'static str,
    tail: String,
    pushed: bool,
    stopped: bool,
    text: String,
}

impl Items<'_> {
    /// Sends the envelope's head: `payload` holds the one `streamed_list` that `push` fills.
    /// From here on the answer is "ok".
    pub fn open(&mut self, payload: Element, list: &'static str) -> Flow {
        let envelope = response::render_streamed(&self.format, payload.streamed_list(list));
        self.list = list;
        self.tail = envelope.tail;
        if let Some(opened) = self.opened.take() {
            let _ = opened.send(Ok(()));
        }
        self.write(envelope.head.as_bytes())
    }

    /// Sends a whole envelope instead, with `payload` (no list to stream: a play queue never
    /// saved).
    pub fn whole(&mut self, payload: Option<Element>) -> Flow {
        let (_, body) = response::render(&self.format, true, payload);
        if let Some(opened) = self.opened.take() {
            let _ = opened.send(Ok(()));
        }
        self.write(body.as_bytes())
    }

    /// Sends songs as items: `ids` in order (repeats kept; ids with no track skipped), loaded
    /// `SONGS_PER_CHUNK` at a time with `user`'s annotations, built with `view`.
    pub fn songs(
        &mut self,
        c: &mut SqliteConnection,
        user: i32,
        view: &View,
        ids: &[i32],
    ) -> Result<Flow, ApiError> {
        for chunk in ids.chunks(SONGS_PER_CHUNK) {
            let mut unique = chunk.to_vec();
            unique.sort_unstable();
            unique.dedup();
            let (views, notes) = annotated_tracks(c, user, &unique)?;
            let views: HashMap<i32, &TrackView> = views.iter().map(|v| (v.track.id, v)).collect();
            for v in chunk.iter().filter_map(|id| views.get(id)) {
                let entry = Child::song(v, notes.get(&v.track.id), view).into_element(self.list);
                if self.push(&entry) == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends one item of the list; `Flow::Stop` once the client is gone.
    pub fn push(&mut self, item: &Element) -> Flow {
        self.text.clear();
        response::write_item(&self.format, self.list, item, !self.pushed, &mut self.text);
        self.pushed = true;
        let text = std::mem::take(&mut self.text);
        let flow = self.write(text.as_bytes());
        self.text = text;
        flow
    }

    fn write(&mut self, bytes: &[u8]) -> Flow {
        if self.stopped {
            return Flow::Stop;
        }
        if self.sink.send(bytes) == Flow::Stop {
            self.stopped = true;
        }
        if self.stopped {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

/// A whole envelope with `payload` as a streamed method's answer, in one chunk: for answers
/// short enough to build whole (createPlaylist of a short playlist). The same bytes as the
/// envelope path of every other method.
pub fn whole(ctx: &Ctx, payload: Element) -> Streamed {
    let (content_type, body) = response::render(&ctx.format, true, Some(payload));
    Streamed {
        content_type,
        body: Box::pin(futures_util::stream::once(
            async move { Ok(Bytes::from(body)) },
        )),
    }
}

/// Runs `work` as the producer of a streamed answer (see the module's comment); `what` names
/// the call in the log ("getPlaylist pl-3"). Waits for the head (or an error before it).
pub async fn answer<F>(ctx: &Ctx, what: String, work: F) -> Result<Streamed, ApiError>
where
    F: FnOnce(&mut SqliteConnection, &mut Items) -> Result<(), ApiError> + Send + 'static,
{
    let turn = ctx
        .state
        .media
        .answers
        .take(ctx.user.id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let catalog = ctx.state.catalog.clone();
    let format = ctx.format.clone();
    let content_type = response::content_type(&format);
    let (opened, head) = oneshot::channel();
    let idle = ctx.state.transcoder.settings.idle;
    let producer = what.clone();
    // Set once the tail is queued: a body that ends without it (its client given up for not
    // reading, an error after the head) ends with an error, so the connection closes without
    // the chunked terminator and the client cannot take the cut document for a whole one.
    let whole = Arc::new(AtomicBool::new(false));
    let finished = whole.clone();
    let body = blocking_body(idle, move |sink| {
        let _turn = turn;
        let mut items = Items {
            sink,
            format,
            opened: Some(opened),
            list: "",
            tail: String::new(),
            pushed: false,
            stopped: false,
            text: String::new(),
        };
        match catalog.read(|c| work(c, &mut items)) {
            Ok(()) => {
                let tail = std::mem::take(&mut items.tail);
                if items.write(tail.as_bytes()) == Flow::Continue
                    && items.sink.flush() == Flow::Continue
                {
                    whole.store(true, Ordering::SeqCst);
                }
            }
            Err(e) => match items.opened.take() {
                Some(opened) => {
                    let _ = opened.send(Err(e));
                }
                None => {
                    tracing::error!("{producer}: the answer ended early: {e:?}");
                    if !items.stopped {
                        items.sink.fail(format!("{producer}: {e}"));
                    }
                }
            },
        }
    });
    match head.await {
        Ok(Ok(())) => {
            let cut = futures_util::stream::once(async move { finished.load(Ordering::SeqCst) })
                .filter_map(|whole| async move {
                    (!whole).then(|| Err(io::Error::other("the answer was cut short")))
                });
            Ok(Streamed {
                content_type,
                body: Box::pin(body.chain(cut)),
            })
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::Internal(format!(
            "{what}: the answer's producer stopped before its head"
        ))),
    }
}
