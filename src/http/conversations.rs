//! The resident API: start a conversation, send a message, read the transcript, erase it, give
//! feedback on an answer; waiting for a person goes through the handoff service. Over 400
//! lines: each route carries its OpenAPI annotation (every status it answers with, and the
//! error codes), next to the code that decides them.

use super::responses::StoreFailures;
use actix_web::{HttpRequest, HttpResponse, web};
use rand::RngCore;

use super::auth::resident as authorised;
use super::wire::{
    After, ConversationPath, Created, LeaveMessage, LeftQueue, Message, MessageLeft, PostFeedback,
    PostMessage, Transcript, TurnReply, Typing,
};
use super::{Action, AppState, Routes, live};
use crate::engine::{ConversationState, Reply};
use crate::error::{ApiError, ErrorCode};
use crate::handoff::hash_token;
use crate::handoff::service::{MAX_COMMIT_ATTEMPTS, timestamp};
use crate::store::{
    CommitOutcome, ConversationStore, Feedback, HandoffStore, NewMessage, OfflineMessage, Role,
};

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    post_message,
    transcript,
    erase,
    feedback,
    events,
    typing,
    leave_queue,
    offline_message
))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/conversations", |r| r.post(create))
        .at("/api/v1/conversations/{id}", |r| r.get(transcript).delete(erase))
        .at("/api/v1/conversations/{id}/messages", |r| r.post(post_message))
        .at("/api/v1/conversations/{id}/feedback", |r| r.post(feedback))
        .at("/api/v1/conversations/{id}/events", |r| r.get(events))
        .at("/api/v1/conversations/{id}/typing", |r| r.post(typing))
        .at("/api/v1/conversations/{id}/leave-queue", |r| r.post(leave_queue))
        .at("/api/v1/conversations/{id}/offline-message", |r| r.post(offline_message));
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn bot_message(reply: Reply, at: &str) -> NewMessage {
    NewMessage {
        quick_replies: reply.quick_replies,
        links: reply.links,
        answer: reply.answer,
        form: reply.form,
        ..NewMessage::plain(Role::Bot, reply.text, at)
    }
}

fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// Starts a conversation: its id, its token and the welcome. No body is read.
#[utoipa::path(
    post,
    path = "/api/v1/conversations",
    operation_id = "create_conversation",
    tag = "resident",
    responses(
        (status = 201, description = "The new conversation; keep the token.", body = Created),
        (status = 429, description = "rate_limited"),
        StoreFailures,
    )
)]
async fn create(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    state.check_client(&request, Action::Start)?;
    let id = random_hex(16);
    let token = random_hex(32);
    let engine = state.engine();
    let conversation = ConversationState::default();
    let welcome = bot_message(engine.welcome(), &now());
    let stored = state.store.create(&id, &hash_token(&token), &conversation, vec![welcome]).await?;
    state.metrics.conversations.inc();
    tracing::info!(conversation = %id, "conversation started");
    Ok(HttpResponse::Created().json(Created {
        id,
        token,
        state: conversation.mode.as_str().to_string(),
        messages: stored.into_iter().map(Message::from).collect(),
    }))
}

