//! Settings: defaults <- optional TOML file (`HA_CONFIG`) <- environment (`HA_*`).
//! Every field is listed, with its variable, in README.md.
//!
//! Over 400 lines: each setting, its default, its variable and its check are read together
//! (the struct, `Default`, the `environment!` table, `validate`), and a fifth of the file is
//! tests.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

pub use crate::handoff::AgentConfig;
use crate::handoff::Handoff;
use crate::handoff::hours::{Team, default_bank_holidays, default_teams};
use crate::store::Retention;

#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `HA_LISTEN`: host:port to serve on; port 0 picks a free port.
    pub listen: String,
    /// `HA_REDIS_URL`: set means conversations live in Redis; unset means in memory.
    pub redis_url: Option<String>,
    /// `HA_REDIS_PREFIX`: prefix of every Redis key, so services (and tests) can share a Redis.
    pub redis_prefix: String,
    /// `HA_REDIS_CLUSTER`: `HA_REDIS_URL` names a Redis Cluster's seed node (a comma-separated
    /// list of seed nodes means a cluster without it).
    pub redis_cluster: bool,
    /// `HA_REDIS_WAIT_REPLICAS`: replicas that must hold a conversation's write before it is
    /// acknowledged (WAIT, up to 250 ms); 1 with a replica per master loses no acknowledged
    /// message when a master fails.
    pub redis_wait_replicas: u32,
    /// `HA_INTENTS_DIR`, `HA_KNOWLEDGE_DIR`: the content folders.
    pub intents_dir: PathBuf,
    pub knowledge_dir: PathBuf,
    /// `HA_RETENTION_DAYS`: how long a conversation is kept after its last message.
    pub retention_days: u64,
    /// `HA_OFFLINE_RETENTION_DAYS`: how long a message left for a closed team (a name, a
    /// contact and a question) is kept if nobody handles it; handled ones go at once.
    pub offline_retention_days: u64,
    /// `HA_INSIGHT_RETENTION_DAYS`: how long an unanswered question (redacted) stays in the
    /// editors' list.
    pub insight_retention_days: u64,
    /// `HA_MAX_TEXT_CHARS`: the longest message a resident may send.
    pub max_text_chars: usize,
    /// `HA_MAX_BODY_BYTES`: the largest request body read; larger gets 413.
    pub max_body_bytes: usize,
    /// `HA_RATE_LIMIT`: messages one conversation may send per minute, per instance; more
    /// get 429 with Retry-After.
    pub rate_limit: u32,
    /// `HA_THRESHOLD`: confidence below which the assistant declines. Unset: chosen by
    /// cross-validation over the content's own phrasings (cached per content version).
    pub threshold: Option<f32>,
    /// `HA_CACHE_DIR`: where work derived from the content is kept between starts (the
    /// chosen threshold, phrase embeddings), keyed by a hash of what it was derived from.
    pub cache_dir: PathBuf,
    /// `HA_ENCODER_DIR`: the sentence encoder's folder (`model.safetensors`, `vocab.txt`,
    /// `config.json`); empty runs without it, on the fast models alone.
    pub encoder_dir: Option<PathBuf>,
    /// `HA_WORKERS`: HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// `HA_LOG`: log filter, e.g. `info` or `herts_assistant=debug`.
    pub log: String,
    /// `HA_AGENTS`: agents and editors, `name:role+role:sha256-of-token;...`; in the file,
    /// `[[agents]]` tables. Tokens are never configured in clear.
    pub agents: Vec<AgentConfig>,
    /// Teams that take handed-off conversations, with opening hours (file only).
    pub teams: Vec<Team>,
    /// England's bank holidays: no team is open (file only; defaults to the published dates).
    pub bank_holidays: Vec<NaiveDate>,
    /// `HA_CLOSURES`: other dates the contact centre is closed, `2026-12-24,2026-12-31`.
    pub closures: Vec<NaiveDate>,
    /// `HA_TEAMS_ALWAYS_OPEN`: ignore opening hours (demos and tests).
    pub teams_always_open: bool,
    /// `HA_REVIEW_REQUIRED`: content is published only by approving a submission (four
    /// eyes); off, an approver may also publish the draft directly (a one-person team).
    pub review_required: bool,
    /// `HA_HANDLING_MINUTES`: average minutes an agent spends on a conversation, for wait estimates.
    pub handling_minutes: u32,
    /// Canned replies offered in the agent console (file only).
    pub canned_replies: Vec<CannedReply>,
    /// `HA_ALLOWED_ORIGINS`: pages on other sites that may embed the widget, comma-separated
    /// (`https://www.hertfordshire.gov.uk`), or `*` for any. Tokens travel in headers, never
    /// cookies, so no origin gains ambient access.
    pub allowed_origins: Vec<String>,
    /// `HA_CONSOLE_ORIGINS`: other origins whose pages may call the agent and editor APIs,
    /// comma-separated; unset, only this service's own pages may.
    pub console_origins: Vec<String>,
    /// `HA_FRAME_ANCESTORS`: who may show the demo page in a frame, as CSP sources separated
    /// by spaces (`'self' https://www.hertfordshire.gov.uk`, or `'none'`). The agent and editor
    /// consoles may never be framed.
    pub frame_ancestors: String,
    /// How often one client (by IP address) may do each thing; file only, except
    /// `HA_CONVERSATIONS_PER_MINUTE`.
    pub client_limits: ClientLimitSettings,
    /// `HA_TRUSTED_PROXY_HEADER`: the header that carries the client's address when a proxy
    /// or load balancer you run sits in front (`X-Forwarded-For`); its last entry is used.
    /// Unset: the connection's address. Never set it without such a proxy: clients could
    /// then choose their own address.
    pub trusted_proxy_header: Option<String>,
    /// `HA_MAX_STREAMS`: event streams one instance holds open at once; more get 503 `busy`.
    pub max_streams: usize,
}

