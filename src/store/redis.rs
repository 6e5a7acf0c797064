//! The Redis store. Keys carry a hash tag per conversation (`conv:{<id>}:...`) so that every
//! script touches one slot and the same code runs on Redis Cluster. Each key has the retention
//! period as its TTL, renewed on every write; messages for a closed team and unanswered
//! questions each expire on their own (their expiry kept beside them, swept on every use). Messages
//! are a Redis Stream whose entry ids are `0-<n>`, so a reader resumes from the last id it saw.
//! Over 400 lines: one type implements the three store traits over one connection and one
//! key scheme, and its atomic steps are Lua scripts that belong with the methods running them.

use std::time::Duration;

use futures_util::StreamExt;
use redis::streams::StreamRangeReply;
use redis::{AsyncCommands, Script};
use std::sync::{Arc, LazyLock, OnceLock};

use super::connection::{RedisConnection, RedisTarget};
use super::{
    CommitOutcome, ConversationStore, Feedback, HandoffStore, HoldOutcome, Holder, InsightStore, NewMessage,
    OfflineMessage, Retention, Snapshot, StoreError, StoredMessage, Summary, TYPING_TTL, Typing,
    UNANSWERED_KEPT, Unanswered, Waiters,
};
use crate::engine::ConversationState;

/// Creates the record and its first messages in one step. ARGV: token hash, state, TTL,
/// channel, the resident's newest message in these ('' for none), then one per message.
const CREATE: &str = r"
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local seq = 0
for i = 6, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'm', ARGV[i])
end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'state', ARGV[2], 'version', 0, 'seq', seq)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'last', ARGV[5]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
if seq > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
redis.call('PUBLISH', ARGV[4], KEYS[1])
return seq
";

/// Appends messages and replaces the state if the version still matches. ARGV: version,
/// state, TTL, channel, the resident's newest message in these ('' for none, kept beside the
/// state so a list reads one key), then one per message.
/// Returns the new message ids, or -1 when the record is gone, -2 on a version conflict.
const COMMIT: &str = r"
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {-1} end
if tonumber(version) ~= tonumber(ARGV[1]) then return {-2} end
local first = 6
";

/// The end COMMIT and COMMIT_HOLDING share, once the version has been checked: the resident's
/// newest message kept, the messages from ARGV[first] appended, the state saved, every key's
/// TTL renewed. Leaves `ids` and `seq` for the script's end.
const APPEND_AND_SAVE: &str = r"
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'last', ARGV[5]) end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local ids = {}
for i = first, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'm', ARGV[i])
  ids[#ids + 1] = seq
end
redis.call('HSET', KEYS[1], 'version', tonumber(version) + 1, 'state', ARGV[2], 'seq', seq)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if seq > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
";

// Scripts are hashed once; Redis runs them by hash (EVALSHA), loading them when it must.
static CREATE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(CREATE));
static COMMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMIT}{APPEND_AND_SAVE}if #ids > 0 then redis.call('PUBLISH', ARGV[4], KEYS[1]) end\nreturn ids\n"
    ))
});
static FEEDBACK_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FEEDBACK));
static COMMIT_HOLDING_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMIT_HOLDING}{APPEND_AND_SAVE}redis.call('PUBLISH', ARGV[4], KEYS[1])\nreturn ids\n"
    ))
});
static MOVE_IN_QUEUES_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(MOVE_IN_QUEUES));
static SWEEP_OFFLINE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SWEEP_OFFLINE));
static RECORD_UNANSWERED_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(&format!("{DROP_EXPIRED_UNANSWERED}{RECORD_UNANSWERED}")));
static DISMISS_UNANSWERED_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(DISMISS_UNANSWERED));
static READ_UNANSWERED_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(&format!("{DROP_EXPIRED_UNANSWERED}{READ_UNANSWERED}")));

