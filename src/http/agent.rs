//! The agent console's API: queues, claiming, live chat, transfer, return, close, suggestions,
//! canned replies and messages left out of hours. Agents sign in with bearer tokens from
//! configuration, stored hashed; a token without the `agent` role is refused with 403.
//! Over 400 lines because the handoff steps (claim, transfer, return, close) still live in
//! these handlers; they belong in a handoff service over the store traits, which would leave
//! this file the thin HTTP layer the other route files are. Each route's OpenAPI annotation is
//! beside it.

use actix_web::{HttpRequest, HttpResponse, web};

use super::change::{change_conversation, now, system_message};
use super::live;
use super::wire::{
    After, AgentConversation, AgentText, AnswerGiven, Canned, Claimed, Close, ConversationPath, Details, Me,
    Message, NewState, OfflineMessagePath, OfflineMessages, Presence, Queues, Sent, Suggestions, TeamQueue,
    TopicRef, Transfer, Transferred, Typing, Waiting,
};
use super::{AppState, Routes, bearer};
use crate::config::AgentConfig;
use crate::engine::Mode;
use crate::error::{ApiError, ErrorCode};
use crate::handoff::ACTIVE_QUEUE;
use crate::store::{ClaimOutcome, ConversationStore, HandoffStore, NewMessage, Role};

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    me,
    presence,
    queue,
    canned,
    offline_messages,
    offline_done,
    conversation,
    events,
    claim,
    send,
    typing,
    transfer,
    return_to_assistant,
    close,
    suggestions
))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/agent/me", |r| r.get(me))
        .at("/api/v1/agent/presence", |r| r.post(presence))
        .at("/api/v1/agent/queue", |r| r.get(queue))
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

/// The signed-in person, if their token is known and carries `role`.
pub fn authorise(state: &AppState, request: &HttpRequest, role: &str) -> Result<AgentConfig, ApiError> {
    let token = bearer(request, "Sign in with your agent token.")?;
    let agent = state
        .handoff
        .agent_for_token(token)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "That token is not known."))?;
    if !agent.roles.iter().any(|r| r == role) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("This needs the {role} role.")));
    }
    Ok(agent.clone())
}

pub(crate) fn agent(state: &AppState, request: &HttpRequest) -> Result<AgentConfig, ApiError> {
    authorise(state, request, "agent")
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
    )
)]
async fn me(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let agent = agent(&state, &request)?;
    Ok(HttpResponse::Ok().json(Me { name: agent.name, roles: agent.roles }))
}

/// How long a heartbeat keeps an agent present.
const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn presence(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Presence>,
) -> Result<HttpResponse, ApiError> {
    let agent = agent(&state, &request)?;
    if !matches!(body.status.as_str(), "online" | "away") {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "status is online or away."));
    }
    state.store.set_presence(&agent.name, &body.status, PRESENCE_TTL).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn waiting(state: &AppState, id: &str, team: &str, since_millis: i64) -> Option<Waiting> {
    let snapshot = state.store.load(id).await.ok()??;
    let conversation = snapshot.state;
    let engine = state.engine();
    let messages = state.store.messages(id, 0).await.ok()?;
    let last_message =
        messages.iter().rev().find(|m| m.message.role == Role::Resident).map(|m| m.message.text.clone());
    let topic = conversation.current_topic().map(str::to_string);
    Some(Waiting {
        id: id.to_string(),
        team: team.to_string(),
        waiting_seconds: (chrono::Utc::now().timestamp_millis() - since_millis).max(0) / 1000,
        topic_title: topic.as_deref().map(|t| engine.title_of(t)),
        topic,
        place: conversation.place.as_ref().map(|p| p.name.clone()),
        district: conversation.place.as_ref().and_then(|p| engine.district_name(&p.district_id)),
        last_message,
        state: conversation.mode.as_str().to_string(),
        agent: conversation.agent,
    })
}

/// Agents whose heartbeat is live and who are not away.
pub async fn online_agents(state: &AppState) -> Result<usize, crate::store::StoreError> {
    Ok(state.store.presence().await?.iter().filter(|(_, status)| status == "online").count())
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn queue(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let online = online_agents(&state).await?;
    let mut teams = Vec::new();
    for team in state.handoff.teams() {
        let mut entries = Vec::new();
        for (id, since) in state.store.queue(&team.id).await? {
            if let Some(w) = waiting(&state, &id, &team.id, since).await {
                entries.push(w);
            }
        }
        let opens = state.handoff.closed_until(team, chrono::Utc::now());
        teams.push(TeamQueue {
            id: team.id.clone(),
            name: team.name.clone(),
            open: opens.is_none(),
            opens,
            agents_online: online,
            waiting: entries,
        });
    }
    let mut mine = Vec::new();
    for (id, since) in state.store.queue(ACTIVE_QUEUE).await? {
        if let Some(w) = waiting(&state, &id, "", since).await
            && w.agent.as_deref() == Some(me.name.as_str())
        {
            mine.push(w);
        }
    }
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
    )
)]
async fn canned(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn conversation(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner().id;
    let snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    let conversation = snapshot.state;
    let messages = state.store.messages(&id, 0).await?;
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 429, description = "too_many_streams"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "busy, store_unavailable"),
    )
)]
async fn events(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    after: web::Query<After>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner().id;
    state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    live::respond(state, id, after.after)
}