/// Sends the resident's message; the assistant's replies come back (and on the event stream).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    operation_id = "post_message",
    tag = "resident",
    params(ConversationPath),
    request_body = PostMessage,
    security(("conversation_token" = [])),
    responses(
        (status = 200, description = "The message as stored and the replies.", body = TurnReply),
        (status = 400, description = "malformed_json, invalid_request, empty_text, text_too_long"),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 429, description = "rate_limited"),
        StoreFailures,
    )
)]
async fn post_message(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    state.check_client(&request, Action::Message)?;
    let text = body.into_inner().text;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The message is empty."));
    }
    let limit = state.settings.max_text_chars;
    if trimmed.chars().count() > limit {
        return Err(ApiError::new(
            ErrorCode::TextTooLong,
            format!("The message is longer than {limit} characters."),
        ));
    }
    let mut snapshot = authorised(&state, &request, &id).await?;
    state.check_rate(&id)?;
    let _guard = state.lock_for(&id).lock().await;
    let engine = state.engine();
    // Personal data is redacted before it is stored or logged; the engine sees the whole text
    // so that what a topic needs (the town) is kept in the conversation's slots.
    let stored_text = engine.redact(trimmed);
    for attempt in 0..MAX_COMMIT_ATTEMPTS {
        if attempt > 0 {
            snapshot = state.store.load(&id).await?.ok_or_else(ApiError::conversation_not_found)?;
        }
        let context = state.handoff.context(chrono::Utc::now());
        let picked = snapshot.state.clarify_pick(trimmed).map(str::to_string);
        let turn = engine.reply(&snapshot.state, trimmed, &context);
        let at = now();
        let mut messages = vec![NewMessage::plain(Role::Resident, stored_text.clone(), at.clone())];
        let answered_at_all = !turn.replies.is_empty();
        messages.extend(turn.replies.into_iter().map(|r| bot_message(r, &at)));
        match state.store.commit(&id, snapshot.version, &turn.state, messages).await? {
            CommitOutcome::Committed(stored) => {
                tracing::info!(
                    conversation = %id,
                    kind = ?turn.matched.kind,
                    topic = turn.matched.id.as_deref().unwrap_or("-"),
                    confidence = turn.matched.confidence,
                    "answered"
                );
                if answered_at_all
                    && matches!(
                        turn.matched.kind,
                        crate::engine::MatchKind::None | crate::engine::MatchKind::Clarify
                    )
                {
                    record_unanswered(&state, &stored_text, &turn.matched, turn.best_candidate.as_ref())
                        .await;
                }
                if let Some(topic) = picked.filter(|p| turn.matched.id.as_ref() == Some(p)) {
                    record_pick(&state, &id, &stored, topic).await;
                }
                if answered_at_all {
                    let kind = serde_json::to_value(turn.matched.kind).ok();
                    let kind = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("none");
                    state.metrics.answers.with_label_values(&[kind]).inc();
                }
                if answered_at_all {
                    let mut counted: Vec<_> =
                        crate::insights::outcome_of(&turn.matched, &engine.content).into_iter().collect();
                    // The welcome is message 1: a resident's message stored as 2 is their first.
                    if stored.first().is_some_and(|m| m.id == 2) {
                        counted.push((crate::insights::NO_TOPIC.into(), crate::insights::CONVERSATIONS));
                    }
                    if turn.handoff.is_some() {
                        let topic = turn.matched.id.clone().or_else(|| turn.state.topic.clone());
                        counted.push((
                            topic.unwrap_or_else(|| crate::insights::NO_TOPIC.into()),
                            crate::insights::HANDED_OFF,
                        ));
                    }
                    count_later(&state, counted);
                }
                let mut queue = None;
                if let Some(handoff) = &turn.handoff {
                    queue = state.handoff_service().hand_over(&handoff.team, &id).await?;
                    state.metrics.handoffs.with_label_values(&[handoff.team.as_str()]).inc();
                    tracing::info!(conversation = %id, team = %handoff.team, reason = ?handoff.reason, "handed to a person");
                }
                return Ok(HttpResponse::Ok().json(TurnReply {
                    messages: stored.into_iter().map(Message::from).collect(),
                    matched: turn.matched,
                    state: turn.state.mode.as_str().to_string(),
                    queue,
                }));
            }
            CommitOutcome::Conflict => continue,
            CommitOutcome::Gone => return Err(ApiError::conversation_not_found()),
        }
    }
    Err(ApiError::new(ErrorCode::Conflict, "Too many messages at once on this conversation. Please resend."))
}

/// The conversation so far: every message, who holds it, the queue place.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    operation_id = "get_transcript",
    tag = "resident",
    params(ConversationPath),
    security(("conversation_token" = [])),
    responses(
        (status = 200, description = "The transcript.", body = Transcript),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        StoreFailures,
    )
)]
async fn transcript(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let snapshot = authorised(&state, &request, &id).await?;
    let messages = state.store.messages(&id, 0).await?;
    let queue = state.handoff_service().queue_status_of(&snapshot.state, &id).await;
    Ok(HttpResponse::Ok().json(Transcript {
        state: snapshot.state.mode.as_str().to_string(),
        messages: messages.into_iter().map(Message::from).collect(),
        agent: snapshot.state.agent,
        queue,
        id,
    }))
}

