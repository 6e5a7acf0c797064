//! The agent console's API: queues, claiming, live chat, transfer, return, close, suggestions,
//! canned replies and messages left out of hours. Each handler takes the signed-in [`Agent`]
//! (auth.rs: 401 without a known token, 403 without the `agent` role), calls the handoff
//! service (`crate::handoff::service`) and shapes the wire response; each route's OpenAPI
//! annotation is beside it. Here: who is signed in, presence, the queues, canned replies, a
//! conversation's details, its event stream and suggestions; `actions.rs` changes things.

use crate::http::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpResponse, web};

mod actions;

use actions::{claim, close, offline_done, offline_messages, return_to_assistant, send, transfer, typing};

use super::auth::Agent;
use super::wire::{
    After, AgentConversation, AnswerGiven, Canned, ConversationPath, Details, Me, Message, Presence, Queues,
    Suggestions, TeamQueue, TopicRef, Waiting,
};
use super::{AppState, Routes, live};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::handoff::service::WaitingConversation;
use crate::store::Role;

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    me,
    presence,
    queue,
    queue_events,
    canned,
    actions::offline_messages,
    actions::offline_done,
    conversation,
    events,
    actions::claim,
    actions::send,
    actions::typing,
    actions::transfer,
    actions::return_to_assistant,
    actions::close,
    suggestions
))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/agent/me", |r| r.get(me))
        .at("/api/v1/agent/presence", |r| r.post(presence))
        .at("/api/v1/agent/queue", |r| r.get(queue))
        .at("/api/v1/agent/queue/events", |r| r.get(queue_events))
        .at("/api/v1/agent/canned", |r| r.get(canned))
        .at("/api/v1/agent/offline-messages", |r| r.get(offline_messages))
        .at("/api/v1/agent/offline-messages/{id}/done", |r| r.post(offline_done))
        .at("/api/v1/agent/conversations/{id}", |r| r.get(conversation))
        .at("/api/v1/agent/conversations/{id}/events", |r| r.get(events))
        .at("/api/v1/agent/conversations/{id}/claim", |r| r.post(claim))
        .at("/api/v1/agent/conversations/{id}/messages", |r| r.post(send))
        .at("/api/v1/agent/conversations/{id}/typing", |r| r.post(typing))
        .at("/api/v1/agent/conversations/{id}/transfer", |r| r.post(transfer))
        .at("/api/v1/agent/conversations/{id}/return", |r| r.post(return_to_assistant))
        .at("/api/v1/agent/conversations/{id}/close", |r| r.post(close))
        .at("/api/v1/agent/conversations/{id}/suggestions", |r| r.get(suggestions));
}

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/api/v1/agent/me",
    operation_id = "agent_me",
    tag = "agent",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The signed-in agent.", body = Me),
        StaffAccess,
    )
)]
async fn me(Agent(agent): Agent) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(Me { name: agent.name, roles: agent.roles }))
}

/// The agent's heartbeat: send it every 30 s or so while the console is open.
#[utoipa::path(
    post,
    path = "/api/v1/agent/presence",
    operation_id = "agent_presence",
    tag = "agent",
    request_body = Presence,
    security(("agent_token" = [])),
    responses(
        (status = 204, description = "Present until 60 s from now."),
        (status = 400, description = "malformed_json, invalid_request"),
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
async fn presence(
    state: web::Data<AppState>,
    body: web::Json<Presence>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    state.handoff_service().set_presence(&me.name, &body.status).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A waiting conversation as the console lists it, with the titles the engine knows.
fn waiting(engine: &Engine, waiting: WaitingConversation) -> Waiting {
    let conversation = waiting.conversation;
    let topic = conversation.current_topic().map(str::to_string);
    Waiting {
        id: waiting.id,
        team: waiting.team,
        waiting_seconds: waiting.waiting_seconds,
        topic_title: topic.as_deref().map(|t| engine.title_of(t)),
        topic,
        place: conversation.place.as_ref().map(|p| p.name.clone()),
        district: conversation.place.as_ref().and_then(|p| engine.district_name(&p.district_id)),
        last_message: waiting.last_message,
        state: conversation.mode.as_str().to_string(),
        agent: conversation.agent,
    }
}

/// Every team's queue, whether the team is open, and the conversations this agent holds.
#[utoipa::path(
    get,
    path = "/api/v1/agent/queue",
    operation_id = "agent_queue",
    tag = "agent",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The queues.", body = Queues),
        StaffAccess,
        StoreFailures,
    )
)]
async fn queue(state: web::Data<AppState>, me: Agent) -> Result<HttpResponse, ApiError> {
    let view = state.handoff_service().queues(&me.name).await?;
    let engine = state.engine();
    let teams = view
        .teams
        .into_iter()
        .map(|t| TeamQueue {
            id: t.team.id,
            name: t.team.name,
            open: t.opens.is_none(),
            opens: t.opens,
            agents_online: view.agents_online,
            waiting: t.waiting.into_iter().map(|w| waiting(&engine, w)).collect(),
        })
        .collect();
    let mine = view.mine.into_iter().map(|w| waiting(&engine, w)).collect();
    Ok(HttpResponse::Ok().json(Queues { teams, mine }))
}

