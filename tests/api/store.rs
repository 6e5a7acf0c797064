//! One suite per store trait, each run against both stores: what every ConversationStore,
//! HandoffStore, InsightStore, ContentStore, ReviewStore and CountStore must do.

use herts_assistant::content::ContentFiles;
use herts_assistant::engine::{ConversationState, Mode};
use herts_assistant::store::{
    AuditEntry, CommitOutcome, ContentStore, ContentVersion, ConversationStore, CountBuffer, CountStore,
    Feedback, HandoffStore, HoldOutcome, Holder, InsightStore, MemoryStore, NewMessage, OfflineMessage,
    RedisStore, Retention, ReviewStore, Role, Store, Submission, SubmissionStatus, UNANSWERED_KEPT,
    Unanswered, VERSION_FILES_KEPT,
};
use std::time::Duration;

use crate::helpers::{raw_redis, redis_url, unique_prefix};

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
    assert_eq!((snapshot.version, &snapshot.state), (1, &state));

    let after_one = store.messages(&id, 1).await.unwrap();
    assert_eq!(after_one.iter().map(|m| m.message.text.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    // The summary a list shows: the state and the resident's newest message, which a commit of
    // the assistant's words alone leaves as it was.
    let summary = store.summary(&id).await.unwrap().unwrap();
    assert_eq!((summary.state, summary.last_resident_message.as_deref()), (state.clone(), Some("b")));
    let answer = NewMessage::plain(Role::Bot, "an answer", "2026-12-04T10:00:00Z");
    let CommitOutcome::Committed(_) = store.commit(&id, 1, &state, vec![answer]).await.unwrap() else {
        panic!("the answer commits")
    };
    assert_eq!(store.summary(&id).await.unwrap().unwrap().last_resident_message.as_deref(), Some("b"));
    assert!(store.summary("no-such-conversation").await.unwrap().is_none());

    store.add_feedback(&id, Feedback { message_id: 2, helpful: false, at: "t".into() }).await.unwrap();
    assert_eq!(store.feedback(&id).await.unwrap().len(), 1);

    assert!(store.delete(&id).await.unwrap());
    assert!(store.load(&id).await.unwrap().is_none());
    assert!(store.messages(&id, 0).await.unwrap().is_empty());
    assert!(store.feedback(&id).await.unwrap().is_empty());
    assert_eq!(
        store.commit(&id, 2, &ConversationState::default(), vec![]).await.unwrap(),
        CommitOutcome::Gone
    );
    assert!(!store.delete(&id).await.unwrap());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn memory_store_suite() {
    suite(MemoryStore::new(Retention::all(Duration::from_secs(60)))).await;
}

#[tokio::test]
async fn redis_store_suite() {
    suite(RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(60))).unwrap())
        .await;
}

fn offline(id: &str, conversation: &str, at: &str) -> OfflineMessage {
    OfflineMessage {
        id: id.into(),
        conversation: Some(conversation.into()),
        name: "Jo".into(),
        contact: "jo@example.com".into(),
        question: "Please call".into(),
        team: "customer-service".into(),
        at: at.into(),
        done: false,
    }
}

