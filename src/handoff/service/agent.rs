//! The agent's side of the handoff: presence, the queues as the console shows them, claiming
//! (atomic in the store: of two agents, one wins), sending, typing, transfer, return to the
//! assistant, close, and the messages residents left out of hours.

use super::{HandoffError, HandoffService, timestamp};
use crate::engine::{ConversationState, Mode};
use crate::handoff::ACTIVE_QUEUE;
use crate::handoff::hours::Team;
use crate::store::{
    ConversationStore, HandoffStore, Holder, NewMessage, OfflineMessage, Role, StoreError, StoredMessage,
};

/// How long a heartbeat keeps an agent present.
pub const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// A conversation in a queue (or held by an agent), as the console lists it.
#[derive(Debug, Clone)]
pub struct WaitingConversation {
    pub id: String,
    /// The team's id; empty for the conversations agents hold.
    pub team: String,
    pub waiting_seconds: i64,
    pub conversation: ConversationState,
    /// The resident's newest message.
    pub last_message: Option<String>,
}

/// One team's queue, oldest first, and when the team opens if it is closed (in words).
#[derive(Debug, Clone)]
pub struct TeamWaiting {
    pub team: Team,
    pub opens: Option<String>,
    pub waiting: Vec<WaitingConversation>,
}

/// Every team's queue and the conversations one agent holds.
#[derive(Debug, Clone)]
pub struct QueueView {
    pub teams: Vec<TeamWaiting>,
    pub agents_online: usize,
    pub mine: Vec<WaitingConversation>,
}

/// How an agent closed a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Resolved,
    Referred,
    NoResponse,
}

impl Outcome {
    pub fn parse(text: &str) -> Result<Self, HandoffError> {
        match text {
            "resolved" => Ok(Self::Resolved),
            "referred" => Ok(Self::Referred),
            "no_response" => Ok(Self::NoResponse),
            _ => Err(HandoffError::InvalidOutcome),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Referred => "referred",
            Self::NoResponse => "no_response",
        }
    }
}

/// The conversation must be held by this agent.
fn held_by(agent: &str, conversation: &ConversationState) -> Result<(), HandoffError> {
    if conversation.mode == Mode::Agent && conversation.agent.as_deref() == Some(agent) {
        Ok(())
    } else {
        Err(HandoffError::NotHeld)
    }
}

