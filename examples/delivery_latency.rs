//! How long a resident's message takes to reach the agent's event stream on another instance.
//! Starts two server processes (the release binary) sharing Redis, hands a conversation to an
//! agent on instance B, then posts messages on instance A and times each until it arrives on
//! B's stream. Traffic stays on 127.0.0.1; the loop is bounded.
//!
//! With IDLE_STREAMS, B first holds that many residents' event streams open (each conversation
//! from its own client address, as behind a proxy), and the run also reports B's memory and the
//! Redis commands those idle streams cost over QUIET_SECONDS (310 by default, so that one of the
//! streams' 5-minute safety re-reads falls inside): the 10,000-stream goals in one run.
//!
//!     cargo build --release && ulimit -n 20000 &&
//!     cargo run --release --example delivery_latency [-- MESSAGES [IDLE_STREAMS [QUIET_SECONDS]]]

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TOKEN: &str = "latency-agent-token";

async fn start(redis: &str, prefix: &str) -> (Child, String) {
    // Idle residents come from many addresses, named in a header the instance trusts.
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/herts-assistant");
    let mut child = Command::new(binary)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_REDIS_URL", redis)
        .env("HA_REDIS_PREFIX", prefix)
        .env("HA_TEAMS_ALWAYS_OPEN", "1")
        .env("HA_AGENTS", format!("Bench:agent:{}", herts_assistant::handoff::hash_token(TOKEN)))
        .env("HA_LOG", "warn")
        .env("HA_TRUSTED_PROXY_HEADER", "x-forwarded-for")
        .env("HA_CONFIG", limits_file())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("build the release binary first: cargo build --release");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().expect("a listening line");
    (child, line.trim_start_matches("listening on ").to_string())
}

/// A settings file that lets one client post the probes: the per-conversation and per-client
/// message allowances are for residents, not for a benchmark's thousands of messages.
fn limits_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("delivery-latency-{}.toml", std::process::id()));
    std::fs::write(&path, "rate_limit = 1000000\n[client_limits]\nmessages_per_minute = 1000000\n")
        .expect("a temporary settings file");
    path
}

#[tokio::main]
async fn main() {
    let number =
        |n: usize, default: usize| std::env::args().nth(n).and_then(|n| n.parse().ok()).unwrap_or(default);
    let (messages, idle_streams, quiet_seconds) = (number(1, 500), number(2, 0), number(3, 310));
    let redis = std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("latency:{}:", std::process::id());
    let (_a, a) = start(&redis, &prefix).await;
    let (b_process, b) = start(&redis, &prefix).await;
    let client = reqwest::Client::new();
    let _held = if idle_streams > 0 {
        let b_pid = b_process.id().expect("instance B runs");
        Some(hold_idle_streams(&client, &b, b_pid, &redis, idle_streams, quiet_seconds).await)
    } else {
        None
    };

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
    assert!(stream.status().is_success(), "the agent's stream opens: {}", stream.status());
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
        let posted = post(text.clone()).await.unwrap();
        assert!(posted.status().is_success(), "the message is taken: {}", posted.status());
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
        "{messages} messages, resident on A -> agent stream on B ({idle_streams} idle streams held on B): \
         p50 {:?}, p95 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.95),
        at(0.99),
        times[times.len() - 1]
    );
}

/// Opens `count` conversations on `base`, each from its own address, and holds an event stream
/// open on each; reports the instance's memory and what the quiet streams cost Redis over
/// `quiet_seconds`. The returned tasks keep the streams open until they are dropped with the runtime.
async fn hold_idle_streams(
    client: &reqwest::Client,
    base: &str,
    pid: u32,
    redis: &str,
    count: usize,
    quiet_seconds: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    let before = rss_mib(pid);
    let conversations: Vec<(String, String)> = futures_util::stream::iter(0..count)
        .map(|n| async move {
            let address = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
            let created: Value = client
                .post(format!("{base}/api/v1/conversations"))
                .header("x-forwarded-for", &address)
                .send()
                .await
                .expect("a conversation starts")
                .json()
                .await
                .expect("its id and token");
            (created["id"].as_str().unwrap().to_string(), created["token"].as_str().unwrap().to_string())
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let after_conversations = rss_mib(pid);
    let authority = base.trim_start_matches("http://").to_string();
    let (opened, mut ready) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut held = Vec::with_capacity(count);
    for (n, (id, token)) in conversations.into_iter().enumerate() {
        let (authority, opened) = (authority.clone(), opened.clone());
        held.push(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let address = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
            let mut socket = tokio::net::TcpStream::connect(&authority).await.expect("a connection to B");
            let request = format!(
                "GET /api/v1/conversations/{id}/events HTTP/1.1\r\nHost: {authority}\r\n\
                 Authorization: Bearer {token}\r\nX-Forwarded-For: {address}\r\nAccept: text/event-stream\r\n\r\n"
            );
            socket.write_all(request.as_bytes()).await.expect("the request is sent");
            let mut lines = BufReader::new(socket).lines();
            let status = lines.next_line().await.ok().flatten().unwrap_or_default();
            assert!(status.contains(" 200 "), "an idle stream was refused: {status}");
            let _ = opened.send(());
            while let Ok(Some(_)) = lines.next_line().await {}
        }));
    }
    for _ in 0..count {
        ready.recv().await.expect("every stream opens");
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // each stream's first read
    let with_streams = rss_mib(pid);
    println!(
        "instance B: RSS {before:.0} MiB, {after_conversations:.0} MiB after {count} conversations, \
         {with_streams:.0} MiB with their {count} streams open"
    );
    let redis = redis::Client::open(redis).expect("a Redis address");
    let mut connection = redis.get_multiplexed_async_connection().await.expect("Redis answers");
    let quiet = Duration::from_secs(quiet_seconds as u64);
    let start = redis_commands(&mut connection).await;
    tokio::time::sleep(quiet).await;
    let commands = redis_commands(&mut connection).await - start;
    println!(
        "{count} idle streams over {} s: {commands} Redis commands in all (this probe's own included), \
         {:.2} per stream per minute",
        quiet.as_secs(),
        commands as f64 / count as f64 / (quiet.as_secs_f64() / 60.0)
    );
    held
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn redis_commands(connection: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query_async(connection).await.expect("INFO answers");
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
