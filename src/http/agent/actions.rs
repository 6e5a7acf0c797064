//! The console's actions on a conversation (claim, send, typing, transfer, return, close) and
//! on the messages residents left out of hours: each parses, takes the signed-in [`Agent`],
//! calls the handoff service and shapes the response.

use super::super::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpResponse, web};

use super::super::AppState;
use super::super::auth::Agent;
use super::super::wire::{
    AgentText, Claimed, Close, ConversationPath, Message, NewState, OfflineMessagePath, OfflineMessages,
    Sent, Transfer, Transferred, Typing,
};
use crate::engine::Mode;
use crate::error::{ApiError, ErrorCode};
use crate::handoff::service::Outcome;

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
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict, already_claimed"),
        StoreFailures,
    )
)]
pub(super) async fn claim(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    state.handoff_service().claim(&path.into_inner().id, &me.name).await?;
    Ok(HttpResponse::Ok().json(Claimed { state: Mode::Agent.as_str().to_string(), agent: me.0.name }))
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
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn send(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    body: web::Json<AgentText>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
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
    let stored = state.handoff_service().send(&id, &me.name, &text).await?;
    Ok(HttpResponse::Ok().json(Sent { message: stored.map(Message::from) }))
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
        StaffAccess,
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn typing(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    body: web::Json<Typing>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    state.handoff_service().agent_typing(&path.into_inner().id, &me.name, body.typing).await?;
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
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn transfer(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    body: web::Json<Transfer>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    let team = state.handoff_service().transfer(&path.into_inner().id, &me.name, &body.team).await?;
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
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        StoreFailures,
    )
)]
pub(super) async fn return_to_assistant(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    state.handoff_service().return_to_assistant(&path.into_inner().id, &me.name).await?;
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
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn close(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    body: web::Json<Close>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    let outcome = Outcome::parse(&body.outcome)?;
    state.handoff_service().close(&path.into_inner().id, &me.name, outcome).await?;
    Ok(HttpResponse::Ok().json(NewState { state: Mode::Closed.as_str().to_string() }))
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
        StaffAccess,
        StoreFailures,
    )
)]
pub(super) async fn offline_messages(state: web::Data<AppState>, _: Agent) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(OfflineMessages { messages: state.handoff_service().offline_messages().await? }))
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
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn offline_done(
    state: web::Data<AppState>,
    path: web::Path<OfflineMessagePath>,
    _: Agent,
) -> Result<HttpResponse, ApiError> {
    state.handoff_service().offline_done(&path.into_inner().id).await?;
    Ok(HttpResponse::NoContent().finish())
}
