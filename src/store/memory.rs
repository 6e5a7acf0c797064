//! The in-memory store: one process, nothing kept across restarts. The embedded default.
//! Just over 400 lines: it implements the three store traits of `store/mod.rs` over one
//! mutex, so that a handoff commit and its holder change are one step here as in Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    CommitOutcome, ConversationStore, Feedback, HandoffStore, HoldOutcome, Holder, InsightStore, NewMessage,
    OfflineMessage, Retention, Snapshot, StoreError, StoredMessage, Summary, TYPING_TTL, Typing,
    UNANSWERED_KEPT, Unanswered, Waiters,
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
    pub(super) retention: Retention,
    /// Rung on every write to a conversation.
    waiters: Waiters,
    /// Published content versions.
    pub(super) content: super::content::MemoryVersions,
    /// Submissions waiting for review, and the audit log.
    pub(super) review: super::review::SharedMemoryReview,
    /// Insight counters by (day, topic, what).
    pub(super) counts: super::counts::MemoryCounts,
    /// Each editor's draft.
    pub(super) drafts: super::drafts::MemoryDrafts,
}

#[derive(Default)]
struct Handoff {
    queues: HashMap<String, Vec<(String, i64)>>,
    claims: HashMap<String, String>,
    presence: HashMap<String, (String, Instant)>,
    typing: HashMap<(String, bool), Instant>,
    /// Each with the time it expires.
    offline: Vec<(Instant, OfflineMessage)>,
    /// Newest first, each with the time it expires.
    unanswered: std::collections::VecDeque<(Instant, Unanswered)>,
}

struct Inner {
    records: HashMap<String, Record>,
    last_sweep: Instant,
    handoff: Handoff,
}

