//! Handing to a person, in one instance: queue, claim, live chat both ways, the double-claim
//! race, return, transfer, close, out-of-hours messages and the agent API's access rules.
//! Over 400 lines: the handoff is one journey, and each step's test builds on the same queue
//! and claim helpers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    AGENT_TOKEN, EDITOR_TOKEN, OTHER_AGENT_TOKEN, StoreKind, TestApp, all_matching, bot_text, error_code,
    is_message_with, next_matching, spawn_app, spawn_app_with, subscribe,
};

async fn queued(app: &TestApp) -> crate::helpers::Conversation {
    let conversation = app.start().await;
    app.say(&conversation, "I need a blue badge for my dad, he lives in Stevenage").await;
    let turn = app.say(&conversation, "can I talk to a person please").await;
    assert_eq!(turn.state, "queued");
    let queue = turn.queue.expect("queue place given");
    assert_eq!((queue.position, queue.team.as_str()), (1, "customer-service"));
    conversation
}

/// The resident stops waiting for a person.
async fn leave_queue(app: &TestApp, conversation: &crate::helpers::Conversation) {
    let left = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/leave-queue", conversation.id)))
        .bearer_auth(&conversation.token)
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 200);
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_agent_claims_and_chats_live_both_ways() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = queued(&app).await;

    // The agent sees the conversation waiting, with what the resident already said.
    let queue =
        json_of(app.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN).send().await.unwrap()).await;
    let waiting = &queue["teams"][0]["waiting"][0];
    assert_eq!(waiting["id"], conversation.id.as_str());
    assert_eq!(waiting["place"], "Stevenage");
    assert_eq!(waiting["topic"], "blue-badge");

    let path = format!("/api/v1/agent/conversations/{}", conversation.id);
    let details = json_of(app.agent(Method::GET, &path, AGENT_TOKEN).send().await.unwrap()).await;
    assert_eq!(details["details"]["district"], "Stevenage Borough Council");
    assert!(details["details"]["questions"][0].as_str().unwrap().contains("blue badge"));

    let mut resident_events = subscribe(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{}/events?after=0", conversation.id)))
            .bearer_auth(&conversation.token),
    )
    .await;
    let claim = app.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send().await.unwrap();
    assert_eq!(claim.status(), 200);
    let joined = is_message_with("Alex has joined");
    let with_agent = |e: &crate::helpers::Event| e.kind == "status" && e.data["state"] == "agent";
    all_matching(&mut resident_events, &[("agent joined", &joined), ("status agent", &with_agent)]).await;

    let mut agent_events =
        subscribe(app.agent(Method::GET, &format!("{path}/events?after=0"), AGENT_TOKEN)).await;
    let sent = app
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&json!({"text": "Hello, I'm Alex. <b>How</b> can I help?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let event = next_matching(&mut resident_events, "agent message", is_message_with("I'm Alex")).await;
    assert_eq!(event.data["role"], "agent");
    assert_eq!(event.data["author"], "Alex");
    let transcript = json_of(app.transcript(&conversation).await).await;
    assert_eq!(transcript["agent"], "Alex");
    assert_eq!(
        event.data["text"], "Hello, I'm Alex. <b>How</b> can I help?",
        "stored as typed, shown as text"
    );

    // The assistant stays silent while the agent holds the conversation.
    let turn = app.say(&conversation, "My dad has COPD").await;
    assert_eq!(turn.messages.len(), 1);
    next_matching(&mut agent_events, "resident message", is_message_with("COPD")).await;

    // Typing shows on the other side.
    let typing = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/typing", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&json!({"typing": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(typing.status(), 204);
    next_matching(&mut agent_events, "resident typing", |e| {
        e.kind == "status" && e.data["resident_typing"] == true
    })
    .await;

    // Back to the assistant: it answers again.
    let back = app.agent(Method::POST, &format!("{path}/return"), AGENT_TOKEN).send().await.unwrap();
    assert_eq!(back.status(), 200);
    let turn = app.say(&conversation, "what are the library opening hours").await;
    assert_eq!(turn.state, "bot");
    assert_eq!(turn.matched.id.as_deref(), Some("libraries"));
}

#[tokio::test]
async fn of_two_agents_claiming_at_once_one_wins() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = queued(&app).await;
    let path = format!("/api/v1/agent/conversations/{}/claim", conversation.id);
    let (a, b) = tokio::join!(
        app.agent(Method::POST, &path, AGENT_TOKEN).send(),
        app.agent(Method::POST, &path, OTHER_AGENT_TOKEN).send()
    );
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    // The loser cannot write into the conversation.
    let (loser, _) = {
        let details = json_of(
            app.agent(Method::GET, &format!("/api/v1/agent/conversations/{}", conversation.id), AGENT_TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if details["agent"] == "Alex" {
            (OTHER_AGENT_TOKEN, AGENT_TOKEN)
        } else {
            (AGENT_TOKEN, OTHER_AGENT_TOKEN)
        }
    };
    let refused = app
        .agent(Method::POST, &format!("/api/v1/agent/conversations/{}/messages", conversation.id), loser)
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let again = app.agent(Method::POST, &path, loser).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(error_code(again).await, "already_claimed");
}

#[tokio::test]
async fn queue_places_follow_arrival_and_leaving() {
    let app = spawn_app(StoreKind::Memory).await;
    let first = queued(&app).await;
    let second = app.start().await;
    let turn = app.say(&second, "talk to a human").await;
    assert_eq!(turn.queue.unwrap().position, 2);
    leave_queue(&app, &first).await;
    let mut events = subscribe(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{}/events", second.id)))
            .bearer_auth(&second.token),
    )
    .await;
    next_matching(&mut events, "moved up", |e| e.kind == "status" && e.data["queue"]["position"] == 1).await;
}

/// A queued resident's new place is pushed when the one ahead leaves: an open stream hears it
/// at once (within the helper's 10 s, shorter than the 15 s a quiet stream waits), on one
/// instance's memory store and through Redis's published events alike.
#[tokio::test]
async fn a_queue_move_is_pushed_to_the_residents_still_waiting() {
    for kind in [StoreKind::Memory, StoreKind::Redis] {
        let app = spawn_app(kind).await;
        let first = queued(&app).await;
        let second = app.start().await;
        assert_eq!(app.say(&second, "talk to a human").await.queue.unwrap().position, 2);
        let mut events = subscribe(
            app.client
                .get(app.url(&format!("/api/v1/conversations/{}/events", second.id)))
                .bearer_auth(&second.token),
        )
        .await;
        next_matching(&mut events, "second in the queue", |e| {
            e.kind == "status" && e.data["queue"]["position"] == 2
        })
        .await;
        let started = std::time::Instant::now();
        leave_queue(&app, &first).await;
        next_matching(&mut events, "moved up", |e| e.kind == "status" && e.data["queue"]["position"] == 1)
            .await;
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "pushed, not found by a later read");
    }
}

/// The console hears of queue changes as they happen instead of polling: a `queue` event when
/// its stream opens and when a resident joins the queue or leaves it.
#[tokio::test]
async fn the_console_is_told_when_the_queue_changes() {
    for kind in [StoreKind::Memory, StoreKind::Redis] {
        let app = spawn_app(kind).await;
        let mut events = subscribe(app.agent(Method::GET, "/api/v1/agent/queue/events", AGENT_TOKEN)).await;
        next_matching(&mut events, "the first queue event", |e| e.kind == "queue").await;
        let started = std::time::Instant::now();
        let waiting = queued(&app).await;
        next_matching(&mut events, "a resident queued", |e| e.kind == "queue").await;
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "told at once, not at a keepalive");
        leave_queue(&app, &waiting).await;
        next_matching(&mut events, "the resident left", |e| e.kind == "queue").await;
    }
    let app = spawn_app(StoreKind::Memory).await;
    let resident = app.start().await;
    let refused = app
        .client
        .get(app.url("/api/v1/agent/queue/events"))
        .bearer_auth(&resident.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "a resident's token is not an agent's");
}

