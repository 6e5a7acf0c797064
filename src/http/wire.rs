//! The JSON shapes of the API, shared by the server and the tests. Every type here describes
//! itself to the OpenAPI document (`utoipa::ToSchema`), so the document is generated from the
//! types that are sent. Over 400 lines: every body the API reads or writes is here, in one
//! place, with the shapes of the engine's types it sends and the test that keeps those in step.

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use crate::config::CannedReply;
use crate::content::Link;
use crate::engine::matcher::{Candidate, Decision};
use crate::engine::{Matched, Reply, Suggestion};
use crate::store::{
    AuditEntry, ContentVersion, Feedback, OfflineMessage, Role, StoredMessage, Submission, Unanswered,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// The message's number in its conversation (1, 2, ...), as a string; `?after=` takes it.
    #[schema(pattern = "^[0-9]+$")]
    pub id: String,
    pub role: Role,
    pub text: String,
    /// Buttons offered under the message; picking one sends its text.
    pub quick_replies: Vec<String>,
    pub links: Vec<Link>,
    #[schema(format = DateTime)]
    pub at: String,
    /// A topic answer, on which the resident can give feedback.
    pub answer: bool,
    /// A form the widget shows under the message: `offline_message` (leave a message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub form: Option<String>,
    /// The agent who wrote it, for agent messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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

/// A new conversation: keep `token`, it is the only key to the conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Created {
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub id: String,
    /// The conversation's bearer token (64 hex characters), sent with every later request.
    pub token: String,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// The welcome.
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostMessage {
    /// Not only spaces; up to `HA_MAX_TEXT_CHARS` characters (the document gives this
    /// instance's limit).
    #[schema(pattern = "\\S")]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TurnReply {
    /// The resident's message as stored (personal data redacted), then the replies.
    pub messages: Vec<Message>,
    pub matched: Matched,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// The resident's place in the queue, when this turn handed them to a person.
    #[serde(default)]
    pub queue: Option<crate::handoff::QueueStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transcript {
    pub id: String,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    pub messages: Vec<Message>,
    /// The agent holding the conversation, if any.
    #[serde(default)]
    pub agent: Option<String>,
    /// The resident's place in the queue, if waiting.
    #[serde(default)]
    pub queue: Option<crate::handoff::QueueStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PostFeedback {
    /// The `id` of an answer in this conversation.
    #[schema(pattern = "^[0-9]+$")]
    pub message_id: String,
    pub helpful: bool,
}

/// Everything kept about one conversation, for a resident who asks what the council holds
/// (a subject access request), by their token or through an agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Export {
    pub id: String,
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// Days everything here is kept after the conversation's last message.
    pub retention_days: u64,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// The town the resident gave, kept so they are not asked twice.
    pub place: Option<String>,
    /// Topics answered, oldest first.
    pub topics: Vec<String>,
    pub agent: Option<String>,
    pub messages: Vec<Message>,
    pub feedback: Vec<Feedback>,
    /// Messages left for a closed team, not yet handled (handled ones are deleted).
    pub offline_messages: Vec<OfflineMessage>,
}

/// `/healthz` and `/readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (the process is up) or `ready` (the store answers).
    #[schema(schema_with = health_statuses)]
    pub status: String,
}

fn health_statuses() -> ObjectBuilder {
    one_of_strings(&["ok", "ready"])
}

/// `true` while the resident or the agent types.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Typing {
    pub typing: bool,
}

/// A message for a closed team; the team calls the resident back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeaveMessage {
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: String,
    /// A phone number or email address.
    #[schema(pattern = "\\S", max_length = 200)]
    pub contact: String,
    /// Personal data in it is redacted.
    #[schema(pattern = "\\S", max_length = 2000)]
    pub question: String,
}

/// The conversation after the resident left the queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeftQueue {
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// What the assistant said about it.
    pub messages: Vec<Message>,
}

/// A message left for a closed team.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageLeft {
    /// The left message's id (what an agent marks done).
    pub id: String,
    /// The thanks added to the conversation.
    pub messages: Vec<Message>,
}

