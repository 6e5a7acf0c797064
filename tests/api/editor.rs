//! Editors: unanswered questions, trying the draft, publishing to every instance without a
//! redeploy, the history of versions and restoring one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    AGENT_TOKEN, APPROVER_TOKEN, EDITOR_TOKEN, StoreKind, error_code, spawn_app, spawn_app_with,
};

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

/// A question the shipped content does not answer, and the topic the drafts add for it.
const CROSSING_QUESTION: &str = "can the council paint a zebra crossing outside the nursery";
const CROSSING_ANSWER: &str = "Ask for a new crossing through the highways team.";

/// The shipped roads.toml, and the same with a topic on pedestrian crossings added.
fn roads_with_crossings() -> (String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
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
        "\n[[intent]]\nid = \"pedestrian-crossings\"\ntitle = \"Pedestrian crossings\"\nexamples = [{}]\nanswer = \"{CROSSING_ANSWER}\"\nlast_reviewed = \"2026-11-26\"\n",
        examples.join(", ")
    );
    let original = std::fs::read_to_string(root.join("intents/roads.toml")).unwrap();
    let changed = format!("{original}{new_topic}");
    (original, changed)
}

/// Saves `text` as `path` (`intents/roads.toml`) in the draft of the person `token` signs in;
/// returns the draft as the response shows it.
async fn save_in_draft(app: &crate::helpers::TestApp, token: &str, path: &str, text: &str) -> Value {
    let response = app
        .agent(Method::PUT, &format!("/api/v1/editor/draft/files/{path}"), token)
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "saving {path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_editor_tries_and_publishes_without_a_redeploy() {
    let (original, changed) = roads_with_crossings();
    // A one-person team: an approver publishes their draft directly.
    let app = spawn_app_with(StoreKind::Memory, |s| s.review_required = false).await;
    let question = CROSSING_QUESTION;
    let draft = save_in_draft(&app, APPROVER_TOKEN, "intents/roads.toml", &changed).await;
    assert_eq!(
        draft["changes"],
        json!([{"path": "intents/roads.toml", "change": "changed", "conflict": false}])
    );
    assert_eq!(draft["problems"], json!([]));

    // The draft answers it; the live service does not yet.
    let tried: Value = app
        .agent(Method::POST, "/api/v1/editor/try", APPROVER_TOKEN)
        .json(&json!({"text": question}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tried["matched"]["id"], "pedestrian-crossings");
    assert_ne!(tried["live"]["matched"]["id"], "pedestrian-crossings", "what is live answers otherwise");
    let conversation = app.start().await;
    assert_ne!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));

    let editor_only = app.agent(Method::POST, "/api/v1/editor/publish", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(error_code(editor_only).await, "forbidden", "publishing needs the approver role");
    let published = app.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(published.status(), 200);
    let conversation = app.start().await;
    assert_eq!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));

    // Once published, the draft has no changes left.
    assert_eq!(editor_reads_as(&app, APPROVER_TOKEN, "/api/v1/editor/draft").await["changes"], json!([]));

    // Broken content is refused with the file and line, and the service keeps answering.
    let broken = format!("{original}\n[[intent]]\nid = \"broken\"\nanswer = \n");
    save_in_draft(&app, APPROVER_TOKEN, "intents/roads.toml", &broken).await;
    let refused = app.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_content");
    assert!(body["error"]["message"].as_str().unwrap().contains("roads.toml:"), "{body}");
    assert_eq!(app.say(&conversation, question).await.matched.id.as_deref(), Some("pedestrian-crossings"));
    let agent = app.agent(Method::POST, "/api/v1/editor/publish", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}

/// What an editor reads at `path`.
async fn editor_reads(app: &crate::helpers::TestApp, path: &str) -> Value {
    editor_reads_as(app, EDITOR_TOKEN, path).await
}

