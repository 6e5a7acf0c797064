//! What a misusing client cannot do: grow the metrics without bound, replay a transcript with an
//! overflowing `after`, get a bare error for a bad query; and the headers every page and API
//! answer carries.
//! Over 400 lines: one scenario per finding, each short; they share the app and the helpers.

use std::time::Duration;

use reqwest::Method;

use crate::helpers::{AGENT_TOKEN, StoreKind, error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = spawn_app(StoreKind::Memory).await;
    for i in 0..200 {
        let method = Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
        let response = app.client.request(method, app.url("/api/v1/conversations")).send().await.unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("method=\"X1"), "a made-up method became a label");
    assert!(metrics.contains("method=\"other\""), "made-up methods are counted as other");
    assert!(metrics.len() < 64 * 1024, "metrics grew to {} bytes", metrics.len());
}

#[tokio::test]
async fn the_largest_after_replays_nothing_in_either_store() {
    for kind in [StoreKind::Memory, StoreKind::Redis] {
        let app = spawn_app(kind).await;
        let conversation = app.start().await;
        app.say(&conversation, "where is my nearest recycling centre").await;
        let url = app.url(&format!("/api/v1/conversations/{}/events?after={}", conversation.id, u64::MAX));
        let response = app.client.get(url).bearer_auth(&conversation.token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{kind:?}");
        // Read what the stream sends in its first moments: a status, never a message.
        let mut body = response;
        let mut seen = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, body.chunk()).await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(!seen.contains("event: message"), "{kind:?} replayed the transcript: {seen}");
    }
}