/// The path of every route on one conversation.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ConversationPath {
    /// The conversation's id, as given when it was created: 32 lowercase hex characters.
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub id: String,
}

/// The path of a message left for a closed team.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OfflineMessagePath {
    /// The left message's id: 16 lowercase hex characters.
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub id: String,
}

/// The signed-in agent or editor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub name: String,
    /// `agent`, `editor` or both.
    pub roles: Vec<String>,
}

/// An agent's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Presence {
    /// `online` takes conversations; `away` does not. Expires after 60 s without another.
    #[schema(schema_with = presence_statuses)]
    pub status: String,
}

fn presence_statuses() -> ObjectBuilder {
    one_of_strings(&["online", "away"])
}

/// One conversation in a queue or held by the agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Waiting {
    pub id: String,
    /// The team's id; empty for the agent's own conversations.
    pub team: String,
    pub waiting_seconds: i64,
    /// The topic the resident asked about last, and its title.
    pub topic: Option<String>,
    pub topic_title: Option<String>,
    /// The town the resident gave, and its district council.
    pub place: Option<String>,
    pub district: Option<String>,
    /// The resident's newest message.
    pub last_message: Option<String>,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    pub agent: Option<String>,
}

/// One team's queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TeamQueue {
    pub id: String,
    pub name: String,
    pub open: bool,
    /// When a closed team opens, in words ("tomorrow at 9am"); null while open.
    pub opens: Option<String>,
    pub agents_online: usize,
    /// Oldest first.
    pub waiting: Vec<Waiting>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queues {
    pub teams: Vec<TeamQueue>,
    /// The conversations this agent holds.
    pub mine: Vec<Waiting>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Canned {
    pub replies: Vec<CannedReply>,
}

/// A topic the conversation touched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicRef {
    pub id: String,
    pub title: String,
}

/// An answer the assistant gave, shortened to about 280 characters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnswerGiven {
    pub text: String,
}

/// What the resident already told the assistant, so that they never repeat it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Details {
    pub place: Option<String>,
    pub district: Option<String>,
    pub topics: Vec<TopicRef>,
    /// The resident's messages, oldest first.
    pub questions: Vec<String>,
    pub answers: Vec<AnswerGiven>,
}

/// A conversation as the agent console shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentConversation {
    pub id: String,
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// The team it was handed to, if any.
    pub team: Option<String>,
    pub agent: Option<String>,
    pub details: Details,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Claimed {
    /// Always `agent`.
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    /// Who holds it now.
    pub agent: String,
}

/// An agent's message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AgentText {
    /// Not only spaces; up to four times `HA_MAX_TEXT_CHARS` characters (the document gives
    /// this instance's limit).
    #[schema(pattern = "\\S")]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Sent {
    /// The message as stored (personal data redacted).
    pub message: Option<Message>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    /// The id of the team to pass the conversation to (the document lists this instance's).
    pub team: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transferred {
    /// Always `queued`.
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
    pub team: String,
}

/// A conversation's state after the agent returned or closed it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewState {
    #[schema(value_type = crate::engine::Mode)]
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Close {
    #[schema(schema_with = outcomes)]
    pub outcome: String,
}

fn outcomes() -> ObjectBuilder {
    one_of_strings(&["resolved", "referred", "no_response"])
}

/// Knowledge an agent may pass on: at most three topics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestions {
    pub articles: Vec<Suggestion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfflineMessages {
    /// Messages left for closed teams, not yet done.
    pub messages: Vec<OfflineMessage>,
}

/// The `?after=` of an event stream.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// The last message id the client has seen: the stream sends only newer ones. 0 (the
    /// default) sends the whole conversation.
    #[serde(default)]
    pub after: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionGroups {
    /// Most asked first.
    pub groups: Vec<crate::insights::QuestionGroup>,
}

