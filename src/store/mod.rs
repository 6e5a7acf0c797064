//! Shared state behind traits: conversations, handoff and insights here; published content
//! versions (`content.rs`), submissions and the audit log (`review.rs`) and insight counters
//! (`counts.rs`) each in a file with both of its implementations. Two implementations: in
//! memory (the embedded default, one process) and Redis (shared by every instance). Only this
//! module knows Redis. Over 400 lines: the first three traits, the types they pass and the
//! `Store` that dispatches to either implementation are one contract, read together.
//!
//! Concurrency is optimistic: a caller loads a snapshot, lets the engine answer, and commits
//! only if nobody else committed in between (the version still matches); otherwise it loads
//! again. Messages therefore land in the log in the order they are acknowledged.

mod connection;
mod memory;
mod redis;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use serde::{Deserialize, Serialize};

use crate::content::Link;
use crate::engine::ConversationState;
pub use connection::{RedisConnection, RedisTarget};
pub use memory::MemoryStore;
pub use redis::RedisStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Resident,
    Bot,
    Agent,
    System,
}

/// A message as the store is given it; the store assigns its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub role: Role,
    pub text: String,
    #[serde(default)]
    pub quick_replies: Vec<String>,
    #[serde(default)]
    pub links: Vec<Link>,
    /// RFC 3339 time it was written.
    pub at: String,
    /// A topic answer the resident can give feedback on.
    #[serde(default)]
    pub answer: bool,
    /// A form to show under the message (`offline_message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// The agent who wrote it (agent messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl NewMessage {
    /// A plain message: text only, no quick replies, links, form or author.
    pub fn plain(role: Role, text: impl Into<String>, at: impl Into<String>) -> Self {
        Self {
            role,
            text: text.into(),
            quick_replies: Vec::new(),
            links: Vec::new(),
            at: at.into(),
            answer: false,
            form: None,
            author: None,
        }
    }
}

/// A message in a conversation's log. Ids rise by one per message, from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: u64,
    #[serde(flatten)]
    pub message: NewMessage,
}

/// The conversation's current record, with the version that a commit must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub token_hash: String,
    pub state: ConversationState,
    pub version: u64,
}

/// A conversation as the agents' queue lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub state: ConversationState,
    /// The resident's newest message (as stored: redacted).
    pub last_resident_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    Committed(Vec<StoredMessage>),
    /// Someone else committed first: load again and retry.
    Conflict,
    /// The conversation was erased or expired.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    pub message_id: u64,
    pub helpful: bool,
    #[schema(format = DateTime)]
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the conversation store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
}

/// How long each kind of data is kept. A conversation (its messages, state and feedback) is
/// kept for its period after its last message; a message left for a closed team and an
/// unanswered question are each kept for theirs after they were written, whatever else
/// happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub conversations: Duration,
    pub offline_messages: Duration,
    pub insights: Duration,
}

impl Retention {
    /// The same period for every kind (tests).
    pub fn all(period: Duration) -> Self {
        Self { conversations: period, offline_messages: period, insights: period }
    }
}

