//! The handoff workflows, over the store traits: queue places and wait estimates, a
//! conversation's live status, agents online, leaving the queues, the load-change-commit loop
//! every write to a conversation goes through, and the resident's side (wait for a person, stop
//! waiting, leave a message for a closed team, erase). The agent's side (claim, send, transfer,
//! return, close, messages left) is in `agent.rs`.
//!
//! No HTTP here: a workflow returns [`HandoffError`], which `crate::error` maps to the API's
//! error table. The clock is a value given when the service is made, so every step of one
//! request sees the same time.

mod agent;

pub use agent::{Outcome, PRESENCE_TTL, QueueView, TeamWaiting, WaitingConversation};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ACTIVE_QUEUE, Handoff, QueueStatus};
use crate::engine::{ConversationState, Mode};
use crate::store::{
    CommitOutcome, ConversationStore, HandoffStore, HoldOutcome, Holder, NewMessage, OfflineMessage, Role,
    StoreError, StoredMessage, Typing,
};

/// How many times a change is re-applied when another writer got in first.
pub const MAX_COMMIT_ATTEMPTS: usize = 64;

/// Messages one conversation may leave for a closed team.
pub const MAX_OFFLINE_PER_CONVERSATION: usize = 3;

/// Why a handoff workflow did not happen. Each maps to one row of the API's error table
/// (`crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// No such conversation (or it was erased).
    #[error("no such conversation")]
    ConversationNotFound,
    /// No such conversation, where the route answers a plain not-found (typing).
    #[error("no such conversation")]
    NotFound,
    /// Claiming a conversation that is not waiting for a person.
    #[error("the conversation is not waiting for a person")]
    NotWaiting,
    /// It stopped waiting between the check and the claim.
    #[error("the conversation is no longer waiting")]
    NoLongerWaiting,
    #[error("{0} has already taken this conversation")]
    AlreadyClaimed(String),
    /// The agent does not hold the conversation.
    #[error("the agent does not hold the conversation")]
    NotHeld,
    /// The resident is not in a queue.
    #[error("the conversation is not queued")]
    NotQueued,
    #[error("no such team")]
    NoSuchTeam,
    #[error("presence status is online or away")]
    InvalidPresence,
    #[error("outcome is resolved, referred or no_response")]
    InvalidOutcome,
    #[error("no such message left")]
    NoSuchOfflineMessage,
    /// A message is for when the team is closed.
    #[error("the team is open")]
    TeamOpen,
    #[error("this conversation already left its messages")]
    TooManyOfflineMessages,
    /// Too many writers at once: the change was re-applied as often as allowed.
    #[error("the conversation is changing too fast")]
    ChangingTooFast,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `status` event of a live stream: who holds the conversation, the queue place, who is
/// typing.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Status {
    #[schema(value_type = crate::engine::Mode)]
    pub state: &'static str,
    pub queue: Option<QueueStatus>,
    pub agent: Option<String>,
    pub resident_typing: bool,
    pub agent_typing: bool,
}

const LOCK_STRIPES: usize = 256;

/// Serialises writers to one conversation within this instance (striped by id), so that
/// optimistic commits rarely conflict; across instances the store's version check decides.
pub struct Locks(Vec<tokio::sync::Mutex<()>>);

impl Default for Locks {
    fn default() -> Self {
        Self((0..LOCK_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect())
    }
}

impl Locks {
    pub fn for_id(&self, id: &str) -> &tokio::sync::Mutex<()> {
        let hash = id.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        &self.0[hash % LOCK_STRIPES]
    }
}

/// A time as messages carry it: RFC 3339, milliseconds, UTC.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The handoff workflows for one request: the store, the teams and agents, this instance's
/// writer locks and the time of the request.
pub struct HandoffService<'a, S> {
    store: &'a S,
    handoff: &'a Handoff,
    locks: &'a Locks,
    now: DateTime<Utc>,
}

impl<'a, S: ConversationStore + HandoffStore> HandoffService<'a, S> {
    pub fn new(store: &'a S, handoff: &'a Handoff, locks: &'a Locks, now: DateTime<Utc>) -> Self {
        Self { store, handoff, locks, now }
    }

    fn system_message(&self, text: impl Into<String>) -> NewMessage {
        NewMessage::plain(Role::System, text, timestamp(self.now))
    }

    /// Applies `change` to the conversation's state and commits the messages it returns: load,
    /// change, commit if nobody else committed in between, else again.
    pub async fn change(
        &self,
        id: &str,
        change: impl Fn(&mut ConversationState) -> Result<Vec<NewMessage>, HandoffError>,
    ) -> Result<(ConversationState, Vec<StoredMessage>), HandoffError> {
        self.commit_change(id, None, change).await
    }

    /// As `change`, with who holds the conversation changed in the same atomic commit.
    pub async fn change_holder(
        &self,
        id: &str,
        holder: Holder<'_>,
        change: impl Fn(&mut ConversationState) -> Result<Vec<NewMessage>, HandoffError>,
    ) -> Result<(ConversationState, Vec<StoredMessage>), HandoffError> {
        self.commit_change(id, Some(holder), change).await
    }

