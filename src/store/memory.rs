//! The in-memory store: one process, nothing kept across restarts. The embedded default.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    CommitOutcome, ConversationStore, Feedback, NewMessage, Snapshot, StoreError, StoredMessage,
};
use crate::engine::ConversationState;

struct Record {
    token_hash: String,
    state: ConversationState,
    version: u64,
    messages: Vec<StoredMessage>,
    feedback: Vec<Feedback>,
    expires: Instant,
}

#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    retention: Duration,
}

struct Inner {
    records: HashMap<String, Record>,
    last_sweep: Instant,
}

impl MemoryStore {
    pub fn new(retention: Duration) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                records: HashMap::new(),
                last_sweep: Instant::now(),
            })),
            retention,
        }
    }

    /// Runs `f` on the live record, if any. A poisoned lock only means another request
    /// panicked mid-update; the map itself is still whole, so carry on with it.
    fn with_record<T>(&self, id: &str, f: impl FnOnce(&mut Record, Duration) -> T) -> Option<T> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if inner.records.get(id).is_some_and(|r| r.expires <= now) {
            inner.records.remove(id);
        }
        let retention = self.retention;
        inner.records.get_mut(id).map(|record| f(record, retention))
    }
}

fn append(record: &mut Record, messages: Vec<NewMessage>) -> Vec<StoredMessage> {
    let mut next = record.messages.last().map_or(1, |m| m.id + 1);
    let stored: Vec<StoredMessage> = messages
        .into_iter()
        .map(|message| {
            let m = StoredMessage { id: next, message };
            next += 1;
            m
        })
        .collect();
    record.messages.extend(stored.iter().cloned());
    stored
}

impl ConversationStore for MemoryStore {
    async fn create(
        &self,
        id: &str,
        token_hash: &str,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // Expired records go once a minute, so memory stays bounded by the retention period.
        if now.duration_since(inner.last_sweep) > Duration::from_secs(60) {
            inner.records.retain(|_, r| r.expires > now);
            inner.last_sweep = now;
        }
        let mut record = Record {
            token_hash: token_hash.to_string(),
            state: state.clone(),
            version: 0,
            messages: Vec::new(),
            feedback: Vec::new(),
            expires: now + self.retention,
        };
        let stored = append(&mut record, messages);
        inner.records.insert(id.to_string(), record);
        Ok(stored)
    }

    async fn load(&self, id: &str) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.with_record(id, |r, _| Snapshot {
            token_hash: r.token_hash.clone(),
            state: r.state.clone(),
            version: r.version,
        }))
    }

    async fn commit(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<CommitOutcome, StoreError> {
        let outcome = self.with_record(id, |r, retention| {
            if r.version != expected_version {
                return CommitOutcome::Conflict;
            }
            r.version += 1;
            r.state = state.clone();
            r.expires = Instant::now() + retention;
            CommitOutcome::Committed(append(r, messages))
        });
        Ok(outcome.unwrap_or(CommitOutcome::Gone))
    }

    async fn messages(&self, id: &str, after: u64) -> Result<Vec<StoredMessage>, StoreError> {
        Ok(self
            .with_record(id, |r, _| {
                r.messages
                    .iter()
                    .filter(|m| m.id > after)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inner.records.remove(id).is_some())
    }

    async fn add_feedback(&self, id: &str, feedback: Feedback) -> Result<(), StoreError> {
        self.with_record(id, |r, _| r.feedback.push(feedback));
        Ok(())
    }

    async fn feedback(&self, id: &str) -> Result<Vec<Feedback>, StoreError> {
        Ok(self
            .with_record(id, |r, _| r.feedback.clone())
            .unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