#[tokio::test]
async fn a_bad_query_gets_a_json_error_from_the_table() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    for after in ["x", "-1", "18446744073709551616"] {
        let url = app.url(&format!("/api/v1/conversations/{}/events?after={after}", conversation.id));
        let response = app.client.get(url).bearer_auth(&conversation.token).send().await.unwrap();
        assert_eq!(response.status(), 400, "after={after}");
        assert_eq!(error_code(response).await, "invalid_request", "after={after}");
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = app.start().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/conversations/{}", conversation.id)))
            .header("authorization", format!("{scheme} {}", conversation.token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let agent = app
        .client
        .get(app.url("/api/v1/agent/queue"))
        .header("authorization", format!("bearer {AGENT_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(agent.status(), 200);
    let other_scheme = app
        .client
        .get(app.url(&format!("/api/v1/conversations/{}", conversation.id)))
        .header("authorization", format!("Basic {}", conversation.token))
        .send()
        .await
        .unwrap();
    assert_eq!(other_scheme.status(), 401);
}

#[tokio::test]
async fn the_429_says_how_long_is_left_of_the_window() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.rate_limit = 2).await;
    let conversation = app.start().await;
    app.say(&conversation, "hello").await;
    app.say(&conversation, "hello").await;
    let refused = app.post_raw(&conversation, r#"{"text": "hello"}"#).await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((55..=60).contains(&wait), "Retry-After {wait}: the window is a minute and has just begun");
    assert_eq!(error_code(refused).await, "rate_limited");
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_the_api_is_never_cached() {
    let app =
        spawn_app_with(StoreKind::Memory, |s| s.frame_ancestors = "https://www.hertfordshire.gov.uk".into())
            .await;
    for (path, ancestors) in [
        ("/", "frame-ancestors https://www.hertfordshire.gov.uk"),
        ("/agent", "frame-ancestors 'none'"),
        ("/editor", "frame-ancestors 'none'"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && csp.contains(ancestors), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        // Nothing inline for the policy to block: the page loads its style and script by URL.
        let html = response.text().await.unwrap();
        assert!(!html.contains("<style") && !html.contains(" style="), "{path} has an inline style");
        assert!(!html.contains("<script>"), "{path} has an inline script");
    }
    let created = app.client.post(app.url("/api/v1/conversations")).send().await.unwrap();
    assert_eq!(created.headers()["cache-control"], "no-store", "the token must not be cached");
    let error = app.client.get(app.url("/api/v1/conversations/nope")).send().await.unwrap();
    assert_eq!(error.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn head_answers_for_every_page() {
    let app = spawn_app(StoreKind::Memory).await;
    for path in [
        "/",
        "/agent",
        "/editor",
        "/privacy",
        "/widget.js",
        "/widget.css",
        "/agent.js",
        "/editor.js",
        "/demo.css",
    ] {
        let get = app.client.get(app.url(path)).send().await.unwrap();
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(head.headers()["etag"], get.headers()["etag"], "HEAD {path}");
        assert_eq!(head.bytes().await.unwrap().len(), 0, "HEAD {path} sent a body");
    }
}

#[test]
fn hash_token_reads_standard_input_and_refuses_short_tokens() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let run = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herts-assistant"))
            .arg("hash-token")
            .env("HA_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let token = "0123456789abcdef0123456789abcdef";
    let output = run(&format!("{token}\n"));
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), herts_assistant::handoff::hash_token(token));
    let short = run("demo-token\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("new-token"));

    let new = Command::new(env!("CARGO_BIN_EXE_herts-assistant")).arg("new-token").output().unwrap();
    let printed = String::from_utf8(new.stdout).unwrap();
    let token = printed.lines().find_map(|l| l.strip_prefix("token:")).unwrap().trim().to_string();
    let sha = printed.lines().find_map(|l| l.strip_prefix("sha256:")).unwrap().trim().to_string();
    assert_eq!(token.len(), 64, "32 random bytes in hex");
    assert_eq!(sha, herts_assistant::handoff::hash_token(&token));
}

#[tokio::test]
async fn personal_data_is_redacted_from_what_residents_and_agents_write_but_published_numbers_stay() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    app.say(
        &conversation,
        "is 0300 123 4040 the right number? my mobile is (07700) 900123, I was born on 3 May 1961",
    )
    .await;
    let turn = app.say(&conversation, "can I talk to a person please").await;
    assert_eq!(turn.state, "queued");
    let path = format!("/api/v1/agent/conversations/{}", conversation.id);
    assert_eq!(
        app.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send().await.unwrap().status(),
        200
    );
    let sent = app
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&serde_json::json!({"text": "I have your NHS number as 943 476 5919. Our number is 0300 123 4040."}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let transcript: serde_json::Value = app.transcript(&conversation).await.json().await.unwrap();
    let texts: Vec<&str> =
        transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    let resident = texts.iter().find(|t| t.starts_with("is 0300")).expect("the resident's message");
    assert_eq!(
        *resident,
        "is 0300 123 4040 the right number? my mobile is [phone], I was born on [date of birth]"
    );
    let agent = texts.iter().find(|t| t.starts_with("I have your")).expect("the agent's message");
    assert_eq!(*agent, "I have your NHS number as [NHS number]. Our number is 0300 123 4040.");
}

#[tokio::test]
async fn a_message_for_the_team_is_refused_while_it_is_open() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.teams_always_open = true).await;
    let conversation = app.start().await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/offline-message", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&serde_json::json!({"name": "Jo", "contact": "jo@example.com", "question": "Call me"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "conflict");
}

#[tokio::test]
async fn one_client_cannot_start_conversations_without_limit() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.client_limits.conversations_per_minute = 5).await;
    let start = |forwarded: Option<&'static str>| {
        let request = app.client.post(app.url("/api/v1/conversations"));
        match forwarded {
            Some(address) => request.header("x-forwarded-for", address),
            None => request,
        }
        .send()
    };
    for _ in 0..5 {
        assert_eq!(start(None).await.unwrap().status(), 201);
    }
    let refused = start(None).await.unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=12).contains(&wait), "Retry-After {wait}: one more is allowed every 12 s");
    assert_eq!(error_code(refused).await, "rate_limited");
    // Without a trusted proxy, a client cannot pick its own address to escape the limit.
    assert_eq!(start(Some("203.0.113.9")).await.unwrap().status(), 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let app = spawn_app_with(StoreKind::Memory, |s| {
        s.client_limits.conversations_per_minute = 2;
        s.trusted_proxy_header = Some("X-Forwarded-For".into());
    })
    .await;
    let start = |forwarded: &'static str| {
        app.client.post(app.url("/api/v1/conversations")).header("x-forwarded-for", forwarded).send()
    };
    // The proxy appends the address it saw; what the client wrote before it counts for nothing.
    assert_eq!(start("198.51.100.1, 203.0.113.1").await.unwrap().status(), 201);
    assert_eq!(start("198.51.100.2, 203.0.113.1").await.unwrap().status(), 201);
    assert_eq!(start("198.51.100.3, 203.0.113.1").await.unwrap().status(), 429);
    assert_eq!(start("203.0.113.2").await.unwrap().status(), 201);
}

