//! The Redis store. Keys carry a hash tag per conversation (`conv:{<id>}:...`) so that every
//! script touches one slot and the same code runs on Redis Cluster. Each key has the retention
//! period as its TTL, renewed on every write. Messages are a Redis Stream whose entry ids are
//! `0-<n>`, so a reader resumes from the last id it saw.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamRangeReply;
use redis::{AsyncCommands, Script};

use super::{
    CommitOutcome, ConversationStore, Feedback, NewMessage, Snapshot, StoreError, StoredMessage,
};
use crate::engine::ConversationState;

/// Creates the record and its first messages in one step.
const CREATE: &str = r"
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local seq = 0
for i = 4, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'm', ARGV[i])
end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'state', ARGV[2], 'version', 0, 'seq', seq)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if seq > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return seq
";

/// Appends messages and replaces the state if the version still matches.
/// Returns the new message ids, or -1 when the record is gone, -2 on a version conflict.
const COMMIT: &str = r"
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {-1} end
if tonumber(version) ~= tonumber(ARGV[1]) then return {-2} end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local ids = {}
for i = 4, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'm', ARGV[i])
  ids[#ids + 1] = seq
end
redis.call('HSET', KEYS[1], 'version', tonumber(version) + 1, 'state', ARGV[2], 'seq', seq)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if seq > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return ids
";

/// Adds feedback only to a conversation that still exists.
const FEEDBACK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
";

#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    retention: Duration,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl RedisStore {
    /// Connects lazily: the service starts even while Redis is down, answers 503 until it is
    /// back, and reconnects by itself.
    pub fn new(url: &str, prefix: &str, retention: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            connection,
            prefix: prefix.to_string(),
            retention,
        })
    }

    /// The shared connection, for other modules that keep state in the same Redis.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, id: &str, part: &str) -> String {
        format!("{}conv:{{{id}}}:{part}", self.prefix)
    }

    fn keys(&self, id: &str) -> [String; 3] {
        [
            self.key(id, "meta"),
            self.key(id, "log"),
            self.key(id, "feedback"),
        ]
    }

    fn ttl(&self) -> u64 {
        self.retention.as_secs().max(1)
    }
}

fn encode(messages: &[NewMessage]) -> Result<Vec<String>, StoreError> {
    messages
        .iter()
        .map(|m| serde_json::to_string(m).map_err(corrupt))
        .collect()
}

fn stored(ids: &[i64], messages: Vec<NewMessage>) -> Vec<StoredMessage> {
    ids.iter()
        .zip(messages)
        .map(|(&id, message)| StoredMessage {
            id: id as u64,
            message,
        })
        .collect()
}

impl ConversationStore for RedisStore {
    async fn create(
        &self,
        id: &str,
        token_hash: &str,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let [meta, log, feedback] = self.keys(id);
        let state = serde_json::to_string(state).map_err(corrupt)?;
        let script = Script::new(CREATE);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&meta)
            .key(&log)
            .key(&feedback)
            .arg(token_hash)
            .arg(&state)
            .arg(self.ttl());
        for message in encode(&messages)? {
            invocation.arg(message);
        }
        let mut connection = self.connection.clone();
        let count: i64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let ids: Vec<i64> = (1..=count).collect();
        Ok(stored(&ids, messages))
    }

    async fn load(&self, id: &str) -> Result<Option<Snapshot>, StoreError> {
        let mut connection = self.connection.clone();
        let (token, state, version): (Option<String>, Option<String>, Option<u64>) =
            redis::cmd("HMGET")
                .arg(self.key(id, "meta"))
                .arg(&["token", "state", "version"])
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
        let (Some(token_hash), Some(state), Some(version)) = (token, state, version) else {
            return Ok(None);
        };
        let state = serde_json::from_str(&state).map_err(corrupt)?;
        Ok(Some(Snapshot {
            token_hash,
            state,
            version,
        }))
    }

    async fn commit(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<CommitOutcome, StoreError> {
        let [meta, log, feedback] = self.keys(id);
        let state = serde_json::to_string(state).map_err(corrupt)?;
        let script = Script::new(COMMIT);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&meta)
            .key(&log)
            .key(&feedback)
            .arg(expected_version)
            .arg(&state)
            .arg(self.ttl());
        for message in encode(&messages)? {
            invocation.arg(message);
        }
        let mut connection = self.connection.clone();
        let ids: Vec<i64> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(match ids.first() {
            Some(-1) => CommitOutcome::Gone,
            Some(-2) => CommitOutcome::Conflict,
            _ => CommitOutcome::Committed(stored(&ids, messages)),
        })
    }

    async fn messages(&self, id: &str, after: u64) -> Result<Vec<StoredMessage>, StoreError> {
        let mut connection = self.connection.clone();
        let reply: StreamRangeReply = connection
            .xrange(self.key(id, "log"), format!("0-{}", after + 1), "+")
            .await
            .map_err(unavailable)?;
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let seq = entry
                    .id
                    .strip_prefix("0-")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| corrupt(&entry.id))?;
                let json: String = entry
                    .get("m")
                    .ok_or_else(|| corrupt("stream entry without a message"))?;
                let message = serde_json::from_str(&json).map_err(corrupt)?;
                Ok(StoredMessage { id: seq, message })
            })
            .collect()
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let removed: u64 = connection.del(&self.keys(id)).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn add_feedback(&self, id: &str, feedback: Feedback) -> Result<(), StoreError> {
        let json = serde_json::to_string(&feedback).map_err(corrupt)?;
        let mut connection = self.connection.clone();
        let _: i64 = Script::new(FEEDBACK)
            .key(self.key(id, "meta"))
            .key(self.key(id, "feedback"))
            .arg(json)
            .arg(self.ttl())
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn feedback(&self, id: &str) -> Result<Vec<Feedback>, StoreError> {
        let mut connection = self.connection.clone();
        let items: Vec<String> = connection
            .lrange(self.key(id, "feedback"), 0, -1)
            .await
            .map_err(unavailable)?;
        items
            .iter()
            .map(|json| serde_json::from_str(json).map_err(corrupt))
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
