//! The editors' API: what residents asked that went unanswered, trying a question against the
//! draft content on disk, and publishing it without a redeploy. Needs the `editor` role.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::agent::authorise;
use super::{AppState, resource};
use crate::engine::{Context, ConversationState, Engine};
use crate::error::{ApiError, ErrorCode};
use crate::startup;
use crate::store::InsightStore;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v1/editor/unanswered").route(web::get().to(unanswered)))
        .service(resource("/api/v1/editor/try").route(web::post().to(try_draft)))
        .service(resource("/api/v1/editor/publish").route(web::post().to(publish)));
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn unanswered(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    authorise(&state, &request, "editor")?;
    let limit = query.limit.unwrap_or(100).clamp(1, crate::store::UNANSWERED_KEPT);
    let questions = state.store.unanswered(limit).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"questions": questions})))
}

/// Loads and trains the content on disk, off the request threads (it takes a fraction of a
/// second). Invalid content is a 400 that lists every problem with its file and line.
async fn draft_engine(state: &AppState) -> Result<Engine, ApiError> {
    let settings = state.settings.clone();
    let built = web::block(move || startup::build_engine(&settings))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "Building the content was interrupted."))?;
    built.map_err(|error| ApiError::new(ErrorCode::InvalidContent, error.to_string()))
}

#[derive(Deserialize)]
struct Question {
    text: String,
}

async fn try_draft(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Question>,
) -> Result<HttpResponse, ApiError> {
    authorise(&state, &request, "editor")?;
    let text = body.into_inner().text;
    if text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The question is empty."));
    }
    let engine = draft_engine(&state).await?;
    let found = engine.explain(&text);
    let turn = engine.reply(&ConversationState::default(), &text, &Context::default());
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "normalised": found.normalised,
        "candidates": found.candidates,
        "decision": found.decision,
        "matched": turn.matched,
        "replies": turn.replies,
    })))
}

async fn publish(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let editor = authorise(&state, &request, "editor")?;
    let engine = draft_engine(&state).await?;
    let summary = serde_json::json!({
        "intents": engine.content.intents.len(),
        "articles": engine.content.articles.len(),
        "features": engine.matcher.feature_count(),
    });
    // Swapped whole: a request in flight finishes on the engine it started with.
    state.replace_engine(engine);
    tracing::info!(editor = %editor.name, "content published");
    Ok(HttpResponse::Ok().json(summary))
}
