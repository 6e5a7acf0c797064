//! Load on the resident API, and the engine alone on the same questions, so one run gives what
//! serving costs beyond matching. Starts the release binary (one HTTP worker unless told) with
//! the memory store, Redis (`HA_REDIS_URL`, default the local one) or a Redis Cluster of 3
//! masters and 3 replicas that it starts itself (scripts/redis-cluster, ports 7200-7205), opens conversations, and posts a mix of short questions from many
//! connections: as fast as they are answered, or at a fixed total rate (open loop: a late
//! answer does not delay the next question). Each simulated resident comes from its own
//! address, through the proxy header the service is told to trust, as behind a load balancer.
//! Reports messages per second and latency percentiles, then the engine's own rate on one
//! thread and the ratio of the two. Traffic stays on 127.0.0.1.
//!
//!     cargo build --release && cargo run --release --example load -- --store redis --seconds 10
//!     cargo run --release --example load -- --store cluster --wait-replicas 1
//!     cargo run --release --example load -- --rate 1000 --url http://127.0.0.1:8080

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use herts_assistant::config::Settings;
use herts_assistant::engine::{Context, ConversationState};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

// The server's allocator, so the engine alone is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Short questions the fast models answer alone: the figure measures serving, not matching.
const MIX: [&str; 8] = [
    "report a pothole",
    "library opening times",
    "apply for a blue badge",
    "school term dates",
    "register a death",
    "recycling centre opening hours",
    "apply for a school place",
    "bus pass for older people",
];

#[derive(Clone, Copy, Debug, ValueEnum)]
enum StoreKind {
    Memory,
    Redis,
    Cluster,
}

#[derive(Parser, Debug)]
struct Args {
    /// The store the started server uses (ignored with --url).
    #[arg(long, value_enum, default_value = "memory")]
    store: StoreKind,
    /// A server already running (with limits raised and the proxy header trusted), instead of
    /// starting one.
    #[arg(long)]
    url: Option<String>,
    /// HTTP worker threads of the started server.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[arg(long, default_value_t = 200)]
    conversations: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Messages per second in total; unset means as fast as they are answered.
    #[arg(long)]
    rate: Option<f64>,
    /// Replicas each conversation write waits for (`HA_REDIS_WAIT_REPLICAS`).
    #[arg(long, default_value_t = 0)]
    wait_replicas: u32,
    /// Skip measuring the engine alone.
    #[arg(long)]
    no_engine: bool,
}

const PROXY_HEADER: &str = "x-forwarded-for";

/// A Redis Cluster started for the run, stopped when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    seeds: String,
}

const CLUSTER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster");

