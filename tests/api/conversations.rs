//! The resident API end to end, with each store.

use crate::helpers::{StoreKind, bot_text, error_code, spawn_app};
use herts_assistant::http::wire::Transcript;
use herts_assistant::store::Role;

async fn full_conversation(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let conversation = app.start().await;
    assert_eq!(conversation.created.state, "bot");
    let welcome = &conversation.created.messages[0];
    assert_eq!(welcome.role, Role::Bot);
    assert!(welcome.text.to_lowercase().contains("automated"), "{}", welcome.text);

    let turn = app.say(&conversation, "how do I renew my library books").await;
    assert_eq!(turn.matched.id.as_deref(), Some("libraries"));
    assert_eq!(turn.state, "bot");
    assert_eq!(turn.messages[0].role, Role::Resident);
    assert!(turn.messages[1].links.iter().all(|l| l.url.starts_with("https://")));
    assert!(!turn.messages[1].links.is_empty());

    let response = app.transcript(&conversation).await;
    assert_eq!(response.status(), 200);
    let transcript: Transcript = response.json().await.unwrap();
    let ids: Vec<u64> = transcript.messages.iter().map(|m| m.id.parse().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
    assert_eq!(transcript.messages.len(), 1 + turn.messages.len());

    // Feedback on the answer is taken; on the resident's own message it is refused.
    let answer_id = turn.messages[1].id.clone();
    let feedback = |message_id: String| {
        app.client
            .post(app.url(&format!("/api/v1/conversations/{}/feedback", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&serde_json::json!({"message_id": message_id, "helpful": true}))
            .send()
    };
    assert_eq!(feedback(answer_id).await.unwrap().status(), 204);
    let refused = feedback(turn.messages[0].id.clone()).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(error_code(refused).await, "invalid_request");

    // Erasure: gone for good.
    let erased = app
        .client
        .delete(app.url(&format!("/api/v1/conversations/{}", conversation.id)))
        .bearer_auth(&conversation.token)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 204);
    let after = app.transcript(&conversation).await;
    assert_eq!(after.status(), 404);
    assert_eq!(error_code(after).await, "conversation_not_found");
}

#[tokio::test]
async fn full_conversation_in_memory() {
    full_conversation(StoreKind::Memory).await;
}

#[tokio::test]
async fn full_conversation_in_redis() {
    full_conversation(StoreKind::Redis).await;
}

async fn parallel_posts_keep_order(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let conversation = app.start().await;
    let turns = futures_util::future::join_all((0..50).map(|i| {
        app.say(&conversation, if i % 2 == 0 { "library opening hours" } else { "report a pothole" })
    }))
    .await;
    // Each turn's messages are contiguous: nobody else's message landed in between.
    for turn in &turns {
        let ids: Vec<u64> = turn.messages.iter().map(|m| m.id.parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    }
    let transcript: Transcript = app.transcript(&conversation).await.json().await.unwrap();
    let residents = transcript.messages.iter().filter(|m| m.role == Role::Resident).count();
    assert_eq!(residents, 50);
    let mut acknowledged: Vec<String> =
        turns.iter().flat_map(|t| t.messages.iter().map(|m| m.id.clone())).collect();
    acknowledged.sort_by_key(|id| id.parse::<u64>().unwrap());
    let stored: Vec<String> = transcript.messages.iter().skip(1).map(|m| m.id.clone()).collect();
    assert_eq!(acknowledged, stored, "every acknowledged message is stored, once, in order");
}

#[tokio::test]
async fn fifty_parallel_posts_in_memory() {
    parallel_posts_keep_order(StoreKind::Memory).await;
}

#[tokio::test]
async fn fifty_parallel_posts_in_redis() {
    parallel_posts_keep_order(StoreKind::Redis).await;
}

#[tokio::test]
async fn personal_data_is_redacted_before_storage() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let turn = app
        .say(
            &conversation,
            "my email is jo@example.com and phone 07700 900123. When are the bins collected in Hitchin?",
        )
        .await;
    let stored = &turn.messages[0].text;
    assert!(!stored.contains("jo@example.com") && !stored.contains("900123"), "{stored}");
    assert!(stored.contains("[email]") && stored.contains("[phone]"));
    // The place still counts: the answer names the district.
    assert!(bot_text(&turn).contains("North Hertfordshire"), "{}", bot_text(&turn));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app(StoreKind::Redis).await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn widget_and_demo_page_are_served() {
    let app = spawn_app(StoreKind::Memory).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/widget.js", "text/javascript"),
        ("/widget.css", "text/css"),
        ("/kit/markup.js", "text/javascript"),
        ("/kit/console.js", "text/javascript"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with(kind), "{path}: {content_type}");
    }
}

#[tokio::test]
async fn the_widget_is_sent_compressed_and_not_again_when_unchanged() {
    let app = spawn_app(StoreKind::Memory).await;
    let plain = app.client.get(app.url("/widget.js")).send().await.unwrap();
    let etag = plain.headers()["etag"].to_str().unwrap().to_string();
    let plain_size = plain.bytes().await.unwrap().len();

    let gzipped =
        app.client.get(app.url("/widget.js")).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped_size = gzipped.bytes().await.unwrap().len();
    assert!(gzipped_size * 2 < plain_size, "gzip {gzipped_size} B against {plain_size} B");
    // What a resident's browser fetches for the widget, on the wire: 14 KB at most.
    let css = app.client.get(app.url("/widget.css")).header("Accept-Encoding", "gzip").send().await.unwrap();
    let css_size = css.bytes().await.unwrap().len();
    assert!(gzipped_size + css_size <= 14_000, "widget.js {gzipped_size} B + widget.css {css_size} B");

    let again = app.client.get(app.url("/widget.js")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let changed =
        app.client.get(app.url("/widget.js")).header("If-None-Match", "W/\"old\"").send().await.unwrap();
    assert_eq!(changed.status(), 200);
}

#[tokio::test]
async fn metrics_count_by_route_template_never_by_id() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    app.say(&conversation, "how do I renew my library books").await;
    app.say(&conversation, "what's the best pizza in town").await;
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("herts_assistant_conversations_started_total 1"), "{text}");
    assert!(text.contains("herts_assistant_answers_total{kind=\"intent\"} 1"), "{text}");
    assert!(text.contains("herts_assistant_answers_total{kind=\"none\"} 1"), "{text}");
    assert!(text.contains("route=\"/api/v1/conversations/{id}/messages\""), "{text}");
    assert!(!text.contains(&conversation.id), "ids never become labels");
}
