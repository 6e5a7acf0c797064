//! Several server processes sharing one Redis, as in production: a resident on one instance,
//! an agent on another; and a Redis restart in the middle of a live chat.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{
    AGENT_TOKEN, OTHER_AGENT_TOKEN, TestApp, is_message_with, next_matching, subscribe, unique_prefix,
};
use herts_assistant::handoff::hash_token;
use herts_assistant::http::wire::Created;

/// A server process, killed when dropped.
pub struct Instance {
    pub app: TestApp,
    child: Child,
}

impl Instance {
    /// Stops it at once, as a crash or a killed container would.
    pub async fn kill(&mut self) {
        self.child.kill().await.ok();
    }
}

pub async fn start_instance(redis_url: &str, prefix: &str) -> Instance {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herts-assistant"))
        .current_dir(root)
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_REDIS_URL", redis_url)
        .env("HA_REDIS_PREFIX", prefix)
        .env("HA_TEAMS_ALWAYS_OPEN", "1")
        .env(
            "HA_AGENTS",
            format!("Alex:agent:{};Sam:agent:{}", hash_token(AGENT_TOKEN), hash_token(OTHER_AGENT_TOKEN)),
        )
        .env("HA_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // On a clean checkout the first start trains and caches the content's models while the
    // other tests run beside it: minutes on a busy 2-core machine, a second once cached.
    let line = tokio::time::timeout(Duration::from_secs(180), lines.next_line())
        .await
        .expect("the server says where it listens")
        .unwrap()
        .unwrap();
    let address = line.strip_prefix("listening on ").expect("a listening line").to_string();
    Instance { app: TestApp { address, client: reqwest::Client::new() }, child }
}

/// A Redis of this test's own, with an append-only file so a restart keeps what was
/// acknowledged (as a production Redis would be configured).
struct OwnRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("ha-redis-{}", unique_prefix().replace(':', "")));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self { port, dir, child: None };
        redis.spawn();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

pub async fn start_conversation(app: &TestApp) -> (String, String) {
    let created: Created =
        app.client.post(app.url("/api/v1/conversations")).send().await.unwrap().json().await.unwrap();
    (created.id, created.token)
}