/// Allowances per client address. A council office or library shares one address among many
/// residents, so they are generous; a flood from one address still stops within a second.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientLimitSettings {
    pub conversations_per_minute: u32,
    pub messages_per_minute: u32,
    pub offline_messages_per_hour: u32,
    pub typing_per_minute: u32,
    pub feedback_per_minute: u32,
    pub streams_per_minute: u32,
}

impl Default for ClientLimitSettings {
    fn default() -> Self {
        Self {
            conversations_per_minute: 30,
            messages_per_minute: 240,
            offline_messages_per_hour: 20,
            typing_per_minute: 600,
            feedback_per_minute: 120,
            streams_per_minute: 120,
        }
    }
}

/// Written out by hand so that the Redis URL's password never reaches a log.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("redis_url", &self.redis_url.as_deref().map(without_password))
            .field("redis_prefix", &self.redis_prefix)
            .field("redis_cluster", &self.redis_cluster)
            .field("redis_wait_replicas", &self.redis_wait_replicas)
            .field("intents_dir", &self.intents_dir)
            .field("knowledge_dir", &self.knowledge_dir)
            .field("retention_days", &self.retention_days)
            .field("offline_retention_days", &self.offline_retention_days)
            .field("insight_retention_days", &self.insight_retention_days)
            .field("max_text_chars", &self.max_text_chars)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("threshold", &self.threshold)
            .field("cache_dir", &self.cache_dir)
            .field("encoder_dir", &self.encoder_dir)
            .field("workers", &self.workers)
            .field("log", &self.log)
            .field("agents", &self.agents.iter().map(|a| (&a.name, &a.roles)).collect::<Vec<_>>())
            .field("teams", &self.teams.len())
            .field("bank_holidays", &self.bank_holidays.len())
            .field("closures", &self.closures)
            .field("teams_always_open", &self.teams_always_open)
            .field("review_required", &self.review_required)
            .field("handling_minutes", &self.handling_minutes)
            .field("canned_replies", &self.canned_replies.len())
            .field("allowed_origins", &self.allowed_origins)
            .field("console_origins", &self.console_origins)
            .field("frame_ancestors", &self.frame_ancestors)
            .field("client_limits", &self.client_limits)
            .field("trusted_proxy_header", &self.trusted_proxy_header)
            .field("max_streams", &self.max_streams)
            .finish()
    }
}