/// The canned replies the console offers.
#[utoipa::path(
    get,
    path = "/api/v1/agent/canned",
    operation_id = "agent_canned",
    tag = "agent",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The canned replies.", body = Canned),
        StaffAccess,
    )
)]
async fn canned(state: web::Data<AppState>, _: Agent) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(Canned { replies: state.settings.canned_replies.clone() }))
}

/// A conversation with the details the resident already gave.
#[utoipa::path(
    get,
    path = "/api/v1/agent/conversations/{id}",
    operation_id = "agent_conversation",
    tag = "agent",
    params(ConversationPath),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The conversation.", body = AgentConversation),
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        StoreFailures,
    )
)]
async fn conversation(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    _: Agent,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let (conversation, messages) = state.handoff_service().conversation(&id).await?;
    let engine = state.engine();
    // Everything the resident already told the assistant, so they never repeat it.
    let questions = messages
        .iter()
        .filter(|m| m.message.role == Role::Resident)
        .map(|m| m.message.text.clone())
        .collect();
    let answers = messages
        .iter()
        .filter(|m| m.message.role == Role::Bot && m.message.answer)
        .map(|m| AnswerGiven { text: shorten(&m.message.text, 280) })
        .collect();
    let topics =
        conversation.topics.iter().map(|t| TopicRef { id: t.clone(), title: engine.title_of(t) }).collect();
    let details = Details {
        place: conversation.place.as_ref().map(|p| p.name.clone()),
        district: conversation.place.as_ref().and_then(|p| engine.district_name(&p.district_id)),
        topics,
        questions,
        answers,
    };
    Ok(HttpResponse::Ok().json(AgentConversation {
        id,
        state: conversation.mode.as_str().to_string(),
        team: conversation.team,
        agent: conversation.agent,
        details,
        messages: messages.into_iter().map(Message::from).collect(),
    }))
}

/// Queue changes, as server-sent events: `queue` (data `{}`) when the stream opens and whenever
/// a conversation joins or leaves any queue, on any instance; read `/api/v1/agent/queue` then.
/// Comments (`: keepalive`) keep the connection open while the queues are still.
#[utoipa::path(
    get,
    path = "/api/v1/agent/queue/events",
    operation_id = "agent_queue_events",
    tag = "agent",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        StaffAccess,
        (status = 429, description = "too_many_streams"),
        (status = 503, description = "busy"),
    )
)]
async fn queue_events(state: web::Data<AppState>, me: Agent) -> Result<HttpResponse, ApiError> {
    live::respond_queue(state, &me.name)
}

/// The conversation live, as server-sent events: the same stream the resident gets.
#[utoipa::path(
    get,
    path = "/api/v1/agent/conversations/{id}/events",
    operation_id = "agent_events",
    tag = "agent",
    params(ConversationPath, After),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 429, description = "too_many_streams"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "busy, store_unavailable"),
    )
)]
async fn events(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    after: web::Query<After>,
    _: Agent,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    state.handoff_service().existing(&id).await?;
    live::respond(state, id, after.after)
}

/// Knowledge for the newest resident message that asks about a council topic, else for the
/// conversation's topic. An unknown conversation has none.
#[utoipa::path(
    get,
    path = "/api/v1/agent/conversations/{id}/suggestions",
    operation_id = "agent_suggestions",
    tag = "agent",
    params(ConversationPath),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "Up to three topics, best first.", body = Suggestions),
        StaffAccess,
        StoreFailures,
    )
)]
async fn suggestions(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    _: Agent,
) -> Result<HttpResponse, ApiError> {
    let (questions, conversation) = state.handoff_service().resident_questions(&path.into_inner().id).await?;
    let resident: Vec<&str> = questions.iter().map(String::as_str).collect();
    let engine = state.engine();
    let topic = conversation.as_ref().and_then(|c| c.current_topic());
    let Some(text) = engine.suggestion_text(&resident, topic) else {
        return Ok(HttpResponse::Ok().json(Suggestions { articles: Vec::new() }));
    };
    let place = conversation.and_then(|c| c.place);
    let articles = engine.suggestions(&text, place.as_ref(), 3);
    Ok(HttpResponse::Ok().json(Suggestions { articles }))
}

/// At most `limit` characters, cut at a word boundary, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let at_word = cut.rfind(char::is_whitespace).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    #[test]
    fn shortens_at_a_word() {
        assert_eq!(super::shorten("short", 10), "short");
        assert_eq!(super::shorten("one two three four", 9), "one two…");
    }
}
