//! Conversation state behind one trait, with two implementations: in memory (the embedded
//! default, one process) and Redis (shared by every instance). Only this module knows Redis.
//!
//! Concurrency is optimistic: a caller loads a snapshot, lets the engine answer, and commits
//! only if nobody else committed in between (the version still matches); otherwise it loads
//! again. Messages therefore land in the log in the order they are acknowledged.

mod memory;
mod redis;

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::content::Link;
use crate::engine::ConversationState;
pub use memory::MemoryStore;
pub use redis::RedisStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    Committed(Vec<StoredMessage>),
    /// Someone else committed first: load again and retry.
    Conflict,
    /// The conversation was erased or expired.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub message_id: u64,
    pub helpful: bool,
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the conversation store is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
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
