//! Live delivery as server-sent events, for the widget and the agent console alike. A stream
//! starts after the last message id the client saw (`?after=N`), so a reconnecting client
//! misses nothing and sees nothing twice. It works across instances: messages are read from
//! the store, and the store's bell (Redis pub/sub, re-subscribed after a restart) only says
//! when to read; a quiet period re-reads anyway. Only the transport is here: what a `status`
//! event says comes from the handoff service.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, http::header};
use futures_util::stream::{self, Stream};
use serde::Serialize;

use super::AppState;
use super::wire::Message;
use crate::error::{ApiError, ErrorCode};
pub use crate::handoff::service::Status;
use crate::store::{ConversationStore, HandoffStore};

/// What an event stream sends, for the OpenAPI document: each event's name and its data.
pub const EVENTS: &str = "Server-sent events (the schema is each event's). `message` (its `id:` \
    is the message id, its data a `Message`): every message after `?after=`, then each new one. \
    `status` (data a `Status`): who holds the conversation, the queue place and who is typing, \
    once when the stream opens and on every change. `gone` (data `{}`): the conversation was erased; the stream \
    ends. Comments (`: keepalive`) keep the connection open while nothing happens.";

/// What the console's queue stream sends, for the OpenAPI document.
pub const QUEUE_EVENTS: &str = "Server-sent events (the schema is each event's). `queue` (data `{}`): \
    once when the stream opens and whenever a conversation joins or leaves a queue; read the queue then. \
    Comments (`: keepalive`) keep the connection open while the queues are still.";

/// How long a stream waits for its bell before re-reading anyway while a person holds the
/// conversation or someone is shown typing (a typing indicator lapses without an event).
const QUICK: Duration = Duration::from_millis(1500);
/// Otherwise news is pushed (messages, typing and queue moves ring the bell), so a quiet stream
/// only sends a keepalive comment this often, and re-reads as a safety net once in
/// `QUIET_READ_EVERY` keepalives (5 minutes): an idle stream costs the store next to nothing.
/// A queued resident's stream re-reads each minute, for the estimated wait, which moves with
/// the agents online.
const QUIET: Duration = Duration::from_secs(15);
const QUIET_READ_EVERY: u32 = 20;
const QUEUED_READ_EVERY: u32 = 4;
/// How long a stream waits before reading again while the store does not answer.
const STORE_RETRY: Duration = Duration::from_millis(500);

/// Open streams, counted so that one conversation or one instance cannot hold without limit:
/// each stream holds a [`StreamSlot`] that gives its place back when the stream is dropped.
#[derive(Default)]
pub struct StreamCounts {
    per_conversation: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    total: std::sync::atomic::AtomicUsize,
}

/// Streams one conversation may hold open at once: a resident's tabs, agents watching it, and
/// the overlap while a dropped one reconnects.
pub const STREAMS_PER_CONVERSATION: usize = 8;

pub struct StreamSlot {
    counts: std::sync::Arc<StreamCounts>,
    id: String,
}

impl StreamCounts {
    /// A place for one more stream on `id`, or the error that says why not.
    pub fn open(
        counts: &std::sync::Arc<StreamCounts>,
        id: &str,
        instance_limit: usize,
    ) -> Result<StreamSlot, ApiError> {
        use std::sync::atomic::Ordering;
        let mut per = counts.per_conversation.lock().unwrap_or_else(|e| e.into_inner());
        if counts.total.load(Ordering::Relaxed) >= instance_limit {
            return Err(ApiError::new(
                ErrorCode::Busy,
                "The service is busy. Please try again in a few seconds.",
            ));
        }
        let open = per.entry(id.to_string()).or_default();
        if *open >= STREAMS_PER_CONVERSATION {
            return Err(ApiError::new(
                ErrorCode::TooManyStreams,
                "This conversation has too many live connections. Close a window and try again.",
            ));
        }
        *open += 1;
        counts.total.fetch_add(1, Ordering::Relaxed);
        Ok(StreamSlot { counts: counts.clone(), id: id.to_string() })
    }