impl Cluster {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("load-cluster-{}", std::process::id()));
        let output = std::process::Command::new(CLUSTER_SCRIPT)
            .args(["start", dir.to_str().expect("a UTF-8 temp dir"), "7200"])
            .output()
            .expect("scripts/redis-cluster runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        Self { dir, seeds: String::from_utf8_lossy(&output.stdout).trim().to_string() }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(CLUSTER_SCRIPT)
            .args(["stop", self.dir.to_str().unwrap_or("")])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the release binary on a free port with the client limits out of the way.
async fn start(args: &Args, cluster: Option<&Cluster>) -> (Child, String) {
    let limits = std::env::temp_dir().join(format!("load-{}.toml", std::process::id()));
    std::fs::write(
        &limits,
        "rate_limit = 100000000\n[client_limits]\nconversations_per_minute = 100000000\nmessages_per_minute = 100000000\n",
    )
    .expect("write the limits file");
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/herts-assistant");
    let mut command = Command::new(binary);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HA_CONFIG", &limits)
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_WORKERS", args.workers.to_string())
        .env("HA_TRUSTED_PROXY_HEADER", PROXY_HEADER)
        .env("HA_LOG", "warn")
        .env_remove("HA_REDIS_URL")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    let redis = match args.store {
        StoreKind::Memory => None,
        StoreKind::Redis => {
            Some(std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
        }
        StoreKind::Cluster => cluster.map(|c| c.seeds.clone()),
    };
    if let Some(redis) = redis {
        command
            .env("HA_REDIS_URL", redis)
            .env("HA_REDIS_PREFIX", format!("load:{}:", std::process::id()))
            .env("HA_REDIS_WAIT_REPLICAS", args.wait_replicas.to_string());
    }
    let mut child = command.spawn().expect("build the release binary first: cargo build --release");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next_line().await.expect("read stdout").expect("a listening line");
    (child, line.trim_start_matches("listening on ").to_string())
}

struct Resident {
    id: String,
    token: String,
    address: String,
}

async fn open(client: &reqwest::Client, base: &str, n: usize) -> Resident {
    let address = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
    let created: Value = client
        .post(format!("{base}/api/v1/conversations"))
        .header(PROXY_HEADER, &address)
        .json(&json!({}))
        .send()
        .await
        .expect("the service answers")
        .json()
        .await
        .expect("a conversation");
    let field = |k: &str| created[k].as_str().unwrap_or_else(|| panic!("no {k} in {created}")).to_string();
    Resident { id: field("id"), token: field("token"), address }
}

/// Commands processed, bytes read and bytes written, summed over these Redis nodes.
fn redis_stats(nodes: &[String]) -> [u64; 3] {
    let mut totals = [0; 3];
    for node in nodes {
        let Ok(mut connection) = redis::Client::open(node.as_str()).and_then(|c| c.get_connection()) else {
            continue;
        };
        let info: String = redis::cmd("INFO").arg("stats").query(&mut connection).unwrap_or_default();
        for (i, field) in ["total_commands_processed:", "total_net_input_bytes:", "total_net_output_bytes:"]
            .iter()
            .enumerate()
        {
            totals[i] += info
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    totals
}

/// The p-th percentile (0..=1) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The engine alone, on one thread, on the same mix: replies per second. Each conversation
/// keeps the state its last reply left, as it does when served: a remembered topic makes the
/// engine ask whether a message follows up on it, which is work a fresh conversation skips.
/// Each message is also redacted, as the service does before storing it: engine work too.
fn engine_rate(seconds: u64, conversations: usize, connections: usize) -> f64 {
    let settings = Settings::load().expect("settings");
    let engine = herts_assistant::engine_build::build_engine(&settings).expect("the content builds");
    let (conversations, connections) = (conversations.max(1), connections.max(1));
    let context = Context::default();
    let mut states = vec![ConversationState::default(); conversations];
    let started = Instant::now();
    let mut replies = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) {
        // The served run's order: connection c's k-th message.
        let (k, c) = (replies / connections, replies % connections);
        let state = &mut states[(k * 31 + c) % conversations];
        let text = MIX[(k + c) % MIX.len()];
        std::hint::black_box(engine.redact(text));
        let turn = engine.reply(state, text, &context);
        *state = std::hint::black_box(turn).state;
        replies += 1;
    }
    replies as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (_cluster, _server, base) = match &args.url {
        Some(url) => (None, None, url.trim_end_matches('/').to_string()),
        None => {
            let cluster = matches!(args.store, StoreKind::Cluster).then(Cluster::start);
            let (child, base) = start(&args, cluster.as_ref()).await;
            (cluster, Some(child), base)
        }
    };
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.connections).build().expect("a client");
    let mut residents = Vec::with_capacity(args.conversations);
    for n in 0..args.conversations {
        residents.push(open(&client, &base, n).await);
    }
    let residents = Arc::new(residents);
    let redis_nodes: Vec<String> = match args.store {
        _ if args.url.is_some() => Vec::new(),
        StoreKind::Memory => Vec::new(),
        StoreKind::Redis => {
            vec![std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())]
        }
        StoreKind::Cluster => {
            _cluster.as_ref().map_or(Vec::new(), |c| c.seeds.split(',').map(str::to_string).collect())
        }
    };
    let redis_before = redis_stats(&redis_nodes);
    let posted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let warm_until = Instant::now() + Duration::from_secs(1);
    let until = warm_until + Duration::from_secs(args.seconds);
    // Open loop at a fixed rate: connection c sends its k-th message at c/rate + k*connections/rate.
    let interval = args.rate.map(|rate| Duration::from_secs_f64(args.connections as f64 / rate));
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let (client, base, residents, posted) =
            (client.clone(), base.clone(), residents.clone(), posted.clone());
        let offset = args.rate.map(|rate| Duration::from_secs_f64(c as f64 / rate)).unwrap_or_default();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut failures) = (Vec::new(), 0u64);
            let first = Instant::now() + offset;
            for k in 0u64.. {
                let due = interval.map_or_else(Instant::now, |i| first + i * k as u32);
                if due >= until {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let resident = &residents[(k as usize * 31 + c) % residents.len()];
                let text = MIX[(k as usize + c) % MIX.len()];
                let sent = client
                    .post(format!("{base}/api/v1/conversations/{}/messages", resident.id))
                    .bearer_auth(&resident.token)
                    .header(PROXY_HEADER, &resident.address)
                    .json(&json!({ "text": text }))
                    .send()
                    .await;
                let ok = matches!(&sent, Ok(response) if response.status().is_success());
                posted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Ok(response) = sent {
                    let _ = response.bytes().await;
                }
                // Latency from when the message was due, so a slow server cannot hide a queue.
                if due >= warm_until {
                    if ok { latencies.push(due.elapsed()) } else { failures += 1 }
                }
            }
            (latencies, failures)
        }));
    }
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for task in tasks {
        let (l, f) = task.await.expect("a connection's task");
        latencies.extend(l);
        failures += f;
    }
    latencies.sort_unstable();
    let served = latencies.len() as f64 / args.seconds as f64;
    println!(
        "served: {} store, {} worker(s), {} conversations, {} connections, {}",
        args.url.as_ref().map_or(format!("{:?}", args.store).to_lowercase(), |_| "given".into()),
        args.workers,
        args.conversations,
        args.connections,
        args.rate.map_or("as fast as answered".into(), |r| format!("{r} msg/s offered")),
    );
    println!(
        "  {served:.0} msg/s over {} s; p50 {}, p99 {}, p999 {}, max {}; {failures} failed",
        args.seconds,
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 0.999)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    if !redis_nodes.is_empty() {
        let after = redis_stats(&redis_nodes);
        let posted = posted.load(std::sync::atomic::Ordering::Relaxed).max(1) as f64;
        let per = |i: usize| (after[i] - redis_before[i]) as f64 / posted;
        println!(
            "  Redis per message posted (masters named in HA_REDIS_URL; each command a script runs counts; the instance's background work included): {:.2} commands, {:.0} bytes in, {:.0} bytes out",
            per(0),
            per(1),
            per(2)
        );
    }
    if !args.no_engine {
        let engine = engine_rate(args.seconds.min(5), args.conversations, args.connections);
        println!(
            "engine alone, one thread, same mix: {engine:.0} replies/s; served / engine = {:.2}",
            served / engine
        );
    }
}