/// Erases the conversation and every copy of it: its queue place, the messages it left for a
/// team, the conversation.
#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{id}",
    operation_id = "erase_conversation",
    tag = "resident",
    params(ConversationPath),
    security(("conversation_token" = [])),
    responses(
        (status = 204, description = "Erased."),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        StoreFailures,
    )
)]
async fn erase(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let snapshot = authorised(&state, &request, &id).await?;
    // Every copy goes: its place in a queue, the messages it left out of hours, the
    // conversation itself.
    state.handoff_service().erase(&id, &snapshot.state).await?;
    tracing::info!(conversation = %id, "conversation erased on request");
    Ok(HttpResponse::NoContent().finish())
}

/// Whether an answer helped.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/feedback",
    operation_id = "post_feedback",
    tag = "resident",
    params(ConversationPath),
    request_body = PostFeedback,
    security(("conversation_token" = [])),
    responses(
        (status = 204, description = "Kept."),
        (status = 400, description = "malformed_json, invalid_request"),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 413, description = "payload_too_large"),
        (status = 429, description = "rate_limited"),
        StoreFailures,
    )
)]
async fn feedback(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<PostFeedback>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    state.check_client(&request, Action::Feedback)?;
    let snapshot = authorised(&state, &request, &id).await?;
    let body = body.into_inner();
    let message_id: u64 = body.message_id.parse().map_err(|_| {
        ApiError::new(ErrorCode::InvalidRequest, "message_id is not a message of this conversation.")
    })?;
    let is_answer = state
        .store
        .messages(&id, message_id.saturating_sub(1))
        .await?
        .first()
        .is_some_and(|m| m.id == message_id && m.message.role == Role::Bot);
    if !is_answer {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "message_id is not an answer in this conversation.",
        ));
    }
    state.store.add_feedback(&id, Feedback { message_id, helpful: body.helpful, at: now() }).await?;
    let what = if body.helpful { crate::insights::HELPFUL } else { crate::insights::UNHELPFUL };
    let topic = snapshot.state.topic.clone().unwrap_or_else(|| crate::insights::NO_TOPIC.into());
    count_later(&state, vec![(topic, what)]);
    Ok(HttpResponse::NoContent().finish())
}

/// The conversation live, as server-sent events (see the event stream's description).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/events",
    operation_id = "resident_events",
    tag = "resident",
    params(ConversationPath, After),
    security(("conversation_token" = [])),
    responses(
        (status = 200, description = "The event stream.", content_type = "text/event-stream", body = String),
        (status = 400, description = "invalid_request"),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 429, description = "rate_limited, too_many_streams"),
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
    let id = path.into_inner().id;
    state.check_client(&request, Action::Stream)?;
    authorised(&state, &request, &id).await?;
    live::respond(state, id, after.after)
}

/// Tells the agent the resident is typing (it lapses after 4 s without another).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/typing",
    operation_id = "resident_typing",
    tag = "resident",
    params(ConversationPath),
    request_body = Typing,
    security(("conversation_token" = [])),
    responses(
        (status = 204, description = "Passed on."),
        (status = 400, description = "malformed_json, invalid_request"),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 413, description = "payload_too_large"),
        (status = 429, description = "rate_limited"),
        StoreFailures,
    )
)]
async fn typing(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<Typing>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    state.check_client(&request, Action::Typing)?;
    authorised(&state, &request, &id).await?;
    state.store.set_typing(&id, false, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stops waiting for a person: the assistant answers again. No body is read.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/leave-queue",
    operation_id = "leave_queue",
    tag = "resident",
    params(ConversationPath),
    security(("conversation_token" = [])),
    responses(
        (status = 200, description = "Back with the assistant.", body = LeftQueue),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        StoreFailures,
    )
)]
async fn leave_queue(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    authorised(&state, &request, &id).await?;
    let (conversation, stored) = state.handoff_service().leave_queue(&id).await?;
    Ok(HttpResponse::Ok().json(LeftQueue {
        state: conversation.mode.as_str().to_string(),
        messages: stored.into_iter().map(Message::from).collect(),
    }))
}

