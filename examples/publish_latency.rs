//! How long published content takes to reach another instance, and what a `try` costs once
//! the draft is built. Starts two server processes sharing Redis and a cache folder: A reads
//! a draft (a copy of the shipped content with one answer reworded), B the shipped folders.
//! Times: the first `try` on A (the draft is built), further tries (the draft engine kept),
//! the publish on A, then from the publish's response until B answers with the new text; and
//! the same for a restore of version 1. Traffic stays on 127.0.0.1; every loop is bounded.
//!
//!     cargo build --release && cargo run --release --example publish_latency
//!
//! `HA_BINARY` names another build of the server to run (default: target/release).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TOKEN: &str = "latency-editor-token";
const QUESTION: &str = "how do I report a pothole";

async fn start(redis: &str, prefix: &str, content: &Path) -> (Child, String) {
    let binary = std::env::var("HA_BINARY")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/herts-assistant").into());
    let mut child = Command::new(binary)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HA_LISTEN", "127.0.0.1:0")
        .env("HA_REDIS_URL", redis)
        .env("HA_REDIS_PREFIX", prefix)
        .env("HA_INTENTS_DIR", content.join("intents"))
        .env("HA_KNOWLEDGE_DIR", content.join("knowledge-base"))
        .env("HA_AGENTS", format!("Bench:editor+approver:{}", herts_assistant::handoff::hash_token(TOKEN)))
        // One person publishes directly here: the figure is the publish, not the review.
        .env("HA_REVIEW_REQUIRED", "0")
        .env("HA_LOG", "warn")
        // One client polls with a new conversation every 20 ms.
        .env("HA_CONVERSATIONS_PER_MINUTE", "100000")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("build the release binary first: cargo build --release");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().expect("a listening line");
    (child, line.trim_start_matches("listening on ").to_string())
}

/// The text of the assistant's first reply to `QUESTION`, in a new conversation.
async fn answer(client: &reqwest::Client, base: &str) -> String {
    let created: Value =
        client.post(format!("{base}/api/v1/conversations")).send().await.unwrap().json().await.unwrap();
    let reply: Value = client
        .post(format!("{base}/api/v1/conversations/{}/messages", created["id"].as_str().unwrap()))
        .bearer_auth(created["token"].as_str().unwrap())
        .json(&json!({ "text": QUESTION }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["messages"][1]["text"].as_str().unwrap_or_default().to_string()
}

/// Milliseconds from now until `base`'s answer contains `marker` (or no longer does, when
/// `present` is false); at most 60 s.
async fn until_served(client: &reqwest::Client, base: &str, marker: &str, present: bool) -> Option<u128> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if answer(client, base).await.contains(marker) == present {
            return Some(started.elapsed().as_millis());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A copy of the shipped content, for A to start from.
fn draft_copy(root: &Path) -> (PathBuf, herts_assistant::content::ContentFiles) {
    let draft = std::env::temp_dir().join(format!("ha-publish-latency-{}", std::process::id()));
    let files =
        herts_assistant::content::ContentFiles::read(&root.join("intents"), &root.join("knowledge-base"))
            .unwrap();
    files.write(&draft).unwrap();
    (draft, files)
}

/// An editor's change in the draft folder: one article's answer reworded. Returns the words added.
fn reword(draft: &Path, files: &herts_assistant::content::ContentFiles) -> String {
    let marker = format!("(Reworded {}.)", std::process::id());
    let mut changed = files.clone();
    let article = changed.articles.get_mut("report-pothole.md").expect("report-pothole.md is shipped");
    let body = article.rfind("+++\n").expect("front matter") + "+++\n".len();
    article.insert_str(body, &format!("{marker} "));
    changed.write(draft).unwrap();
    marker
}

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let redis = std::env::var("HA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("publish-latency:{}:", std::process::id());
    let (draft, shipped) = draft_copy(root);
    let (_a, a) = start(&redis, &prefix, &draft).await;
    let (_b, b) = start(&redis, &prefix, root).await;
    let marker = reword(&draft, &shipped);
    let client = reqwest::Client::new();
    let original = answer(&client, &b).await;
    assert!(!original.contains(&marker));

    let try_once = || async {
        let started = Instant::now();
        let response = client
            .post(format!("{a}/api/v1/editor/try"))
            .bearer_auth(TOKEN)
            .json(&json!({ "text": QUESTION }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        started.elapsed()
    };
    let first = try_once().await;
    let mut kept = Vec::new();
    for _ in 0..50 {
        kept.push(try_once().await);
    }
    kept.sort();
    println!("try, draft built:      {:>8.1} ms", first.as_secs_f64() * 1000.0);
    println!(
        "try, draft kept:       p50 {:.1} ms, max {:.1} ms (50 tries)",
        kept[25].as_secs_f64() * 1000.0,
        kept[49].as_secs_f64() * 1000.0
    );

    let started = Instant::now();
    let published =
        client.post(format!("{a}/api/v1/editor/publish")).bearer_auth(TOKEN).send().await.unwrap();
    assert!(published.status().is_success(), "{}", published.text().await.unwrap());
    println!("publish on A:          {:>8.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    match until_served(&client, &b, &marker, true).await {
        Some(ms) => println!("then B serves it after {ms:>5} ms"),
        None => println!("B did not serve it within 60 s"),
    }

    let started = Instant::now();
    let restored =
        client.post(format!("{b}/api/v1/editor/versions/1/restore")).bearer_auth(TOKEN).send().await.unwrap();
    assert!(restored.status().is_success(), "{}", restored.text().await.unwrap());
    println!("restore of 1 on B:     {:>8.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    match until_served(&client, &a, &marker, false).await {
        Some(ms) => println!("then A serves it after {ms:>5} ms"),
        None => println!("A did not serve it within 60 s"),
    }
    std::fs::remove_dir_all(&draft).ok();
}
