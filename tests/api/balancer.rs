//! Two instances behind nginx (Debian's package) with round robin and no stickiness, using the
//! operators' config in deploy/nginx/ with only the addresses changed: a resident's messages
//! land on both instances, event streams stay open through the proxy, an agent chats live,
//! and one instance is killed mid-conversation with no message lost and no error seen.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{AGENT_TOKEN, TestApp, is_message_with, next_matching, subscribe, unique_prefix};
use crate::processes::{Instance, post, start_conversation, start_instance};

/// nginx in a folder of its own, killed when dropped.
struct Nginx {
    app: TestApp,
    dir: std::path::PathBuf,
    child: Child,
}

impl Nginx {
    async fn start(upstreams: [&str; 2]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("ha-nginx-{}", unique_prefix().replace(':', "")));
        std::fs::create_dir_all(dir.join("temp")).unwrap();
        let shipped = include_str!("../../deploy/nginx/herts-assistant.conf");
        let site = shipped
            .replace("server 127.0.0.1:8081", &format!("server {}", upstreams[0]))
            .replace("server 127.0.0.1:8082", &format!("server {}", upstreams[1]))
            .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
        assert_ne!(site, shipped, "the shipped config names the addresses the test replaces");
        std::fs::write(dir.join("herts-assistant.conf"), site).unwrap();
        let d = dir.display();
        let main = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\ndaemon off;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/temp/body;\n  \
             proxy_temp_path {d}/temp/proxy;\n  fastcgi_temp_path {d}/temp/fastcgi;\n  \
             uwsgi_temp_path {d}/temp/uwsgi;\n  scgi_temp_path {d}/temp/scgi;\n  \
             include {d}/herts-assistant.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        // Workers may run as another user: they need to write their temporary files.
        let _ = std::process::Command::new("chmod").args(["-R", "a+rwx"]).arg(dir.join("temp")).status();
        let nginx =
            if std::path::Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx" } else { "nginx" };
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx is installed (scripts/setup-test-env installs it)");
        let app = TestApp { address: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() };
        for _ in 0..100 {
            if app.client.get(app.url("/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
                return Self { app, dir, child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "nginx did not answer: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM to the master stops its workers too (a KILL would leave them running).
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            for _ in 0..50 {
                if !std::path::Path::new(&format!("/proc/{pid}")).exists()
                    || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// How many resident messages this instance answered (from its own /metrics).
async fn messages_answered(instance: &Instance) -> u64 {
    let metrics =
        instance.app.client.get(instance.app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    metrics
        .lines()
        .filter(|l| l.starts_with("herts_assistant_http_request_seconds_count{"))
        .filter(|l| {
            l.contains("route=\"/api/v1/conversations/{id}/messages\"") && l.contains("status=\"200\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn address(instance: &Instance) -> &str {
    instance.app.address.trim_start_matches("http://")
}

#[tokio::test]
async fn two_instances_behind_nginx_serve_one_conversation_and_survive_losing_one() {
    let redis = crate::helpers::redis_url();
    let prefix = unique_prefix();
    let mut one = start_instance(&redis, &prefix).await;
    let two = start_instance(&redis, &prefix).await;
    let nginx = Nginx::start([address(&one), address(&two)]).await;
    let lb = &nginx.app;

    // A resident's messages go round robin: both instances answer some of them.
    let (id, token) = start_conversation(lb).await;
    for n in 0..6 {
        assert_eq!(post(lb, &id, &token, &format!("how do I report a pothole ({n})")).await.status(), 200);
    }
    let (on_one, on_two) = (messages_answered(&one).await, messages_answered(&two).await);
    assert!(on_one > 0 && on_two > 0, "round robin: {on_one} and {on_two}");
    assert_eq!(on_one + on_two, 6);

    // The resident asks for a person; an agent, also through nginx, claims and chats live.
    assert_eq!(post(lb, &id, &token, "I'd like to talk to an adviser").await.status(), 200);
    let path = format!("/api/v1/agent/conversations/{id}");
    assert_eq!(
        lb.agent(Method::POST, &format!("{path}/claim"), AGENT_TOKEN).send().await.unwrap().status(),
        200
    );
    let mut at_agent = subscribe(lb.agent(Method::GET, &format!("{path}/events?after=0"), AGENT_TOKEN)).await;
    let mut at_resident = subscribe(
        lb.client.get(lb.url(&format!("/api/v1/conversations/{id}/events?after=0"))).bearer_auth(&token),
    )
    .await;
    assert_eq!(post(lb, &id, &token, "first from the resident").await.status(), 200);
    next_matching(&mut at_agent, "the resident's message through nginx", is_message_with("first from the"))
        .await;
    let reply = lb
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&json!({"text": "first from Alex"}));
    assert_eq!(reply.send().await.unwrap().status(), 200);
    let seen = next_matching(
        &mut at_resident,
        "the agent's message through nginx",
        is_message_with("first from Alex"),
    )
    .await;

    // One instance stops mid-conversation. nginx sends what follows to the other; the
    // resident sees no error at all.
    one.kill().await;
    for n in 0..4 {
        let text = format!("second from the resident ({n})");
        assert_eq!(post(lb, &id, &token, &text).await.status(), 200, "{text} after an instance stopped");
    }
    let reply = lb
        .agent(Method::POST, &format!("{path}/messages"), AGENT_TOKEN)
        .json(&json!({"text": "second from Alex"}));
    assert_eq!(reply.send().await.unwrap().status(), 200);

    // A stream that was on the stopped instance ends; reopened after the last event seen, as
    // the widget's EventSource does, it resumes on the other with nothing missed.
    let after = seen.id.expect("messages carry ids");
    let mut resumed = subscribe(
        lb.client
            .get(lb.url(&format!("/api/v1/conversations/{id}/events?after={after}")))
            .bearer_auth(&token),
    )
    .await;
    next_matching(
        &mut resumed,
        "a resumed stream's missed resident message",
        is_message_with("second from the resident (0)"),
    )
    .await;
    next_matching(&mut resumed, "the agent's message after the stop", is_message_with("second from Alex"))
        .await;

    // Nothing acknowledged was lost, and the order held.
    let transcript: serde_json::Value =
        lb.agent(Method::GET, &path, AGENT_TOKEN).send().await.unwrap().json().await.unwrap();
    let texts: Vec<&str> =
        transcript["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    let order = [
        "first from the resident",
        "first from Alex",
        "second from the resident (0)",
        "second from the resident (3)",
        "second from Alex",
    ];
    let positions: Vec<usize> = order.iter().map(|t| texts.iter().position(|x| x == t).expect(t)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{texts:?}");
    for n in 0..4 {
        let text = format!("second from the resident ({n})");
        assert_eq!(texts.iter().filter(|t| **t == text).count(), 1, "{text} once: {texts:?}");
    }
}
