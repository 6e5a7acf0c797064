//! Response bodies pinned as snapshots (insta; the `.snap` files in tests/api/snapshots/): a
//! change to what a client receives shows up as a diff to review and accept, never as a silent
//! break. What changes from run to run (ids, tokens, times) is redacted, and so is the wording
//! that comes from the content (answers, titles, phrasings), which editors change without a
//! code change; the keys, types, codes and the service's own sentences stay pinned.
//! `INSTA_UPDATE=always cargo test --test api snapshots` rewrites them after a deliberate change.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{AGENT_TOKEN, EDITOR_TOKEN, StoreKind, spawn_app};

/// Keys whose values differ from run to run, or with any change of content or model.
const VOLATILE: [&str; 14] = [
    "id",
    "token",
    "at",
    "created_at",
    "expires_at",
    "last_active",
    "since",
    "waiting_since",
    "live_version",
    "line",
    "fingerprint",
    "overdue",
    "confidence",
    "header",
];
/// Keys whose text is the content's wording.
const CONTENT: [&str; 9] =
    ["text", "title", "answer", "examples", "label", "url", "quick_replies", "last_reviewed", "due"];
/// Lists of objects kept whole; any other list is shown by its first item, since its length is
/// the content's.
const WHOLE: [&str; 6] = ["messages", "files", "items", "fields", "problems", "changes"];

fn is_text(value: &Value) -> bool {
    value.is_string() || value.as_array().is_some_and(|items| items.iter().all(Value::is_string))
}

/// `value` with volatile values and the content's wording replaced by markers naming them.
fn redacted(value: Value) -> Value {
    redacted_under("", value)
}

fn redacted_under(key: &str, value: Value) -> Value {
    match value {
        Value::Null => Value::Null,
        _ if VOLATILE.contains(&key) => json!(format!("[{key}]")),
        value if CONTENT.contains(&key) && is_text(&value) => json!(format!("[{key} from the content]")),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k.clone(), redacted_under(&k, v))).collect())
        }
        Value::Array(items) if WHOLE.contains(&key) && items.iter().all(Value::is_object) => {
            Value::Array(items.into_iter().map(|item| redacted_under("", item)).collect())
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().take(1).map(|item| redacted_under("", item)).collect())
        }
        other => other,
    }
}

async fn body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_residents_conversation_on_the_wire() {
    let app = spawn_app(StoreKind::Memory).await;
    let created = body(app.client.post(app.url("/api/v1/conversations")).send().await.unwrap()).await;
    insta::assert_json_snapshot!("conversation_created", (created.0, redacted(created.1.clone())));
    let conversation = crate::helpers::Conversation {
        id: created.1["id"].as_str().unwrap().to_string(),
        token: created.1["token"].as_str().unwrap().to_string(),
        created: serde_json::from_value(created.1.clone()).unwrap(),
    };
    let answered =
        body(app.post_raw(&conversation, json!({"text": "report a pothole"}).to_string()).await).await;
    insta::assert_json_snapshot!("turn_answered", (answered.0, redacted(answered.1)));
    let asks_place =
        body(app.post_raw(&conversation, json!({"text": "when are my bins collected"}).to_string()).await)
            .await;
    insta::assert_json_snapshot!("turn_asks_for_a_place", (asks_place.0, redacted(asks_place.1)));
    let transcript = body(app.transcript(&conversation).await).await;
    insta::assert_json_snapshot!("transcript", (transcript.0, redacted(transcript.1)));
}

#[tokio::test]
async fn error_bodies_on_the_wire() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let malformed = body(app.post_raw(&conversation, "{not json").await).await;
    let empty = body(app.post_raw(&conversation, json!({"text": "  "}).to_string()).await).await;
    let unknown = body(
        app.client
            .get(app.url("/api/v1/conversations/0123456789abcdef0123456789abcdef"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let no_route = body(app.client.get(app.url("/api/v1/nothing-here")).send().await.unwrap()).await;
    let method = body(app.client.delete(app.url("/api/v1/conversations")).send().await.unwrap()).await;
    let forbidden =
        body(app.agent(Method::GET, "/api/v1/editor/draft", AGENT_TOKEN).send().await.unwrap()).await;
    let no_token = body(app.client.get(app.url("/api/v1/agent/queue")).send().await.unwrap()).await;
    let form_field = body(
        app.agent(Method::PUT, "/api/v1/editor/draft/intents/street-lights", EDITOR_TOKEN)
            .json(&json!({"intent": {"id": "street-lights", "scope": "regional"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    insta::assert_json_snapshot!(
        "errors",
        json!({
            "malformed_json": malformed,
            "empty_text": empty,
            "conversation_not_found": unknown,
            "no_route": no_route,
            "method_not_allowed": method,
            "forbidden": forbidden,
            "missing_token": no_token,
            "form_field": form_field,
        })
    );
}

#[tokio::test]
async fn an_editors_draft_and_intent_form_on_the_wire() {
    let app = spawn_app(StoreKind::Memory).await;
    let draft =
        body(app.agent(Method::GET, "/api/v1/editor/draft", EDITOR_TOKEN).send().await.unwrap()).await;
    insta::assert_json_snapshot!("editor_draft", (draft.0, redacted(draft.1)));
    let intent = body(
        app.agent(Method::GET, "/api/v1/editor/draft/intents/street-lights", EDITOR_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut form = intent.1["intent"].clone();
    insta::assert_json_snapshot!("editor_intent", (intent.0, redacted(intent.1)));
    form["links"].as_array_mut().unwrap().push(json!({"title": "Old", "url": "http://example.com"}));
    app.agent(Method::PUT, "/api/v1/editor/draft/intents/street-lights", EDITOR_TOKEN)
        .json(&json!({ "intent": form }))
        .send()
        .await
        .unwrap();
    let diff =
        body(app.agent(Method::GET, "/api/v1/editor/draft/diff", EDITOR_TOKEN).send().await.unwrap()).await;
    insta::assert_json_snapshot!("editor_draft_diff", (diff.0, redacted(diff.1)));
}