/// What the person `token` signs in reads at `path`.
async fn editor_reads_as(app: &crate::helpers::TestApp, token: &str, path: &str) -> Value {
    let response = app.agent(Method::GET, path, token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The version history, as an editor reads it.
async fn versions(app: &crate::helpers::TestApp) -> Value {
    editor_reads(app, "/api/v1/editor/versions").await
}

/// What `app` answers `question` with, in a new conversation: the topic's id.
async fn topic_answering(app: &crate::helpers::TestApp, question: &str) -> Option<String> {
    let conversation = app.start().await;
    app.say(&conversation, question).await.matched.id
}

/// Waits up to 5 seconds for `app` to answer `question` with `topic` (or with no
/// pedestrian-crossings topic when `topic` is `None`).
async fn within_five_seconds(app: &crate::helpers::TestApp, question: &str, topic: Option<&str>) -> bool {
    let started = std::time::Instant::now();
    let deadline = started + std::time::Duration::from_secs(5);
    loop {
        let answered = topic_answering(app, question).await;
        let arrived = match topic {
            Some(topic) => answered.as_deref() == Some(topic),
            None => answered.as_deref() != Some("pedestrian-crossings"),
        };
        if arrived || std::time::Instant::now() > deadline {
            eprintln!("{}: {:?} after {} ms: {arrived}", app.address, topic, started.elapsed().as_millis());
            return arrived;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_publish_reaches_every_instance_and_a_restore_brings_the_old_content_back() {
    let (_, changed) = roads_with_crossings();
    let prefix = crate::helpers::unique_prefix();
    // Polling starts a conversation every 100 ms: more than one client may start by default.
    let shared = |s: &mut herts_assistant::config::Settings| {
        s.redis_prefix = prefix.clone();
        s.client_limits.conversations_per_minute = 1_000_000;
    };
    let publisher = spawn_app_with(StoreKind::Redis, shared).await;
    let other = spawn_app_with(StoreKind::Redis, shared).await;
    save_in_draft(&publisher, EDITOR_TOKEN, "intents/roads.toml", &changed).await;
    assert_ne!(topic_answering(&other, CROSSING_QUESTION).await.as_deref(), Some("pedestrian-crossings"));

    // Four eyes: Eve submits the draft; she cannot publish or approve, Ann approves.
    let direct =
        publisher.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(error_code(direct).await, "conflict", "reviewed changes only");
    let submitted = publisher
        .agent(Method::POST, "/api/v1/editor/submissions", EDITOR_TOKEN)
        .json(&json!({"message": "A topic for <b>crossings</b>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 201);
    let submitted: Value = submitted.json().await.unwrap();
    assert_eq!(
        (submitted["status"].as_str(), submitted["author"].as_str()),
        (Some("submitted"), Some("Eve"))
    );
    let id = submitted["id"].as_u64().unwrap();
    // The reviewer sees what the submission changes, line by line.
    let diff =
        editor_reads_as(&other, APPROVER_TOKEN, &format!("/api/v1/editor/submissions/{id}/diff")).await;
    assert_eq!(diff["files"][0]["path"], "intents/roads.toml");
    let added: Vec<&str> = diff["files"][0]["hunks"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] == "+")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(added.contains(&"id = \"pedestrian-crossings\""), "{added:?}");
    // What was submitted is what is approved, whatever the draft holds by then; the draft is
    // kept in the store, so any instance reads it.
    let reverted = other
        .agent(Method::POST, "/api/v1/editor/draft/files/intents/roads.toml/revert", EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(reverted.json::<Value>().await.unwrap()["changes"], json!([]));
    let approve = |app: &crate::helpers::TestApp, id: u64, token: &str| {
        app.agent(Method::POST, &format!("/api/v1/editor/submissions/{id}/approve"), token).send()
    };
    assert_eq!(error_code(approve(&publisher, id, EDITOR_TOKEN).await.unwrap()).await, "forbidden");
    let published = approve(&other, id, APPROVER_TOKEN).await.unwrap();
    assert_eq!(published.status(), 200);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["version"]["number"], 2, "version 1 is the content the service started with");
    assert_eq!(published["version"]["author"], "Eve");
    assert_eq!(published["version"]["approved_by"], "Ann");
    assert_eq!(
        error_code(approve(&publisher, id, APPROVER_TOKEN).await.unwrap()).await,
        "conflict",
        "decided once"
    );
    assert!(within_five_seconds(&publisher, CROSSING_QUESTION, Some("pedestrian-crossings")).await);
    // The other instance, which never read the draft folder, serves it within 5 seconds.
    assert!(within_five_seconds(&other, CROSSING_QUESTION, Some("pedestrian-crossings")).await);
    let conversation = other.start().await;
    let reply = other.say(&conversation, CROSSING_QUESTION).await;
    assert!(reply.messages.iter().any(|m| m.text.contains(CROSSING_ANSWER)), "{:?}", reply.messages);

    let history = versions(&other).await;
    assert_eq!(history["serving"], 2);
    assert_eq!(history["versions"][0]["message"], "A topic for <b>crossings</b>", "kept as typed");
    assert_eq!(history["versions"][1]["number"], 1);

    // Rolling back is publishing version 1 again, from either instance, by an approver.
    let refused =
        other.agent(Method::POST, "/api/v1/editor/versions/1/restore", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(error_code(refused).await, "forbidden");
    let restored =
        other.agent(Method::POST, "/api/v1/editor/versions/1/restore", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(restored.status(), 200);
    let restored: Value = restored.json().await.unwrap();
    assert_eq!(
        (restored["version"]["number"].clone(), restored["version"]["restores"].clone()),
        (json!(3), json!(1))
    );
    assert!(within_five_seconds(&publisher, CROSSING_QUESTION, None).await);
    assert!(within_five_seconds(&other, CROSSING_QUESTION, None).await);

    let missing =
        other.agent(Method::POST, "/api/v1/editor/versions/99/restore", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(error_code(missing).await, "not_found");
    let agent =
        other.agent(Method::POST, "/api/v1/editor/versions/1/restore", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");

    // Ann cannot approve her own change; she may withdraw it (a rejection with a comment).
    let own: Value = publisher
        .agent(Method::POST, "/api/v1/editor/submissions", APPROVER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own_id = own["id"].as_u64().unwrap();
    let refused = approve(&publisher, own_id, APPROVER_TOKEN).await.unwrap();
    assert_eq!(refused.status(), 403);
    let rejected: Value = publisher
        .agent(Method::POST, &format!("/api/v1/editor/submissions/{own_id}/reject"), APPROVER_TOKEN)
        .json(&json!({"comment": "Not yet"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (rejected["status"].as_str(), rejected["comment"].as_str()),
        (Some("rejected"), Some("Not yet"))
    );

    // Every step is in the audit log, newest first.
    let log: Value = editor_reads(&other, "/api/v1/editor/audit").await;
    let steps: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["who"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("rejected", "Ann"),
            ("submitted", "Ann"),
            ("restored", "Ann"),
            ("published", "Ann"),
            ("submitted", "Eve")
        ]
    );
    let gone = other
        .agent(Method::GET, &format!("/api/v1/editor/submissions/{id}/diff"), APPROVER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(gone).await, "not_found", "a decided submission's files are not kept");
}

#[tokio::test]
async fn an_invalid_draft_cannot_be_submitted_and_the_error_names_the_file() {
    let (original, _) = roads_with_crossings();
    let app = spawn_app(StoreKind::Memory).await;
    let broken = format!("{original}\n[[intent]]\nid = \"broken\"\nanswer = \n");
    let draft = save_in_draft(&app, EDITOR_TOKEN, "intents/roads.toml", &broken).await;
    // Saved all the same, with the problem at its file and line.
    let problem = &draft["problems"][0];
    assert_eq!(problem["path"], "intents/roads.toml");
    assert!(problem["line"].as_u64().unwrap() > original.lines().count() as u64, "{problem}");
    let refused = app.agent(Method::POST, "/api/v1/editor/submissions", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_content");
    assert!(body["error"]["message"].as_str().unwrap().contains("roads.toml:"), "{body}");
    let listed: Value = editor_reads(&app, "/api/v1/editor/submissions").await;
    assert_eq!(listed, json!({"submissions": []}));
    let agent = app.agent(Method::POST, "/api/v1/editor/submissions", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}

#[tokio::test]
async fn a_publish_message_must_be_json_and_short() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.review_required = false).await;
    let publish = |body: &'static str| {
        app.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(error_code(publish("{\"message\": ").await.unwrap()).await, "malformed_json");
    assert_eq!(error_code(publish("{\"note\": \"x\"}").await.unwrap()).await, "malformed_json");
    let long = Box::leak(format!("{{\"message\": \"{}\"}}", "x".repeat(501)).into_boxed_str());
    assert_eq!(error_code(publish(long).await.unwrap()).await, "invalid_request");
    let history = versions(&app).await;
    assert_eq!(history, json!({"serving": null, "versions": []}), "nothing was published");
}

#[tokio::test]
async fn export_writes_a_published_version_back_to_folders() {
    let prefix = crate::helpers::unique_prefix();
    let app = spawn_app_with(StoreKind::Redis, |s| {
        s.redis_prefix = prefix.clone();
        s.review_required = false;
    })
    .await;
    let published = app
        .agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN)
        .json(&json!({"message": "as shipped"}))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 200);
    let out = std::env::temp_dir().join(format!("ha-export-{}", prefix.replace(':', "")));
    let export = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_herts-assistant"))
            .arg("export")
            .args(args)
            .env("HA_REDIS_URL", crate::helpers::redis_url())
            .env("HA_REDIS_PREFIX", &prefix)
            .env("HA_LOG", "warn")
            .output()
            .unwrap()
    };
    let written = export(&[out.to_str().unwrap()]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    assert!(String::from_utf8_lossy(&written.stdout).contains("version 2"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |dir: &std::path::Path| {
        herts_assistant::content::ContentFiles::read(&dir.join("intents"), &dir.join("knowledge-base"))
            .unwrap()
    };
    assert_eq!(read(&out), read(root), "the shipped files, byte for byte");
    let missing = export(&[out.to_str().unwrap(), "--version", "99"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no version 99"));

    // Folders edited outside (say, in git) come back as an editor's draft.
    let roads = out.join("intents/roads.toml");
    let edited = std::fs::read_to_string(&roads).unwrap().replacen("title = \"", "title = \"Edited: ", 1);
    std::fs::write(&roads, &edited).unwrap();
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_herts-assistant"))
        .args(["import", out.to_str().unwrap(), "--editor", "Eve"])
        .env("HA_REDIS_URL", crate::helpers::redis_url())
        .env("HA_REDIS_PREFIX", &prefix)
        .env("HA_LOG", "warn")
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let draft = editor_reads(&app, "/api/v1/editor/draft").await;
    assert_eq!(
        draft["changes"],
        json!([{"path": "intents/roads.toml", "change": "changed", "conflict": false}])
    );
    let file = editor_reads(&app, "/api/v1/editor/draft/files/intents/roads.toml").await;
    assert_eq!(file["text"].as_str(), Some(&*edited));
    std::fs::remove_dir_all(&out).ok();
}

#[tokio::test]
async fn editors_see_what_is_due_for_review() {
    let app = spawn_app(StoreKind::Memory).await;
    let response = app.agent(Method::GET, "/api/v1/editor/review", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert!(report["overdue"].is_array() && report["due_soon"].is_array(), "{report}");
    let today = chrono::Utc::now().date_naive().to_string();
    for item in report["overdue"].as_array().unwrap() {
        assert!(item["due"].as_str().unwrap() < today.as_str(), "{item}");
        assert!(item["source"].as_str().unwrap().contains(".toml:") || item["kind"] == "article", "{item}");
    }
    assert!(report["bank_holidays_until"].as_str().is_some_and(|d| d.starts_with("20")));
    let agent = app.agent(Method::GET, "/api/v1/editor/review", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}

#[test]
fn check_fails_when_bank_holidays_run_out_within_a_year() {
    let config = std::env::temp_dir().join(format!("ha-check-{}.toml", std::process::id()));
    std::fs::write(&config, "bank_holidays = [\"2026-12-25\", \"2026-12-28\"]\n").unwrap();
    let run = |config: Option<&std::path::Path>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_herts-assistant"));
        command.arg("check").current_dir(env!("CARGO_MANIFEST_DIR")).env("HA_LOG", "warn");
        if let Some(config) = config {
            command.env("HA_CONFIG", config);
        }
        command.output().unwrap()
    };
    let short = run(Some(&config));
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("listed only until 2026-12-28"));
    let shipped = run(None);
    assert!(shipped.status.success(), "{}", String::from_utf8_lossy(&shipped.stderr));
    std::fs::remove_file(&config).ok();
}

/// The pothole article's answer with words added at its start, in a copy of the shipped
/// content: the folder and the words.
fn draft_with_reworded_pothole() -> (std::path::PathBuf, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let draft =
        std::env::temp_dir().join(format!("ha-load-{}", crate::helpers::unique_prefix().replace(':', "")));
    copy_dir(&root.join("intents"), &draft.join("intents"));
    copy_dir(&root.join("knowledge-base"), &draft.join("knowledge-base"));
    let article = draft.join("knowledge-base/report-pothole.md");
    let text = std::fs::read_to_string(&article).unwrap();
    let body = text.rfind("+++\n").unwrap() + "+++\n".len();
    let marker = "Reworded for the load test.";
    std::fs::write(&article, format!("{}{marker} {}", &text[..body], &text[body..])).unwrap();
    (draft, marker.to_string())
}

#[tokio::test]
async fn publishing_under_load_fails_no_request_and_mixes_no_versions() {
    let (draft, marker) = draft_with_reworded_pothole();
    let prefix = crate::helpers::unique_prefix();
    let busy = |s: &mut herts_assistant::config::Settings| {
        s.redis_prefix = prefix.clone();
        s.review_required = false;
        s.client_limits.conversations_per_minute = 1_000_000;
        s.client_limits.messages_per_minute = 1_000_000;
        // A set threshold: the new content is trained, not tuned, so the test stays short.
        s.threshold = Some(0.45);
    };
    let publisher = spawn_app_with(StoreKind::Redis, |s| {
        busy(s);
        s.intents_dir = draft.join("intents");
        s.knowledge_dir = draft.join("knowledge-base");
    })
    .await;
    let other = spawn_app_with(StoreKind::Redis, busy).await;
    let question = "how do I report a pothole";
    let answer_of = |reply: &herts_assistant::http::wire::TurnReply| reply.messages[1].text.clone();
    let old = answer_of(&other.say(&other.start().await, question).await);
    let new = format!("{marker} {old}");

    // Residents ask steadily on both instances while the publish happens.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut askers = Vec::new();
    for app in [publisher.address.clone(), other.address.clone()].into_iter().cycle().take(4) {
        let stop = stop.clone();
        askers.push(tokio::spawn(async move {
            let app = crate::helpers::TestApp { address: app, client: reqwest::Client::new() };
            let mut answers = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let conversation = app.start().await;
                let response = app.post_raw(&conversation, json!({"text": question}).to_string()).await;
                assert_eq!(response.status(), 200, "every request during the publish succeeds");
                let reply: herts_assistant::http::wire::TurnReply = response.json().await.unwrap();
                answers.push(reply.messages[1].text.clone());
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            (app.address.clone(), answers)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The publisher's folders are loaded as the approver's draft, then published.
    let imported: Value = publisher
        .agent(Method::POST, "/api/v1/editor/draft/import", APPROVER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        imported["changes"],
        json!([{"path": "knowledge-base/report-pothole.md", "change": "changed", "conflict": false}])
    );
    let published =
        publisher.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(published.status(), 200);
    assert!(within_five_seconds_text(&other, question, &marker).await, "the other instance serves it");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // Each asker's answers in the order it got them: old, then new, never back; each whole.
    for asker in askers {
        let (address, answers) = asker.await.unwrap();
        assert!(answers.len() > 5, "a steady stream: {} answers from {address}", answers.len());
        for text in &answers {
            assert!(*text == old || *text == new, "one version per reply: {text}");
        }
        let first_new = answers.iter().position(|t| *t == new).expect("the new answer arrived");
        assert!(first_new > 0, "{address} answered with the old content before the publish");
        assert!(answers[first_new..].iter().all(|t| *t == new), "{address} never went back");
    }
    std::fs::remove_dir_all(&draft).ok();
}

/// Waits up to 5 seconds for `app`'s answer to `question` to contain `words`.
async fn within_five_seconds_text(app: &crate::helpers::TestApp, question: &str, words: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let reply = app.say(&app.start().await, question).await;
        if reply.messages[1].text.contains(words) {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn insights_count_outcomes_per_topic_and_export_as_csv() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let answered = app.say(&conversation, "how do I report a pothole").await;
    assert_eq!(answered.matched.id.as_deref(), Some("report-pothole"));
    let answer_id = &answered.messages[1].id;
    let feedback = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/feedback", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&json!({"message_id": answer_id, "helpful": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(feedback.status(), 204);
    app.say(&conversation, "can you recommend a good plumber").await;
    app.say(&conversation, "I want to talk to a person").await;

    // Counting happens after each reply: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let insights = loop {
        let response =
            app.agent(Method::GET, "/api/v1/editor/insights?days=7", EDITOR_TOKEN).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let insights: Value = response.json().await.unwrap();
        if insights["totals"]["handed_off"] == 1 || std::time::Instant::now() > deadline {
            break insights;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let totals = &insights["totals"];
    assert_eq!(totals["conversations"], 1, "{insights}");
    assert_eq!(totals["answered"], 1, "asking for a person is not counted as an answer: {insights}");
    assert_eq!(totals["declined"], 1, "{insights}");
    assert_eq!((totals["handed_off"].clone(), totals["unhelpful"].clone()), (json!(1), json!(1)));
    assert_eq!(insights["containment"], 0.0, "the one conversation needed a person");
    assert_eq!(insights["by_day"].as_array().unwrap().len(), 7);
    let pothole =
        insights["by_topic"].as_array().unwrap().iter().find(|t| t["topic"] == "report-pothole").unwrap();
    assert_eq!(
        (pothole["tally"]["answered"].clone(), pothole["tally"]["unhelpful"].clone()),
        (json!(1), json!(1))
    );

    let csv = app.agent(Method::GET, "/api/v1/editor/insights.csv", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("day,topic,title,conversations,answered"), "{csv}");
    assert!(csv.lines().any(|l| l.contains(",report-pothole,") && l.ends_with(",0,1,0,0,0,0,1")), "{csv}");
    assert!(!csv.contains("plumber"), "numbers only, never what was asked");
    let agent = app.agent(Method::GET, "/api/v1/editor/insights", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}

#[tokio::test]
async fn unanswered_questions_are_grouped_and_leave_the_list_once_dealt_with() {
    let app = spawn_app(StoreKind::Redis).await;
    for text in [
        "can you recommend a good plumber",
        "where can I buy a cheap sofa",
        "can you recommend a good plumber",
    ] {
        let conversation = app.start().await;
        app.say(&conversation, text).await;
    }
    let conversation = app.start().await;
    app.say(&conversation, "Can you recommend a good plumber?").await;
    let groups: Value = editor_reads(&app, "/api/v1/editor/unanswered/groups").await;
    let first = &groups["groups"][0];
    assert_eq!(first["count"], 3, "{groups}");
    assert_eq!(first["sample"], "Can you recommend a good plumber?", "the newest is the sample");
    assert_eq!(groups["groups"][1]["count"], 1, "{groups}");

    let dismissed = app
        .agent(Method::POST, "/api/v1/editor/unanswered/dismiss", EDITOR_TOKEN)
        .json(&json!({"texts": first["questions"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dismissed.status(), 200);
    assert_eq!(dismissed.json::<Value>().await.unwrap()["removed"], 3);
    let left: Value = editor_reads(&app, "/api/v1/editor/unanswered").await;
    let texts: Vec<&str> =
        left["questions"].as_array().unwrap().iter().map(|q| q["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["where can I buy a cheap sofa"]);
    let empty = app
        .agent(Method::POST, "/api/v1/editor/unanswered/dismiss", EDITOR_TOKEN)
        .json(&json!({"texts": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(empty).await, "invalid_request");
}

#[tokio::test]
async fn each_editor_has_a_draft_of_their_own_over_what_is_live() {
    let (original, changed) = roads_with_crossings();
    let app = spawn_app_with(StoreKind::Redis, |s| {
        s.review_required = false;
        s.threshold = Some(0.45);
    })
    .await;
    // The page asks who is signed in, to offer approving only to approvers.
    let eve = editor_reads(&app, "/api/v1/editor/me").await;
    assert_eq!((eve["name"].clone(), eve["roles"].clone()), (json!("Eve"), json!(["editor"])));
    let ann = editor_reads_as(&app, APPROVER_TOKEN, "/api/v1/editor/me").await;
    assert_eq!(ann["roles"], json!(["editor", "approver"]));
    let agent = app.agent(Method::GET, "/api/v1/editor/me", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
    let draft = save_in_draft(&app, EDITOR_TOKEN, "intents/roads.toml", &changed).await;
    assert_eq!(draft["editor"], "Eve");
    assert!(draft["files"].as_array().unwrap().iter().any(|f| f == "knowledge-base/report-pothole.md"));
    let crossing = draft["topics"].as_array().unwrap().iter().find(|t| t["id"] == "pedestrian-crossings");
    assert_eq!(crossing.expect("the new topic is listed")["path"], "intents/roads.toml");
    // Ann's draft is hers: Eve's change is not in it.
    assert_eq!(editor_reads_as(&app, APPROVER_TOKEN, "/api/v1/editor/draft").await["changes"], json!([]));

    let file = editor_reads(&app, "/api/v1/editor/draft/files/intents/roads.toml").await;
    assert_eq!((file["text"].as_str(), file["live_text"].as_str()), (Some(&*changed), Some(&*original)));
    let removed: Value = app
        .agent(Method::DELETE, "/api/v1/editor/draft/files/knowledge-base/report-pothole.md", EDITOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let change_of = |view: &Value, path: &str| {
        view["changes"].as_array().unwrap().iter().find(|c| c["path"] == path).map(|c| c["change"].clone())
    };
    assert_eq!(change_of(&removed, "knowledge-base/report-pothole.md"), Some(json!("removed")));
    let gone = app
        .agent(Method::GET, "/api/v1/editor/draft/files/knowledge-base/report-pothole.md", EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(gone).await, "not_found");

    // Someone else publishes roads.toml meanwhile: Eve's change to it is flagged.
    let theirs = original.replacen("title = \"", "title = \"Renamed: ", 1);
    save_in_draft(&app, APPROVER_TOKEN, "intents/roads.toml", &theirs).await;
    let published = app.agent(Method::POST, "/api/v1/editor/publish", APPROVER_TOKEN).send().await.unwrap();
    assert_eq!(published.status(), 200);
    let eve: Value = editor_reads(&app, "/api/v1/editor/draft").await;
    let roads =
        eve["changes"].as_array().unwrap().iter().find(|c| c["path"] == "intents/roads.toml").unwrap();
    assert_eq!(roads["conflict"], true, "{eve}");

    // Taking back one file, then all of it.
    let reverted: Value = app
        .agent(Method::POST, "/api/v1/editor/draft/files/intents/roads.toml/revert", EDITOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(change_of(&reverted, "intents/roads.toml"), None);
    let discarded: Value = app
        .agent(Method::DELETE, "/api/v1/editor/draft", EDITOR_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discarded["changes"], json!([]));
    let file = editor_reads(&app, "/api/v1/editor/draft/files/intents/roads.toml").await;
    assert_eq!(file["text"], file["live_text"], "the draft is what is live again");
    assert_eq!(file["text"].as_str(), Some(&*theirs));

    // Only content files, by plain names; only editors.
    for path in ["intents/..%2Fsecrets.toml", "src/main.rs", "intents/roads.md", "knowledge-base/A.md"] {
        let refused = app
            .agent(Method::PUT, &format!("/api/v1/editor/draft/files/{path}"), EDITOR_TOKEN)
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(refused).await, "invalid_request", "{path}");
    }
    let too_big = app
        .agent(Method::PUT, "/api/v1/editor/draft/files/intents/big.toml", EDITOR_TOKEN)
        .json(&json!({"text": "#".repeat(600 * 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(too_big).await, "payload_too_large");
    let agent = app.agent(Method::GET, "/api/v1/editor/draft", AGENT_TOKEN).send().await.unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}

#[tokio::test]
async fn an_unanswered_question_becomes_a_phrasing_of_a_topic_in_the_draft() {
    let app = spawn_app(StoreKind::Memory).await;
    let question = "the lamp post at the end of our close keeps flickering on and off";
    let add = |topic: &str, text: &str| {
        app.agent(Method::POST, "/api/v1/editor/draft/phrasings", EDITOR_TOKEN)
            .json(&json!({"topic": topic, "text": text}))
            .send()
    };
    let added = add("street-lights", question).await.unwrap();
    assert_eq!(added.status(), 200);
    let diff = editor_reads(&app, "/api/v1/editor/draft/diff").await;
    let lines: Vec<(String, String)> = diff["files"][0]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap().iter())
        .filter(|l| l["op"] != " ")
        .map(|l| (l["op"].as_str().unwrap().to_string(), l["text"].as_str().unwrap().trim().to_string()))
        .collect();
    assert_eq!(diff["files"][0]["path"], "intents/roads.toml");
    assert!(lines.contains(&("+".to_string(), format!("\"{question}\","))), "{lines:?}");
    assert!(lines.iter().all(|(op, _)| op == "+"), "nothing else in the file changes: {lines:?}");
    // The draft, trained with it, answers it with that topic.
    let tried: Value = app
        .agent(Method::POST, "/api/v1/editor/try", EDITOR_TOKEN)
        .json(&json!({"text": question}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tried["matched"]["id"], "street-lights");

    assert_eq!(error_code(add("no-such-topic", "anything").await.unwrap()).await, "not_found");
    assert_eq!(error_code(add("street-lights", "   ").await.unwrap()).await, "invalid_request");
    assert_eq!(error_code(add("street-lights", &"x".repeat(301)).await.unwrap()).await, "invalid_request");
}

#[tokio::test]
async fn an_approved_change_can_be_scheduled_and_a_scheduled_one_cancelled() {
    let (_, changed) = roads_with_crossings();
    let prefix = crate::helpers::unique_prefix();
    let shared = |s: &mut herts_assistant::config::Settings| {
        s.redis_prefix = prefix.clone();
        s.client_limits.conversations_per_minute = 1_000_000;
        // A set threshold: the new content is trained, not tuned, so the test stays short.
        s.threshold = Some(0.45);
    };
    let publisher = spawn_app_with(StoreKind::Redis, shared).await;
    let other = spawn_app_with(StoreKind::Redis, shared).await;
    save_in_draft(&publisher, EDITOR_TOKEN, "intents/roads.toml", &changed).await;
    let submit = || publisher.agent(Method::POST, "/api/v1/editor/submissions", EDITOR_TOKEN).send();
    let first: Value = submit().await.unwrap().json().await.unwrap();
    let second: Value = submit().await.unwrap().json().await.unwrap();
    let approve = |id: &Value, body: Value| {
        other
            .agent(Method::POST, &format!("/api/v1/editor/submissions/{id}/approve"), APPROVER_TOKEN)
            .json(&body)
            .send()
    };
    for bad in [json!({"at": "tomorrow"}), json!({"at": "2099-01-01T00:00:00Z"}), json!({"when": "x"})] {
        let refused = approve(&first["id"], bad.clone()).await.unwrap();
        assert_eq!(refused.status(), 400, "{bad}");
    }

    // Scheduled a few seconds ahead: nothing changes until then.
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let scheduled = approve(&first["id"], json!({"at": at.to_rfc3339()})).await.unwrap();
    assert_eq!(scheduled.status(), 202);
    let scheduled: Value = scheduled.json().await.unwrap();
    assert_eq!(
        (scheduled["status"].as_str(), scheduled["decided_by"].as_str()),
        (Some("scheduled"), Some("Ann"))
    );
    assert_ne!(topic_answering(&other, CROSSING_QUESTION).await.as_deref(), Some("pedestrian-crossings"));
    // The second is scheduled later and cancelled by a rejection.
    let later = chrono::Utc::now() + chrono::Duration::seconds(4);
    assert_eq!(approve(&second["id"], json!({"at": later.to_rfc3339()})).await.unwrap().status(), 202);
    let cancelled = publisher
        .agent(Method::POST, &format!("/api/v1/editor/submissions/{}/reject", second["id"]), APPROVER_TOKEN)
        .json(&json!({"comment": "Not this week"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);

    // Published when due by one instance (the schedule is checked every 5 s), served by both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while topic_answering(&other, CROSSING_QUESTION).await.as_deref() != Some("pedestrian-crossings") {
        assert!(std::time::Instant::now() < deadline, "the scheduled change was not published in time");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(chrono::Utc::now() >= at, "not before its time");
    assert!(within_five_seconds(&publisher, CROSSING_QUESTION, Some("pedestrian-crossings")).await);
    let history = versions(&other).await;
    let newest = &history["versions"][0];
    assert_eq!(
        (newest["submission"].clone(), newest["approved_by"].clone()),
        (first["id"].clone(), json!("Ann"))
    );
    // Version 1 is the content the service started with; the cancelled change never went live.
    assert_eq!(history["versions"].as_array().unwrap().len(), 2, "published once: {history}");
    let log: Value = editor_reads(&other, "/api/v1/editor/audit").await;
    let steps: Vec<&str> =
        log["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["published", "rejected", "scheduled", "scheduled", "submitted", "submitted"]);
}

async fn save_intent(app: &crate::helpers::TestApp, id: &str, body: &Value) -> reqwest::Response {
    app.agent(Method::PUT, &format!("/api/v1/editor/draft/intents/{id}"), EDITOR_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_intent_is_edited_field_by_field_and_problems_come_back_beside_their_fields() {
    let app = spawn_app(StoreKind::Redis).await;
    let live_roads = editor_reads(&app, "/api/v1/editor/draft/files/intents/roads.toml").await["text"]
        .as_str()
        .unwrap()
        .to_string();
    let view = editor_reads(&app, "/api/v1/editor/draft/intents/street-lights").await;
    assert_eq!(view["path"], "intents/roads.toml");
    let header = live_roads.lines().position(|l| l == "id = \"street-lights\"").unwrap(); // the line after [[intent]]
    assert_eq!(view["line"], header, "the line of its [[intent]] header");
    assert_eq!(view["problems"], json!([]));
    let mut intent = view["intent"].clone();
    assert_eq!(intent["title"], "Street lights");
    assert!(intent["facets"].as_array().unwrap().iter().any(|f| f["facet"] == "cost"), "{intent}");

    // Two problems the content rules find, each named by its field; the draft keeps the change.
    intent["answer"] = json!("## Street lights\n\nReport a faulty light online.");
    intent["links"].as_array_mut().unwrap().push(json!({"title": "Old page", "url": "http://example.com"}));
    let saved = save_intent(&app, "street-lights", &json!({ "intent": intent })).await;
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    let mut fields: Vec<_> =
        saved["problems"].as_array().unwrap().iter().map(|p| p["field"].clone()).collect();
    fields.sort_by_key(|f| f.to_string());
    assert_eq!(fields, [json!("answer"), json!("links")], "{saved}");
    assert_eq!(saved["intent"]["answer"], intent["answer"]);
    assert_eq!(saved["draft"]["changes"][0]["path"], "intents/roads.toml");
    let text = editor_reads(&app, "/api/v1/editor/draft/files/intents/roads.toml").await["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("# Roads, highways"), "the file's comments are kept");
    let live_lines: std::collections::HashSet<&str> = live_roads.lines().collect();
    let changed_lines = text.lines().filter(|l| !live_lines.contains(l)).count();
    assert!(changed_lines < 20, "only the changed fields are rewritten ({changed_lines} lines differ)");

    // The diff names the topic and its changed fields.
    let diff = editor_reads(&app, "/api/v1/editor/draft/diff").await;
    let items = &diff["files"][0]["items"];
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!((items[0]["kind"].clone(), items[0]["id"].clone()), (json!("intent"), json!("street-lights")));
    let changed: Vec<_> = items[0]["fields"].as_array().unwrap().iter().map(|f| f["field"].clone()).collect();
    assert_eq!(changed, [json!("answer"), json!("links")]);
    assert_eq!(items[0]["fields"][1]["added"][0], "{ title = \"Old page\", url = \"http://example.com\" }");

    // What the file could not hold is refused, naming the field; nothing is saved.
    intent["scope"] = json!("regional");
    let refused = save_intent(&app, "street-lights", &json!({ "intent": intent })).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        (body["error"]["code"].clone(), body["error"]["field"].clone()),
        (json!("invalid_request"), json!("scope"))
    );

    // Put back as it was, the intent has no problems and the file is as live again.
    let restored = save_intent(&app, "street-lights", &json!({ "intent": view["intent"] })).await;
    let restored: Value = restored.json().await.unwrap();
    assert_eq!((restored["problems"].clone(), restored["draft"]["changes"].clone()), (json!([]), json!([])));

    // A new intent goes into the file named; the draft lists it and has no problems.
    let new = json!({
        "intent": {
            "id": "verge-cutting",
            "title": "Grass verges",
            "examples": ["the grass verge on our road is overgrown", "when do you cut the verges"],
            "answer": "Hertfordshire County Council cuts rural verges once or twice a year.",
            "last_reviewed": "2026-12-04"
        },
        "path": "intents/roads.toml"
    });
    let added = save_intent(&app, "verge-cutting", &new).await;
    assert_eq!(added.status(), 200);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added["path"], "intents/roads.toml");
    assert_eq!(added["draft"]["problems"], json!([]));
    assert!(added["draft"]["topics"].as_array().unwrap().iter().any(|t| t["id"] == "verge-cutting"));

    let missing = app
        .agent(Method::GET, "/api/v1/editor/draft/intents/no-such-topic", EDITOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(missing).await, "not_found");
    let nowhere = save_intent(&app, "no-such-topic", &json!({ "intent": { "id": "no-such-topic" } })).await;
    assert_eq!(error_code(nowhere).await, "not_found", "a new intent needs the file it goes in");
    let outside =
        save_intent(&app, "x", &json!({ "intent": { "id": "x" }, "path": "knowledge-base/x.md" })).await;
    assert_eq!(error_code(outside).await, "invalid_request");
    let agent = app
        .agent(Method::GET, "/api/v1/editor/draft/intents/street-lights", AGENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(agent).await, "forbidden");
}