/// Where conversations live. Every record expires after the retention period, renewed on each
/// write.
pub trait ConversationStore: Send + Sync {
    fn create(
        &self,
        id: &str,
        token_hash: &str,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> impl Future<Output = Result<Vec<StoredMessage>, StoreError>> + Send;

    fn load(&self, id: &str) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send;

    /// Appends `messages` and replaces the state, if the version is still `expected_version`.
    fn commit(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;

    /// Messages with an id greater than `after`, oldest first.
    fn messages(
        &self,
        id: &str,
        after: u64,
    ) -> impl Future<Output = Result<Vec<StoredMessage>, StoreError>> + Send;

    /// The conversation as a list shows it (the agents' queue): its state and the resident's
    /// newest message, kept beside the state by every commit, so one read of one key.
    fn summary(&self, id: &str) -> impl Future<Output = Result<Option<Summary>, StoreError>> + Send;

    /// Erases the conversation and everything kept with it. False if there was none.
    fn delete(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn add_feedback(
        &self,
        id: &str,
        feedback: Feedback,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn feedback(&self, id: &str) -> impl Future<Output = Result<Vec<Feedback>, StoreError>> + Send;

    /// Whether the store answers now.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A message a resident left while their team was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OfflineMessage {
    pub id: String,
    pub conversation: Option<String>,
    pub name: String,
    pub contact: String,
    pub question: String,
    pub team: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// Always false in the list: a handled message is removed. Kept so clients that read it
    /// still work.
    pub done: bool,
}

/// How a handoff commit changes who holds the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    /// This agent takes it, unless another agent holds it (holding it already is fine).
    Claim(&'a str),
    /// Nobody holds it any more.
    Release,
}

/// What a handoff commit did.
#[derive(Debug, Clone, PartialEq)]
pub enum HoldOutcome {
    Committed(Vec<StoredMessage>),
    /// Someone else committed first: load again and retry.
    Conflict,
    /// The conversation was erased or expired.
    Gone,
    /// Another agent holds it; nothing was written.
    HeldBy(String),
}

/// Who is typing in a conversation right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Typing {
    pub resident: bool,
    pub agent: bool,
}

/// How long a typing signal lasts unless renewed.
pub const TYPING_TTL: std::time::Duration = std::time::Duration::from_secs(4);

/// The handoff's shared state: queues per team (first come, first served), claims, agents'
/// presence, typing, messages left out of hours, and waiting for new messages (live delivery).
pub trait HandoffStore: Send + Sync {
    /// Puts `id` at the back of the team's queue as of `at_micros` (µs since the epoch): to the
    /// microsecond, so two residents queueing within one millisecond keep their order.
    fn enqueue(
        &self,
        team: &str,
        id: &str,
        at_micros: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn dequeue(&self, team: &str, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Takes `id` out of the `from` queues and, with `to`, puts it in that queue as of its
    /// time (µs), in one atomic step: a claim or a transfer is never seen half done.
    fn move_in_queues(
        &self,
        id: &str,
        from: &[&str],
        to: Option<(&str, i64)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The team's queue, oldest first, with the time each joined (ms since the epoch).
    fn queue(&self, team: &str) -> impl Future<Output = Result<Vec<(String, i64)>, StoreError>> + Send;
    /// How many wait ahead of `id` in the team's queue (0 for the first); none if it is not in
    /// it. One lookup, however long the queue.
    fn queue_place(
        &self,
        team: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<usize>, StoreError>> + Send;
    /// Commits as `ConversationStore::commit` does and changes who holds the conversation in
    /// the same atomic step: of two agents claiming at once, one wins, and the state, its
    /// messages and the holder never disagree.
    fn commit_holding(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
        holder: Holder<'_>,
    ) -> impl Future<Output = Result<HoldOutcome, StoreError>> + Send;
    fn set_presence(
        &self,
        agent: &str,
        status: &str,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Agents whose heartbeat has not expired, with their status.
    fn presence(&self) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
    fn set_typing(
        &self,
        id: &str,
        agent_side: bool,
        typing: bool,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn typing(&self, id: &str) -> impl Future<Output = Result<Typing, StoreError>> + Send;
    fn add_offline(&self, message: OfflineMessage) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Messages left out of hours, oldest first.
    fn offline(&self) -> impl Future<Output = Result<Vec<OfflineMessage>, StoreError>> + Send;
    /// A message handled: it is removed, with the name and contact it holds. False if unknown.
    fn mark_offline_done(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Removes every message left from one conversation (when the resident erases it); returns
    /// how many there were.
    fn forget_offline_of(&self, conversation: &str)
    -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// A bell that rings when the conversation may have news (a message, typing, its own
    /// queue place). Take it before reading, then wait on it: a ring in between is kept, not
    /// lost. A ring is a hint, not a promise: callers read the log after it either way.
    fn watch(&self, id: &str) -> Arc<Bell>;
}

/// One waiter's bell: rung for news of its conversation, and for any queue's move only while
/// the waiter asks for those (a queued resident's place may change when someone ahead
/// leaves), so a queue moving does not wake every idle stream on every instance.
#[derive(Default)]
pub struct Bell {
    notify: Notify,
    queue_moves: std::sync::atomic::AtomicBool,
}

impl Bell {
    /// Waits for the next ring (or returns at once for one rung since the last wait).
    pub async fn rung(&self) {
        self.notify.notified().await
    }

    /// Whether queue moves ring this bell too.
    pub fn hear_queue_moves(&self, hear: bool) {
        self.queue_moves.store(hear, std::sync::atomic::Ordering::Relaxed);
    }

    fn ring(&self) {
        self.notify.notify_one();
    }
}

/// Bells by conversation id, rung by whoever learns of news: the memory store on each write,
/// the Redis listener on each published event.
#[derive(Clone, Default)]
pub struct Waiters(Arc<Mutex<HashMap<String, Vec<Weak<Bell>>>>>);

impl Waiters {
    pub fn register(&self, id: &str) -> Arc<Bell> {
        let bell = Arc::new(Bell::default());
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let bells = map.entry(id.to_string()).or_default();
        bells.retain(|b| b.strong_count() > 0);
        bells.push(Arc::downgrade(&bell));
        bell
    }

    /// News of conversation `id`.
    pub fn ring(&self, id: &str) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bells) = map.get_mut(id) {
            bells.retain(|b| b.upgrade().map(|bell| bell.ring()).is_some());
            if bells.is_empty() {
                map.remove(id);
            }
        }
    }

    /// Conversation `id` joined or left a queue: its own bells, and every bell that hears
    /// queue moves.
    pub fn ring_queue_moved(&self, id: &str) {
        self.ring_where(|bell_id, bell| {
            bell_id == id || bell.queue_moves.load(std::sync::atomic::Ordering::Relaxed)
        });
    }

    /// Every bell: after a gap in which news may have been missed.
    pub fn ring_all(&self) {
        self.ring_where(|_, _| true);
    }

    fn ring_where(&self, rings: impl Fn(&str, &Bell) -> bool) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|id, bells| {
            bells.retain(|b| {
                b.upgrade()
                    .map(|bell| {
                        if rings(id, &bell) {
                            bell.ring();
                        }
                    })
                    .is_some()
            });
            !bells.is_empty()
        });
    }
}

#[cfg(test)]
mod bell_tests {
    use super::*;

    async fn rang(bell: &Bell) -> bool {
        tokio::time::timeout(Duration::from_millis(50), bell.rung()).await.is_ok()
    }

    #[tokio::test]
    async fn a_queue_move_rings_its_own_conversation_and_only_the_bells_that_hear_queue_moves() {
        let waiters = Waiters::default();
        let (moved, idle, queued) = (waiters.register("a"), waiters.register("b"), waiters.register("c"));
        queued.hear_queue_moves(true);
        waiters.ring_queue_moved("a");
        assert!(rang(&moved).await, "the conversation that moved");
        assert!(!rang(&idle).await, "an idle stream sleeps on");
        assert!(rang(&queued).await, "a queued resident's place may have changed");
        waiters.ring("b");
        assert!(rang(&idle).await && !rang(&moved).await && !rang(&queued).await);
        waiters.ring_all();
        assert!(rang(&moved).await && rang(&idle).await && rang(&queued).await, "after a gap, every bell");
        drop(idle);
        waiters.ring_all();
        assert_eq!(waiters.0.lock().unwrap().len(), 2, "a dropped bell leaves the list");
    }
}

/// A question the assistant could not answer, kept (redacted) for editors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unanswered {
    pub text: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// `none` (declined), `clarify` (asked "did you mean") or `picked` (the question asked
    /// before the resident picked `best` from the "did you mean" choices: a phrasing to add).
    pub kind: String,
    /// The best candidate and its confidence, as a hint for the editor.
    pub best: Option<String>,
    pub confidence: f32,
}

/// How many unanswered questions are kept, newest first.
pub const UNANSWERED_KEPT: usize = 500;

/// What editors learn from residents' questions.
pub trait InsightStore: Send + Sync {
    fn record_unanswered(&self, question: Unanswered) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Newest first, at most `limit`.
    fn unanswered(&self, limit: usize) -> impl Future<Output = Result<Vec<Unanswered>, StoreError>> + Send;
    /// Takes every question with one of these texts off the list (an editor has dealt with
    /// it); returns how many went.
    fn dismiss_unanswered(&self, texts: &[String]) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// The store the service was configured with.
#[derive(Clone)]
pub enum Store {
    Memory(MemoryStore),
    Redis(RedisStore),
}

macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Memory($store) => $call.await,
            Store::Redis($store) => $call.await,
        }
    };
}

// After the macro, which they use.
mod content;
mod counts;
mod drafts;
mod review;
pub use content::{ContentStore, ContentVersion, VERSION_FILES_KEPT, VERSION_HISTORY_KEPT};
pub use counts::{COUNT_FLUSH_EVERY, CountBuffer, CountStore, DayCount};
pub use drafts::{DRAFT_KEPT_SECONDS, DraftStore};
pub use review::{AUDIT_KEPT, AuditEntry, ReviewStore, SUBMISSIONS_KEPT, Submission, SubmissionStatus};

impl ConversationStore for Store {
    async fn create(
        &self,
        id: &str,
        token_hash: &str,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        delegate!(self, s => s.create(id, token_hash, state, messages))
    }
    async fn load(&self, id: &str) -> Result<Option<Snapshot>, StoreError> {
        delegate!(self, s => s.load(id))
    }
    async fn commit(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<CommitOutcome, StoreError> {
        delegate!(self, s => s.commit(id, expected_version, state, messages))
    }
    async fn messages(&self, id: &str, after: u64) -> Result<Vec<StoredMessage>, StoreError> {
        delegate!(self, s => s.messages(id, after))
    }
    async fn summary(&self, id: &str) -> Result<Option<Summary>, StoreError> {
        delegate!(self, s => s.summary(id))
    }
    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.delete(id))
    }
    async fn add_feedback(&self, id: &str, feedback: Feedback) -> Result<(), StoreError> {
        delegate!(self, s => s.add_feedback(id, feedback))
    }
    async fn feedback(&self, id: &str) -> Result<Vec<Feedback>, StoreError> {
        delegate!(self, s => s.feedback(id))
    }
    async fn ping(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.ping())
    }
}

impl InsightStore for Store {
    async fn record_unanswered(&self, question: Unanswered) -> Result<(), StoreError> {
        delegate!(self, s => s.record_unanswered(question))
    }
    async fn unanswered(&self, limit: usize) -> Result<Vec<Unanswered>, StoreError> {
        delegate!(self, s => s.unanswered(limit))
    }
    async fn dismiss_unanswered(&self, texts: &[String]) -> Result<usize, StoreError> {
        delegate!(self, s => s.dismiss_unanswered(texts))
    }
}

impl HandoffStore for Store {
    async fn enqueue(&self, team: &str, id: &str, at_micros: i64) -> Result<(), StoreError> {
        delegate!(self, s => s.enqueue(team, id, at_micros))
    }
    async fn dequeue(&self, team: &str, id: &str) -> Result<(), StoreError> {
        delegate!(self, s => s.dequeue(team, id))
    }
    async fn queue(&self, team: &str) -> Result<Vec<(String, i64)>, StoreError> {
        delegate!(self, s => s.queue(team))
    }
    async fn queue_place(&self, team: &str, id: &str) -> Result<Option<usize>, StoreError> {
        delegate!(self, s => s.queue_place(team, id))
    }
    async fn move_in_queues(
        &self,
        id: &str,
        from: &[&str],
        to: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.move_in_queues(id, from, to))
    }
    async fn commit_holding(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
        holder: Holder<'_>,
    ) -> Result<HoldOutcome, StoreError> {
        delegate!(self, s => s.commit_holding(id, expected_version, state, messages, holder))
    }
    async fn set_presence(
        &self,
        agent: &str,
        status: &str,
        ttl: std::time::Duration,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.set_presence(agent, status, ttl))
    }
    async fn presence(&self) -> Result<Vec<(String, String)>, StoreError> {
        delegate!(self, s => s.presence())
    }
    async fn set_typing(&self, id: &str, agent_side: bool, typing: bool) -> Result<(), StoreError> {
        delegate!(self, s => s.set_typing(id, agent_side, typing))
    }
    async fn typing(&self, id: &str) -> Result<Typing, StoreError> {
        delegate!(self, s => s.typing(id))
    }
    async fn add_offline(&self, message: OfflineMessage) -> Result<(), StoreError> {
        delegate!(self, s => s.add_offline(message))
    }
    async fn offline(&self) -> Result<Vec<OfflineMessage>, StoreError> {
        delegate!(self, s => s.offline())
    }
    async fn mark_offline_done(&self, id: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.mark_offline_done(id))
    }
    async fn forget_offline_of(&self, conversation: &str) -> Result<usize, StoreError> {
        delegate!(self, s => s.forget_offline_of(conversation))
    }
    fn watch(&self, id: &str) -> Arc<Bell> {
        match self {
            Store::Memory(s) => s.watch(id),
            Store::Redis(s) => s.watch(id),
        }
    }
}
