//! The resident API: start a conversation, send a message, read the transcript, erase it, give
//! feedback on an answer.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::wire::{Created, Message, PostFeedback, PostMessage, Transcript, TurnReply};
use super::{AppState, method_not_allowed};
use crate::engine::entities::redact;
use crate::engine::{ConversationState, Reply};
use crate::error::{ApiError, ErrorCode};
use crate::store::{CommitOutcome, ConversationStore, Feedback, NewMessage, Role, Snapshot};

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/api/v1/conversations")
                .route(web::post().to(create))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/api/v1/conversations/{id}")
                .route(web::get().to(transcript))
                .route(web::delete().to(erase))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/api/v1/conversations/{id}/messages")
                .route(web::post().to(post_message))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/api/v1/conversations/{id}/feedback")
                .route(web::post().to(feedback))
                .default_service(web::to(method_not_allowed)),
        );
}

/// How many times a message is re-answered when another writer got in first.
const MAX_COMMIT_ATTEMPTS: usize = 64;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn bot_message(reply: Reply, at: &str) -> NewMessage {
    NewMessage {
        role: Role::Bot,
        text: reply.text,
        quick_replies: reply.quick_replies,
        links: reply.links,
        at: at.to_string(),
        answer: reply.answer,
    }
}

/// Conversation ids are 32 lowercase hex characters; anything else cannot exist.
fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn bearer(request: &HttpRequest) -> Result<&str, ApiError> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::MissingToken,
                "Send the conversation's token as a Bearer token.",
            )
        })
}

/// Loads the conversation if the token is its own; otherwise the same 404 as for no conversation.
async fn authorised(
    state: &AppState,
    request: &HttpRequest,
    id: &str,
) -> Result<Snapshot, ApiError> {
    let token = bearer(request)?;
    if !valid_id(id) {
        return Err(ApiError::conversation_not_found());
    }
    match state.store.load(id).await? {
        Some(snapshot)
            if constant_time_eq(snapshot.token_hash.as_bytes(), hash_token(token).as_bytes()) =>
        {
            Ok(snapshot)
        }
        _ => Err(ApiError::conversation_not_found()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn create(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = random_hex(16);
    let token = random_hex(32);
    let engine = state.engine();
    let conversation = ConversationState::default();
    let welcome = bot_message(engine.welcome(), &now());
    let stored = state
        .store
        .create(&id, &hash_token(&token), &conversation, vec![welcome])
        .await?;
    tracing::info!(conversation = %id, "conversation started");
    Ok(HttpResponse::Created().json(Created {
        id,
        token,
        state: conversation.mode.as_str().to_string(),
        messages: stored.into_iter().map(Message::from).collect(),
    }))
}

async fn post_message(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
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
    let _guard = state.lock_for(&id).lock().await;
    let engine = state.engine();
    // Personal data is redacted before it is stored or logged; the engine sees the whole text
    // so that what a topic needs (the town) is kept in the conversation's slots.
    let stored_text = redact(trimmed);
    for attempt in 0..MAX_COMMIT_ATTEMPTS {
        if attempt > 0 {
            snapshot = state
                .store
                .load(&id)
                .await?
                .ok_or_else(ApiError::conversation_not_found)?;
        }
        let turn = engine.reply(&snapshot.state, trimmed);
        let at = now();
        let mut messages = vec![NewMessage {
            role: Role::Resident,
            text: stored_text.clone(),
            quick_replies: Vec::new(),
            links: Vec::new(),
            at: at.clone(),
            answer: false,
        }];
        messages.extend(turn.replies.into_iter().map(|r| bot_message(r, &at)));
        match state
            .store
            .commit(&id, snapshot.version, &turn.state, messages)
            .await?
        {
            CommitOutcome::Committed(stored) => {
                tracing::info!(
                    conversation = %id,
                    kind = ?turn.matched.kind,
                    topic = turn.matched.id.as_deref().unwrap_or("-"),
                    confidence = turn.matched.confidence,
                    "answered"
                );
                return Ok(HttpResponse::Ok().json(TurnReply {
                    messages: stored.into_iter().map(Message::from).collect(),
                    matched: turn.matched,
                    state: turn.state.mode.as_str().to_string(),
                }));
            }
            CommitOutcome::Conflict => continue,
            CommitOutcome::Gone => return Err(ApiError::conversation_not_found()),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "Too many messages at once on this conversation. Please resend.",
    ))
}

async fn transcript(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let snapshot = authorised(&state, &request, &id).await?;
    let messages = state.store.messages(&id, 0).await?;
    Ok(HttpResponse::Ok().json(Transcript {
        id,
        state: snapshot.state.mode.as_str().to_string(),
        messages: messages.into_iter().map(Message::from).collect(),
    }))
}

async fn erase(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    authorised(&state, &request, &id).await?;
    state.store.delete(&id).await?;
    tracing::info!(conversation = %id, "conversation erased on request");
    Ok(HttpResponse::NoContent().finish())
}

async fn feedback(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PostFeedback>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    authorised(&state, &request, &id).await?;
    let body = body.into_inner();
    let message_id: u64 = body.message_id.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "message_id is not a message of this conversation.",
        )
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
    state
        .store
        .add_feedback(
            &id,
            Feedback {
                message_id,
                helpful: body.helpful,
                at: now(),
            },
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