/// Questions an editor has dealt with (added a phrasing, or judged out of scope), by text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dismiss {
    /// 1 to 100 texts, as the list shows them.
    pub texts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Dismissed {
    /// How many stored questions left the list.
    pub removed: usize,
}

/// The `?days=` of the insights.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Days up to and including today: 30 by default, 1 to 90 (more is read as 90, 0 as 1).
    pub days: Option<u32>,
}

/// The `?limit=` of the unanswered questions.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// How many, newest first: 100 by default, at most 500 (more is read as 500, 0 as 1).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnansweredQuestions {
    /// Newest first.
    pub questions: Vec<Unanswered>,
}

/// A question to try against the draft content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Question {
    #[schema(pattern = "\\S")]
    pub text: String,
}

/// How the editor's draft answers a question, and why; and how the published content does.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tried {
    /// The text as the matcher reads it.
    pub normalised: String,
    /// The best topics, best first.
    pub candidates: Vec<Candidate>,
    pub decision: Decision,
    pub matched: Matched,
    /// What a new conversation would be answered.
    pub replies: Vec<Reply>,
    /// How the content serving now answers the same question.
    pub live: TriedLive,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriedLive {
    pub matched: Matched,
    pub replies: Vec<Reply>,
}

/// An editor's draft: their changes over what is live, its problems and its topics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftView {
    pub editor: String,
    /// The published version the changes are over; `None` while serving the shipped folders.
    pub live_version: Option<u64>,
    /// Every file in the draft, `intents/...` then `knowledge-base/...`.
    pub files: Vec<String>,
    pub changes: Vec<crate::content::draft::FileChange>,
    /// What `check` would refuse, each at its file and line; empty when it could be submitted.
    pub problems: Vec<Problem>,
    /// The draft's topics and articles (the live ones while the draft does not load).
    pub topics: Vec<crate::content::draft::TopicSummary>,
}

/// One problem in the content, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    /// The field it concerns (`answer`, `examples`, `facets.cost`), where one does.
    pub field: Option<String>,
    pub message: String,
}

/// One file of an editor's draft, and the same file as it is live.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftFileText {
    pub path: String,
    pub text: String,
    /// `None` when the file is new in the draft.
    pub live_text: Option<String>,
}

/// An approval: now, or at a set time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// When to publish it (RFC 3339, within a year); left out or past, now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub at: Option<String>,
}

/// A file of an editor's draft.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DraftFilePath {
    /// `intents` or `knowledge-base`.
    #[param(pattern = "^(intents|knowledge-base)$")]
    pub folder: String,
    /// The file's name, e.g. `waste.toml` (`*.toml` in intents, `*.md` in knowledge-base).
    #[param(pattern = "^[a-z0-9_-]{1,80}\\.(toml|md)$")]
    pub name: String,
}

/// A content file's new text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileText {
    /// At most 512 KiB.
    pub text: String,
}

/// A question to add to a topic's phrasings in the editor's draft.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPhrasing {
    /// An intent's or an article's id.
    pub topic: String,
    /// 1 to 300 characters.
    #[schema(pattern = "\\S", max_length = 300)]
    pub text: String,
}

/// One intent of an editor's draft as a form of fields, with where it is and what the content
/// rules say about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntentView {
    /// The intents file it is in.
    pub path: String,
    /// The line of its `[[intent]]` header in that file.
    pub line: usize,
    pub intent: crate::content::form::IntentForm,
    /// The content's problems with this intent, each naming its field where it can.
    pub problems: Vec<Problem>,
    /// The whole draft after the change.
    pub draft: DraftView,
}

/// An intent's fields to save into the editor's draft. `path` (`intents/roads.toml`) names the
/// file a new intent is added to; an intent that exists stays in its own file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentSave {
    pub intent: crate::content::form::IntentForm,
    #[serde(default)]
    pub path: Option<String>,
}

/// What a change does to the content, file by file, line by line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentDiff {
    pub files: Vec<crate::content::diff::FileDiff>,
}