#[tokio::test]
async fn transfer_and_close() {
    let app = spawn_app(StoreKind::Redis).await;
    let conversation = queued(&app).await;
    let path = format!("/api/v1/agent/conversations/{}", conversation.id);
    app.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send().await.unwrap();
    let moved = app
        .agent(Method::POST, &format!("{path}/transfer"), AGENT_TOKEN)
        .json(&json!({"team": "adult-care"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let queue =
        json_of(app.agent(Method::GET, "/api/v1/agent/queue", OTHER_AGENT_TOKEN).send().await.unwrap()).await;
    let adult_care = queue["teams"].as_array().unwrap().iter().find(|t| t["id"] == "adult-care").unwrap();
    assert_eq!(adult_care["waiting"][0]["id"], conversation.id.as_str());

    app.agent(Method::POST, &format!("{path}/claim"), OTHER_AGENT_TOKEN).send().await.unwrap();
    let closed = app
        .agent(Method::POST, &format!("{path}/close"), OTHER_AGENT_TOKEN)
        .json(&json!({"outcome": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    let transcript = json_of(app.transcript(&conversation).await).await;
    assert_eq!(transcript["state"], "closed");
    let texts: Vec<&str> =
        transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.contains("Adult Care Services")), "{texts:?}");
    assert!(texts.last().unwrap().contains("ended"), "{texts:?}");
}

#[tokio::test]
async fn out_of_hours_the_resident_leaves_a_message() {
    // A team with no opening hours is never open: no queue, a form instead.
    let app = spawn_app_with(StoreKind::Redis, |s| {
        s.teams_always_open = false;
        for team in &mut s.teams {
            team.hours.clear();
        }
    })
    .await;
    let conversation = app.start().await;
    let turn = app.say(&conversation, "I want to speak to someone").await;
    assert_eq!(turn.state, "bot", "not queued while closed");
    assert!(bot_text(&turn).contains("closed"), "{}", bot_text(&turn));
    assert_eq!(turn.messages[1].form.as_deref(), Some("offline_message"));

    let left = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/offline-message", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&json!({"name": "Jo", "contact": "jo@example.com", "question": "Can someone call me about care?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 201);
    let list =
        json_of(app.agent(Method::GET, "/api/v1/agent/offline-messages", AGENT_TOKEN).send().await.unwrap())
            .await;
    let message = &list["messages"][0];
    assert_eq!((message["name"].as_str(), message["done"].as_bool()), (Some("Jo"), Some(false)));
    let id = message["id"].as_str().unwrap();
    let done = app
        .agent(Method::POST, &format!("/api/v1/agent/offline-messages/{id}/done"), AGENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    let list =
        json_of(app.agent(Method::GET, "/api/v1/agent/offline-messages", AGENT_TOKEN).send().await.unwrap())
            .await;
    assert_eq!(list["messages"], json!([]), "a handled message is removed, with its contact details");

    // Personal data in the question is redacted; only three messages per conversation.
    let leave = |question: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/conversations/{}/offline-message", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&json!({"name": "Jo", "contact": "jo@example.com", "question": question}))
            .send()
    };
    assert_eq!(leave("My NHS number is 943 476 5919, please call").await.unwrap().status(), 201);
    let list =
        json_of(app.agent(Method::GET, "/api/v1/agent/offline-messages", AGENT_TOKEN).send().await.unwrap())
            .await;
    assert_eq!(list["messages"][0]["question"], "My NHS number is [NHS number], please call");
    assert_eq!(list["messages"][0]["contact"], "jo@example.com", "the contact given for a call back stays");
    assert_eq!(leave("second").await.unwrap().status(), 201);
    assert_eq!(leave("third").await.unwrap().status(), 201);
    let fourth = leave("fourth").await.unwrap();
    assert_eq!(fourth.status(), 429);
    assert!(fourth.headers().contains_key("retry-after"));

    let incomplete = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/offline-message", conversation.id)))
        .bearer_auth(&conversation.token)
        .json(&json!({"name": "", "contact": "x", "question": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(incomplete.status(), 400);
}

#[tokio::test]
async fn agent_routes_need_an_agent_token() {
    let app = spawn_app(StoreKind::Memory).await;
    let none = app.client.get(app.url("/api/v1/agent/queue")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(error_code(none).await, "missing_token");
    let unknown = app.agent(Method::GET, "/api/v1/agent/queue", "guess").send().await.unwrap();
    assert_eq!(unknown.status(), 401);
    assert_eq!(error_code(unknown).await, "unauthorized");
    let editor = app.agent(Method::GET, "/api/v1/agent/queue", EDITOR_TOKEN).send().await.unwrap();
    assert_eq!(editor.status(), 403);
    assert_eq!(error_code(editor).await, "forbidden");
    let me = json_of(app.agent(Method::GET, "/api/v1/agent/me", AGENT_TOKEN).send().await.unwrap()).await;
    assert_eq!(me["name"], "Alex");
    let presence = app
        .agent(Method::POST, "/api/v1/agent/presence", AGENT_TOKEN)
        .json(&json!({"status": "online"}))
        .send()
        .await
        .unwrap();
    assert_eq!(presence.status(), 204);
    let queue =
        json_of(app.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN).send().await.unwrap()).await;
    assert_eq!(queue["teams"][0]["agents_online"], 1);
    // An agent who is away does not shorten anyone's wait.
    app.agent(Method::POST, "/api/v1/agent/presence", AGENT_TOKEN)
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    let queue =
        json_of(app.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN).send().await.unwrap()).await;
    assert_eq!(queue["teams"][0]["agents_online"], 0);
}

async fn suggestions_for(app: &TestApp, id: &str) -> Value {
    let path = format!("/api/v1/agent/conversations/{id}/suggestions");
    json_of(app.agent(Method::GET, &path, AGENT_TOKEN).send().await.unwrap()).await
}

#[tokio::test]
async fn suggestions_answer_what_the_resident_asked_not_the_request_for_a_person() {
    let app = spawn_app(StoreKind::Memory).await;
    // queued(): a Blue Badge question, then "can I talk to a person please".
    let conversation = queued(&app).await;
    let suggestions = suggestions_for(&app, &conversation.id).await;
    assert_eq!(suggestions["articles"][0]["id"], "blue-badge", "{suggestions}");
    // An aside while waiting that asks nothing leaves them on the topic.
    app.say(&conversation, "hurry up please, I have been waiting ages").await;
    let suggestions = suggestions_for(&app, &conversation.id).await;
    assert_eq!(suggestions["articles"][0]["id"], "blue-badge", "{suggestions}");
}

#[tokio::test]
async fn suggestions_and_canned_replies() {
    let app = spawn_app(StoreKind::Memory).await;
    let conversation = queued(&app).await;
    app.say(&conversation, "also how do I report a pothole").await;
    let suggestions = suggestions_for(&app, &conversation.id).await;
    assert_eq!(suggestions["articles"][0]["id"], "report-pothole");
    assert!(suggestions["articles"][0]["url"].as_str().unwrap().starts_with("https://"));
    // District templates are filled in, never shown raw to the agent.
    app.say(&conversation, "how much is my council tax").await;
    let suggestions = suggestions_for(&app, &conversation.id).await;
    let articles = suggestions["articles"].as_array().unwrap();
    assert!(articles.iter().any(|a| a["id"] == "council-tax"), "{articles:?}");
    for article in articles {
        let text = article["text"].as_str().unwrap();
        assert!(!text.contains('{'), "{text}");
    }
    let canned =
        json_of(app.agent(Method::GET, "/api/v1/agent/canned", AGENT_TOKEN).send().await.unwrap()).await;
    assert!(!canned["replies"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn erasing_a_queued_conversation_takes_it_out_of_the_queue_and_the_messages_it_left() {
    for kind in [StoreKind::Memory, StoreKind::Redis] {
        let app = spawn_app(kind).await;
        let first = queued(&app).await;
        let second = app.start().await;
        let placed = app.say(&second, "talk to a human").await;
        assert_eq!(placed.queue.as_ref().map(|q| q.position), Some(2), "{kind:?}: {placed:?}");
        let mut events = subscribe(
            app.client
                .get(app.url(&format!("/api/v1/conversations/{}/events", second.id)))
                .bearer_auth(&second.token),
        )
        .await;
        let erased = app
            .client
            .delete(app.url(&format!("/api/v1/conversations/{}", first.id)))
            .bearer_auth(&first.token)
            .send()
            .await
            .unwrap();
        assert_eq!(erased.status(), 204);
        // The one behind moves up, and the agents see only the one still waiting.
        next_matching(&mut events, "moved up", |e| e.kind == "status" && e.data["queue"]["position"] == 1)
            .await;
        let queue =
            json_of(app.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN).send().await.unwrap()).await;
        let waiting: Vec<&str> = queue["teams"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["waiting"].as_array().unwrap())
            .map(|w| w["id"].as_str().unwrap())
            .collect();
        assert_eq!(waiting, [second.id.as_str()], "{kind:?}");
    }
}

#[tokio::test]
async fn erasing_a_conversation_removes_the_message_it_left_out_of_hours() {
    let app = spawn_app_with(StoreKind::Redis, |s| {
        s.teams_always_open = false;
        for team in &mut s.teams {
            team.hours.clear();
        }
    })
    .await;
    let mut kept_and_erased = Vec::new();
    for name in ["Kept", "Erased"] {
        let conversation = app.start().await;
        app.say(&conversation, "I want to speak to someone").await;
        let left = app
            .client
            .post(app.url(&format!("/api/v1/conversations/{}/offline-message", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&json!({"name": name, "contact": "01632 960123", "question": "Please call me back."}))
            .send()
            .await
            .unwrap();
        assert_eq!(left.status(), 201);
        kept_and_erased.push(conversation);
    }
    let erased = &kept_and_erased[1];
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/conversations/{}", erased.id)))
        .bearer_auth(&erased.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let list =
        json_of(app.agent(Method::GET, "/api/v1/agent/offline-messages", AGENT_TOKEN).send().await.unwrap())
            .await;
    let names: Vec<&str> =
        list["messages"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Kept"]);
}
