//! How long a resident's message takes to reach the agent's event stream on another instance.
//! Starts two server processes (the release binary) sharing Redis, hands a conversation to an
//! agent on instance B, then posts messages on instance A and times each until it arrives on
//! B's stream. Traffic stays on 127.0.0.1; the loop is bounded.
//!
//!     cargo build --release && cargo run --release --example delivery_latency [-- MESSAGES]

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TOKEN: &str = "latency-agent-token";

async fn start(redis: &str, prefix: &str) -> (Child, String) {
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/herts-assistant");
    let mut child = Command::new(binary)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_REDIS_URL", redis)
        .env("HA_REDIS_PREFIX", prefix)
        .env("HA_TEAMS_ALWAYS_OPEN", "1")
        .env("HA_AGENTS", format!("Bench:agent:{}", herts_assistant::handoff::hash_token(TOKEN)))
        .env("HA_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("build the release binary first: cargo build --release");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().expect("a listening line");
    (child, line.trim_start_matches("listening on ").to_string())
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(500);
    let redis = std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("latency:{}:", std::process::id());
    let (_a, a) = start(&redis, &prefix).await;
    let (_b, b) = start(&redis, &prefix).await;
    let client = reqwest::Client::new();

    let created: Value =
        client.post(format!("{a}/api/v1/conversations")).send().await.unwrap().json().await.unwrap();
    let (id, token) =
        (created["id"].as_str().unwrap().to_string(), created["token"].as_str().unwrap().to_string());
    let post = |text: String| {
        client
            .post(format!("{a}/api/v1/conversations/{id}/messages"))
            .bearer_auth(&token)
            .json(&json!({ "text": text }))
            .send()
    };
    post("talk to a person".into()).await.unwrap();
    let agent =
        |path: &str| client.post(format!("{b}/api/v1/agent/conversations/{id}/{path}")).bearer_auth(TOKEN);
    assert!(agent("claim").send().await.unwrap().status().is_success());

    // Start the stream after what is already there, so only the probes arrive on it.
    let details: Value = client
        .get(format!("{b}/api/v1/agent/conversations/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = details["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["id"].as_str())
        .unwrap_or("0")
        .to_string();
    let stream = client
        .get(format!("{b}/api/v1/agent/conversations/{id}/events?after={last}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (sender, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    tokio::spawn(async move {
        let mut bytes = stream.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = bytes.next().await {
            let now = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(event) = serde_json::from_str::<Value>(data)
                    && let Some(text) = event["text"].as_str()
                {
                    let _ = sender.send((text.to_string(), now));
                }
            }
        }
    });

    let mut times = Vec::with_capacity(messages);
    for i in 0..messages {
        let text = format!("latency probe {i}");
        let sent = Instant::now();
        post(text.clone()).await.unwrap();
        let arrived = loop {
            let (got, at) = tokio::time::timeout(Duration::from_secs(5), arrivals.recv())
                .await
                .expect("the message arrives within 5 s")
                .expect("the stream stays open");
            if got == text {
                break at;
            }
        };
        times.push(arrived.duration_since(sent));
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{messages} messages, resident on A -> agent stream on B: p50 {:?}, p95 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.95),
        at(0.99),
        times[times.len() - 1]
    );
}