/// Leaves a message for the conversation's team while it is closed (at most 3 per
/// conversation); the team calls back when it opens.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/offline-message",
    operation_id = "leave_offline_message",
    tag = "resident",
    params(ConversationPath),
    request_body = LeaveMessage,
    security(("conversation_token" = [])),
    responses(
        (status = 201, description = "Left for the team.", body = MessageLeft),
        (status = 400, description = "malformed_json, invalid_request, text_too_long"),
        (status = 401, description = "missing_token"),
        (status = 404, description = "conversation_not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        (status = 429, description = "rate_limited"),
        StoreFailures,
    )
)]
async fn offline_message(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<ConversationPath>,
    body: web::Json<LeaveMessage>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    state.check_client(&request, Action::LeaveMessage)?;
    let snapshot = authorised(&state, &request, &id).await?;
    state.check_rate(&id)?;
    let body = body.into_inner();
    let fields =
        [("name", &body.name, 200), ("contact", &body.contact, 200), ("question", &body.question, 2000)];
    for (field, value, limit) in fields {
        if value.trim().is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidRequest, format!("Please give your {field}.")));
        }
        if value.chars().count() > limit {
            return Err(ApiError::new(
                ErrorCode::TextTooLong,
                format!("The {field} is longer than {limit} characters."),
            ));
        }
    }
    let team = snapshot.state.team.clone().unwrap_or_else(|| crate::engine::DEFAULT_TEAM.to_string());
    // Name and contact are kept as given: they are how the team calls back, and the message
    // is removed once handled. The question is free text, so personal data in it is redacted.
    let message = OfflineMessage {
        id: random_hex(8),
        conversation: Some(id.clone()),
        name: body.name.trim().to_string(),
        contact: body.contact.trim().to_string(),
        question: state.engine().redact(body.question.trim()),
        team,
        at: now(),
        done: false,
    };
    let message_id = message.id.clone();
    let stored = state.handoff_service().leave_message(&id, message).await?;
    Ok(HttpResponse::Created()
        .json(MessageLeft { id: message_id, messages: stored.into_iter().map(Message::from).collect() }))
}

/// Keeps a question the assistant could not answer, redacted, for editors to act on. A
/// failure here never fails the resident's message.
/// Adds to the editors' insight counters (today in the UK) after the reply has gone: a
/// counter missed costs a figure, never a resident's answer.
fn count_later(state: &AppState, counted: Vec<(String, &'static str)>) {
    let day = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    for (topic, what) in counted {
        state.counts.count(day, topic, what);
    }
}

/// Records the question a resident asked before picking `topic` from the "did you mean"
/// choices, for editors to add as a phrasing: the question, already redacted, is the
/// resident's last message before the pick.
async fn record_pick(state: &AppState, id: &str, stored: &[crate::store::StoredMessage], topic: String) {
    let before = stored.first().map_or(0, |m| m.id);
    let question = match state.store.messages(id, 0).await {
        Ok(messages) => messages
            .into_iter()
            .rev()
            .filter(|m| m.id < before)
            .find(|m| m.message.role == Role::Resident)
            .map(|m| m.message.text),
        Err(error) => {
            tracing::warn!(%error, "could not read the question a pick answered");
            None
        }
    };
    let Some(text) = question else { return };
    let pick = crate::store::Unanswered {
        text,
        at: now(),
        kind: "picked".into(),
        best: Some(topic),
        confidence: 1.0,
    };
    if let Err(error) = crate::store::InsightStore::record_unanswered(&state.store, pick).await {
        tracing::warn!(%error, "could not record a picked choice");
    }
}

async fn record_unanswered(
    state: &AppState,
    redacted: &str,
    matched: &crate::engine::Matched,
    best: Option<&crate::engine::matcher::Candidate>,
) {
    let question = crate::store::Unanswered {
        text: redacted.to_string(),
        at: now(),
        kind: if matched.kind == crate::engine::MatchKind::Clarify { "clarify" } else { "none" }.to_string(),
        confidence: best.map_or(0.0, |b| b.confidence),
        best: best.map(|b| b.id.clone()),
    };
    if let Err(error) = crate::store::InsightStore::record_unanswered(&state.store, question).await {
        tracing::warn!(%error, "could not record an unanswered question");
    }
}