async fn handoff_suite(store: impl HandoffStore + ConversationStore) {
    // Queues: first come, first served; leaving takes one out; another team's queue is apart.
    for (id, at_micros) in [("a", 1_000), ("b", 2_000), ("c", 3_000)] {
        store.enqueue("team", id, at_micros).await.unwrap();
    }
    store.enqueue("other", "z", 4_000).await.unwrap();
    assert_eq!(store.queue("team").await.unwrap(), [("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]);
    store.dequeue("team", "b").await.unwrap();
    store.dequeue("team", "never-there").await.unwrap();
    assert_eq!(store.queue("team").await.unwrap(), [("a".into(), 1), ("c".into(), 3)]);
    assert_eq!(store.queue("other").await.unwrap(), [("z".into(), 4)]);
    // A place is how many wait ahead; one not queued (or in another team's queue) has none.
    let place = |id: &'static str| store.queue_place("team", id);
    assert_eq!((place("a").await.unwrap(), place("c").await.unwrap()), (Some(0), Some(1)));
    assert_eq!((place("b").await.unwrap(), place("z").await.unwrap()), (None, None));
    assert_eq!(store.queue_place("nobody-waits", "a").await.unwrap(), None);
    // Two joining within one millisecond keep their order, whatever their ids.
    store.enqueue("tie", "zz-first", 5_000_100).await.unwrap();
    store.enqueue("tie", "aa-second", 5_000_200).await.unwrap();
    assert_eq!(store.queue("tie").await.unwrap(), [("zz-first".into(), 5_000), ("aa-second".into(), 5_000)]);
    assert_eq!(store.queue_place("tie", "aa-second").await.unwrap(), Some(1));

    // A move leaves queues and joins another in one step.
    store.move_in_queues("a", &["team"], Some(("held", 9_000))).await.unwrap();
    assert_eq!(store.queue("team").await.unwrap(), [("c".into(), 3)]);
    assert_eq!(store.queue("held").await.unwrap(), [("a".into(), 9)]);
    store.move_in_queues("a", &["team", "held"], None).await.unwrap();
    assert!(store.queue("held").await.unwrap().is_empty());

    // A claim is a commit that also takes the conversation for an agent, in one step. Of two
    // agents at once exactly one wins; the other, loading again, finds it held and writes
    // nothing; the holder may claim again; a commit that releases it frees it.
    let state = ConversationState::default();
    store.create("x", "h", &state, vec![]).await.unwrap();
    let claim = |agent: &'static str, version: u64| {
        store.commit_holding("x", version, &state, vec![message(agent)], Holder::Claim(agent))
    };
    let (alex, sam) = tokio::join!(claim("Alex", 0), claim("Sam", 0));
    let outcomes = [alex.unwrap(), sam.unwrap()];
    let won =
        outcomes.iter().position(|o| matches!(o, HoldOutcome::Committed(_))).expect("one claim commits");
    assert!(matches!(outcomes[1 - won], HoldOutcome::Conflict | HoldOutcome::HeldBy(_)), "{outcomes:?}");
    let (holder, other) = if won == 0 { ("Alex", "Sam") } else { ("Sam", "Alex") };
    assert_eq!(claim(other, 1).await.unwrap(), HoldOutcome::HeldBy(holder.into()));
    assert_eq!(store.load("x").await.unwrap().unwrap().version, 1, "a refused claim writes nothing");
    assert_eq!(store.messages("x", 0).await.unwrap().len(), 1);
    assert!(matches!(claim(holder, 1).await.unwrap(), HoldOutcome::Committed(_)));
    let released = store.commit_holding("x", 2, &state, vec![], Holder::Release).await.unwrap();
    assert_eq!(released, HoldOutcome::Committed(vec![]));
    assert!(matches!(claim(other, 3).await.unwrap(), HoldOutcome::Committed(_)));
    assert_eq!(claim(holder, 3).await.unwrap(), HoldOutcome::Conflict, "the version is checked first");
    assert_eq!(
        store.commit_holding("gone", 0, &state, vec![], Holder::Release).await.unwrap(),
        HoldOutcome::Gone
    );

    // Presence expires with its heartbeat.
    store.set_presence("Alex", "online", Duration::from_secs(60)).await.unwrap();
    store.set_presence("Sam", "away", Duration::from_millis(300)).await.unwrap();
    assert_eq!(
        store.presence().await.unwrap(),
        [("Alex".into(), "online".into()), ("Sam".into(), "away".into())]
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.presence().await.unwrap(), [("Alex".into(), "online".into())]);

    // Typing, each side apart; the conversation's bell rings on it.
    let bell = store.watch("t");
    store.set_typing("t", false, true).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), bell.rung()).await.expect("the bell rang for typing");
    let typing = store.typing("t").await.unwrap();
    assert!(typing.resident && !typing.agent, "{typing:?}");
    store.set_typing("t", false, false).await.unwrap();
    assert!(!store.typing("t").await.unwrap().resident);

    // Messages left out of hours: listed oldest first, removed when done, forgotten with their
    // conversation.
    store.add_offline(offline("m2", "c2", "2026-12-03T10:00:00Z")).await.unwrap();
    store.add_offline(offline("m1", "c1", "2026-12-03T09:00:00Z")).await.unwrap();
    store.add_offline(offline("m3", "c1", "2026-12-03T11:00:00Z")).await.unwrap();
    let ids = |list: Vec<OfflineMessage>| list.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(store.offline().await.unwrap()), ["m1", "m2", "m3"]);
    assert!(store.mark_offline_done("m2").await.unwrap());
    assert!(!store.mark_offline_done("m2").await.unwrap());
    assert_eq!(store.forget_offline_of("c1").await.unwrap(), 2);
    assert_eq!(store.forget_offline_of("c1").await.unwrap(), 0);
    assert!(store.offline().await.unwrap().is_empty());
}

