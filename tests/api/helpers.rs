//! Starts the real server on a random port, with either store, and talks to it over HTTP.

use std::sync::{Arc, LazyLock};

use herts_assistant::config::{AgentConfig, Settings};
use herts_assistant::content::ContentFiles;
use herts_assistant::engine::Engine;
use herts_assistant::handoff::hash_token;
use herts_assistant::http::wire::{Created, TurnReply};
use herts_assistant::http::{AppState, Application};
use herts_assistant::publishing::LiveContent;
use herts_assistant::startup;
use serde_json::Value;

pub const AGENT_TOKEN: &str = "alex-secret-token";
pub const OTHER_AGENT_TOKEN: &str = "sam-secret-token";
pub const EDITOR_TOKEN: &str = "eve-secret-token";
/// Ann edits and approves others' changes.
pub const APPROVER_TOKEN: &str = "ann-secret-token";

/// The shipped content's files, read once.
static FILES: LazyLock<ContentFiles> = LazyLock::new(|| {
    startup::read_content_files(&content_settings()).expect("the shipped content is readable")
});

/// The shipped content, trained once for the whole test binary.
static ENGINE: LazyLock<Arc<Engine>> = LazyLock::new(|| {
    let settings = content_settings();
    Arc::new(startup::build_engine_from(&settings, &FILES).expect("the shipped content is valid"))
});

fn content_settings() -> Settings {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings {
        listen: "127.0.0.1:0".into(),
        intents_dir: root.join("intents"),
        knowledge_dir: root.join("knowledge-base"),
        ..Settings::default()
    }
}

pub fn redis_url() -> String {
    std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A connection for reading and changing keys behind the store's back: to the one server, or
/// to the cluster when `HA_REDIS_URL` lists its seed nodes.
pub fn raw_redis() -> herts_assistant::store::RedisConnection {
    let target = herts_assistant::store::RedisTarget::from_url(&redis_url(), false);
    herts_assistant::store::RedisConnection::open(&target).expect("a Redis URL")
}

/// A key prefix no other test uses, so tests share one Redis without seeing each other.
pub fn unique_prefix() -> String {
    format!("test:{}:", hex::encode(rand::random::<[u8; 8]>()))
}

#[derive(Clone, Copy, Debug)]
pub enum StoreKind {
    Memory,
    Redis,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

pub async fn spawn_app(kind: StoreKind) -> TestApp {
    spawn_app_with(kind, |_| {}).await
}

pub async fn spawn_app_with(kind: StoreKind, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let prefix = unique_prefix();
    let mut settings = content_settings();
    settings.workers = 2;
    // Handoff tests must not depend on the hour they run at; office hours have their own tests.
    settings.teams_always_open = true;
    settings.agents = vec![
        AgentConfig {
            name: "Alex".into(),
            roles: vec!["agent".into()],
            token_sha256: hash_token(AGENT_TOKEN),
        },
        AgentConfig {
            name: "Sam".into(),
            roles: vec!["agent".into()],
            token_sha256: hash_token(OTHER_AGENT_TOKEN),
        },
        AgentConfig {
            name: "Eve".into(),
            roles: vec!["editor".into()],
            token_sha256: hash_token(EDITOR_TOKEN),
        },
        AgentConfig {
            name: "Ann".into(),
            roles: vec!["editor".into(), "approver".into()],
            token_sha256: hash_token(APPROVER_TOKEN),
        },
    ];
    if let StoreKind::Redis = kind {
        settings.redis_url = Some(redis_url());
        settings.redis_prefix = prefix.clone();
    }
    adjust(&mut settings);
    let store = startup::build_store(&settings).expect("the store is configured");
    let application =
        Application::build(AppState::new(LiveContent::new(ENGINE.clone(), FILES.clone()), store, settings))
            .expect("server binds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp { address, client: reqwest::Client::new() }
}

/// A conversation a test is holding: its id and token.
pub struct Conversation {
    pub id: String,
    pub token: String,
    pub created: Created,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn start(&self) -> Conversation {
        let response = self.client.post(self.url("/api/v1/conversations")).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let created: Created = response.json().await.unwrap();
        Conversation { id: created.id.clone(), token: created.token.clone(), created }
    }

    pub async fn post_raw(
        &self,
        conversation: &Conversation,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/conversations/{}/messages", conversation.id)))
            .bearer_auth(&conversation.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn say(&self, conversation: &Conversation, text: &str) -> TurnReply {
        let body = serde_json::json!({ "text": text }).to_string();
        let response = self.post_raw(conversation, body).await;
        assert_eq!(response.status(), 200, "posting {text:?}");
        response.json().await.unwrap()
    }

    pub async fn transcript(&self, conversation: &Conversation) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/api/v1/conversations/{}", conversation.id)))
            .bearer_auth(&conversation.token)
            .send()
            .await
            .unwrap()
    }
}

/// The error code of an error response, checking its shape on the way.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("errors are JSON");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body["error"]["code"].as_str().expect("a code").to_string()
}

/// All text the bot said in one turn.
pub fn bot_text(turn: &TurnReply) -> String {
    turn.messages
        .iter()
        .filter(|m| m.role == herts_assistant::store::Role::Bot)
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

impl TestApp {
    /// A request as an agent (or editor) with `token`.
    pub fn agent(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: String,
    pub id: Option<u64>,
    pub data: Value,
}

/// Reads an event stream in the background; events arrive on the returned channel.
pub async fn subscribe(request: reqwest::RequestBuilder) -> tokio::sync::mpsc::UnboundedReceiver<Event> {
    use futures_util::StreamExt;
    let response = request.send().await.expect("event stream opens");
    assert_eq!(response.status(), 200);
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buffer = String::new();
        let mut stream = response.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let mut event = Event { kind: String::new(), id: None, data: Value::Null };
                for line in block.lines() {
                    if let Some(kind) = line.strip_prefix("event: ") {
                        event.kind = kind.to_string();
                    } else if let Some(id) = line.strip_prefix("id: ") {
                        event.id = id.parse().ok();
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        event.data = serde_json::from_str(data).unwrap_or(Value::Null);
                    }
                }
                if !event.kind.is_empty() && sender.send(event).is_err() {
                    return;
                }
            }
        }
    });
    receiver
}

/// Waits (up to 10 s) for an event that `matches`.
pub async fn next_matching(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    what: &str,
    matches: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) if matches(&event) => return event,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended before {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

/// A test on one event.
pub type EventCheck<'a> = dyn Fn(&Event) -> bool + 'a;

/// Waits (up to 10 s) until every one of `wanted` has matched an event, in any order: a
/// stream may send a status before or after the message that caused it.
pub async fn all_matching(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    wanted: &[(&str, &EventCheck<'_>)],
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = vec![false; wanted.len()];
    while seen.contains(&false) {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => {
                for (i, (_, matches)) in wanted.iter().enumerate() {
                    seen[i] |= matches(&event);
                }
            }
            Ok(None) => panic!("the stream ended before all of the wanted events"),
            Err(_) => {
                let missing: Vec<&str> =
                    wanted.iter().zip(&seen).filter(|(_, s)| !**s).map(|((what, _), _)| *what).collect();
                panic!("timed out waiting for {missing:?}")
            }
        }
    }
}

pub fn is_message_with(text: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| e.kind == "message" && e.data["text"].as_str().is_some_and(|t| t.contains(text))
}
