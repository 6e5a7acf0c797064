//! What the engine remembers between messages of one conversation, and what one turn produces.
//! Serialised as JSON into the store; every field has a default so that older records load.

use serde::{Deserialize, Serialize};

use super::entities::PlaceMatch;
use crate::content::Link;

/// Who is answering the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Bot,
    /// Waiting for a person.
    Queued,
    /// A person holds the conversation: the assistant stays silent.
    Agent,
    Closed,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Bot => "bot",
            Mode::Queued => "queued",
            Mode::Agent => "agent",
            Mode::Closed => "closed",
        }
    }
}

/// What a quick reply offered in the last message does when the resident picks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Offer {
    /// Show the leave-a-message form (the team is closed).
    LeaveMessage { label: String },
    /// Answer follow-up number `index` of `topic`.
    FollowUp { label: String, topic: String, index: usize },
    /// Answer a topic ("did you mean" choices, `goto` follow-ups).
    Topic { label: String, topic: String },
    /// Hand the conversation to a person.
    Person { label: String },
    /// The resident rejected the "did you mean" choices.
    NoneOfThese { label: String },
}

impl Offer {
    pub fn label(&self) -> &str {
        match self {
            Offer::FollowUp { label, .. }
            | Offer::LeaveMessage { label }
            | Offer::Topic { label, .. }
            | Offer::Person { label }
            | Offer::NoneOfThese { label } => label,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationState {
    pub mode: Mode,
    /// The resident's town, remembered for the whole conversation ("ask customers once").
    pub place: Option<PlaceMatch>,
    /// Whether the assistant has asked for the town: it never asks twice.
    pub asked_place: bool,
    /// The topic waiting for the town the assistant just asked for.
    pub pending_topic: Option<String>,
    /// The quick replies of the last bot message, with what each does.
    pub offers: Vec<Offer>,
    /// Turns in a row the assistant could not answer.
    pub unanswered: u32,
    /// The team a handoff goes to.
    pub team: Option<String>,
    /// The topic of the last answer: a follow-up that names no topic is about it.
    pub topic: Option<String>,
    /// Topics answered so far, oldest first (at most [`TOPIC_HISTORY`]): shown to an agent.
    pub topics: Vec<String>,
    /// The agent holding the conversation.
    pub agent: Option<String>,
    /// How an agent closed it.
    pub outcome: Option<String>,
}

impl ConversationState {
    /// The topic `text` picks from the "did you mean" choices the last message offered, if it
    /// is one of them: the resident's own word for what their question meant.
    pub fn clarify_pick(&self, text: &str) -> Option<&str> {
        if !self.offers.iter().any(|o| matches!(o, Offer::NoneOfThese { .. })) {
            return None;
        }
        self.offers.iter().find_map(|o| match o {
            Offer::Topic { label, topic } if label.eq_ignore_ascii_case(text.trim()) => Some(topic.as_str()),
            _ => None,
        })
    }

    /// What the conversation is about, for an agent: the topic of the last answer, else the last
    /// topic answered, else the topic still waiting for the resident's town.
    pub fn current_topic(&self) -> Option<&str> {
        self.topic.as_deref().or(self.topics.last().map(String::as_str)).or(self.pending_topic.as_deref())
    }
}

/// How many answered topics a conversation remembers for the agent.
pub const TOPIC_HISTORY: usize = 10;

/// Facts from outside the engine that a reply depends on, passed in so the engine stays pure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Teams by id.
    pub teams: std::collections::HashMap<String, TeamStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamStatus {
    pub name: String,
    /// None when open now; otherwise when it opens, in words ("tomorrow at 9am").
    pub closed_until: Option<String>,
}

/// One message from the assistant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub quick_replies: Vec<String>,
    pub links: Vec<Link>,
    /// A topic answer, on which the resident can give feedback.
    pub answer: bool,
    /// A form the widget shows under the message: `offline_message` (leave a message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Intent,
    Article,
    Clarify,
    None,
}

/// The `matched` object of the API contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matched {
    pub kind: MatchKind,
    pub id: Option<String>,
    pub confidence: f32,
}

impl Matched {
    pub fn none(confidence: f32) -> Self {
        Self { kind: MatchKind::None, id: None, confidence }
    }
}

/// Why a conversation goes to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    Asked,
    NotAnswered,
    RejectedSuggestions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffRequest {
    pub team: String,
    pub reason: HandoffReason,
}

/// The engine's answer to one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub replies: Vec<Reply>,
    pub matched: Matched,
    pub state: ConversationState,
    pub handoff: Option<HandoffRequest>,
    /// The matcher's best candidate when the message was classified, whatever was decided:
    /// what an editor needs to see about a question that went unanswered.
    pub best_candidate: Option<super::matcher::Candidate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(offers: Vec<Offer>) -> ConversationState {
        ConversationState { offers, ..ConversationState::default() }
    }

    #[test]
    fn a_pick_is_a_did_you_mean_choice_taken_by_its_label() {
        let topic = |label: &str, topic: &str| Offer::Topic { label: label.into(), topic: topic.into() };
        let clarified = offered(vec![
            topic("Blue Badges", "blue-badge"),
            topic("Bus passes for disabled people", "bus-pass-disabled"),
            Offer::NoneOfThese { label: "None of these".into() },
        ]);
        assert_eq!(clarified.clarify_pick(" blue badges "), Some("blue-badge"));
        assert_eq!(clarified.clarify_pick("None of these"), None);
        assert_eq!(clarified.clarify_pick("blue badge for my mum"), None, "a new message, not a pick");
        // A `goto` follow-up offers a topic too, but that is no "did you mean" answer.
        let follow_up = offered(vec![topic("Blue Badges", "blue-badge")]);
        assert_eq!(follow_up.clarify_pick("Blue Badges"), None);
    }
}