/// What went live.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Published {
    pub intents: usize,
    pub articles: usize,
    /// The matcher's feature count.
    pub features: usize,
    /// The version it was recorded as; every instance serves it within seconds.
    pub version: ContentVersion,
}

/// Why a change is published, for the history. The body may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// A short description of the change, at most 500 characters.
    #[serde(default)]
    pub message: Option<String>,
}

/// Why a submission is rejected.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// For the author: what to change, 1 to 500 characters.
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submissions {
    /// Newest first.
    pub submissions: Vec<Submission>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// The published versions, newest first, and the one this instance serves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContentVersions {
    /// The version this instance serves; `null` while it serves the folders it started with.
    pub serving: Option<u64>,
    pub versions: Vec<ContentVersion>,
}

/// A string that is one of `values`.
fn one_of_strings(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied()))
}

/// The engine's types that the API sends, described here so that `src/engine` stays free of
/// the document's library: each shape below is what serde writes for the engine type it names,
/// and the tests at the end of this file fail when the two drift apart.
mod engine_shapes {
    #![allow(dead_code)] // Shapes only describe; they are never built.

    use serde::Serialize;
    use utoipa::ToSchema;

    use crate::content::Link;
    use crate::engine::{MatchKind, Mode};

    /// Who is answering the resident: the assistant (`bot`), nobody yet (`queued`, waiting for
    /// a person), a person (`agent`), or nobody any more (`closed`).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    #[schema(as = Mode)]
    pub enum ModeShape {
        Bot,
        Queued,
        Agent,
        Closed,
    }

    /// How a message was understood: a topic (`intent` or `article`), a "did you mean"
    /// (`clarify`) or nothing the assistant can answer (`none`).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    #[schema(as = MatchKind)]
    pub enum MatchKindShape {
        Intent,
        Article,
        Clarify,
        None,
    }

    /// The `matched` object: what the message was matched to, and how surely (0 to 1).
    #[derive(Serialize, ToSchema)]
    #[schema(as = Matched)]
    pub struct MatchedShape {
        pub kind: MatchKind,
        /// The topic's id, when there is one.
        pub id: Option<String>,
        pub confidence: f32,
    }

    /// One message from the assistant.
    #[derive(Serialize, ToSchema)]
    #[schema(as = Reply)]
    pub struct ReplyShape {
        pub text: String,
        pub quick_replies: Vec<String>,
        pub links: Vec<Link>,
        pub answer: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        pub form: Option<String>,
    }

    /// A topic the matcher considered.
    #[derive(Serialize, ToSchema)]
    #[schema(as = Candidate)]
    pub struct CandidateShape {
        pub id: String,
        pub confidence: f32,
    }

    /// The matcher's decision: answer a topic, ask "did you mean" (`ids`, best first), or
    /// decline (`elsewhere` names a known not-the-council topic when one matched).
    #[derive(Serialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    #[schema(as = Decision)]
    pub enum DecisionShape {
        Answer { id: String, confidence: f32 },
        Clarify { ids: Vec<String>, confidence: f32 },
        Decline { elsewhere: Option<String>, confidence: f32 },
    }

    /// A topic suggested to an agent: its title, link and first paragraph.
    #[derive(Serialize, ToSchema)]
    #[schema(as = Suggestion)]
    pub struct SuggestionShape {
        pub id: String,
        pub title: String,
        pub url: String,
        pub text: String,
    }