/// Takes a waiting conversation, atomically: a second agent gets 409 `already_claimed`.
/// Claiming one already held by this agent is allowed. No body is read.
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/claim",
    operation_id = "agent_claim",
    tag = "agent",
    params(ConversationPath),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "This agent holds it.", body = Claimed),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict, already_claimed"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn claim(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    let snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    if !matches!(snapshot.state.mode, Mode::Queued | Mode::Agent) {
        return Err(ApiError::new(ErrorCode::Conflict, "This conversation is not waiting for a person."));
    }
    if let ClaimOutcome::AlreadyClaimed(holder) = state.store.claim(&id, &me.name).await? {
        return Err(ApiError::new(
            ErrorCode::AlreadyClaimed,
            format!("{holder} has already taken this conversation."),
        ));
    }
    let result = change_conversation(&state, &id, |conversation| {
        if conversation.mode == Mode::Agent && conversation.agent.as_deref() == Some(me.name.as_str()) {
            return Ok(Vec::new());
        }
        if conversation.mode != Mode::Queued {
            return Err(ApiError::new(ErrorCode::Conflict, "This conversation is no longer waiting."));
        }
        conversation.mode = Mode::Agent;
        conversation.agent = Some(me.name.clone());
        Ok(vec![system_message(format!("{} has joined the conversation.", me.name))])
    })
    .await;
    let (conversation, _) = match result {
        Ok(done) => done,
        Err(error) => {
            state.store.release(&id).await?;
            return Err(error);
        }
    };
    if let Some(team) = &conversation.team {
        state.store.dequeue(team, &id).await?;
    }
    state.store.enqueue(ACTIVE_QUEUE, &id, chrono::Utc::now().timestamp_millis()).await?;
    tracing::info!(conversation = %id, agent = %me.name, "claimed");
    Ok(HttpResponse::Ok().json(Claimed { state: Mode::Agent.as_str().to_string(), agent: me.name }))
}

/// The conversation must be held by this agent.
fn held_by(me: &AgentConfig, conversation: &crate::engine::ConversationState) -> Result<(), ApiError> {
    if conversation.mode == Mode::Agent && conversation.agent.as_deref() == Some(me.name.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Conflict, "Claim this conversation first."))
    }
}

/// The agent's message to the resident, in a conversation this agent holds.
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/messages",
    operation_id = "agent_send",
    tag = "agent",
    params(ConversationPath),
    request_body = AgentText,
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The message as stored.", body = Sent),
        (status = 400, description = "malformed_json, invalid_request, empty_text, text_too_long"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn send(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<AgentText>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    let text = body.into_inner().text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The message is empty."));
    }
    if text.chars().count() > state.settings.max_text_chars * 4 {
        return Err(ApiError::new(ErrorCode::TextTooLong, "The message is too long."));
    }
    // The same rule as for residents: no personal data is stored, whoever types it; the
    // council's published numbers stay.
    let text = state.engine().redact(&text);
    let (_, stored) = change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        Ok(vec![NewMessage {
            author: Some(me.name.clone()),
            ..NewMessage::plain(Role::Agent, text.clone(), now())
        }])
    })
    .await?;
    state.store.set_typing(&id, true, false).await?;
    let message = stored.into_iter().next().map(Message::from);
    Ok(HttpResponse::Ok().json(Sent { message }))
}