async fn insight_suite(store: impl InsightStore) {
    let question = |n: usize| Unanswered {
        text: format!("question {n}"),
        at: "2026-12-03T12:00:00Z".into(),
        kind: "none".into(),
        best: None,
        confidence: 0.1,
    };
    for n in 0..UNANSWERED_KEPT + 5 {
        store.record_unanswered(question(n)).await.unwrap();
    }
    let newest = store.unanswered(2).await.unwrap();
    assert_eq!(newest.iter().map(|q| q.text.as_str()).collect::<Vec<_>>(), ["question 504", "question 503"]);
    let all = store.unanswered(10_000).await.unwrap();
    assert_eq!(all.len(), UNANSWERED_KEPT, "only the newest are kept");
    assert_eq!(all.last().unwrap().text, "question 5");

    // Dealt with: every copy of a text leaves the list, the rest stay in order.
    store.record_unanswered(question(504)).await.unwrap();
    let gone = store.dismiss_unanswered(&["question 504".into(), "question 7".into()]).await.unwrap();
    assert_eq!(gone, 3);
    let newest = store.unanswered(2).await.unwrap();
    assert_eq!(newest.iter().map(|q| q.text.as_str()).collect::<Vec<_>>(), ["question 503", "question 502"]);
    assert_eq!(store.unanswered(10_000).await.unwrap().len(), UNANSWERED_KEPT - 3, "the list was full");
}

#[tokio::test]
async fn memory_handoff_suite() {
    handoff_suite(MemoryStore::new(Retention::all(Duration::from_secs(60)))).await;
}

#[tokio::test]
async fn redis_handoff_suite() {
    handoff_suite(
        RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(60))).unwrap(),
    )
    .await;
}

/// Residents waiting across an upgrade keep their places: a queue under its older key (before
/// queues shared a hash tag) is found and moved on first use.
#[tokio::test]
async fn a_queue_under_its_older_key_is_adopted() {
    let prefix = unique_prefix();
    let mut connection = raw_redis();
    let old = format!("{prefix}queue:customer-service");
    let _: () = redis::cmd("ZADD")
        .arg(&old)
        .arg(1.0)
        .arg("first")
        .arg(2.0)
        .arg("second")
        .query_async(&mut connection)
        .await
        .unwrap();
    let store = RedisStore::new(&redis_url(), &prefix, Retention::all(Duration::from_secs(60))).unwrap();
    assert_eq!(store.queue_place("customer-service", "second").await.unwrap(), Some(1));
    store.enqueue("customer-service", "third", 3_000).await.unwrap();
    let ids: Vec<String> =
        store.queue("customer-service").await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["first", "second", "third"]);
    let left: i64 = redis::cmd("EXISTS").arg(&old).query_async(&mut connection).await.unwrap();
    assert_eq!(left, 0, "the older key is gone");
}

#[tokio::test]
async fn memory_insight_suite() {
    insight_suite(MemoryStore::new(Retention::all(Duration::from_secs(60)))).await;
}

#[tokio::test]
async fn redis_insight_suite() {
    insight_suite(
        RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(60))).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn memory_records_expire() {
    let store = MemoryStore::new(Retention::all(Duration::from_millis(50)));
    store.create("a", "h", &ConversationState::default(), vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(store.load("a").await.unwrap().is_none());
}

#[tokio::test]
async fn redis_keys_are_hash_tagged_and_expire() {
    let prefix = unique_prefix();
    let store = RedisStore::new(&redis_url(), &prefix, Retention::all(Duration::from_secs(3600))).unwrap();
    let id = "0123456789abcdef0123456789abcdef";
    store.create(id, "h", &ConversationState::default(), vec![message("hi")]).await.unwrap();
    store.add_feedback(id, Feedback { message_id: 1, helpful: true, at: "t".into() }).await.unwrap();
    let mut connection = raw_redis();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in keys {
        assert!(key.contains(&format!("conv:{{{id}}}:")), "{key}");
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut connection).await.unwrap();
        assert!(ttl > 3500 && ttl <= 3600, "{key}: {ttl}");
    }
}

