//! Publishing, following and the draft engine, on small contents without the encoder.

use super::*;
use crate::store::MemoryStore;

fn settings() -> Settings {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings {
        intents_dir: root.join("intents"),
        knowledge_dir: root.join("knowledge-base"),
        encoder_dir: None,
        threshold: Some(0.4),
        // Its own: these small contents' weights must not push the shipped content's out.
        cache_dir: std::env::temp_dir().join("ha-publishing-tests"),
        ..Settings::default()
    }
}

fn small_files(answer: &str) -> ContentFiles {
    let mut files = ContentFiles::default();
    let examples = "[\"report a pothole\", \"pothole in my road\", \"hole in the road\"]";
    files.intents.insert(
        "roads.toml".into(),
        format!("[[intent]]\nid = \"potholes\"\ntitle = \"Potholes\"\nexamples = {examples}\nanswer = \"{answer}\"\n"),
    );
    files
}

fn answer_of(engine: &Engine) -> String {
    engine.content.intent("potholes").and_then(|i| i.answer.clone()).unwrap_or_default()
}

#[tokio::test]
async fn the_first_publish_records_the_starting_content_and_a_restore_brings_it_back() {
    let settings = settings();
    let store = MemoryStore::new(crate::store::Retention::all(Duration::from_secs(60)));
    let seed = small_files("First answer.");
    let live = LiveContent::new(Arc::new(build_engine_from(&settings, &seed).unwrap()), seed.clone());
    let who = |message: &str| Publication {
        author: "Eve".into(),
        message: message.into(),
        ..Publication::default()
    };

    let (version, _) = publish(
        &store,
        &live,
        &DraftEngine::default(),
        &settings,
        small_files("Second answer."),
        who("reword"),
    )
    .await
    .unwrap();
    assert_eq!(version.number, 2);
    assert_eq!(answer_of(&live.engine()), "Second answer.");
    let history = store.content_history(10).await.unwrap();
    assert_eq!(history.iter().map(|v| v.number).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(history[1].fingerprint, seed.fingerprint());

    let (restored, _) =
        restore(&store, &live, &DraftEngine::default(), &settings, 1, "Ann".into()).await.unwrap();
    assert_eq!((restored.number, restored.restores), (3, Some(1)));
    assert_eq!(answer_of(&live.engine()), "First answer.");
    assert!(matches!(
        restore(&store, &live, &DraftEngine::default(), &settings, 9, "Ann".into()).await,
        Err(PublishError::NoSuchVersion(9))
    ));
}

#[tokio::test]
async fn invalid_content_is_refused_and_nothing_is_recorded() {
    let settings = settings();
    let store = MemoryStore::new(crate::store::Retention::all(Duration::from_secs(60)));
    let seed = small_files("First answer.");
    let live = LiveContent::new(Arc::new(build_engine_from(&settings, &seed).unwrap()), seed);
    let mut broken = small_files("x");
    broken.intents.insert("bad.toml".into(), "[[intent]]\nid = \"broken\"\nanswer = \n".into());
    let publication = Publication { author: "Eve".into(), ..Publication::default() };
    let refused = publish(&store, &live, &DraftEngine::default(), &settings, broken, publication).await;
    assert!(
        matches!(refused, Err(PublishError::Invalid(ref e)) if e.to_string().contains("intents/bad.toml:"))
    );
    assert!(store.current_content().await.unwrap().is_none());
    assert_eq!(answer_of(&live.engine()), "First answer.");
}

#[tokio::test]
async fn a_follower_serves_what_another_instance_published() {
    let settings = settings();
    let store = MemoryStore::new(crate::store::Retention::all(Duration::from_secs(60)));
    let seed = small_files("First answer.");
    let engine = Arc::new(build_engine_from(&settings, &seed).unwrap());
    let publisher = LiveContent::new(engine.clone(), seed.clone());
    let follower = Arc::new(LiveContent::new(engine, seed));
    let following = tokio::spawn(follow(store.clone(), follower.clone(), settings.clone()));
    let publication = Publication { author: "Eve".into(), ..Publication::default() };
    publish(
        &store,
        &publisher,
        &DraftEngine::default(),
        &settings,
        small_files("Second answer."),
        publication,
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while answer_of(&follower.engine()) != "Second answer." && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    following.abort();
    assert_eq!(answer_of(&follower.engine()), "Second answer.");
    assert_eq!(follower.version().map(|v| v.number), Some(2));
}

#[tokio::test]
async fn a_draft_is_built_once_while_unchanged_and_the_live_content_never() {
    let settings = settings();
    let seed = small_files("First answer.");
    let live = LiveContent::new(Arc::new(build_engine_from(&settings, &seed).unwrap()), seed.clone());
    let drafts = DraftEngine::default();
    let same = drafts.engine_for(&live, &settings, Arc::new(seed)).await.unwrap();
    assert!(Arc::ptr_eq(&same, &live.engine()), "the live content is not built again");
    let draft = Arc::new(small_files("Draft answer."));
    let (first, second) = tokio::join!(
        drafts.engine_for(&live, &settings, draft.clone()),
        drafts.engine_for(&live, &settings, draft.clone())
    );
    assert!(Arc::ptr_eq(&first.unwrap(), &second.unwrap()), "two tries at once share one build");
    let changed = drafts.engine_for(&live, &settings, Arc::new(small_files("Changed."))).await.unwrap();
    assert_eq!(answer_of(&changed), "Changed.");
}