/// The unanswered list is newest first and each item starts with its expiry time, so the
/// expired ones are the list's tail: popped until the last one is still current.
/// ARGV[#ARGV] is the time now in milliseconds.
const DROP_EXPIRED_UNANSWERED: &str = r"
local now = tonumber(ARGV[#ARGV])
while true do
  local last = redis.call('LINDEX', KEYS[1], -1)
  if not last then break end
  local expires = tonumber(string.match(last, '^(%d+)|'))
  if expires == nil or expires > now then break end
  redis.call('RPOP', KEYS[1])
end
";

/// Removes the items whose question's text is one of ARGV; returns how many went.
const DISMISS_UNANSWERED: &str = r"
local texts = {}
for i = 1, #ARGV do texts[ARGV[i]] = true end
local removed = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local json = string.match(item, '^%d+|(.*)$') or item
  local ok, question = pcall(cjson.decode, json)
  if ok and type(question) == 'table' and texts[question['text']] then
    removed = removed + redis.call('LREM', KEYS[1], 0, item)
  end
end
return removed
";

/// ARGV: the item, how many to keep, the key's TTL in seconds, now.
const RECORD_UNANSWERED: &str = r"
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
";

/// ARGV: how many to read, now.
const READ_UNANSWERED: &str = r"
return redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
";

/// Removes the messages for a closed team whose expiry (score) has passed, a bounded batch at
/// a time (each read and write sweeps again).
const SWEEP_OFFLINE: &str = r"
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 500)
if #expired > 0 then
  redis.call('HDEL', KEYS[1], unpack(expired))
  redis.call('ZREM', KEYS[2], unpack(expired))
end
return #expired
";

/// Adds feedback only to a conversation that still exists.
const FEEDBACK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
";

/// How long a write waits for its replicas (`HA_REDIS_WAIT_REPLICAS`) before it is
/// acknowledged on its master alone. A healthy replica answers in well under a millisecond;
/// while a master has no replica (its own just failed over to it) every write waits this
/// long, so it is short.
const REPLICA_WAIT_MS: u64 = 250;

#[derive(Clone)]
pub struct RedisStore {
    target: RedisTarget,
    pub(super) connection: RedisConnection,
    /// Replicas that must hold a conversation's write before it is acknowledged: with 1 and a
    /// replica per master, a master that fails loses no message a resident was told was sent.
    wait_replicas: u32,
    prefix: String,
    pub(super) retention: Retention,
    waiters: Waiters,
    /// The task that turns published events into rung bells, started on first use.
    listener: Arc<OnceLock<()>>,
    /// Teams whose queue under its old key has been looked for (see `adopt_old_queues`).
    adopted: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

pub(super) fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl RedisStore {
    /// `url` as `HA_REDIS_URL` takes it: one server, or a comma-separated list of a
    /// cluster's seed nodes.
    pub fn new(url: &str, prefix: &str, retention: Retention) -> Result<Self, StoreError> {
        Self::open(RedisTarget::from_url(url, false), prefix, retention)
    }

    /// Connects lazily: the service starts even while Redis is down, answers 503 until it is
    /// back, and reconnects by itself.
    pub fn open(target: RedisTarget, prefix: &str, retention: Retention) -> Result<Self, StoreError> {
        let connection = RedisConnection::open(&target).map_err(unavailable)?;
        Ok(Self {
            target,
            connection,
            wait_replicas: 0,
            prefix: prefix.to_string(),
            retention,
            waiters: Waiters::default(),
            listener: Arc::new(OnceLock::new()),
            adopted: Arc::default(),
        })
    }

    /// Acknowledges a conversation's writes only once `replicas` replicas hold them.
    pub fn wait_for_replicas(mut self, replicas: u32) -> Self {
        self.wait_replicas = replicas;
        self
    }

    fn key(&self, id: &str, part: &str) -> String {
        format!("{}conv:{{{id}}}:{part}", self.prefix)
    }

    fn keys(&self, id: &str) -> [String; 3] {
        [self.key(id, "meta"), self.key(id, "log"), self.key(id, "feedback")]
    }

    /// Where every write announces the conversation it touched (its meta key, or `*` for news
    /// that concerns every waiter, such as a queue moving).
    fn channel(&self) -> String {
        format!("{}events", self.prefix)
    }

    pub(super) fn global(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A team's queue. Every queue shares one hash tag, so a move between two is one script.
    fn queue_key(&self, team: &str) -> String {
        self.global(&format!("{{queue}}:{team}"))
    }

    /// Moves a queue kept under its name before queues shared a hash tag (`queue:<team>`) into
    /// its current key, once per team per process, so residents waiting across an upgrade keep
    /// their places. Several commands, not one script: the two keys may be in different slots.
    async fn adopt_old_queues(&self, teams: &[&str]) -> Result<(), StoreError> {
        for team in teams {
            if self.adopted.lock().unwrap_or_else(|e| e.into_inner()).contains(*team) {
                continue;
            }
            let old = self.global(&format!("queue:{team}"));
            let mut connection = self.connection.clone();
            let entries: Vec<(String, f64)> =
                connection.zrange_withscores(&old, 0, -1).await.map_err(unavailable)?;
            if !entries.is_empty() {
                let mut add = redis::cmd("ZADD");
                add.arg(self.queue_key(team)).arg("NX");
                for (id, score) in &entries {
                    add.arg(score).arg(id);
                }
                let _: i64 = add.query_async(&mut connection).await.map_err(unavailable)?;
                let _: i64 = connection.del(&old).await.map_err(unavailable)?;
                tracing::info!(team, waiting = entries.len(), "queue moved to its hash-tagged key");
            }
            self.adopted.lock().unwrap_or_else(|e| e.into_inner()).insert(team.to_string());
        }
        Ok(())
    }

    /// Messages for a closed team by id, and their expiry times (a sorted set). One hash tag,
    /// so the script that sweeps both stays in one slot.
    fn offline_keys(&self) -> (String, String) {
        (self.global("{offline}:messages"), self.global("{offline}:expiry"))
    }

    /// Unanswered questions, newest first, each as `<expiry ms>|<json>`.
    fn unanswered_key(&self) -> String {
        self.global("unanswered:timed")
    }

    /// Removes the messages for a closed team whose own retention has run out.
    async fn sweep_offline(&self) -> Result<(), StoreError> {
        let (messages, expiry) = self.offline_keys();
        let mut connection = self.connection.clone();
        let _: i64 = SWEEP_OFFLINE_SCRIPT
            .key(&messages)
            .key(&expiry)
            .arg(now_millis())
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn remove_offline(&self, ids: &[&str]) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (messages, expiry) = self.offline_keys();
        let mut connection = self.connection.clone();
        let (removed, _): (usize, usize) = redis::pipe()
            .hdel(&messages, ids)
            .zrem(&expiry, ids)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(removed)
    }

    async fn publish(&self, what: &str) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _: i64 = connection.publish(self.channel(), what).await.map_err(unavailable)?;
        Ok(())
    }

    /// Subscribes and rings bells for as long as the store lives. When the subscription drops
    /// (Redis restarted, a cluster node failed, network), it subscribes again, on the next
    /// seed node for a cluster, and then rings every bell, so that waiters re-read the log and
    /// nothing published in the gap is missed.
    fn start_listener(&self) {
        let seeds = self.target.seeds().to_vec();
        let channel = self.channel();
        let waiters = self.waiters.clone();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            for seed in seeds.iter().cycle() {
                let subscribed = match redis::Client::open(seed.as_str()) {
                    Ok(client) => match client.get_async_pubsub().await {
                        Ok(mut pubsub) => pubsub.subscribe(&channel).await.is_ok().then_some(pubsub),
                        Err(_) => None,
                    },
                    Err(_) => None,
                };
                match subscribed {
                    Some(mut pubsub) => {
                        delay = Duration::from_millis(100);
                        waiters.ring_all();
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let payload: String = message.get_payload().unwrap_or_default();
                            match (payload.strip_prefix(QUEUE_MOVED), conversation_of(&payload)) {
                                (Some(_), Some(id)) => waiters.ring_queue_moved(id),
                                (None, Some(id)) => waiters.ring(id),
                                // `*` (as older versions sent on a queue move): every bell.
                                _ => waiters.ring_all(),
                            }
                        }
                        tracing::warn!("event subscription lost; subscribing again");
                    }
                    None => {
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(2));
                    }
                }
                // No ring here: a failed attempt has nothing new to tell; a successful one
                // rings every bell above, so waiters re-read what the gap may have hidden.
            }
        });
    }

    /// Runs CREATE, COMMIT or COMMIT_HOLDING: the conversation's keys (`extra.keys` after its
    /// three), then `first` (token hash or expected version), the state, the TTL, the event
    /// channel, the resident's newest message among these, `extra.args`, and one argument per
    /// message.
    async fn write_log<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        id: &str,
        first: impl redis::ToRedisArgs,
        state: &ConversationState,
        extra: Extra<'_>,
        messages: &[NewMessage],
    ) -> Result<T, StoreError> {
        let mut keys = self.keys(id).to_vec();
        keys.extend_from_slice(extra.keys);
        let mut args = first.to_redis_args();
        args.push(serde_json::to_string(state).map_err(corrupt)?.into_bytes());
        args.push(self.ttl().to_string().into_bytes());
        args.push(self.channel().into_bytes());
        let last = messages.iter().rev().find(|m| m.role == super::Role::Resident);
        args.push(last.map_or(Vec::new(), |m| m.text.as_bytes().to_vec()));
        args.extend(extra.args.iter().map(|a| a.as_bytes().to_vec()));
        args.extend(encode(messages)?.into_iter().map(String::into_bytes));
        let mut connection = self.connection.clone();
        if self.wait_replicas == 0 {
            let mut invocation = script.prepare_invoke();
            invocation.key(&keys).arg(&args);
            return invocation.invoke_async(&mut connection).await.map_err(unavailable);
        }
        // WAIT covers the writes sent before it on its own connection, so it goes in one
        // pipeline with the script: one connection to one node, the keys' slot's master.
        let mut pipe = redis::pipe();
        pipe.cmd("EVALSHA").arg(script.get_hash()).arg(keys.len()).arg(&keys).arg(&args);
        pipe.cmd("WAIT").arg(self.wait_replicas).arg(REPLICA_WAIT_MS);
        let (written, acknowledged): (T, u32) = match pipe.query_async(&mut connection).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                script.load_async(&mut connection).await.map_err(unavailable)?;
                pipe.query_async(&mut connection).await.map_err(unavailable)?
            }
            other => other.map_err(unavailable)?,
        };
        if acknowledged < self.wait_replicas {
            tracing::warn!(
                acknowledged,
                wanted = self.wait_replicas,
                "a write reached fewer replicas than asked"
            );
        }
        Ok(written)
    }

    /// A conversation's keys' TTL, in seconds.
    fn ttl(&self) -> u64 {
        seconds(self.retention.conversations)
    }
}