/// Each kind of data goes when its own period runs out: messages for a closed team and
/// unanswered questions, one by one, while conversations keep theirs.
async fn retention_suite(store: impl HandoffStore + InsightStore) {
    let question = Unanswered {
        text: "old question".into(),
        at: "2026-12-03T12:00:00Z".into(),
        kind: "none".into(),
        best: None,
        confidence: 0.1,
    };
    store.add_offline(offline("early", "c1", "2026-12-03T09:00:00Z")).await.unwrap();
    store.record_unanswered(question.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    store.add_offline(offline("late", "c2", "2026-12-03T10:00:00Z")).await.unwrap();
    store.record_unanswered(Unanswered { text: "new question".into(), ..question }).await.unwrap();
    let ids = |list: Vec<OfflineMessage>| list.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(store.offline().await.unwrap()), ["early", "late"]);
    assert_eq!(store.unanswered(10).await.unwrap().len(), 2);
    // The first of each is past its 1 s; the second is not.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ids(store.offline().await.unwrap()), ["late"]);
    let texts: Vec<String> = store.unanswered(10).await.unwrap().into_iter().map(|q| q.text).collect();
    assert_eq!(texts, ["new question"]);
}

fn short_retention() -> Retention {
    Retention {
        conversations: Duration::from_secs(3600),
        offline_messages: Duration::from_secs(1),
        insights: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn memory_retention_suite() {
    retention_suite(MemoryStore::new(short_retention())).await;
}

#[tokio::test]
async fn redis_retention_suite() {
    retention_suite(RedisStore::new(&redis_url(), &unique_prefix(), short_retention()).unwrap()).await;
}

fn version(message: &str) -> ContentVersion {
    ContentVersion {
        number: 0,
        fingerprint: format!("fp-{message}"),
        author: "Eve".into(),
        message: message.into(),
        published_at: "2026-12-04T09:00:00Z".into(),
        intents: 1,
        articles: 0,
        restores: None,
        submission: None,
        approved_by: None,
    }
}

fn files(text: &str) -> ContentFiles {
    let mut files = ContentFiles::default();
    files.intents.insert("a.toml".into(), text.into());
    files.articles.insert("b.md".into(), "\"quoted\" <b>text</b> \u{2019}".into());
    files
}

async fn content_suite(store: impl ContentStore) {
    assert!(store.current_content().await.unwrap().is_none());
    assert!(store.content_history(10).await.unwrap().is_empty());
    let first = store.publish_content(version("first"), &files("one")).await.unwrap();
    assert_eq!((first.number, first.message.as_str()), (1, "first"));
    let mut restoring = version("second");
    restoring.restores = Some(1);
    let second = store.publish_content(restoring, &files("two")).await.unwrap();
    assert_eq!(second.number, 2);
    assert_eq!(store.current_content().await.unwrap(), Some(second.clone()));
    let (record, kept) = store.content_version(1).await.unwrap().unwrap();
    assert_eq!((record, kept), (first, files("one")), "files come back byte for byte");
    assert_eq!(store.content_history(1).await.unwrap(), [second]);

    // Only the newest versions keep their files; every record stays in the history.
    for n in 3..=VERSION_FILES_KEPT + 2 {
        store.publish_content(version(&format!("v{n}")), &files("more")).await.unwrap();
    }
    assert!(store.content_version(1).await.unwrap().is_none());
    assert!(store.content_version(2).await.unwrap().is_none());
    assert!(store.content_version(3).await.unwrap().is_some());
    let history = store.content_history(1000).await.unwrap();
    assert_eq!(history.len() as u64, VERSION_FILES_KEPT + 2);
    assert_eq!(history.last().map(|v| v.number), Some(1));
    assert_eq!(history[history.len() - 2].restores, Some(1));
}

#[tokio::test]
async fn memory_content_suite() {
    content_suite(MemoryStore::new(Retention::all(Duration::from_secs(60)))).await;
}

#[tokio::test]
async fn redis_content_suite() {
    let store =
        RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(60))).unwrap();
    content_suite(store).await;
}

