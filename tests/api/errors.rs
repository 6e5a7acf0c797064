//! Bad input gets a JSON error with a stable code and the right status, never a panic.

use crate::helpers::{Conversation, StoreKind, error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn bad_requests_get_stable_codes() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("not json", "{text:".into(), 400, "malformed_json"),
        ("wrong shape", r#"{"txt": "hello"}"#.into(), 400, "invalid_request"),
        ("empty", r#"{"text": "   "}"#.into(), 400, "empty_text"),
        ("too long", serde_json::json!({"text": "a".repeat(1001)}).to_string(), 400, "text_too_long"),
        (
            "oversized body",
            serde_json::json!({"text": "a".repeat(40_000)}).to_string(),
            413,
            "payload_too_large",
        ),
    ];
    for (name, body, status, code) in cases {
        let response = app.post_raw(&conversation, body).await;
        assert_eq!(response.status().as_u16(), status, "{name}");
        assert_eq!(error_code(response).await, code, "{name}");
    }
    // Nothing bad was stored: the transcript still holds only the welcome.
    let transcript: serde_json::Value = app.transcript(&conversation).await.json().await.unwrap();
    assert_eq!(transcript["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_token_and_unknown_ids_look_the_same() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    let other = app.start().await;
    let cases = [
        Conversation {
            id: conversation.id.clone(),
            token: other.token.clone(),
            created: other.created.clone(),
        },
        Conversation { id: "0".repeat(32), token: other.token.clone(), created: other.created.clone() },
        Conversation {
            id: "not-a-conversation-id".into(),
            token: other.token.clone(),
            created: other.created.clone(),
        },
    ];
    for case in &cases {
        let response = app.transcript(case).await;
        assert_eq!(response.status(), 404, "{}", case.id);
        assert_eq!(error_code(response).await, "conversation_not_found");
        let response = app.post_raw(case, r#"{"text":"hello"}"#).await;
        assert!(matches!(response.status().as_u16(), 404), "{}", case.id);
    }
    let no_token =
        app.client.get(app.url(&format!("/api/v1/conversations/{}", conversation.id))).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(error_code(no_token).await, "missing_token");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let app = spawn_app(StoreKind::Memory).await;
    let response = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
    let response = app.client.put(app.url("/api/v1/conversations")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(error_code(response).await, "method_not_allowed");
}

#[tokio::test]
async fn store_down_is_503_with_retry_after() {
    // Nothing listens on port 1: a real refused connection, as when Redis is down.
    let app = spawn_app_with(StoreKind::Redis, |s| s.redis_url = Some("redis://127.0.0.1:1".into())).await;
    let response = app.client.post(app.url("/api/v1/conversations")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(error_code(response).await, "store_unavailable");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // Liveness is about the process, not its dependencies.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn other_origins_may_call_the_api() {
    let app = spawn_app_with(StoreKind::Memory, |s| {
        s.allowed_origins = vec!["https://www.hertfordshire.gov.uk".into()]
    })
    .await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/conversations"))
        .header("origin", "https://www.hertfordshire.gov.uk")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://www.hertfordshire.gov.uk");
    let created = app
        .client
        .post(app.url("/api/v1/conversations"))
        .header("origin", "https://www.hertfordshire.gov.uk")
        .send()
        .await
        .unwrap();
    let exposed = created.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    let stranger = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/conversations"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(stranger.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_flood_of_messages_is_slowed_with_429() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.rate_limit = 3).await;
    let conversation = app.start().await;
    for _ in 0..3 {
        assert_eq!(app.post_raw(&conversation, r#"{"text":"hello"}"#).await.status(), 200);
    }
    let refused = app.post_raw(&conversation, r#"{"text":"hello"}"#).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    assert_eq!(error_code(refused).await, "rate_limited");
    // Other conversations are not affected.
    let other = app.start().await;
    assert_eq!(app.post_raw(&other, r#"{"text":"hello"}"#).await.status(), 200);
}

#[tokio::test]
async fn no_input_gets_a_bare_500() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    // Bodies of every odd shape: each gets a JSON error or an answer, never a 5xx.
    let bodies: Vec<Vec<u8>> = vec![
        vec![],
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{\"text\": null}".to_vec(),
        b"{\"text\": 42}".to_vec(),
        b"{\"text\": \"\\u0000\\u0007 \\ud83d\\ude00\"}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        "{\"text\": \"".to_string().into_bytes(),
        serde_json::json!({"text": "\u{202e}\u{200b}<script>alert(1)</script>"}).to_string().into_bytes(),
        serde_json::json!({"text": "a".repeat(1000)}).to_string().into_bytes(),
    ];
    for body in bodies {
        let shown = String::from_utf8_lossy(&body).chars().take(40).collect::<String>();
        let response = app.post_raw(&conversation, body).await;
        let status = response.status();
        assert!(status.as_u16() < 500, "{shown:?} -> {status}");
        if status != 200 {
            error_code(response).await;
        }
    }
    for path in
        ["/api/v1/conversations/%00", "/api/v1/conversations/x/feedback", "/api/v1/agent/conversations/%ff"]
    {
        let response = app.client.get(app.url(path)).bearer_auth(&conversation.token).send().await.unwrap();
        assert!(response.status().as_u16() < 500, "{path} -> {}", response.status());
    }
}