impl MemoryStore {
    pub fn new(retention: Retention) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                records: HashMap::new(),
                last_sweep: Instant::now(),
                handoff: Handoff::default(),
            })),
            retention,
            waiters: Waiters::default(),
            content: Default::default(),
            review: Default::default(),
            counts: Default::default(),
            drafts: Default::default(),
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
        let retention = self.retention.conversations;
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
            expires: now + self.retention.conversations,
        };
        let stored = append(&mut record, messages);
        inner.records.insert(id.to_string(), record);
        drop(inner);
        self.waiters.ring(id);
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
        self.waiters.ring(id);
        Ok(outcome.unwrap_or(CommitOutcome::Gone))
    }

    async fn messages(&self, id: &str, after: u64) -> Result<Vec<StoredMessage>, StoreError> {
        Ok(self
            .with_record(id, |r, _| r.messages.iter().filter(|m| m.id > after).cloned().collect())
            .unwrap_or_default())
    }

    async fn summary(&self, id: &str) -> Result<Option<Summary>, StoreError> {
        Ok(self.with_record(id, |r, _| Summary {
            state: r.state.clone(),
            last_resident_message: r
                .messages
                .iter()
                .rev()
                .find(|m| m.message.role == super::Role::Resident)
                .map(|m| m.message.text.clone()),
        }))
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.handoff.claims.remove(id);
        let removed = inner.records.remove(id).is_some();
        drop(inner);
        self.waiters.ring(id);
        Ok(removed)
    }

    async fn add_feedback(&self, id: &str, feedback: Feedback) -> Result<(), StoreError> {
        self.with_record(id, |r, _| r.feedback.push(feedback));
        Ok(())
    }

    async fn feedback(&self, id: &str) -> Result<Vec<Feedback>, StoreError> {
        Ok(self.with_record(id, |r, _| r.feedback.clone()).unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl MemoryStore {
    fn handoff<T>(&self, f: impl FnOnce(&mut Handoff) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner.handoff)
    }
}

impl HandoffStore for MemoryStore {
    async fn enqueue(&self, team: &str, id: &str, at_micros: i64) -> Result<(), StoreError> {
        self.move_in_queues(id, &[], Some((team, at_micros))).await
    }

    async fn dequeue(&self, team: &str, id: &str) -> Result<(), StoreError> {
        self.move_in_queues(id, &[team], None).await
    }

    async fn queue(&self, team: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let queue = self.handoff(|h| h.queues.get(team).cloned().unwrap_or_default());
        Ok(queue.into_iter().map(|(id, at_micros)| (id, at_micros.div_euclid(1000))).collect())
    }

    async fn queue_place(&self, team: &str, id: &str) -> Result<Option<usize>, StoreError> {
        Ok(self.handoff(|h| h.queues.get(team).and_then(|queue| queue.iter().position(|(q, _)| q == id))))
    }

    async fn move_in_queues(
        &self,
        id: &str,
        from: &[&str],
        to: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        self.handoff(|h| {
            for team in from {
                h.queues.entry(team.to_string()).or_default().retain(|(q, _)| q != id);
            }
            if let Some((team, at_micros)) = to {
                let queue = h.queues.entry(team.to_string()).or_default();
                if !queue.iter().any(|(q, _)| q == id) {
                    queue.push((id.to_string(), at_micros));
                    queue.sort_by_key(|(_, at)| *at);
                }
            }
        });
        self.waiters.ring_queue_moved(id);
        Ok(())
    }

    async fn commit_holding(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
        holder: Holder<'_>,
    ) -> Result<HoldOutcome, StoreError> {
        let outcome = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let Inner { records, handoff, .. } = &mut *inner;
            match records.get_mut(id).filter(|r| r.expires > now) {
                None => HoldOutcome::Gone,
                Some(r) if r.version != expected_version => HoldOutcome::Conflict,
                Some(r) => match (holder, handoff.claims.get(id)) {
                    (Holder::Claim(agent), Some(held)) if held != agent => HoldOutcome::HeldBy(held.clone()),
                    _ => {
                        match holder {
                            Holder::Claim(agent) => handoff.claims.insert(id.to_string(), agent.to_string()),
                            Holder::Release => handoff.claims.remove(id),
                        };
                        r.version += 1;
                        r.state = state.clone();
                        r.expires = now + self.retention.conversations;
                        HoldOutcome::Committed(append(r, messages))
                    }
                },
            }
        };
        self.waiters.ring(id);
        Ok(outcome)
    }

    async fn set_presence(&self, agent: &str, status: &str, ttl: Duration) -> Result<(), StoreError> {
        self.handoff(|h| h.presence.insert(agent.to_string(), (status.to_string(), Instant::now() + ttl)));
        Ok(())
    }

    async fn presence(&self) -> Result<Vec<(String, String)>, StoreError> {
        let now = Instant::now();
        Ok(self.handoff(|h| {
            h.presence.retain(|_, (_, expires)| *expires > now);
            let mut agents: Vec<(String, String)> =
                h.presence.iter().map(|(a, (s, _))| (a.clone(), s.clone())).collect();
            agents.sort();
            agents
        }))
    }

    async fn set_typing(&self, id: &str, agent_side: bool, typing: bool) -> Result<(), StoreError> {
        self.handoff(|h| {
            // Expired entries go as new ones come, so the map holds only live typing.
            let now = Instant::now();
            h.typing.retain(|_, until| *until > now);
            let key = (id.to_string(), agent_side);
            if typing {
                h.typing.insert(key, Instant::now() + TYPING_TTL);
            } else {
                h.typing.remove(&key);
            }
        });
        self.waiters.ring(id);
        Ok(())
    }

    async fn typing(&self, id: &str) -> Result<Typing, StoreError> {
        let now = Instant::now();
        Ok(self.handoff(|h| {
            let on = |agent_side: bool| h.typing.get(&(id.to_string(), agent_side)).is_some_and(|t| *t > now);
            Typing { resident: on(false), agent: on(true) }
        }))
    }

    async fn add_offline(&self, message: OfflineMessage) -> Result<(), StoreError> {
        let expires = Instant::now() + self.retention.offline_messages;
        self.handoff(|h| {
            sweep_offline(h);
            h.offline.push((expires, message));
        });
        Ok(())
    }

    async fn offline(&self) -> Result<Vec<OfflineMessage>, StoreError> {
        let mut messages = self.handoff(|h| {
            sweep_offline(h);
            h.offline.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>()
        });
        // Oldest first, as the Redis store lists them.
        messages.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(messages)
    }

    async fn mark_offline_done(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.handoff(|h| {
            let before = h.offline.len();
            h.offline.retain(|(_, m)| m.id != id);
            h.offline.len() < before
        }))
    }

    async fn forget_offline_of(&self, conversation: &str) -> Result<usize, StoreError> {
        Ok(self.handoff(|h| {
            let before = h.offline.len();
            h.offline.retain(|(_, m)| m.conversation.as_deref() != Some(conversation));
            before - h.offline.len()
        }))
    }

    fn watch(&self, id: &str) -> Arc<super::Bell> {
        self.waiters.register(id)
    }
}

impl InsightStore for MemoryStore {
    async fn record_unanswered(&self, question: Unanswered) -> Result<(), StoreError> {
        let expires = Instant::now() + self.retention.insights;
        self.handoff(|h| {
            sweep_unanswered(h);
            h.unanswered.push_front((expires, question));
            h.unanswered.truncate(UNANSWERED_KEPT);
        });
        Ok(())
    }

    async fn unanswered(&self, limit: usize) -> Result<Vec<Unanswered>, StoreError> {
        Ok(self.handoff(|h| {
            sweep_unanswered(h);
            h.unanswered.iter().take(limit).map(|(_, q)| q.clone()).collect()
        }))
    }

    async fn dismiss_unanswered(&self, texts: &[String]) -> Result<usize, StoreError> {
        Ok(self.handoff(|h| {
            let before = h.unanswered.len();
            h.unanswered.retain(|(_, q)| !texts.contains(&q.text));
            before - h.unanswered.len()
        }))
    }
}

/// Messages for a closed team go when their own retention runs out.
fn sweep_offline(handoff: &mut Handoff) {
    let now = Instant::now();
    handoff.offline.retain(|(expires, _)| *expires > now);
}

/// Unanswered questions are newest first, so the expired ones are at the back.
fn sweep_unanswered(handoff: &mut Handoff) {
    let now = Instant::now();
    while handoff.unanswered.back().is_some_and(|(expires, _)| *expires <= now) {
        handoff.unanswered.pop_back();
    }
}