    pub fn total(&self) -> usize {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut per = self.counts.per_conversation.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = per.get_mut(&self.id) {
            *open -= 1;
            if *open == 0 {
                per.remove(&self.id);
            }
        }
        self.counts.total.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

struct Feed {
    /// Held for the stream's life; dropping the stream gives the place back.
    _slot: StreamSlot,
    state: web::Data<AppState>,
    id: String,
    after: u64,
    bell: std::sync::Arc<crate::store::Bell>,
    last_status: Option<Status>,
    /// Keepalives sent since the last read.
    quiet: u32,
    /// Whether the next turn reads the store (at the start, after a ring, or as the safety net).
    read_due: bool,
    pending: VecDeque<Bytes>,
    finished: bool,
}

fn event(kind: &str, id: Option<u64>, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    let id_line = id.map(|n| format!("id: {n}\n")).unwrap_or_default();
    Bytes::from(format!("{id_line}event: {kind}\ndata: {json}\n\n"))
}

impl Feed {
    /// Reads what is new and queues it as events; false when the conversation is gone.
    async fn refresh(&mut self) -> bool {
        match self.state.store.messages(&self.id, self.after).await {
            Ok(messages) => {
                for stored in messages {
                    self.after = stored.id;
                    self.pending.push_back(event("message", Some(stored.id), &Message::from(stored)));
                }
            }
            Err(_) => {
                // Wait before the next read, so a store outage is not a busy loop; the bell
                // rings as soon as the listener is subscribed again.
                let _ = tokio::time::timeout(STORE_RETRY, self.bell.rung()).await;
                self.pending.push_back(Bytes::from_static(b": store unavailable, retrying\n\n"));
                self.read_due = true;
                return true;
            }
        }
        match self.state.handoff_service().status_of(&self.id).await {
            Some(status) => {
                // A queued resident's place moves when anyone ahead leaves any queue.
                self.bell.hear_queue_moves(status.state == "queued");
                if self.last_status.as_ref() != Some(&status) {
                    self.pending.push_back(event("status", None, &status));
                    self.last_status = Some(status);
                }
                true
            }
            None => {
                // Only a conversation the store says is not there has ended; a store that
                // does not answer is waited out.
                let gone = matches!(self.state.store.load(&self.id).await, Ok(None));
                if gone {
                    self.pending.push_back(event("gone", None, &serde_json::json!({})));
                }
                !gone
            }
        }
    }

    fn poll_interval(&self) -> Duration {
        match &self.last_status {
            Some(s) if s.state == "agent" || s.resident_typing || s.agent_typing => QUICK,
            _ => QUIET,
        }
    }

    /// Waits for news; false when the wait ended with nothing to read yet (a keepalive is
    /// queued instead).
    async fn wait(&mut self) -> bool {
        let interval = self.poll_interval();
        if tokio::time::timeout(interval, self.bell.rung()).await.is_ok() || interval == QUICK {
            self.quiet = 0;
            return true;
        }
        self.pending.push_back(Bytes::from_static(b": keepalive\n\n"));
        self.quiet += 1;
        let queued = self.last_status.as_ref().is_some_and(|s| s.state == "queued");
        if self.quiet >= if queued { QUEUED_READ_EVERY } else { QUIET_READ_EVERY } {
            self.quiet = 0;
            return true;
        }
        false
    }
}

fn feed(
    state: web::Data<AppState>,
    id: String,
    after: u64,
    slot: StreamSlot,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let bell = state.store.watch(&id);
    let start = Feed {
        _slot: slot,
        state,
        id,
        after,
        bell,
        last_status: None,
        quiet: 0,
        read_due: true,
        pending: VecDeque::new(),
        finished: false,
    };
    stream::unfold(start, |mut feed| async move {
        loop {
            if let Some(chunk) = feed.pending.pop_front() {
                return Some((Ok(chunk), feed));
            }
            if feed.finished {
                return None;
            }
            if feed.read_due {
                feed.read_due = false;
                if !feed.refresh().await {
                    feed.finished = true;
                    continue;
                }
            }
            if feed.pending.is_empty() {
                feed.read_due = feed.wait().await;
            }
        }
    })
}

/// The response for an authorised client: an event stream from `after`.
pub fn respond(state: web::Data<AppState>, id: String, after: u64) -> Result<HttpResponse, ApiError> {
    let slot = StreamCounts::open(&state.streams, &id, state.settings.max_streams)?;
    Ok(event_stream(feed(state, id, after, slot)))
}

/// A response of server-sent events: not cached, and not buffered by a proxy (nginx).
fn event_stream(events: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events)
}

/// How long a queue stream waits after a ring before telling the console, so the two moves of
/// one claim (out of the team's queue, into the active list) make one event.
const QUEUE_SETTLE: Duration = Duration::from_millis(200);

/// The console's stream of queue changes for `agent`: a `queue` event (data `{}`) when it opens
/// and whenever any conversation joins or leaves a queue, on any instance; the console then
/// reads the queue. It reads nothing from the store itself, so an open console costs nothing
/// while the queues are still.
pub fn respond_queue(state: web::Data<AppState>, agent: &str) -> Result<HttpResponse, ApiError> {
    // Keyed by the agent, which no conversation id can be: its own per-key limit, and only
    // queue moves ring its bell.
    let key = format!("agent:{agent}");
    let slot = StreamCounts::open(&state.streams, &key, state.settings.max_streams)?;
    let bell = state.store.watch(&key);
    bell.hear_queue_moves(true);
    let changed = || Bytes::from_static(b"event: queue\ndata: {}\n\n");
    let events = stream::unfold((bell, slot, true), move |(bell, slot, first)| async move {
        if first {
            return Some((Ok::<_, actix_web::Error>(changed()), (bell, slot, false)));
        }
        if tokio::time::timeout(QUIET, bell.rung()).await.is_err() {
            return Some((Ok(Bytes::from_static(b": keepalive\n\n")), (bell, slot, false)));
        }
        tokio::time::sleep(QUEUE_SETTLE).await;
        // Rings during the pause are told by this event: drop the one kept for the next wait.
        let _ = tokio::time::timeout(Duration::ZERO, bell.rung()).await;
        Some((Ok(changed()), (bell, slot, false)))
    });
    Ok(event_stream(events))
}