async fn open_stream(
    app: &crate::helpers::TestApp,
    conversation: &crate::helpers::Conversation,
) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/conversations/{}/events", conversation.id)))
        .bearer_auth(&conversation.token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn open_streams_are_capped_per_conversation_and_per_instance() {
    let app = spawn_app_with(StoreKind::Memory, |s| s.max_streams = 10).await;
    let conversation = app.start().await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let stream = open_stream(&app, &conversation).await;
        assert_eq!(stream.status(), 200);
        open.push(stream);
    }
    let refused = open_stream(&app, &conversation).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(error_code(refused).await, "too_many_streams");

    // Closing one gives its place back: the server learns of it when its next keepalive (every
    // 15 s on a quiet conversation) finds the connection gone.
    open.pop();
    let mut reopened = None;
    for _ in 0..180 {
        let stream = open_stream(&app, &conversation).await;
        if stream.status() == 200 {
            reopened = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    open.push(reopened.expect("a closed stream's place is given back"));

    // The instance holds 10 in all: two more on another conversation, then no more.
    let other = app.start().await;
    open.push(open_stream(&app, &other).await);
    open.push(open_stream(&app, &other).await);
    assert!(open.iter().all(|s| s.status() == 200));
    let busy = open_stream(&app, &other).await;
    assert_eq!(busy.status(), 503);
    assert!(busy.headers().contains_key("retry-after"));
    assert_eq!(error_code(busy).await, "busy");
}

#[tokio::test]
async fn an_agent_types_only_in_a_conversation_they_hold() {
    let app = spawn_app(StoreKind::Memory).await;
    let typing = |id: String| {
        app.agent(Method::POST, &format!("/api/v1/agent/conversations/{id}/typing"), AGENT_TOKEN)
            .json(&serde_json::json!({"typing": true}))
            .send()
    };
    let unknown = typing("0123456789abcdef0123456789abcdef".into()).await.unwrap();
    assert_eq!(unknown.status(), 404);
    let conversation = app.start().await;
    app.say(&conversation, "can I talk to a person please").await;
    let unclaimed = typing(conversation.id.clone()).await.unwrap();
    assert_eq!(unclaimed.status(), 409, "claim it first");
    let path = format!("/api/v1/agent/conversations/{}/claim", conversation.id);
    assert_eq!(app.agent(Method::POST, &path, AGENT_TOKEN).send().await.unwrap().status(), 200);
    assert_eq!(typing(conversation.id.clone()).await.unwrap().status(), 204);
}

#[tokio::test]
async fn a_resident_or_an_agent_for_them_gets_everything_kept_about_a_conversation() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "when is my bin day in Hitchin, my email is jo@example.com").await;
    let answer = turn.messages.iter().rev().find(|m| m.role == herts_assistant::store::Role::Bot).unwrap();
    let feedback = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/feedback", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&serde_json::json!({"message_id": answer.id, "helpful": true}))
        .send()
        .await
        .unwrap();
    assert!(feedback.status().is_success(), "{}", feedback.status());

    let path = format!("/api/v1/conversations/{}/export", conversation.id);
    let mine = app.client.get(app.url(&path)).bearer_auth(&conversation.token).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.headers()["cache-control"], "no-store");
    let export: serde_json::Value = mine.json().await.unwrap();
    assert_eq!(export["id"], conversation.id.as_str());
    assert_eq!(export["place"], "Hitchin");
    assert_eq!(export["retention_days"], 30);
    assert_eq!(export["feedback"][0]["helpful"], true);
    let texts: Vec<&str> =
        export["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"when is my bin day in Hitchin, my email is [email]"), "{texts:?}");

    let wrong = app.client.get(app.url(&path)).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    let by_agent = app
        .agent(Method::GET, &format!("/api/v1/agent/conversations/{}/export", conversation.id), AGENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(by_agent.status(), 200);
    let by_agent: serde_json::Value = by_agent.json().await.unwrap();
    assert_eq!(by_agent["messages"], export["messages"]);
    let no_agent =
        app.client.get(app.url(&format!("/api/v1/agent/conversations/{}/export", conversation.id)));
    assert_eq!(no_agent.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_consoles_api_answers_only_this_services_pages_unless_configured() {
    let app = spawn_app_with(StoreKind::Memory, |s| {
        s.console_origins = vec!["https://console.herts.example".into()]
    })
    .await;
    let queue = |origin: Option<String>| {
        let request = app.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN);
        match origin {
            Some(origin) => request.header("origin", origin),
            None => request,
        }
        .send()
    };
    let own = app.address.clone();
    assert_eq!(queue(None).await.unwrap().status(), 200, "no Origin: not a browser page");
    assert_eq!(queue(Some(own)).await.unwrap().status(), 200, "the service's own console");
    assert_eq!(queue(Some("https://console.herts.example".into())).await.unwrap().status(), 200);
    let refused = queue(Some("https://evil.example".into())).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(error_code(refused).await, "forbidden");
    // The residents' API stays open to council pages anywhere.
    let resident = app
        .client
        .post(app.url("/api/v1/conversations"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resident.status(), 201);
}