/// What a conversation write passes beyond its three keys and four leading arguments.
#[derive(Default)]
struct Extra<'a> {
    keys: &'a [String],
    args: &'a [&'a str],
}

/// A period as a key's TTL: whole seconds, at least one.
fn seconds(period: Duration) -> u64 {
    period.as_secs().max(1)
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The conversation id inside a key like `prefix:conv:{<id>}:meta`.
/// A message as kept in a conversation's stream: the entry id `0-<seq>`, the JSON in `m`.
fn stored_of_entry(entry: redis::streams::StreamId) -> Result<StoredMessage, StoreError> {
    let seq = entry.id.strip_prefix("0-").and_then(|n| n.parse().ok()).ok_or_else(|| corrupt(&entry.id))?;
    let json: String = entry.get("m").ok_or_else(|| corrupt("stream entry without a message"))?;
    let message = serde_json::from_str(&json).map_err(corrupt)?;
    Ok(StoredMessage { id: seq, message })
}

/// The event published when conversation `{id}` joins or leaves a queue: its own streams and
/// the queued residents' streams re-read; others sleep on.
const QUEUE_MOVED: &str = "queue-moved:";

fn conversation_of(key: &str) -> Option<&str> {
    let start = key.find('{')? + 1;
    let end = start + key[start..].find('}')?;
    Some(&key[start..end])
}

fn encode(messages: &[NewMessage]) -> Result<Vec<String>, StoreError> {
    messages.iter().map(|m| serde_json::to_string(m).map_err(corrupt)).collect()
}

fn stored(ids: &[i64], messages: Vec<NewMessage>) -> Vec<StoredMessage> {
    ids.iter().zip(messages).map(|(&id, message)| StoredMessage { id: id as u64, message }).collect()
}

impl ConversationStore for RedisStore {
    async fn create(
        &self,
        id: &str,
        token_hash: &str,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let count: i64 =
            self.write_log(&CREATE_SCRIPT, id, token_hash, state, Extra::default(), &messages).await?;
        let ids: Vec<i64> = (1..=count).collect();
        Ok(stored(&ids, messages))
    }

    async fn load(&self, id: &str) -> Result<Option<Snapshot>, StoreError> {
        let mut connection = self.connection.clone();
        let (token, state, version): (Option<String>, Option<String>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.key(id, "meta"))
            .arg(&["token", "state", "version"])
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let (Some(token_hash), Some(state), Some(version)) = (token, state, version) else {
            return Ok(None);
        };
        let state = serde_json::from_str(&state).map_err(corrupt)?;
        Ok(Some(Snapshot { token_hash, state, version }))
    }

    async fn commit(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
    ) -> Result<CommitOutcome, StoreError> {
        let ids: Vec<i64> =
            self.write_log(&COMMIT_SCRIPT, id, expected_version, state, Extra::default(), &messages).await?;
        Ok(match ids.first() {
            Some(-1) => CommitOutcome::Gone,
            Some(-2) => CommitOutcome::Conflict,
            _ => CommitOutcome::Committed(stored(&ids, messages)),
        })
    }

    async fn messages(&self, id: &str, after: u64) -> Result<Vec<StoredMessage>, StoreError> {
        // Nothing comes after the largest id (and `after + 1` would wrap to 0 and replay all).
        let Some(first) = after.checked_add(1) else { return Ok(Vec::new()) };
        let mut connection = self.connection.clone();
        let reply: StreamRangeReply =
            connection.xrange(self.key(id, "log"), format!("0-{first}"), "+").await.map_err(unavailable)?;
        reply.ids.into_iter().map(stored_of_entry).collect()
    }

    async fn summary(&self, id: &str) -> Result<Option<Summary>, StoreError> {
        let mut connection = self.connection.clone();
        let (state, last): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.key(id, "meta"))
            .arg(&["state", "last"])
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let Some(state) = state else { return Ok(None) };
        let state = serde_json::from_str(&state).map_err(corrupt)?;
        Ok(Some(Summary { state, last_resident_message: last }))
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let [meta, log, feedback] = self.keys(id);
        let removed: u64 =
            connection.del(&[meta, log, feedback, self.key(id, "agent")]).await.map_err(unavailable)?;
        Ok(removed > 0)
    }

    async fn add_feedback(&self, id: &str, feedback: Feedback) -> Result<(), StoreError> {
        let json = serde_json::to_string(&feedback).map_err(corrupt)?;
        let mut connection = self.connection.clone();
        let _: i64 = FEEDBACK_SCRIPT
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
        let items: Vec<String> =
            connection.lrange(self.key(id, "feedback"), 0, -1).await.map_err(unavailable)?;
        items.iter().map(|json| serde_json::from_str(json).map_err(corrupt)).collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut connection).await.map_err(unavailable)?;
        Ok(())
    }
}

