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
    /// Adds one to (day, topic, what).
    fn count(
        &self,
        day: NaiveDate,
        topic: &str,
        what: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every counter of these days.
    fn counts(&self, days: &[NaiveDate]) -> impl Future<Output = Result<Vec<DayCount>, StoreError>> + Send;
}

pub(super) type MemoryCounts = Arc<Mutex<HashMap<(NaiveDate, String, String), u64>>>;

impl CountStore for MemoryStore {
    async fn count(&self, day: NaiveDate, topic: &str, what: &str) -> Result<(), StoreError> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let kept_days = self.retention.insights.as_secs() / 86_400;
        let oldest = day - chrono::Days::new(kept_days);
        counts.retain(|(d, _, _), _| *d >= oldest);
        *counts.entry((day, topic.to_string(), what.to_string())).or_default() += 1;
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
    async fn count(&self, day: NaiveDate, topic: &str, what: &str) -> Result<(), StoreError> {
        let key = self.counts_key(day);
        let _: () = redis::pipe()
            .atomic()
            .cmd("HINCRBY")
            .arg(&key)
            .arg(format!("{what}|{topic}"))
            .arg(1)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.retention.insights.as_secs().max(1) + 86_400)
            .ignore()
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
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
    async fn count(&self, day: NaiveDate, topic: &str, what: &str) -> Result<(), StoreError> {
        delegate!(self, s => s.count(day, topic, what))
    }
    async fn counts(&self, days: &[NaiveDate]) -> Result<Vec<DayCount>, StoreError> {
        delegate!(self, s => s.counts(days))
    }
}
