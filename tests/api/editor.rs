//! Editors: unanswered questions, trying the draft, publishing without a redeploy.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{AGENT_TOKEN, EDITOR_TOKEN, StoreKind, error_code, spawn_app, spawn_app_with};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn unanswered_questions_are_kept_redacted_for_editors() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    app.say(&conversation, "can you recommend a good plumber, email me at jo@example.com").await;
    let response = app.agent(Method::GET, "/api/v1/editor/unanswered", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let question = &body["questions"][0];
    assert!(question["text"].as_str().unwrap().contains("plumber"));
    assert!(!question["text"].as_str().unwrap().contains("jo@example.com"), "{question}");
    assert_eq!(question["kind"], "none");
    let refused = app.agent(Method::GET, "/api/v1/editor/unanswered", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn an_editor_tries_and_publishes_without_a_redeploy() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let draft =
        std::env::temp_dir().join(format!("ha-draft-{}", crate::helpers::unique_prefix().replace(':', "")));
    copy_dir(&root.join("intents"), &draft.join("intents"));
    copy_dir(&root.join("knowledge-base"), &draft.join("knowledge-base"));
    let app = spawn_app_with(StoreKind::Memory, |s| {
        s.intents_dir = draft.join("intents");
        s.knowledge_dir = draft.join("knowledge-base");
    })
    .await;
    let question = "can the council paint a zebra crossing outside the nursery";
    let examples: Vec<String> = [
        "paint a zebra crossing",
        "new zebra crossing request",
        "ask for a pedestrian crossing",
        "can we get a crossing near the school",
        "request a zebra crossing on our road",
        "zebra crossing for the nursery",
        "crossing needed outside the primary school",
        "who decides where crossings go",
        "want a safe place to cross the road",
    ]
    .iter()
    .map(|e| format!("\"{e}\""))
    .collect();
    let new_topic = format!(
        "\n[[intent]]\nid = \"pedestrian-crossings\"\ntitle = \"Pedestrian crossings\"\nexamples = [{}]\nanswer = \"Ask for a new crossing through the highways team.\"\nlast_reviewed = \"2026-11-26\"\n",
        examples.join(", ")
    );
    let roads = draft.join("intents/roads.toml");
    let original = std::fs::read_to_string(&roads).unwrap();
    std::fs::write(&roads, format!("{original}{new_topic}")).unwrap();

    // The draft answers it; the live service does not yet.
    let tried: Value = app
        .agent(Method::POST, "/api/v1/editor/try", EDITOR_TOKEN)
        .json(&json!({"text": question}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tried["matched"]["id"], "pedestrian-crossings");
    let conversation = app.start().await;
    assert_ne!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));

    let published = app.agent(Method::POST, "/api/v1/editor/publish", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(published.status(), 200);
    let conversation = app.start().await;
    assert_eq!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));

    // Broken content is refused with the file and line, and the service keeps answering.
    std::fs::write(&roads, format!("{original}\n[[intent]]\nid = \"broken\"\nanswer = \n")).unwrap();
    let refused = app.agent(Method::POST, "/api/v1/editor/publish", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_content");
    assert!(body["error"]["message"].as_str().unwrap().contains("roads.toml:"), "{body}");
    assert_eq!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));
    let agent = app.agent(Method::POST, "/api/v1/editor/publish", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
    std::fs::remove_dir_all(&draft).ok();
}