/// COMMIT with the holder changed in the same step. KEYS: meta, log, feedback, agent. ARGV:
/// version, state, TTL, channel, the resident's newest message, `claim` or `release`, the
/// agent, then one per message.
/// Returns the new message ids, or -1 (gone), -2 (version conflict), -3 (another agent holds it).
const COMMIT_HOLDING: &str = r"
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {-1} end
if tonumber(version) ~= tonumber(ARGV[1]) then return {-2} end
if ARGV[6] == 'claim' then
  local holder = redis.call('GET', KEYS[4])
  if holder and holder ~= ARGV[7] then return {-3} end
  redis.call('SET', KEYS[4], ARGV[7], 'EX', ARGV[3])
else
  redis.call('DEL', KEYS[4])
end
local first = 8
";

/// Leaves queues and joins one in one step (every queue shares the `{queue}` hash tag).
/// KEYS: the queues to leave, then the one to join if ARGV[2] is not empty. ARGV: the id, its
/// score or '', the TTL, the event channel, the event.
const MOVE_IN_QUEUES: &str = r"
local leave = #KEYS
if ARGV[2] ~= '' then leave = leave - 1 end
for i = 1, leave do redis.call('ZREM', KEYS[i], ARGV[1]) end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[#KEYS], 'NX', ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[#KEYS], ARGV[3])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
";

impl HandoffStore for RedisStore {
    async fn enqueue(&self, team: &str, id: &str, at_micros: i64) -> Result<(), StoreError> {
        self.move_in_queues(id, &[], Some((team, at_micros))).await
    }

    async fn dequeue(&self, team: &str, id: &str) -> Result<(), StoreError> {
        self.move_in_queues(id, &[team], None).await
    }

    async fn move_in_queues(
        &self,
        id: &str,
        from: &[&str],
        to: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let teams: Vec<&str> = from.iter().copied().chain(to.map(|(team, _)| team)).collect();
        self.adopt_old_queues(&teams).await?;
        let mut invocation = MOVE_IN_QUEUES_SCRIPT.prepare_invoke();
        for team in &teams {
            invocation.key(self.queue_key(team));
        }
        // Scored in milliseconds with the microseconds as a fraction (exact in a double for
        // centuries): equal whole-millisecond scores would be ordered by id, not by arrival.
        let score = to.map_or(String::new(), |(_, at_micros)| (at_micros as f64 / 1000.0).to_string());
        invocation
            .arg(id)
            .arg(score)
            .arg(self.ttl())
            .arg(self.channel())
            .arg(format!("{QUEUE_MOVED}{{{id}}}"));
        let mut connection = self.connection.clone();
        let _: () = invocation.invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok(())
    }

    async fn queue(&self, team: &str) -> Result<Vec<(String, i64)>, StoreError> {
        self.adopt_old_queues(&[team]).await?;
        let mut connection = self.connection.clone();
        let entries: Vec<(String, f64)> =
            connection.zrange_withscores(self.queue_key(team), 0, -1).await.map_err(unavailable)?;
        Ok(entries.into_iter().map(|(id, at)| (id, at.floor() as i64)).collect())
    }

    async fn queue_place(&self, team: &str, id: &str) -> Result<Option<usize>, StoreError> {
        self.adopt_old_queues(&[team]).await?;
        let mut connection = self.connection.clone();
        connection.zrank(self.queue_key(team), id).await.map_err(unavailable)
    }

    async fn commit_holding(
        &self,
        id: &str,
        expected_version: u64,
        state: &ConversationState,
        messages: Vec<NewMessage>,
        holder: Holder<'_>,
    ) -> Result<HoldOutcome, StoreError> {
        let (change, agent) = match holder {
            Holder::Claim(agent) => ("claim", agent),
            Holder::Release => ("release", ""),
        };
        let agent_key = [self.key(id, "agent")];
        let ids: Vec<i64> = self
            .write_log(
                &COMMIT_HOLDING_SCRIPT,
                id,
                expected_version,
                state,
                Extra { keys: &agent_key, args: &[change, agent] },
                &messages,
            )
            .await?;
        Ok(match ids.first() {
            Some(-1) => HoldOutcome::Gone,
            Some(-2) => HoldOutcome::Conflict,
            Some(-3) => {
                let mut connection = self.connection.clone();
                let holder: Option<String> = connection.get(&agent_key[0]).await.map_err(unavailable)?;
                HoldOutcome::HeldBy(holder.unwrap_or_default())
            }
            _ => HoldOutcome::Committed(stored(&ids, messages)),
        })
    }

    async fn set_presence(&self, agent: &str, status: &str, ttl: Duration) -> Result<(), StoreError> {
        let expires = chrono::Utc::now().timestamp_millis() + ttl.as_millis() as i64;
        let mut connection = self.connection.clone();
        let _: i64 = connection
            .hset(self.global("presence"), agent, format!("{expires}|{status}"))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn presence(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut connection = self.connection.clone();
        let all: std::collections::HashMap<String, String> =
            connection.hgetall(self.global("presence")).await.map_err(unavailable)?;
        let now = chrono::Utc::now().timestamp_millis();
        let mut agents: Vec<(String, String)> = all
            .into_iter()
            .filter_map(|(agent, value)| {
                let (expires, status) = value.split_once('|')?;
                (expires.parse::<i64>().ok()? > now).then(|| (agent, status.to_string()))
            })
            .collect();
        agents.sort();
        Ok(agents)
    }

    async fn set_typing(&self, id: &str, agent_side: bool, typing: bool) -> Result<(), StoreError> {
        let key = self.key(id, if agent_side { "typing:agent" } else { "typing:resident" });
        let mut connection = self.connection.clone();
        if typing {
            let _: () = connection.set_ex(&key, 1, TYPING_TTL.as_secs()).await.map_err(unavailable)?;
        } else {
            let _: i64 = connection.del(&key).await.map_err(unavailable)?;
        }
        self.publish(&self.key(id, "typing")).await
    }

    async fn typing(&self, id: &str) -> Result<Typing, StoreError> {
        let mut connection = self.connection.clone();
        let (resident, agent): (Option<i64>, Option<i64>) = redis::cmd("MGET")
            .arg(self.key(id, "typing:resident"))
            .arg(self.key(id, "typing:agent"))
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(Typing { resident: resident.is_some(), agent: agent.is_some() })
    }

    async fn add_offline(&self, message: OfflineMessage) -> Result<(), StoreError> {
        let json = serde_json::to_string(&message).map_err(corrupt)?;
        let (messages, expiry) = self.offline_keys();
        let period = self.retention.offline_messages;
        let mut connection = self.connection.clone();
        self.sweep_offline().await?;
        // The keys' TTL only ends a list nobody has written to for a whole period; each
        // message's own expiry is its score in the second key, swept on every read and write.
        let _: () = redis::pipe()
            .hset(&messages, &message.id, json)
            .ignore()
            .zadd(&expiry, &message.id, now_millis() + period.as_millis() as i64)
            .ignore()
            .expire(&messages, seconds(period) as i64)
            .ignore()
            .expire(&expiry, seconds(period) as i64)
            .ignore()
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn offline(&self) -> Result<Vec<OfflineMessage>, StoreError> {
        self.sweep_offline().await?;
        let mut connection = self.connection.clone();
        let all: std::collections::HashMap<String, String> =
            connection.hgetall(self.offline_keys().0).await.map_err(unavailable)?;
        let mut messages: Vec<OfflineMessage> =
            all.values().map(|json| serde_json::from_str(json).map_err(corrupt)).collect::<Result<_, _>>()?;
        messages.sort_by(|a, b| a.at.cmp(&b.at));
        Ok(messages)
    }

    async fn mark_offline_done(&self, id: &str) -> Result<bool, StoreError> {
        self.remove_offline(&[id]).await.map(|removed| removed > 0)
    }

    async fn forget_offline_of(&self, conversation: &str) -> Result<usize, StoreError> {
        let mut connection = self.connection.clone();
        let all: std::collections::HashMap<String, String> =
            connection.hgetall(self.offline_keys().0).await.map_err(unavailable)?;
        let theirs: Vec<&str> = all
            .iter()
            .filter(|(_, json)| {
                serde_json::from_str::<OfflineMessage>(json)
                    .is_ok_and(|m| m.conversation.as_deref() == Some(conversation))
            })
            .map(|(id, _)| id.as_str())
            .collect();
        self.remove_offline(&theirs).await
    }

    fn watch(&self, id: &str) -> Arc<super::Bell> {
        if self.listener.set(()).is_ok() {
            self.start_listener();
        }
        self.waiters.register(id)
    }
}

impl InsightStore for RedisStore {
    async fn record_unanswered(&self, question: Unanswered) -> Result<(), StoreError> {
        let json = serde_json::to_string(&question).map_err(corrupt)?;
        let period = self.retention.insights;
        let expires = now_millis() + period.as_millis() as i64;
        let mut connection = self.connection.clone();
        let _: () = RECORD_UNANSWERED_SCRIPT
            .key(self.unanswered_key())
            .arg(format!("{expires}|{json}"))
            .arg(UNANSWERED_KEPT)
            .arg(seconds(period))
            .arg(now_millis())
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn unanswered(&self, limit: usize) -> Result<Vec<Unanswered>, StoreError> {
        let mut connection = self.connection.clone();
        let items: Vec<String> = READ_UNANSWERED_SCRIPT
            .key(self.unanswered_key())
            .arg(limit.max(1))
            .arg(now_millis())
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        items
            .iter()
            .map(|item| {
                let json = item.split_once('|').map_or(item.as_str(), |(_, json)| json);
                serde_json::from_str(json).map_err(corrupt)
            })
            .collect()
    }

    async fn dismiss_unanswered(&self, texts: &[String]) -> Result<usize, StoreError> {
        if texts.is_empty() {
            return Ok(0);
        }
        let mut connection = self.connection.clone();
        let mut script = DISMISS_UNANSWERED_SCRIPT.key(self.unanswered_key());
        for text in texts {
            script.arg(text);
        }
        let removed: usize = script.invoke_async(&mut connection).await.map_err(unavailable)?;
        Ok(removed)
    }
}