/// Tells the resident the agent is typing (it lapses after 4 s without another).
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/typing",
    operation_id = "agent_typing",
    tag = "agent",
    params(ConversationPath),
    request_body = Typing,
    security(("agent_token" = [])),
    responses(
        (status = 204, description = "Passed on."),
        (status = 400, description = "malformed_json, invalid_request"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn typing(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<Typing>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    // Only the agent holding a conversation types in it: no entries for ids that do not exist.
    let snapshot = state
        .store
        .load(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "No such conversation."))?;
    held_by(&me, &snapshot.state)?;
    state.store.set_typing(&id, true, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Passes a conversation this agent holds to another team's queue.
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/transfer",
    operation_id = "agent_transfer",
    tag = "agent",
    params(ConversationPath),
    request_body = Transfer,
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "Waiting in the team's queue.", body = Transferred),
        (status = 400, description = "malformed_json, invalid_request"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn transfer(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<Transfer>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    let team = state
        .handoff
        .team(&body.team)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "There is no such team."))?
        .clone();
    change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Queued;
        conversation.agent = None;
        conversation.team = Some(team.id.clone());
        Ok(vec![system_message(format!("You are being passed to our {} team. Please wait.", team.name))])
    })
    .await?;
    state.store.release(&id).await?;
    state.store.dequeue(ACTIVE_QUEUE, &id).await?;
    state.store.enqueue(&team.id, &id, chrono::Utc::now().timestamp_millis()).await?;
    Ok(HttpResponse::Ok().json(Transferred { state: Mode::Queued.as_str().to_string(), team: team.id }))
}

/// Hands a conversation this agent holds back to the assistant. No body is read.
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/return",
    operation_id = "agent_return",
    tag = "agent",
    params(ConversationPath),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "With the assistant again.", body = NewState),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn return_to_assistant(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Bot;
        conversation.agent = None;
        conversation.unanswered = 0;
        conversation.offers.clear();
        Ok(vec![system_message("You are back with the automated assistant. Ask me anything else.")])
    })
    .await?;
    state.store.release(&id).await?;
    state.store.dequeue(ACTIVE_QUEUE, &id).await?;
    Ok(HttpResponse::Ok().json(NewState { state: Mode::Bot.as_str().to_string() }))
}

/// Ends a conversation this agent holds, with its outcome.
#[utoipa::path(
    post,
    path = "/api/v1/agent/conversations/{id}/close",
    operation_id = "agent_close",
    tag = "agent",
    params(ConversationPath),
    request_body = Close,
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "Closed.", body = NewState),
        (status = 400, description = "malformed_json, invalid_request"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn close(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<Close>,
) -> Result<HttpResponse, ApiError> {
    let me = agent(&state, &request)?;
    let id = path.into_inner().id;
    let outcome = body.into_inner().outcome;
    if !matches!(outcome.as_str(), "resolved" | "referred" | "no_response") {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "outcome is resolved, referred or no_response.",
        ));
    }
    let (conversation, _) = change_conversation(&state, &id, |conversation| {
        held_by(&me, conversation)?;
        conversation.mode = Mode::Closed;
        conversation.agent = None;
        conversation.outcome = Some(outcome.clone());
        Ok(vec![system_message(
            "This conversation has ended. Thank you for contacting Hertfordshire County Council.",
        )])
    })
    .await?;
    state.store.release(&id).await?;
    live::leave_queues(&state, conversation.team.as_deref(), &id).await?;
    tracing::info!(conversation = %id, agent = %me.name, %outcome, "closed");
    Ok(HttpResponse::Ok().json(NewState { state: Mode::Closed.as_str().to_string() }))
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
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn suggestions(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    let id = path.into_inner().id;
    let messages = state.store.messages(&id, 0).await?;
    let resident: Vec<&str> = messages
        .iter()
        .filter(|m| m.message.role == Role::Resident)
        .map(|m| m.message.text.as_str())
        .collect();
    let conversation = state.store.load(&id).await?.map(|s| s.state);
    let engine = state.engine();
    let topic = conversation.as_ref().and_then(|c| c.current_topic());
    let Some(text) = engine.suggestion_text(&resident, topic) else {
        return Ok(HttpResponse::Ok().json(Suggestions { articles: Vec::new() }));
    };
    let place = conversation.and_then(|c| c.place);
    let articles = engine.suggestions(&text, place.as_ref(), 3);
    Ok(HttpResponse::Ok().json(Suggestions { articles }))
}

/// Messages residents left while their team was closed, not yet done.
#[utoipa::path(
    get,
    path = "/api/v1/agent/offline-messages",
    operation_id = "agent_offline_messages",
    tag = "agent",
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "The messages.", body = OfflineMessages),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn offline_messages(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    Ok(HttpResponse::Ok().json(OfflineMessages { messages: state.store.offline().await? }))
}

/// Marks a left message done: it is deleted, with its contact details. No body is read.
#[utoipa::path(
    post,
    path = "/api/v1/agent/offline-messages/{id}/done",
    operation_id = "agent_offline_message_done",
    tag = "agent",
    params(OfflineMessagePath),
    security(("agent_token" = [])),
    responses(
        (status = 204, description = "Done and deleted."),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn offline_done(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<OfflineMessagePath>,
) -> Result<HttpResponse, ApiError> {
    agent(&state, &request)?;
    if state.store.mark_offline_done(&path.into_inner().id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(ErrorCode::NotFound, "No such message."))
    }
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
