//! One suite, run against both stores: what every ConversationStore must do.

use herts_assistant::engine::{ConversationState, Mode};
use herts_assistant::store::{
    CommitOutcome, ConversationStore, Feedback, MemoryStore, NewMessage, RedisStore, Role,
};
use std::time::Duration;

use crate::helpers::{redis_url, unique_prefix};

fn message(text: &str) -> NewMessage {
    NewMessage::plain(Role::Resident, text, "2026-11-26T12:00:00.000Z")
}

async fn suite(store: impl ConversationStore) {
    let id = hex::encode(rand::random::<[u8; 16]>());
    assert!(store.load(&id).await.unwrap().is_none());
    let first =
        store.create(&id, "hash", &ConversationState::default(), vec![message("welcome")]).await.unwrap();
    assert_eq!(first[0].id, 1);

    let snapshot = store.load(&id).await.unwrap().unwrap();
    assert_eq!((snapshot.token_hash.as_str(), snapshot.version), ("hash", 0));

    let state = ConversationState { mode: Mode::Queued, asked_place: true, ..Default::default() };
    let outcome = store.commit(&id, 0, &state, vec![message("a"), message("b")]).await.unwrap();
    let CommitOutcome::Committed(stored) = outcome else { panic!("{outcome:?}") };
    assert_eq!(stored.iter().map(|m| m.id).collect::<Vec<_>>(), [2, 3]);

    // A stale version is refused and changes nothing.
    assert_eq!(store.commit(&id, 0, &state, vec![message("late")]).await.unwrap(), CommitOutcome::Conflict);
    let snapshot = store.load(&id).await.unwrap().unwrap();
    assert_eq!((snapshot.version, snapshot.state), (1, state));

    let after_one = store.messages(&id, 1).await.unwrap();
    assert_eq!(after_one.iter().map(|m| m.message.text.as_str()).collect::<Vec<_>>(), ["a", "b"]);

    store.add_feedback(&id, Feedback { message_id: 2, helpful: false, at: "t".into() }).await.unwrap();
    assert_eq!(store.feedback(&id).await.unwrap().len(), 1);

    assert!(store.delete(&id).await.unwrap());
    assert!(store.load(&id).await.unwrap().is_none());
    assert!(store.messages(&id, 0).await.unwrap().is_empty());
    assert!(store.feedback(&id).await.unwrap().is_empty());
    assert_eq!(
        store.commit(&id, 1, &ConversationState::default(), vec![]).await.unwrap(),
        CommitOutcome::Gone
    );
    assert!(!store.delete(&id).await.unwrap());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn memory_store_suite() {
    suite(MemoryStore::new(Duration::from_secs(60))).await;
}

#[tokio::test]
async fn redis_store_suite() {
    suite(RedisStore::new(&redis_url(), &unique_prefix(), Duration::from_secs(60)).unwrap()).await;
}

#[tokio::test]
async fn memory_records_expire() {
    let store = MemoryStore::new(Duration::from_millis(50));
    store.create("a", "h", &ConversationState::default(), vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(store.load("a").await.unwrap().is_none());
}

#[tokio::test]
async fn redis_keys_are_hash_tagged_and_expire() {
    let prefix = unique_prefix();
    let store = RedisStore::new(&redis_url(), &prefix, Duration::from_secs(3600)).unwrap();
    let id = "0123456789abcdef0123456789abcdef";
    store.create(id, "h", &ConversationState::default(), vec![message("hi")]).await.unwrap();
    store.add_feedback(id, Feedback { message_id: 1, helpful: true, at: "t".into() }).await.unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in keys {
        assert!(key.contains(&format!("conv:{{{id}}}:")), "{key}");
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut connection).await.unwrap();
        assert!(ttl > 3500 && ttl <= 3600, "{key}: {ttl}");
    }
}