    async fn commit_change(
        &self,
        id: &str,
        holder: Option<Holder<'_>>,
        change: impl Fn(&mut ConversationState) -> Result<Vec<NewMessage>, HandoffError>,
    ) -> Result<(ConversationState, Vec<StoredMessage>), HandoffError> {
        let _guard = self.locks.for_id(id).lock().await;
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let snapshot = self.store.load(id).await?.ok_or(HandoffError::ConversationNotFound)?;
            let mut conversation = snapshot.state;
            let messages = change(&mut conversation)?;
            let outcome = match holder {
                None => match self.store.commit(id, snapshot.version, &conversation, messages).await? {
                    CommitOutcome::Committed(stored) => HoldOutcome::Committed(stored),
                    CommitOutcome::Conflict => HoldOutcome::Conflict,
                    CommitOutcome::Gone => HoldOutcome::Gone,
                },
                Some(holder) => {
                    self.store.commit_holding(id, snapshot.version, &conversation, messages, holder).await?
                }
            };
            match outcome {
                HoldOutcome::Committed(stored) => return Ok((conversation, stored)),
                HoldOutcome::Conflict => continue,
                HoldOutcome::Gone => return Err(HandoffError::ConversationNotFound),
                HoldOutcome::HeldBy(agent) => return Err(HandoffError::AlreadyClaimed(agent)),
            }
        }
        Err(HandoffError::ChangingTooFast)
    }

    /// Agents whose heartbeat is live and who are not away.
    pub async fn online_agents(&self) -> Result<usize, StoreError> {
        Ok(self.store.presence().await?.iter().filter(|(_, status)| status == "online").count())
    }

    /// The resident's place in their team's queue and the wait, if they are waiting (and the
    /// store answers).
    pub async fn queue_status(&self, team: &str, id: &str) -> Option<QueueStatus> {
        let index = self.store.queue_place(team, id).await.ok()??;
        let online = self.online_agents().await.unwrap_or(0);
        Some(self.handoff.status(team, index, online))
    }

    /// The queue place of a conversation in this state, if it is waiting.
    pub async fn queue_status_of(&self, conversation: &ConversationState, id: &str) -> Option<QueueStatus> {
        match (conversation.mode, &conversation.team) {
            (Mode::Queued, Some(team)) => self.queue_status(team, id).await,
            _ => None,
        }
    }

    /// What a live stream shows beside the messages; none if the conversation is not there or
    /// the store does not answer.
    pub async fn status_of(&self, id: &str) -> Option<Status> {
        let conversation = self.store.load(id).await.ok()??.state;
        let queue = self.queue_status_of(&conversation, id).await;
        let typing = self.store.typing(id).await.unwrap_or(Typing::default());
        Some(Status {
            state: conversation.mode.as_str(),
            queue,
            agent: conversation.agent,
            resident_typing: typing.resident,
            agent_typing: typing.agent,
        })
    }

    /// Removes a conversation from every queue it might be in, in one step.
    pub async fn leave_queues(&self, team: Option<&str>, id: &str) -> Result<(), StoreError> {
        let queues: Vec<&str> = team.into_iter().chain([ACTIVE_QUEUE]).collect();
        self.store.move_in_queues(id, &queues, None).await
    }

    /// The engine handed the conversation to `team` (its state is already `queued`): it joins
    /// the team's queue, and its place is returned.
    pub async fn hand_over(&self, team: &str, id: &str) -> Result<Option<QueueStatus>, StoreError> {
        self.store.enqueue(team, id, self.now.timestamp_micros()).await?;
        Ok(self.queue_status(team, id).await)
    }

    /// The resident stops waiting for a person: the assistant answers again.
    pub async fn leave_queue(
        &self,
        id: &str,
    ) -> Result<(ConversationState, Vec<StoredMessage>), HandoffError> {
        let (conversation, stored) = self
            .change(id, |conversation| {
                if conversation.mode != Mode::Queued {
                    return Err(HandoffError::NotQueued);
                }
                conversation.mode = Mode::Bot;
                Ok(vec![self.system_message("You have left the queue. I'm here if you need anything else.")])
            })
            .await?;
        self.leave_queues(conversation.team.as_deref(), id).await?;
        Ok((conversation, stored))
    }

    /// Erases the conversation and every copy of it: its place in a queue (those behind move
    /// up, no agent sees a ghost), the messages it left out of hours, then the conversation.
    pub async fn erase(&self, id: &str, conversation: &ConversationState) -> Result<(), StoreError> {
        self.leave_queues(conversation.team.as_deref(), id).await?;
        self.store.forget_offline_of(id).await?;
        self.store.delete(id).await?;
        Ok(())
    }

    /// Leaves `message` for its team, which must be closed now, at most
    /// [`MAX_OFFLINE_PER_CONVERSATION`] per conversation; the resident is told in the
    /// conversation. `message.question` must already be redacted.
    pub async fn leave_message(
        &self,
        id: &str,
        message: OfflineMessage,
    ) -> Result<Vec<StoredMessage>, HandoffError> {
        // A message is for when no one can answer live; while the team is open the resident is
        // offered the queue instead.
        let closed =
            self.handoff.context(self.now).teams.get(&message.team).is_some_and(|t| t.closed_until.is_some());
        if !closed {
            return Err(HandoffError::TeamOpen);
        }
        let left_before =
            self.store.offline().await?.iter().filter(|m| m.conversation.as_deref() == Some(id)).count();
        if left_before >= MAX_OFFLINE_PER_CONVERSATION {
            return Err(HandoffError::TooManyOfflineMessages);
        }
        let team_name = self.handoff.team_name(&message.team);
        self.store.add_offline(message).await?;
        let (_, stored) = self
            .change(id, |_| {
                Ok(vec![self.system_message(format!(
                    "Thank you. Your message has been passed to our {team_name} team. They will contact you when they are open."
                ))])
            })
            .await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests;