pub async fn post(app: &TestApp, id: &str, token: &str, text: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn resident_and_agent_on_different_instances_survive_a_redis_restart() {
    let mut redis = OwnRedis::start();
    let prefix = unique_prefix();
    let resident_side = start_instance(&redis.url(), &prefix).await;
    let agent_side = start_instance(&redis.url(), &prefix).await;
    let (a, b) = (&resident_side.app, &agent_side.app);

    let (id, token) = start_conversation(a).await;
    assert_eq!(post(a, &id, &token, "I'd like to talk to an adviser").await.status(), 200);

    // The queue is shared: the agent's instance sees the resident who queued on the other.
    let queue: serde_json::Value =
        b.agent(Method::GET, "/api/v1/agent/queue", AGENT_TOKEN).send().await.unwrap().json().await.unwrap();
    assert_eq!(queue["teams"][0]["waiting"][0]["id"], id.as_str());
    let path = format!("/api/v1/agent/conversations/{id}");
    assert_eq!(
        b.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send().await.unwrap().status(),
        200
    );

    let mut at_agent = subscribe(b.agent(Method::GET, &format!("{path}/events?after=0"), AGENT_TOKEN)).await;
    let mut at_resident = subscribe(
        a.client.get(a.url(&format!("/api/v1/conversations/{id}/events?after=0"))).bearer_auth(&token),
    )
    .await;

    assert_eq!(post(a, &id, &token, "first from the resident").await.status(), 200);
    next_matching(&mut at_agent, "resident message on the other instance", is_message_with("first from"))
        .await;
    let reply = b
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&json!({"text": "first from Alex"}));
    assert_eq!(reply.send().await.unwrap().status(), 200);
    next_matching(
        &mut at_resident,
        "agent message on the other instance",
        is_message_with("first from Alex"),
    )
    .await;

    // A raw stream, to see what a client receives while Redis is away.
    let raw = a
        .client
        .get(a.url(&format!("/api/v1/conversations/{id}/events?after=1000")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    // Redis goes away in the middle of the chat, and comes back.
    redis.kill();
    let during = post(a, &id, &token, "sent while redis was down").await;
    assert_eq!(during.status(), 503, "refused, not lost: the resident is told to retry");
    assert!(during.headers().get("retry-after").is_some());
    // The stream stays open and waits between attempts instead of spinning.
    let mut bytes = raw.bytes_stream();
    let mut received = String::new();
    let window = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(window, bytes.next()).await {
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    let retries = received.matches("store unavailable").count();
    assert!(retries <= 5, "{retries} retries in 1.5 s");
    redis.spawn();

    // The resident retries until Redis answers; the message then reaches the agent's socket.
    let mut delivered = false;
    for _ in 0..100 {
        if post(a, &id, &token, "second from the resident").await.status() == 200 {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "the service recovered by itself");
    next_matching(&mut at_agent, "delivery resumed after the restart", is_message_with("second from")).await;
    let reply = b
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&json!({"text": "second from Alex"}));
    assert_eq!(reply.send().await.unwrap().status(), 200);
    next_matching(&mut at_resident, "agent reply after the restart", is_message_with("second from Alex"))
        .await;

    // Nothing acknowledged was lost, and the order held.
    let transcript: serde_json::Value =
        b.agent(Method::GET, &path, AGENT_TOKEN).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> =
        transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    let order =
        ["first from the resident", "first from Alex", "second from the resident", "second from Alex"];
    let positions: Vec<usize> = order.iter().map(|t| texts.iter().position(|x| x == t).expect(t)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{texts:?}");
    assert!(!texts.contains(&"sent while redis was down"));
}

#[tokio::test]
async fn queue_claim_race_and_return_across_instances() {
    let redis = crate::helpers::redis_url();
    let prefix = unique_prefix();
    let one = start_instance(&redis, &prefix).await;
    let two = start_instance(&redis, &prefix).await;
    let (a, b) = (&one.app, &two.app);

    // Two residents queue on different instances: places follow arrival, whichever instance.
    let (first, first_token) = start_conversation(a).await;
    let (second, second_token) = start_conversation(b).await;
    let queued: serde_json::Value =
        post(a, &first, &first_token, "put me through to a person").await.json().await.unwrap();
    assert_eq!(queued["queue"]["position"], 1);
    let queued: serde_json::Value =
        post(b, &second, &second_token, "I want to talk to someone").await.json().await.unwrap();
    assert_eq!(queued["queue"]["position"], 2);

    // Two agents on two instances claim the same conversation at once: one wins.
    let path = format!("/api/v1/agent/conversations/{first}");
    let (x, y) = tokio::join!(
        a.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send(),
        b.agent(Method::POST, &format!("{path}/claim"), OTHER_AGENT_TOKEN).send()
    );
    let mut statuses = [x.unwrap().status().as_u16(), y.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);

    // The second resident moved up, as seen from the other instance.
    let transcript: serde_json::Value = a
        .client
        .get(a.url(&format!("/api/v1/conversations/{second}")))
        .bearer_auth(&second_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(transcript["queue"]["position"], 1);

    // Whoever won hands back to the assistant; the resident's next question, on the other
    // instance, is answered by the assistant again.
    let details: serde_json::Value =
        a.agent(Method::GET, &path, AGENT_TOKEN).send().await.unwrap().json().await.unwrap();
    let winner = if details["agent"] == "Alex" { AGENT_TOKEN } else { OTHER_AGENT_TOKEN };
    assert_eq!(a.agent(Method::POST, &format!("{path}/return"), winner).send().await.unwrap().status(), 200);
    let answer: serde_json::Value =
        post(b, &first, &first_token, "how do I report a pothole").await.json().await.unwrap();
    assert_eq!(answer["state"], "bot");
    assert_eq!(answer["matched"]["id"], "report-pothole");
}

/// Everything a resident or an agent types stays out of the logs, even at debug level:
/// message text is never logged, only ids, kinds and topics.
#[tokio::test]
async fn logs_never_hold_what_residents_or_agents_type() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herts-assistant"))
        .current_dir(root)
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_REDIS_URL", "")
        .env("HA_TEAMS_ALWAYS_OPEN", "1")
        .env("HA_AGENTS", format!("Alex:agent:{}", hash_token(AGENT_TOKEN)))
        .env("HA_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line =
        tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.unwrap().unwrap().unwrap();
    let address = line.strip_prefix("listening on ").unwrap().to_string();
    let app = TestApp { address, client: reqwest::Client::new() };

    let (id, token) = start_conversation(&app).await;
    let said = "my email is jo.bloggs@example.com, ring 07700 900123, can you recommend a plumber";
    assert_eq!(post(&app, &id, &token, said).await.status(), 200);
    assert_eq!(post(&app, &id, &token, "I would like to talk to a person please").await.status(), 200);
    let agent = |path: &str| {
        app.agent(Method::POST, &format!("/api/v1/agent/conversations/{id}/{path}"), AGENT_TOKEN)
    };
    assert!(agent("claim").send().await.unwrap().status().is_success());
    let reply = agent("messages")
        .json(&json!({"text": "Thanks Jo, I will call 07700 900123 about the boiler"}))
        .send();
    assert!(reply.await.unwrap().status().is_success());

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("answered"), "the log was captured: {logs}");
    for typed in ["jo.bloggs", "example.com", "07700", "900123", "plumber", "boiler", "Thanks Jo"] {
        assert!(!logs.contains(typed), "{typed:?} reached the logs");
    }
}