/// `redis://user:secret@host` as `redis://user:***@host`.
fn without_password(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user_info, host)) => {
                let user = user_info.split_once(':').map_or("", |(user, _)| user);
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_string(),
        },
        None => "***".to_string(),
    }
}

/// CSP sources only: a `;` or `,` would add directives or a second policy to the header.
fn valid_frame_ancestors(value: &str) -> bool {
    !value.trim().is_empty()
        && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !value.contains([';', ','])
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReply {
    pub label: String,
    pub text: String,
}

fn default_canned_replies() -> Vec<CannedReply> {
    let reply = |label: &str, text: &str| CannedReply { label: label.into(), text: text.into() };
    vec![
        reply(
            "Greeting",
            "Hello, thank you for waiting. I've read what you told the assistant. How can I help?",
        ),
        reply("One moment", "Thank you. Please give me a moment while I look into this."),
        reply("Anything else", "Is there anything else I can help you with today?"),
        reply("Goodbye", "Thank you for contacting Hertfordshire County Council. Goodbye."),
    ]
}

/// Parses `name:role+role:sha256;...`.
fn parse_agents(value: &str) -> Option<Vec<AgentConfig>> {
    value
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let mut parts = entry.splitn(3, ':');
            let name = parts.next()?.trim().to_string();
            let roles = parts.next()?.split('+').map(|r| r.trim().to_string()).collect();
            let token_sha256 = parts.next()?.trim().to_lowercase();
            (!name.is_empty()
                && token_sha256.len() == 64
                && token_sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(AgentConfig { name, roles, token_sha256 })
        })
        .collect()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            redis_url: None,
            redis_prefix: "ha:".into(),
            redis_cluster: false,
            redis_wait_replicas: 0,
            intents_dir: "intents".into(),
            knowledge_dir: "knowledge-base".into(),
            retention_days: 30,
            offline_retention_days: 30,
            insight_retention_days: 90,
            max_text_chars: 1000,
            max_body_bytes: 16 * 1024,
            rate_limit: 60,
            threshold: None,
            cache_dir: ".cache".into(),
            encoder_dir: Some("models/all-MiniLM-L6-v2".into()),
            workers: 0,
            log: "info".into(),
            agents: Vec::new(),
            teams: default_teams(),
            bank_holidays: default_bank_holidays(),
            closures: Vec::new(),
            teams_always_open: false,
            review_required: true,
            handling_minutes: 6,
            canned_replies: default_canned_replies(),
            allowed_origins: vec!["*".into()],
            console_origins: Vec::new(),
            frame_ancestors: "'self'".into(),
            client_limits: ClientLimitSettings::default(),
            trusted_proxy_header: None,
            max_streams: 20_000,
        }
    }
}

/// The environment layer: each `HA_*` variable, the field it sets and how its text is read.
/// One line each, so the list is the documentation's checklist too (a test holds README.md to
/// it). Read by hand rather than by clap or figment: clap names the flag, not the variable,
/// when a variable's value is wrong, and figment's environment provider guesses each value's
/// type from its text (a numeric key prefix would become a number).
macro_rules! environment {
    ($($var:literal => $field:ident $(.$inner:ident)* : $read:ident),* $(,)?) => {
        /// Every variable the environment layer reads, besides `HA_CONFIG`.
        pub const VARIABLES: &[&str] = &[$($var),*];

        fn apply_environment(
            settings: &mut Settings,
            var: &impl Fn(&str) -> Option<String>,
        ) -> Result<(), ConfigError> {
            $(if let Some(value) = var($var) {
                settings.$field$(.$inner)* = $read($var, value)?;
            })*
            Ok(())
        }
    };
}

