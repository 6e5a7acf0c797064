//! The workflows on the memory store, without HTTP: the steps and their refusals. The API tests
//! (tests/api/handoff.rs) run the same journeys through HTTP on both stores.

use std::time::Duration;

use chrono::TimeZone;

use super::*;
use crate::handoff::hours;
use crate::store::{MemoryStore, Retention};

struct World {
    store: MemoryStore,
    handoff: Handoff,
    locks: Locks,
}

impl World {
    /// Teams always open, or keeping their hours (the service's time is a Sunday: closed).
    fn new(always_open: bool) -> Self {
        Self {
            store: MemoryStore::new(Retention::all(Duration::from_secs(3600))),
            handoff: Handoff::new(hours::default_teams(), Vec::new(), always_open, 6, &[]),
            locks: Locks::default(),
        }
    }

    fn service(&self) -> HandoffService<'_, MemoryStore> {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        HandoffService::new(&self.store, &self.handoff, &self.locks, now)
    }

    /// A conversation the engine handed to customer service.
    async fn queued(&self, id: &str) {
        let state = ConversationState {
            mode: Mode::Queued,
            team: Some("customer-service".into()),
            ..ConversationState::default()
        };
        self.store.create(id, "hash", &state, Vec::new()).await.unwrap();
        self.service().hand_over("customer-service", id).await.unwrap();
    }
}

#[tokio::test]
async fn a_claim_moves_the_conversation_to_the_agent_and_a_second_agent_is_refused() {
    let world = World::new(true);
    world.queued("a").await;
    let service = world.service();
    assert_eq!(service.queue_status("customer-service", "a").await.map(|q| q.position), Some(1));
    service.claim("a", "Alex").await.unwrap();
    let state = service.existing("a").await.unwrap();
    assert_eq!((state.mode, state.agent.as_deref()), (Mode::Agent, Some("Alex")));
    assert!(world.store.queue("customer-service").await.unwrap().is_empty());
    assert_eq!(world.store.queue(ACTIVE_QUEUE).await.unwrap().len(), 1);
    assert!(matches!(service.claim("a", "Sam").await, Err(HandoffError::AlreadyClaimed(h)) if h == "Alex"));
    // Claiming again as the holder is allowed and changes nothing.
    service.claim("a", "Alex").await.unwrap();
}

#[tokio::test]
async fn only_the_holder_sends_transfers_returns_or_closes() {
    let world = World::new(true);
    world.queued("a").await;
    let service = world.service();
    assert!(matches!(service.send("a", "Alex", "hello").await, Err(HandoffError::NotHeld)));
    service.claim("a", "Alex").await.unwrap();
    assert!(matches!(service.send("a", "Sam", "hello").await, Err(HandoffError::NotHeld)));
    let sent = service.send("a", "Alex", "hello").await.unwrap().unwrap();
    assert_eq!((sent.message.role, sent.message.author.as_deref()), (Role::Agent, Some("Alex")));
    assert!(matches!(service.transfer("a", "Alex", "nowhere").await, Err(HandoffError::NoSuchTeam)));
    let team = service.transfer("a", "Alex", "adult-care").await.unwrap();
    assert_eq!(world.store.queue(&team.id).await.unwrap().len(), 1);
    assert!(world.store.queue(ACTIVE_QUEUE).await.unwrap().is_empty());
    service.claim("a", "Sam").await.unwrap();
    service.close("a", "Sam", Outcome::parse("resolved").unwrap()).await.unwrap();
    let state = service.existing("a").await.unwrap();
    assert_eq!((state.mode, state.outcome.as_deref()), (Mode::Closed, Some("resolved")));
    assert!(world.store.queue(&team.id).await.unwrap().is_empty());
    assert!(world.store.queue(ACTIVE_QUEUE).await.unwrap().is_empty());
    assert!(matches!(Outcome::parse("done"), Err(HandoffError::InvalidOutcome)));
}

#[tokio::test]
async fn leaving_the_queue_and_erasing_leave_no_place_behind() {
    let world = World::new(true);
    world.queued("a").await;
    world.queued("b").await;
    let service = world.service();
    assert_eq!(service.status_of("b").await.and_then(|s| s.queue).map(|q| q.position), Some(2));
    let (state, _) = service.leave_queue("a").await.unwrap();
    assert_eq!(state.mode, Mode::Bot);
    assert!(matches!(service.leave_queue("a").await, Err(HandoffError::NotQueued)));
    assert_eq!(service.status_of("b").await.and_then(|s| s.queue).map(|q| q.position), Some(1));
    let b = service.existing("b").await.unwrap();
    service.erase("b", &b).await.unwrap();
    assert!(world.store.queue("customer-service").await.unwrap().is_empty());
    assert!(matches!(service.existing("b").await, Err(HandoffError::ConversationNotFound)));
    assert!(service.status_of("b").await.is_none());
}

#[tokio::test]
async fn a_message_is_left_only_while_the_team_is_closed_and_at_most_three_times() {
    let message = |n: u32| OfflineMessage {
        id: format!("m{n}"),
        conversation: Some("a".into()),
        name: "Pat".into(),
        contact: "pat@example.com".into(),
        question: "a question".into(),
        team: "customer-service".into(),
        at: "2026-11-29T12:00:00.000Z".into(),
        done: false,
    };
    let open = World::new(true);
    open.queued("a").await;
    assert!(matches!(open.service().leave_message("a", message(0)).await, Err(HandoffError::TeamOpen)));

    let closed = World::new(false);
    closed.queued("a").await;
    let service = closed.service();
    for n in 1..=3 {
        let told = service.leave_message("a", message(n)).await.unwrap();
        assert_eq!(told.len(), 1, "the resident is told it was passed on");
    }
    assert!(matches!(
        service.leave_message("a", message(4)).await,
        Err(HandoffError::TooManyOfflineMessages)
    ));
    assert_eq!(service.offline_messages().await.unwrap().len(), 3);
    service.offline_done("m1").await.unwrap();
    assert!(matches!(service.offline_done("m1").await, Err(HandoffError::NoSuchOfflineMessage)));
    let a = service.existing("a").await.unwrap();
    service.erase("a", &a).await.unwrap();
    assert!(service.offline_messages().await.unwrap().is_empty());
}
