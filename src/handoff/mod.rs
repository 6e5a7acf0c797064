//! Handing a conversation to a person: teams and their hours, agents and their roles, queue
//! places and wait estimates. The decisions here are pure; `service` runs the workflows (claim,
//! transfer, close, ...) over the store traits, and the HTTP edge only parses, authorises and
//! shapes responses.

pub mod hours;
pub mod service;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::engine::{Context, TeamStatus};
use hours::{Availability, Calendar, Team, describe_opening};

/// The pseudo-queue of conversations an agent holds, kept beside the teams' queues.
pub const ACTIVE_QUEUE: &str = "_active";

/// Where a waiting resident stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QueueStatus {
    /// 1 for the next to be answered.
    pub position: usize,
    /// The estimated wait, at least a minute.
    pub wait_minutes: u32,
    /// The team's id.
    pub team: String,
    pub team_name: String,
}

/// A person who signs in to the console or the editors' API (configured in `Settings`, which
/// re-exports it).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub name: String,
    pub roles: Vec<String>,
    /// Lowercase hex SHA-256 of the agent's bearer token (`herts-assistant hash-token`).
    pub token_sha256: String,
}

#[derive(Debug, Clone)]
pub struct Handoff {
    teams: Vec<Team>,
    calendar: Calendar,
    handling_minutes: u32,
    agents: HashMap<String, AgentConfig>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Handoff {
    /// `closed`: the days no team opens (bank holidays and closures); `handling_minutes`: an
    /// agent's time per conversation, for the wait estimate. `Settings::handoff` gives these.
    pub fn new(
        teams: Vec<Team>,
        closed: Vec<NaiveDate>,
        always_open: bool,
        handling_minutes: u32,
        agents: &[AgentConfig],
    ) -> Self {
        Self {
            teams,
            calendar: Calendar::new(closed, always_open),
            handling_minutes: handling_minutes.max(1),
            agents: agents.iter().map(|a| (a.token_sha256.clone(), a.clone())).collect(),
        }
    }

    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn team_name(&self, id: &str) -> String {
        self.team(id).map_or_else(|| id.to_string(), |t| t.name.clone())
    }

    /// The agent a bearer token belongs to.
    pub fn agent_for_token(&self, token: &str) -> Option<&AgentConfig> {
        self.agents.get(&hash_token(token))
    }

    /// Whether the team is open at `now`, and if not, when it opens, in words.
    pub fn closed_until(&self, team: &Team, now: DateTime<Utc>) -> Option<String> {
        match self.calendar.availability(team, &now) {
            Availability::Open => None,
            Availability::Closed { opens } => {
                let local = now.with_timezone(&London).naive_local();
                Some(opens.map(|o| describe_opening(o, local)).unwrap_or_default())
            }
        }
    }

    /// What the engine needs to know about the teams at `now`.
    pub fn context(&self, now: DateTime<Utc>) -> Context {
        let teams = self
            .teams
            .iter()
            .map(|t| {
                (t.id.clone(), TeamStatus { name: t.name.clone(), closed_until: self.closed_until(t, now) })
            })
            .collect();
        Context { teams }
    }

    /// Place and estimated wait for the conversation at `index` (0-based) of a team's queue.
    pub fn status(&self, team: &str, index: usize, agents_online: usize) -> QueueStatus {
        let position = index + 1;
        let wait = position as u32 * self.handling_minutes / agents_online.max(1) as u32;
        QueueStatus {
            position,
            wait_minutes: wait.max(1),
            team: team.to_string(),
            team_name: self.team_name(team),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn handoff(always_open: bool) -> Handoff {
        let agents = [AgentConfig {
            name: "Alex".into(),
            roles: vec!["agent".into()],
            token_sha256: hash_token("secret"),
        }];
        Handoff::new(hours::default_teams(), hours::default_bank_holidays(), always_open, 6, &agents)
    }

    #[test]
    fn tokens_are_matched_by_hash() {
        let handoff = handoff(false);
        assert_eq!(handoff.agent_for_token("secret").map(|a| a.name.as_str()), Some("Alex"));
        assert!(handoff.agent_for_token("Secret").is_none());
    }

    #[test]
    fn context_says_which_teams_are_closed() {
        let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let context = handoff(false).context(sunday);
        assert_eq!(context.teams["customer-service"].closed_until.as_deref(), Some("tomorrow at 9am"));
        assert!(handoff(true).context(sunday).teams["customer-service"].closed_until.is_none());
    }

    #[test]
    fn wait_grows_with_place_and_shrinks_with_agents() {
        let handoff = handoff(true);
        assert_eq!(handoff.status("customer-service", 0, 1).wait_minutes, 6);
        assert_eq!(handoff.status("customer-service", 2, 1).wait_minutes, 18);
        assert_eq!(handoff.status("customer-service", 2, 3).wait_minutes, 6);
        assert_eq!(handoff.status("customer-service", 0, 0).team_name, "Customer service");
    }
}
