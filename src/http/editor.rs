//! The editors' API: what residents asked that went unanswered, trying a question against the
//! draft content on disk, and publishing it without a redeploy. Needs the `editor` role.

use actix_web::{HttpResponse, web};

use super::auth::Editor;
use super::wire::{Limit, Published, Question, Tried, UnansweredQuestions};
use super::{AppState, Routes};
use crate::engine::{Context, ConversationState, Engine};
use crate::engine_build::build_engine;
use crate::error::{ApiError, ErrorCode};
use crate::store::InsightStore;

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(unanswered, try_draft, publish))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/editor/unanswered", |r| r.get(unanswered))
        .at("/api/v1/editor/try", |r| r.post(try_draft))
        .at("/api/v1/editor/publish", |r| r.post(publish));
}

/// Questions the assistant declined or was unsure of, newest first, redacted.
#[utoipa::path(
    get,
    path = "/api/v1/editor/unanswered",
    operation_id = "editor_unanswered",
    tag = "editor",
    params(Limit),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The questions.", body = UnansweredQuestions),
        (status = 400, description = "invalid_request"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn unanswered(
    state: web::Data<AppState>,
    query: web::Query<Limit>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, crate::store::UNANSWERED_KEPT);
    let questions = state.store.unanswered(limit).await?;
    Ok(HttpResponse::Ok().json(UnansweredQuestions { questions }))
}

/// Loads and trains the content on disk, off the request threads (it takes a fraction of a
/// second). Invalid content is a 400 that lists every problem with its file and line.
async fn draft_engine(state: &AppState) -> Result<Engine, ApiError> {
    let settings = state.settings.clone();
    let built = web::block(move || build_engine(&settings))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "Building the content was interrupted."))?;
    built.map_err(|error| ApiError::new(ErrorCode::InvalidContent, error.to_string()))
}

/// Answers a question with the draft content on disk (built for this request, in about a second
/// when the matcher's work is cached): candidates, scores, the decision and the reply.
#[utoipa::path(
    post,
    path = "/api/v1/editor/try",
    operation_id = "editor_try",
    tag = "editor",
    request_body = Question,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "How the draft answers.", body = Tried),
        (status = 400, description = "malformed_json, invalid_request, empty_text, invalid_content"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
    )
)]
async fn try_draft(
    state: web::Data<AppState>,
    body: web::Json<Question>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let text = body.into_inner().text;
    if text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The question is empty."));
    }
    let engine = draft_engine(&state).await?;
    let found = engine.explain(&text);
    let turn = engine.reply(&ConversationState::default(), &text, &Context::default());
    Ok(HttpResponse::Ok().json(Tried {
        normalised: found.normalised,
        candidates: found.candidates,
        decision: found.decision,
        matched: turn.matched,
        replies: turn.replies,
    }))
}

/// Loads, validates and trains the content on disk and swaps it in whole; invalid content is
/// refused, naming each problem's file and line, and the old content keeps serving. No body
/// is read.
#[utoipa::path(
    post,
    path = "/api/v1/editor/publish",
    operation_id = "editor_publish",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "What went live.", body = Published),
        (status = 400, description = "invalid_content"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
    )
)]
async fn publish(state: web::Data<AppState>, editor: Editor) -> Result<HttpResponse, ApiError> {
    let engine = draft_engine(&state).await?;
    let summary = Published {
        intents: engine.content.intents.len(),
        articles: engine.content.articles.len(),
        features: engine.matcher.feature_count(),
    };
    // Swapped whole: a request in flight finishes on the engine it started with.
    state.replace_engine(engine);
    tracing::info!(editor = %editor.name, "content published");
    Ok(HttpResponse::Ok().json(summary))
}
