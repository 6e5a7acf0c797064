//! Counts of what happened to residents' questions, per day and topic, for editors' insights:
//! answered, declined, clarified, handed to a person, feedback, conversations with a question.
//! Numbers only: nothing here says who asked or what. Kept for the insights' retention period.
//! Both stores implement it here, beside the trait.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use super::redis::unavailable;
use super::{MemoryStore, RedisStore, Store, StoreError};

/// One counter: on `day`, `what` happened `count` times to questions on `topic` (`-` for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    pub topic: String,
    pub what: String,
    pub count: u64,
}

pub trait CountStore: Send + Sync {
    /// Adds each `(topic, what, n)` to that day's counters, in one step.
    fn add_counts(
        &self,
        day: NaiveDate,
        counts: &[(String, String, u64)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every counter of these days.
    fn counts(&self, days: &[NaiveDate]) -> impl Future<Output = Result<Vec<DayCount>, StoreError>> + Send;
}

pub(super) type MemoryCounts = Arc<Mutex<HashMap<(NaiveDate, String, String), u64>>>;

impl CountStore for MemoryStore {
    async fn add_counts(&self, day: NaiveDate, added: &[(String, String, u64)]) -> Result<(), StoreError> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let kept_days = self.retention.insights.as_secs() / 86_400;
        let oldest = day - chrono::Days::new(kept_days);
        counts.retain(|(d, _, _), _| *d >= oldest);
        for (topic, what, n) in added {
            *counts.entry((day, topic.clone(), what.clone())).or_default() += n;
        }
        Ok(())
    }

    async fn counts(&self, days: &[NaiveDate]) -> Result<Vec<DayCount>, StoreError> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        Ok(counts
            .iter()
            .filter(|((day, _, _), _)| days.contains(day))
            .map(|((day, topic, what), count)| DayCount {
                day: *day,
                topic: topic.clone(),
                what: what.clone(),
                count: *count,
            })
            .collect())
    }
}

impl RedisStore {
    /// One hash per day: field `<what>|<topic>`.
    fn counts_key(&self, day: NaiveDate) -> String {
        self.global(&format!("insights:counts:{day}"))
    }
}

impl CountStore for RedisStore {
    async fn add_counts(&self, day: NaiveDate, added: &[(String, String, u64)]) -> Result<(), StoreError> {
        if added.is_empty() {
            return Ok(());
        }
        let key = self.counts_key(day);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (topic, what, n) in added {
            pipe.cmd("HINCRBY").arg(&key).arg(format!("{what}|{topic}")).arg(n).ignore();
        }
        pipe.cmd("EXPIRE").arg(&key).arg(self.retention.insights.as_secs().max(1) + 86_400).ignore();
        let _: () = pipe.query_async(&mut self.connection.clone()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn counts(&self, days: &[NaiveDate]) -> Result<Vec<DayCount>, StoreError> {
        // One read per day, sent together: each day's hash may live on its own cluster node.
        let reads = days.iter().map(|day| {
            let mut connection = self.connection.clone();
            let key = self.counts_key(*day);
            async move { redis::AsyncCommands::hgetall::<_, HashMap<String, u64>>(&mut connection, key).await }
        });
        let per_day = futures_util::future::try_join_all(reads).await.map_err(unavailable)?;
        Ok(days
            .iter()
            .zip(per_day)
            .flat_map(|(day, fields)| {
                fields.into_iter().filter_map(move |(field, count)| {
                    let (what, topic) = field.split_once('|')?;
                    Some(DayCount { day: *day, topic: topic.into(), what: what.into(), count })
                })
            })
            .collect())
    }
}

impl CountStore for Store {
    async fn add_counts(&self, day: NaiveDate, counts: &[(String, String, u64)]) -> Result<(), StoreError> {
        delegate!(self, s => s.add_counts(day, counts))
    }
    async fn counts(&self, days: &[NaiveDate]) -> Result<Vec<DayCount>, StoreError> {
        delegate!(self, s => s.counts(days))
    }
}

/// Counters added up in memory and written once a second, so that a resident's message costs
/// Redis no counter write of its own: one write per day touched per second per instance.
/// What an instance holds when it is killed (at most a second's counts) is lost; these are
/// statistics, never anything a resident wrote.
pub struct CountBuffer {
    store: Store,
    pending: Mutex<HashMap<(NaiveDate, String, &'static str), u64>>,
    flusher: std::sync::OnceLock<()>,
}

/// How often the buffer is written.
pub const COUNT_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Counters kept waiting while the store is down, at most; beyond, new ones are dropped.
const PENDING_KEPT: usize = 10_000;

impl CountBuffer {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self { store, pending: Mutex::new(HashMap::new()), flusher: std::sync::OnceLock::new() })
    }

    /// Adds one to (day, topic, what); written within a second.
    pub fn count(self: &Arc<Self>, day: NaiveDate, topic: String, what: &'static str) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let full = pending.len() >= PENDING_KEPT;
            match pending.get_mut(&(day, topic.clone(), what)) {
                Some(n) => *n += 1,
                None if !full => {
                    pending.insert((day, topic, what), 1);
                }
                None => tracing::warn!("insight counters dropped: the store has been unavailable too long"),
            }
        }
        if self.flusher.set(()).is_ok() {
            let buffer = Arc::clone(self);
            tokio::spawn(async move {
                let mut every = tokio::time::interval(COUNT_FLUSH_EVERY);
                loop {
                    every.tick().await;
                    buffer.flush().await;
                }
            });
        }
    }

    /// Writes what is pending, a day at a time; what could not be written waits for the next.
    pub async fn flush(&self) {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let mut by_day: HashMap<NaiveDate, Vec<(String, String, u64)>> = HashMap::new();
        for ((day, topic, what), n) in &taken {
            by_day.entry(*day).or_default().push((topic.clone(), what.to_string(), *n));
        }
        for (day, counts) in by_day {
            if let Err(error) = self.store.add_counts(day, &counts).await {
                tracing::debug!(%error, "cannot write insight counters yet");
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for ((d, topic, what), n) in taken.iter().filter(|((d, _, _), _)| *d == day) {
                    *pending.entry((*d, topic.clone(), what)).or_default() += n;
                }
            }
        }
    }
}