environment! {
    "HA_LISTEN" => listen: text,
    "HA_REDIS_URL" => redis_url: optional_text,
    "HA_REDIS_PREFIX" => redis_prefix: text,
    "HA_REDIS_CLUSTER" => redis_cluster: flag,
    "HA_REDIS_WAIT_REPLICAS" => redis_wait_replicas: number,
    "HA_INTENTS_DIR" => intents_dir: path,
    "HA_KNOWLEDGE_DIR" => knowledge_dir: path,
    "HA_RETENTION_DAYS" => retention_days: number,
    "HA_OFFLINE_RETENTION_DAYS" => offline_retention_days: number,
    "HA_INSIGHT_RETENTION_DAYS" => insight_retention_days: number,
    "HA_MAX_TEXT_CHARS" => max_text_chars: number,
    "HA_MAX_BODY_BYTES" => max_body_bytes: number,
    "HA_RATE_LIMIT" => rate_limit: number,
    "HA_THRESHOLD" => threshold: optional_number,
    "HA_ENCODER_DIR" => encoder_dir: optional_path,
    "HA_CACHE_DIR" => cache_dir: path,
    "HA_WORKERS" => workers: number,
    "HA_LOG" => log: text,
    "HA_AGENTS" => agents: agents,
    "HA_CLOSURES" => closures: dates,
    "HA_TEAMS_ALWAYS_OPEN" => teams_always_open: flag,
    "HA_REVIEW_REQUIRED" => review_required: flag,
    "HA_ALLOWED_ORIGINS" => allowed_origins: list,
    "HA_HANDLING_MINUTES" => handling_minutes: number,
    "HA_CONVERSATIONS_PER_MINUTE" => client_limits.conversations_per_minute: number,
    "HA_TRUSTED_PROXY_HEADER" => trusted_proxy_header: optional_text,
    "HA_MAX_STREAMS" => max_streams: number,
    "HA_CONSOLE_ORIGINS" => console_origins: list,
    "HA_FRAME_ANCESTORS" => frame_ancestors: trimmed,
}

// How a variable's text is read; a value that cannot be read is named with its variable.

fn text(_: &'static str, value: String) -> Result<String, ConfigError> {
    Ok(value)
}

fn trimmed(_: &'static str, value: String) -> Result<String, ConfigError> {
    Ok(value.trim().to_string())
}

/// Empty means unset.
fn optional_text(_: &'static str, value: String) -> Result<Option<String>, ConfigError> {
    Ok((!value.trim().is_empty()).then(|| value.trim().to_string()))
}

fn number<T: std::str::FromStr>(name: &'static str, value: String) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env(name, value))
}

/// Empty means unset.
fn optional_number<T: std::str::FromStr>(
    name: &'static str,
    value: String,
) -> Result<Option<T>, ConfigError> {
    (!value.trim().is_empty()).then(|| number(name, value)).transpose()
}

fn path(_: &'static str, value: String) -> Result<PathBuf, ConfigError> {
    Ok(value.into())
}

/// Empty means none.
fn optional_path(_: &'static str, value: String) -> Result<Option<PathBuf>, ConfigError> {
    Ok((!value.trim().is_empty()).then(|| value.into()))
}

/// `1`, `true`, `yes` or `0`, `false`, `no`; anything else is refused, not taken as "off".
fn flag(name: &'static str, value: String) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Env(name, value)),
    }
}

/// Comma-separated, blanks dropped.
fn list(_: &'static str, value: String) -> Result<Vec<String>, ConfigError> {
    Ok(value.split(',').map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect())
}

/// Comma-separated `YYYY-MM-DD` dates.
fn dates(name: &'static str, value: String) -> Result<Vec<NaiveDate>, ConfigError> {
    value
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| ConfigError::Env(name, value.clone()))
        })
        .collect()
}

fn agents(name: &'static str, value: String) -> Result<Vec<AgentConfig>, ConfigError> {
    parse_agents(&value).ok_or(ConfigError::Env(name, "name:roles:sha256;...".into()))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("invalid value for {0}: {1:?}")]
    Env(&'static str, String),
    /// A setting that parsed but cannot be right, named by its path (`teams[0].hours.mon`).
    #[error("invalid setting {0}: {1}")]
    Invalid(String, String),
}

impl Settings {
    /// Teams, hours, closures and agents, as the handoff decisions take them.
    pub fn handoff(&self) -> Handoff {
        let mut closed = self.bank_holidays.clone();
        closed.extend(self.closures.iter().copied());
        Handoff::new(self.teams.clone(), closed, self.teams_always_open, self.handling_minutes, &self.agents)
    }