/// A submission scheduled by a version from before the due index (its record says scheduled,
/// the index has no entry) is indexed at start-up and then found due; one decided is not.
#[tokio::test]
async fn scheduled_submissions_missing_from_the_due_index_are_indexed_once() {
    let prefix = unique_prefix();
    let store = RedisStore::new(&redis_url(), &prefix, Retention::all(Duration::from_secs(60))).unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let scheduled = |s: &Submission| Submission {
        status: SubmissionStatus::Scheduled,
        publish_at: Some("2027-01-01T09:00:00Z".into()),
        ..s.clone()
    };
    let first = store.submit_content(submission("Eve"), &files("one")).await.unwrap();
    let second = store.submit_content(submission("Eve"), &files("two")).await.unwrap();
    for s in [&first, &second] {
        assert!(store.decide_submission(SubmissionStatus::Submitted, &scheduled(s), false).await.unwrap());
    }
    let published = Submission { status: SubmissionStatus::Published, ..scheduled(&second) };
    assert!(store.decide_submission(SubmissionStatus::Scheduled, &published, true).await.unwrap());
    // As an older version left it: no index at all.
    let mut connection = raw_redis();
    let _: () = redis::cmd("DEL")
        .arg(format!("{prefix}{{content}}:scheduled"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(store.due_submissions(at("2027-06-01T00:00:00Z")).await.unwrap().is_empty());

    assert_eq!(store.index_scheduled().await.unwrap(), 1, "only the one still scheduled");
    assert_eq!(store.due_submissions(at("2027-06-01T00:00:00Z")).await.unwrap(), [first.id]);
    assert_eq!(store.index_scheduled().await.unwrap(), 0, "indexing twice adds nothing");
    assert_eq!(MemoryStore::new(Retention::all(Duration::from_secs(60))).index_scheduled().await.unwrap(), 0);
}

fn submission(author: &str) -> Submission {
    Submission {
        id: 0,
        author: author.into(),
        message: "why".into(),
        submitted_at: "2026-12-04T09:00:00Z".into(),
        fingerprint: "fp".into(),
        status: SubmissionStatus::Submitted,
        decided_by: None,
        decided_at: None,
        comment: None,
        version: None,
        publish_at: None,
    }
}

async fn review_suite(store: impl ReviewStore) {
    let first = store.submit_content(submission("Eve"), &files("one")).await.unwrap();
    let second = store.submit_content(submission("Ann"), &files("two")).await.unwrap();
    assert_eq!((first.id, second.id), (1, 2));
    let (stored, kept) = store.submission(1).await.unwrap().unwrap();
    assert_eq!((stored, kept), (first.clone(), Some(files("one"))));
    assert_eq!(store.submissions(10).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [2, 1]);

    // A decision is taken once: from the status the caller saw, never twice.
    let decided = Submission { status: SubmissionStatus::Published, decided_by: Some("Ann".into()), ..first };
    assert!(store.decide_submission(SubmissionStatus::Submitted, &decided, false).await.unwrap());
    assert!(!store.decide_submission(SubmissionStatus::Submitted, &decided, false).await.unwrap());
    assert!(store.submission(1).await.unwrap().unwrap().1.is_some(), "files kept until told");
    assert!(store.decide_submission(SubmissionStatus::Published, &decided, true).await.unwrap());
    let (stored, kept) = store.submission(1).await.unwrap().unwrap();
    assert_eq!((stored.status, kept), (SubmissionStatus::Published, None));
    assert!(store.submission(9).await.unwrap().is_none());

    // Scheduled submissions are found due by their time, earliest first, and leave the due
    // list when they are published or cancelled.
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let third = store.submit_content(submission("Eve"), &files("three")).await.unwrap();
    let scheduled = |s: &Submission, when: &str| Submission {
        status: SubmissionStatus::Scheduled,
        publish_at: Some(when.into()),
        ..s.clone()
    };
    assert!(
        store
            .decide_submission(
                SubmissionStatus::Submitted,
                &scheduled(&second, "2027-01-02T09:00:00Z"),
                false
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .decide_submission(SubmissionStatus::Submitted, &scheduled(&third, "2027-01-01T09:00:00Z"), false)
            .await
            .unwrap()
    );
    assert_eq!(store.due_submissions(at("2026-12-31T09:00:00Z")).await.unwrap(), Vec::<u64>::new());
    assert_eq!(store.due_submissions(at("2027-01-01T09:00:00Z")).await.unwrap(), [3]);
    assert_eq!(store.due_submissions(at("2027-06-01T00:00:00Z")).await.unwrap(), [3, 2]);
    let cancelled = Submission { status: SubmissionStatus::Rejected, ..third.clone() };
    assert!(store.decide_submission(SubmissionStatus::Scheduled, &cancelled, true).await.unwrap());
    let published = Submission { status: SubmissionStatus::Published, ..second.clone() };
    assert_eq!(store.due_submissions(at("2027-06-01T00:00:00Z")).await.unwrap(), [2]);
    assert!(store.decide_submission(SubmissionStatus::Scheduled, &published, true).await.unwrap());
    assert!(store.due_submissions(at("2027-06-01T00:00:00Z")).await.unwrap().is_empty());

    for action in ["submitted", "published"] {
        let entry = AuditEntry {
            at: "2026-12-04T09:00:00Z".into(),
            who: "Ann".into(),
            action: action.into(),
            submission: Some(1),
            version: None,
            note: String::new(),
        };
        store.record_audit(entry).await.unwrap();
    }
    let log = store.audit(10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["published", "submitted"]);
    assert_eq!(store.audit(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn memory_review_suite() {
    review_suite(MemoryStore::new(Retention::all(Duration::from_secs(60)))).await;
}

#[tokio::test]
async fn redis_review_suite() {
    let store =
        RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(60))).unwrap();
    review_suite(store).await;
}

async fn count_suite(store: impl CountStore) {
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let answered = |n| ("report-pothole".to_string(), "answered".to_string(), n);
    store.add_counts(day(3), &[answered(2)]).await.unwrap();
    store.add_counts(day(3), &[answered(1), ("-".into(), "declined".into(), 1)]).await.unwrap();
    store.add_counts(day(4), &[answered(1)]).await.unwrap();
    store.add_counts(day(5), &[]).await.unwrap();
    let mut counts = store.counts(&[day(3)]).await.unwrap();
    counts.sort_by(|a, b| a.what.cmp(&b.what));
    let read: Vec<(&str, &str, u64)> =
        counts.iter().map(|c| (c.topic.as_str(), c.what.as_str(), c.count)).collect();
    assert_eq!(read, [("report-pothole", "answered", 3), ("-", "declined", 1)]);
    assert_eq!(store.counts(&[day(3), day(4)]).await.unwrap().len(), 3);
    assert!(store.counts(&[day(5)]).await.unwrap().is_empty());
}

/// Counts made between two writes reach the store summed, in one write per day.
async fn buffered_counts(store: Store) {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let buffer = CountBuffer::new(store.clone());
    for _ in 0..5 {
        buffer.count(day, "report-pothole".into(), "answered");
    }
    buffer.count(day, "-".into(), "declined");
    buffer.flush().await;
    let mut counts = store.counts(&[day]).await.unwrap();
    counts.sort_by(|a, b| a.what.cmp(&b.what));
    let read: Vec<(&str, &str, u64)> =
        counts.iter().map(|c| (c.topic.as_str(), c.what.as_str(), c.count)).collect();
    assert_eq!(read, [("report-pothole", "answered", 5), ("-", "declined", 1)]);
    // Written once: another flush with nothing new adds nothing.
    buffer.flush().await;
    assert_eq!(store.counts(&[day]).await.unwrap().iter().map(|c| c.count).sum::<u64>(), 6);
}

#[tokio::test]
async fn counts_are_buffered_and_written_summed() {
    let retention = Retention::all(Duration::from_secs(90 * 86_400));
    buffered_counts(Store::Memory(MemoryStore::new(retention))).await;
    buffered_counts(Store::Redis(RedisStore::new(&redis_url(), &unique_prefix(), retention).unwrap())).await;
}

#[tokio::test]
async fn memory_count_suite() {
    count_suite(MemoryStore::new(Retention::all(Duration::from_secs(90 * 86_400)))).await;
}

#[tokio::test]
async fn redis_count_suite() {
    let store =
        RedisStore::new(&redis_url(), &unique_prefix(), Retention::all(Duration::from_secs(90 * 86_400)))
            .unwrap();
    count_suite(store).await;
}
