//! The JSON shapes of the API, shared by the server and the tests.

use serde::{Deserialize, Serialize};

use crate::content::Link;
use crate::engine::Matched;
use crate::store::{Role, StoredMessage};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub role: Role,
    pub text: String,
    pub quick_replies: Vec<String>,
    pub links: Vec<Link>,
    pub at: String,
    pub answer: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// The agent who wrote it, for agent messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl From<StoredMessage> for Message {
    fn from(stored: StoredMessage) -> Self {
        let m = stored.message;
        Self {
            id: stored.id.to_string(),
            role: m.role,
            text: m.text,
            quick_replies: m.quick_replies,
            links: m.links,
            at: m.at,
            answer: m.answer,
            form: m.form,
            author: m.author,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub token: String,
    pub state: String,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostMessage {
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TurnReply {
    pub messages: Vec<Message>,
    pub matched: Matched,
    pub state: String,
    /// The resident's place in the queue, when this turn handed them to a person.
    #[serde(default)]
    pub queue: Option<crate::handoff::QueueStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transcript {
    pub id: String,
    pub state: String,
    pub messages: Vec<Message>,
    /// The agent holding the conversation, if any.
    #[serde(default)]
    pub agent: Option<String>,
    /// The resident's place in the queue, if waiting.
    #[serde(default)]
    pub queue: Option<crate::handoff::QueueStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostFeedback {
    pub message_id: String,
    pub helpful: bool,
}

/// Everything kept about one conversation, for a resident who asks what the council holds
/// (a subject access request), by their token or through an agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub id: String,
    pub exported_at: String,
    /// Days everything here is kept after the conversation's last message.
    pub retention_days: u64,
    pub state: String,
    /// The town the resident gave, kept so they are not asked twice.
    pub place: Option<String>,
    /// Topics answered, oldest first.
    pub topics: Vec<String>,
    pub agent: Option<String>,
    pub messages: Vec<Message>,
    pub feedback: Vec<crate::store::Feedback>,
    /// Messages left for a closed team, not yet handled (handled ones are deleted).
    pub offline_messages: Vec<crate::store::OfflineMessage>,
}