    pub fn retention(&self) -> Retention {
        let days = |n: u64| Duration::from_secs(n * 24 * 3600);
        Retention {
            conversations: days(self.retention_days),
            offline_messages: days(self.offline_retention_days),
            insights: days(self.insight_retention_days),
        }
    }

    /// Defaults, then the file named by `HA_CONFIG`, then `HA_*` variables.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut settings = match var("HA_CONFIG") {
            Some(path) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read(path.clone(), e))?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path, e))?
            }
            None => Settings::default(),
        };
        apply_environment(&mut settings, &var)?;
        if !valid_frame_ancestors(&settings.frame_ancestors) {
            return Err(ConfigError::Env("HA_FRAME_ANCESTORS", settings.frame_ancestors));
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what parsing cannot: a mistyped opening-hours span would otherwise mean "closed
    /// forever", a short token hash would let nobody in, a zero limit would refuse everything.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |path: String, why: &str| Err(ConfigError::Invalid(path, why.to_string()));
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut team_ids = std::collections::HashSet::new();
        for (i, team) in self.teams.iter().enumerate() {
            if team.id.trim().is_empty() || !team_ids.insert(team.id.as_str()) {
                return invalid(format!("teams[{i}].id"), "each team needs an id of its own");
            }
            for (day, span) in &team.hours {
                if !DAYS.contains(&day.as_str()) {
                    return invalid(
                        format!("teams[{i}].hours.{day}"),
                        "days are mon, tue, wed, thu, fri, sat, sun",
                    );
                }
                if crate::handoff::hours::parse_span(span).is_none() {
                    return invalid(
                        format!("teams[{i}].hours.{day}"),
                        &format!(
                            "{span:?} is not a span like \"09:00-17:00\" or \"00:00-24:00\" (opening before closing)"
                        ),
                    );
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, agent) in self.agents.iter().enumerate() {
            if agent.name.trim().is_empty() || !names.insert(agent.name.as_str()) {
                return invalid(format!("agents[{i}].name"), "each agent needs a name of their own");
            }
            if agent.token_sha256.len() != 64 || !agent.token_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return invalid(
                    format!("agents[{i}].token_sha256"),
                    "64 hex digits, the SHA-256 from `herts-assistant new-token` or `hash-token`",
                );
            }
            if let Some(role) =
                agent.roles.iter().find(|r| !matches!(r.as_str(), "agent" | "editor" | "approver"))
            {
                return invalid(
                    format!("agents[{i}].roles"),
                    &format!("{role:?}: roles are agent, editor and approver"),
                );
            }
        }
        for (name, value) in [
            ("retention_days", self.retention_days as usize),
            ("offline_retention_days", self.offline_retention_days as usize),
            ("insight_retention_days", self.insight_retention_days as usize),
            ("max_text_chars", self.max_text_chars),
            ("rate_limit", self.rate_limit as usize),
            ("max_streams", self.max_streams),
            ("handling_minutes", self.handling_minutes as usize),
        ] {
            if value == 0 {
                return invalid(name.to_string(), "must be at least 1");
            }
        }
        if self.max_body_bytes < 1024 {
            return invalid("max_body_bytes".into(), "must be at least 1024");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let settings = Settings::from_lookup(|name| match name {
            "HA_LISTEN" => Some("0.0.0.0:9000".into()),
            "HA_REDIS_URL" => Some("redis://127.0.0.1:6379".into()),
            "HA_MAX_TEXT_CHARS" => Some("200".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.listen, "0.0.0.0:9000");
        assert_eq!(settings.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(settings.max_text_chars, 200);
        assert_eq!(settings.retention_days, 30);
    }

    #[test]
    fn agents_from_the_environment() {
        let hash = "a".repeat(64);
        let settings = Settings::from_lookup(|n| {
            (n == "HA_AGENTS").then(|| format!("Alex:agent:{hash}; Sam:agent+editor:{hash}"))
        })
        .unwrap();
        assert_eq!(settings.agents.len(), 2);
        assert_eq!(settings.agents[1].roles, ["agent", "editor"]);
        assert!(Settings::from_lookup(|n| (n == "HA_AGENTS").then(|| "Alex:agent:short".into())).is_err());
    }

    #[test]
    fn debug_output_hides_the_redis_password() {
        let settings = Settings::from_lookup(|n| {
            (n == "HA_REDIS_URL").then(|| "redis://app:s3cret@cache:6379/0".into())
        })
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("redis://app:***@cache:6379/0"), "{shown}");
    }

    #[test]
    fn frame_ancestors_must_be_sources_only() {
        let with =
            |v: &'static str| Settings::from_lookup(move |n| (n == "HA_FRAME_ANCESTORS").then(|| v.into()));
        assert_eq!(
            with("'self' https://www.hertfordshire.gov.uk").unwrap().frame_ancestors.split(' ').count(),
            2
        );
        for bad in ["'self'; script-src *", "a, b", "x\ny", " "] {
            assert!(with(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_mistyped_opening_span_is_named_not_taken_as_closed() {
        let dir = std::env::temp_dir().join(format!("ha-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("settings.toml");
        let with = |toml: &str| {
            std::fs::write(&file, toml).unwrap();
            let path = file.to_string_lossy().to_string();
            Settings::from_lookup(move |n| (n == "HA_CONFIG").then(|| path.clone()))
        };
        let ok = "[[teams]]\nid = \"cs\"\nname = \"Customer service\"\nhours = { mon = \"09:00-17:00\" }\n";
        assert!(with(ok).is_ok());
        for (toml, named) in [
            (ok.replace("09:00-17:00", "9-5"), "teams[0].hours.mon"),
            (ok.replace("09:00-17:00", "17:00-09:00"), "teams[0].hours.mon"),
            (ok.replace("mon =", "monday ="), "teams[0].hours.monday"),
            (
                format!("{ok}[[agents]]\nname = \"Alex\"\nroles = [\"agent\"]\ntoken_sha256 = \"abc\"\n"),
                "agents[0].token_sha256",
            ),
            ("retention_days = 0\n".to_string(), "retention_days"),
            ("offline_retention_days = 0\n".to_string(), "offline_retention_days"),
        ] {
            let error = with(&toml).unwrap_err().to_string();
            assert!(error.contains(named), "{toml}: {error}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_number_is_named() {
        let error = Settings::from_lookup(|n| (n == "HA_RETENTION_DAYS").then(|| "ten".into())).unwrap_err();
        assert_eq!(error.to_string(), "invalid value for HA_RETENTION_DAYS: \"ten\"");
    }

    #[test]
    fn every_variable_is_documented_in_the_readme() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
        for name in VARIABLES.iter().chain(&["HA_CONFIG"]) {
            assert!(readme.contains(&format!("`{name}`")), "README.md does not list {name}");
        }
    }

    #[test]
    fn flags_are_yes_or_no_and_nothing_else() {
        let with =
            |v: &'static str| Settings::from_lookup(move |n| (n == "HA_REVIEW_REQUIRED").then(|| v.into()));
        assert!(!with("no").unwrap().review_required);
        assert!(with("Yes").unwrap().review_required);
        assert!(!with("0").unwrap().review_required);
        let error = with("sometimes").unwrap_err().to_string();
        assert_eq!(error, "invalid value for HA_REVIEW_REQUIRED: \"sometimes\"");
    }

    #[test]
    fn lists_dates_and_empty_values() {
        let settings = Settings::from_lookup(|n| match n {
            "HA_ALLOWED_ORIGINS" => Some(" https://a.gov.uk , ,https://b.gov.uk".into()),
            "HA_CLOSURES" => Some("2026-12-24, 2026-12-31".into()),
            "HA_THRESHOLD" => Some(" ".into()),
            "HA_ENCODER_DIR" => Some("".into()),
            "HA_CONVERSATIONS_PER_MINUTE" => Some("7".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(settings.allowed_origins, ["https://a.gov.uk", "https://b.gov.uk"]);
        assert_eq!(settings.closures.len(), 2);
        assert_eq!((settings.threshold, settings.encoder_dir), (None, None));
        assert_eq!(settings.client_limits.conversations_per_minute, 7);
        assert!(Settings::from_lookup(|n| (n == "HA_CLOSURES").then(|| "24/12/2026".into())).is_err());
    }
}
