//! The service on a real Redis Cluster (3 masters, 3 replicas, started by scripts/redis-cluster
//! on ports of its own): a master is killed mid-conversation, its replica takes over, and no
//! message the resident was told was sent is lost; then the node the event listener uses dies
//! too, and an open stream still delivers.

use std::process::Command;
use std::time::{Duration, Instant};

use herts_assistant::http::wire::Transcript;
use herts_assistant::store::Role;

use crate::helpers::{StoreKind, TestApp, is_message_with, next_matching, spawn_app_with, subscribe};

/// A cluster in a folder of its own, stopped when the test ends, however it ends.
struct Cluster {
    dir: std::path::PathBuf,
    base: u16,
    seeds: String,
}

impl Cluster {
    fn start() -> Self {
        // Ports base..base+5 and their bus ports base+10000..: a range no other test uses.
        let base = 21_000 + (rand::random::<u16>() % 1_500) * 6;
        let dir = std::env::temp_dir().join(format!("ha-cluster-{base}-{}", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster");
        let output = Command::new(script)
            .args(["start", dir.to_str().unwrap(), &base.to_string()])
            .output()
            .expect("scripts/redis-cluster runs (redis-server and redis-cli installed)");
        assert!(output.status.success(), "the cluster starts: {}", String::from_utf8_lossy(&output.stderr));
        let seeds = String::from_utf8(output.stdout).unwrap().trim().to_string();
        Self { dir, base, seeds }
    }

    fn node(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap().get_connection().unwrap()
    }

    /// A node that answers: any may have been killed.
    fn any_node(&self) -> redis::Connection {
        (self.base..self.base + 6)
            .find_map(|port| {
                redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?.get_connection().ok()
            })
            .expect("a node answers")
    }

    /// The port of the master serving `key`, as the nodes that are up see it.
    fn master_of(&self, key: &str) -> u16 {
        let mut node = self.any_node();
        let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(&mut node).unwrap();
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut node).unwrap();
        nodes
            .lines()
            .filter(|line| line.contains("master") && !line.contains("fail"))
            .find(|line| {
                line.split(' ').skip(8).any(|range| {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    matches!((low.parse::<u16>(), high.parse::<u16>()), (Ok(l), Ok(h)) if (l..=h).contains(&slot))
                })
            })
            .and_then(|line| line.split(' ').nth(1)?.split('@').next()?.rsplit(':').next()?.parse().ok())
            .expect("a master serves every slot")
    }

    fn kill(&self, port: u16) {
        let info: String = redis::cmd("INFO").arg("server").query(&mut self.node(port)).unwrap();
        let pid = info.lines().find_map(|l| l.strip_prefix("process_id:")).unwrap().trim().to_string();
        assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster");
        let _ = Command::new(script).args(["stop", self.dir.to_str().unwrap()]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Posts until the service acknowledges, as the widget does after a failed send; returns how
/// many attempts failed first.
async fn send_until_acknowledged(
    app: &TestApp,
    conversation: &crate::helpers::Conversation,
    text: &str,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut failures = 0;
    loop {
        let body = serde_json::json!({ "text": text }).to_string();
        let response = app.post_raw(conversation, body).await;
        match response.status().as_u16() {
            200 => return failures,
            // Redis unavailable while the replica takes over: a JSON error, then a retry.
            503 => {
                let error: serde_json::Value = response.json().await.expect("a JSON error");
                assert_eq!(error["error"]["code"], "store_unavailable", "{error}");
            }
            other => panic!("posting {text:?}: {other}"),
        }
        failures += 1;
        assert!(Instant::now() < deadline, "the service did not recover within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_master_killed_mid_conversation_loses_no_acknowledged_message() {
    let cluster = Cluster::start();
    let seeds = cluster.seeds.clone();
    let app = spawn_app_with(StoreKind::Redis, |settings| {
        settings.redis_url = Some(seeds);
        settings.redis_wait_replicas = 1;
    })
    .await;
    let started = Instant::now();
    let conversation = app.start().await;
    eprintln!("cluster: first conversation after {:?}", started.elapsed());
    let mut sent = Vec::new();
    for n in 0..10 {
        let text = format!("question {n}: when is my bin collected");
        assert_eq!(send_until_acknowledged(&app, &conversation, &text).await, 0, "before the failure");
        sent.push(text);
    }

    let master = cluster.master_of(&format!("{{{}}}", conversation.id));
    cluster.kill(master);
    let killed_at = Instant::now();
    let mut failures = 0;
    let mut first_acknowledged = None;
    for n in 10..20 {
        let text = format!("question {n}: how do I renew a library book");
        failures += send_until_acknowledged(&app, &conversation, &text).await;
        first_acknowledged.get_or_insert(killed_at.elapsed());
        sent.push(text);
    }
    let recovered_in = killed_at.elapsed();
    let first_acknowledged = first_acknowledged.unwrap();
    eprintln!(
        "cluster failover: {failures} failed attempts; first acknowledged {first_acknowledged:?}, all 10 {recovered_in:?} after the kill"
    );
    // The replica is promoted within about 2 s (node timeout 1 s, then the election); the
    // service must answer again within 10 s of that by itself.
    assert!(first_acknowledged < Duration::from_secs(12), "back after {first_acknowledged:?}");
    assert_ne!(cluster.master_of(&format!("{{{}}}", conversation.id)), master, "a replica took over");

    let transcript: Transcript = app.transcript(&conversation).await.json().await.unwrap();
    let residents: Vec<&str> =
        transcript.messages.iter().filter(|m| m.role == Role::Resident).map(|m| m.text.as_str()).collect();
    // Each acknowledged message once and in order; a send that failed and was retried may
    // have been written before the failure, so a repeat right after it is allowed.
    let mut deduplicated = residents.clone();
    deduplicated.dedup();
    assert_eq!(deduplicated, sent, "failed attempts: {failures}, recovered in {recovered_in:?}");

    // Events: the listener subscribes on the first seed node that answers. A stream opened
    // now keeps delivering when that node dies as well: the listener subscribes on the next
    // seed and rings every bell, and the cluster delivers a publish to every node.
    let last: u64 = transcript.messages.last().unwrap().id.parse().unwrap();
    let mut stream = subscribe(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{}/events?after={last}", conversation.id)))
            .bearer_auth(&conversation.token),
    )
    .await;
    if master != cluster.base {
        cluster.kill(cluster.base);
    }
    let text = "question 20: is the tip open on Sunday";
    send_until_acknowledged(&app, &conversation, text).await;
    next_matching(
        &mut stream,
        "a message on a stream opened before its listener's node died",
        is_message_with(text),
    )
    .await;
}
