//! What residents can ask about the data kept on them: everything about one conversation as
//! JSON (a subject access request), by its token or, for a resident who asks by phone, through
//! an agent. Erasure is `DELETE` on the conversation (conversations.rs).

use super::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::{self, Agent};
use super::wire::{ConversationPath, Export, Message};
use super::{AppState, Routes};
use crate::error::ApiError;
use crate::handoff::service::timestamp;
use crate::store::{ConversationStore, HandoffStore, Snapshot};

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(export, export_for_agent))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/conversations/{id}/export", |r| r.get(export))
        .at("/api/v1/agent/conversations/{id}/export", |r| r.get(export_for_agent));
}

/// Everything kept about the conversation (a subject access request).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/export",
    operation_id = "export_conversation",
    tag = "resident",
    params(ConversationPath),
    security(("conversation_token" = [])),
    responses(
        (status = 200, description = "Everything kept about it.", body = Export),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        StoreFailures,
    )
)]
async fn export(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let snapshot = auth::resident(&state, &request, &id).await?;
    Ok(HttpResponse::Ok().json(export_of(&state, &id, snapshot).await?))
}

/// Everything stored about one conversation, gathered from every place it is kept.
async fn export_of(state: &AppState, id: &str, snapshot: Snapshot) -> Result<Export, ApiError> {
    let messages = state.store.messages(id, 0).await?;
    let feedback = state.store.feedback(id).await?;
    let offline_messages =
        state.store.offline().await?.into_iter().filter(|m| m.conversation.as_deref() == Some(id)).collect();
    let conversation = snapshot.state;
    Ok(Export {
        id: id.to_string(),
        exported_at: timestamp(chrono::Utc::now()),
        retention_days: state.settings.retention_days,
        state: conversation.mode.as_str().to_string(),
        place: conversation.place.map(|p| p.name),
        topics: conversation.topics,
        agent: conversation.agent,
        messages: messages.into_iter().map(Message::from).collect(),
        feedback,
        offline_messages,
    })
}

/// A resident who asks by phone what is held about them: the agent exports it for them (logged).
#[utoipa::path(
    get,
    path = "/api/v1/agent/conversations/{id}/export",
    operation_id = "agent_export",
    tag = "agent",
    params(ConversationPath),
    security(("agent_token" = [])),
    responses(
        (status = 200, description = "Everything kept about it.", body = Export),
        StaffAccess,
        (status = 404, description = "conversation_not_found"),
        StoreFailures,
    )
)]
async fn export_for_agent(
    state: web::Data<AppState>,
    path: web::Path<ConversationPath>,
    me: Agent,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
    tracing::info!(conversation = %id, agent = %me.name, "conversation exported for its resident");
    Ok(HttpResponse::Ok().json(export_of(&state, &id, snapshot).await?))
}