    /// Gives an engine type the schema of its shape.
    macro_rules! described_by {
        ($($engine:ty => $shape:ty),* $(,)?) => {$(
            impl utoipa::PartialSchema for $engine {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    <$shape as utoipa::PartialSchema>::schema()
                }
            }

            impl utoipa::ToSchema for $engine {
                fn name() -> std::borrow::Cow<'static, str> {
                    <$shape as utoipa::ToSchema>::name()
                }

                fn schemas(
                    schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
                ) {
                    <$shape as utoipa::ToSchema>::schemas(schemas)
                }
            }
        )*};
    }

    described_by! {
        Mode => ModeShape,
        MatchKind => MatchKindShape,
        crate::engine::Matched => MatchedShape,
        crate::engine::Reply => ReplyShape,
        crate::engine::matcher::Candidate => CandidateShape,
        crate::engine::matcher::Decision => DecisionShape,
        crate::engine::Suggestion => SuggestionShape,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::Serialize;
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    use crate::engine::matcher::{Candidate, Decision};
    use crate::engine::{MatchKind, Matched, Mode, Reply, Suggestion};

    /// The JSON of `value` as the document describes it: its keys, or its string.
    fn written<T: Serialize>(value: &T) -> BTreeSet<String> {
        match serde_json::to_value(value).unwrap() {
            serde_json::Value::Object(map) => map.keys().cloned().collect(),
            serde_json::Value::String(s) => BTreeSet::from([s]),
            other => panic!("unexpected {other}"),
        }
    }

    /// What the schema allows: an object's property names, or a string's values.
    fn described(schema: &RefOr<Schema>) -> BTreeSet<String> {
        let RefOr::T(schema) = schema else { panic!("a reference") };
        let value = serde_json::to_value(schema).unwrap();
        if let Some(properties) = value["properties"].as_object() {
            properties.keys().cloned().collect()
        } else {
            value["enum"]
                .as_array()
                .expect("an object or an enum")
                .iter()
                .map(|v| v.to_string().replace('"', ""))
                .collect()
        }
    }

    /// Each value writes exactly the properties its schema describes.
    fn assert_described<T: Serialize + PartialSchema>(values: &[T]) {
        let schema = T::schema();
        for value in values {
            assert_eq!(written(value), described(&schema), "{}", std::any::type_name::<T>());
        }
    }

    /// The values of an enum, all of them, write exactly the strings its schema allows.
    fn assert_all_described<T: Serialize + PartialSchema>(every: &[T]) {
        let all: BTreeSet<String> = every.iter().flat_map(written).collect();
        assert_eq!(all, described(&T::schema()), "{}", std::any::type_name::<T>());
    }

    #[test]
    fn the_engine_shapes_match_what_serde_writes() {
        // A new variant stops these matches compiling: add it to the lists here and to its shape.
        match Mode::Bot {
            Mode::Bot | Mode::Queued | Mode::Agent | Mode::Closed => {}
        }
        match MatchKind::None {
            MatchKind::Intent | MatchKind::Article | MatchKind::Clarify | MatchKind::None => {}
        }
        assert_all_described(&[Mode::Bot, Mode::Queued, Mode::Agent, Mode::Closed]);
        assert_all_described(&[MatchKind::Intent, MatchKind::Article, MatchKind::Clarify, MatchKind::None]);
        assert_described(&[Matched { kind: MatchKind::Intent, id: Some("x".into()), confidence: 0.5 }]);
        let link = crate::content::Link { title: "t".into(), url: "https://x".into() };
        assert_described(&[Reply {
            text: "t".into(),
            quick_replies: vec![],
            links: vec![link],
            answer: true,
            form: Some("offline_message".into()),
        }]);
        assert_described(&[Candidate { id: "x".into(), confidence: 0.5 }]);
        assert_described(&[Suggestion {
            id: "x".into(),
            title: "t".into(),
            url: "u".into(),
            text: "t".into(),
        }]);
        // A tagged enum: each variant against its own alternative.
        let decisions = [
            Decision::Answer { id: "x".into(), confidence: 0.5 },
            Decision::Clarify { ids: vec!["x".into()], confidence: 0.5 },
            Decision::Decline { elsewhere: None, confidence: 0.1 },
        ];
        match &decisions[0] {
            Decision::Answer { .. } | Decision::Clarify { .. } | Decision::Decline { .. } => {}
        }
        let RefOr::T(Schema::OneOf(one_of)) = Decision::schema() else { panic!("Decision is one of") };
        assert_eq!(one_of.items.len(), decisions.len());
        for (decision, alternative) in decisions.iter().zip(&one_of.items) {
            assert_eq!(written(decision), described(alternative), "{decision:?}");
        }
    }
}