impl<S: ConversationStore + HandoffStore> HandoffService<'_, S> {
    /// The agent's heartbeat: present (`online` or `away`) for [`PRESENCE_TTL`].
    pub async fn set_presence(&self, agent: &str, status: &str) -> Result<(), HandoffError> {
        if !matches!(status, "online" | "away") {
            return Err(HandoffError::InvalidPresence);
        }
        Ok(self.store.set_presence(agent, status, PRESENCE_TTL).await?)
    }

    /// A queued conversation as the console lists it, from its summary (one read); none if it
    /// is gone or unreadable.
    async fn waiting(&self, id: &str, team: &str, since_millis: i64) -> Option<WaitingConversation> {
        let summary = self.store.summary(id).await.ok()??;
        Some(WaitingConversation {
            id: id.to_string(),
            team: team.to_string(),
            waiting_seconds: (self.now.timestamp_millis() - since_millis).max(0) / 1000,
            conversation: summary.state,
            last_message: summary.last_resident_message,
        })
    }

    /// Every team's queue, whether the team is open, and the conversations `agent` holds.
    pub async fn queues(&self, agent: &str) -> Result<QueueView, StoreError> {
        let agents_online = self.online_agents().await?;
        let mut teams = Vec::new();
        for team in self.handoff.teams() {
            let mut waiting = Vec::new();
            for (id, since) in self.store.queue(&team.id).await? {
                // The conversation is the truth: an entry left by a move that never ran (its
                // instance died between the commit and the move) is not shown.
                if let Some(w) = self.waiting(&id, &team.id, since).await
                    && w.conversation.mode == Mode::Queued
                    && w.conversation.team.as_deref() == Some(team.id.as_str())
                {
                    waiting.push(w);
                }
            }
            let opens = self.handoff.closed_until(team, self.now);
            teams.push(TeamWaiting { team: team.clone(), opens, waiting });
        }
        let mut mine = Vec::new();
        for (id, since) in self.store.queue(ACTIVE_QUEUE).await? {
            if let Some(w) = self.waiting(&id, "", since).await
                && w.conversation.agent.as_deref() == Some(agent)
            {
                mine.push(w);
            }
        }
        Ok(QueueView { teams, agents_online, mine })
    }

    /// The conversation and its messages, for an agent.
    pub async fn conversation(
        &self,
        id: &str,
    ) -> Result<(ConversationState, Vec<StoredMessage>), HandoffError> {
        let conversation = self.store.load(id).await?.ok_or(HandoffError::ConversationNotFound)?.state;
        let messages = self.store.messages(id, 0).await?;
        Ok((conversation, messages))
    }

    /// The conversation's state if it exists.
    pub async fn existing(&self, id: &str) -> Result<ConversationState, HandoffError> {
        Ok(self.store.load(id).await?.ok_or(HandoffError::ConversationNotFound)?.state)
    }

    /// What the resident asked, oldest first, and the conversation's state if there is one
    /// (for suggestions: an unknown conversation simply has none).
    pub async fn resident_questions(
        &self,
        id: &str,
    ) -> Result<(Vec<String>, Option<ConversationState>), StoreError> {
        let messages = self.store.messages(id, 0).await?;
        let questions = messages
            .into_iter()
            .filter(|m| m.message.role == Role::Resident)
            .map(|m| m.message.text)
            .collect();
        let conversation = self.store.load(id).await?.map(|s| s.state);
        Ok((questions, conversation))
    }

    /// Takes a waiting conversation for `agent`: one atomic commit makes `agent` its holder,
    /// its state `agent` and says so to the resident, so of two agents one wins and nobody
    /// sees it half taken; claiming one this agent already holds is allowed. Then one atomic
    /// move takes it from the team's queue to the held ones.
    pub async fn claim(&self, id: &str, agent: &str) -> Result<(), HandoffError> {
        let snapshot = self.store.load(id).await?.ok_or(HandoffError::ConversationNotFound)?;
        if !matches!(snapshot.state.mode, Mode::Queued | Mode::Agent) {
            return Err(HandoffError::NotWaiting);
        }
        let (conversation, _) = self
            .change_holder(id, Holder::Claim(agent), |conversation| {
                match (conversation.mode, conversation.agent.as_deref()) {
                    (Mode::Agent, Some(holder)) if holder == agent => return Ok(Vec::new()),
                    (Mode::Agent, Some(holder)) => {
                        return Err(HandoffError::AlreadyClaimed(holder.to_string()));
                    }
                    _ => {}
                }
                if conversation.mode != Mode::Queued {
                    return Err(HandoffError::NoLongerWaiting);
                }
                conversation.mode = Mode::Agent;
                conversation.agent = Some(agent.to_string());
                Ok(vec![self.system_message(format!("{agent} has joined the conversation."))])
            })
            .await?;
        let from: Vec<&str> = conversation.team.as_deref().into_iter().collect();
        self.store.move_in_queues(id, &from, Some((ACTIVE_QUEUE, self.now.timestamp_micros()))).await?;
        tracing::info!(conversation = %id, %agent, "claimed");
        Ok(())
    }

    /// The agent's message to the resident, in a conversation this agent holds; `text` must
    /// already be redacted. The agent's typing signal ends with it.
    pub async fn send(
        &self,
        id: &str,
        agent: &str,
        text: &str,
    ) -> Result<Option<StoredMessage>, HandoffError> {
        let (_, stored) = self
            .change(id, |conversation| {
                held_by(agent, conversation)?;
                Ok(vec![NewMessage {
                    author: Some(agent.to_string()),
                    ..NewMessage::plain(Role::Agent, text, timestamp(self.now))
                }])
            })
            .await?;
        self.store.set_typing(id, true, false).await?;
        Ok(stored.into_iter().next())
    }

    /// The agent holding the conversation is typing (or stopped). Only the holder types: no
    /// entries for ids that do not exist.
    pub async fn agent_typing(&self, id: &str, agent: &str, typing: bool) -> Result<(), HandoffError> {
        let snapshot = self.store.load(id).await?.ok_or(HandoffError::NotFound)?;
        held_by(agent, &snapshot.state)?;
        Ok(self.store.set_typing(id, true, typing).await?)
    }

    /// Passes a conversation this agent holds to another team's queue; returns the team.
    pub async fn transfer(&self, id: &str, agent: &str, team: &str) -> Result<Team, HandoffError> {
        let team = self.handoff.team(team).ok_or(HandoffError::NoSuchTeam)?.clone();
        self.change_holder(id, Holder::Release, |conversation| {
            held_by(agent, conversation)?;
            conversation.mode = Mode::Queued;
            conversation.agent = None;
            conversation.team = Some(team.id.clone());
            Ok(vec![
                self.system_message(format!("You are being passed to our {} team. Please wait.", team.name)),
            ])
        })
        .await?;
        self.store.move_in_queues(id, &[ACTIVE_QUEUE], Some((&team.id, self.now.timestamp_micros()))).await?;
        Ok(team)
    }

    /// Hands a conversation this agent holds back to the assistant.
    pub async fn return_to_assistant(&self, id: &str, agent: &str) -> Result<(), HandoffError> {
        self.change_holder(id, Holder::Release, |conversation| {
            held_by(agent, conversation)?;
            conversation.mode = Mode::Bot;
            conversation.agent = None;
            conversation.unanswered = 0;
            conversation.offers.clear();
            Ok(vec![self.system_message("You are back with the automated assistant. Ask me anything else.")])
        })
        .await?;
        self.store.dequeue(ACTIVE_QUEUE, id).await?;
        Ok(())
    }

    /// Ends a conversation this agent holds, with its outcome.
    pub async fn close(&self, id: &str, agent: &str, outcome: Outcome) -> Result<(), HandoffError> {
        let (conversation, _) = self
            .change_holder(id, Holder::Release, |conversation| {
                held_by(agent, conversation)?;
                conversation.mode = Mode::Closed;
                conversation.agent = None;
                conversation.outcome = Some(outcome.as_str().to_string());
                Ok(vec![self.system_message(
                    "This conversation has ended. Thank you for contacting Hertfordshire County Council.",
                )])
            })
            .await?;
        self.leave_queues(conversation.team.as_deref(), id).await?;
        tracing::info!(conversation = %id, %agent, outcome = outcome.as_str(), "closed");
        Ok(())
    }

    /// Messages residents left while their team was closed, not yet done.
    pub async fn offline_messages(&self) -> Result<Vec<OfflineMessage>, StoreError> {
        self.store.offline().await
    }

    /// A left message handled: it is deleted, with its contact details.
    pub async fn offline_done(&self, message_id: &str) -> Result<(), HandoffError> {
        if self.store.mark_offline_done(message_id).await? {
            Ok(())
        } else {
            Err(HandoffError::NoSuchOfflineMessage)
        }
    }
}
