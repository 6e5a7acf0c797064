//! The editors' API: what residents asked that went unanswered, trying a question against the
//! draft content on disk, publishing it to every instance without a redeploy, the history of
//! published versions and restoring one, and what is due for review. Needs the `editor` role.

use actix_web::{HttpResponse, web};

use super::auth::Editor;
use super::wire::{ContentVersions, Limit, PublishRequest, Published, Question, Tried, UnansweredQuestions};
use super::{AppState, Routes};
use crate::engine::{Context, ConversationState, Engine};
use crate::error::{ApiError, ErrorCode};
use crate::publishing::{self, Publication};
use crate::store::{ContentStore, InsightStore};

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(unanswered, try_draft, publish, versions, restore, review))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/editor/unanswered", |r| r.get(unanswered))
        .at("/api/v1/editor/try", |r| r.post(try_draft))
        .at("/api/v1/editor/publish", |r| r.post(publish))
        .at("/api/v1/editor/versions", |r| r.get(versions))
        .at("/api/v1/editor/review", |r| r.get(review))
        .at("/api/v1/editor/versions/{number}/restore", |r| r.post(restore));
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

fn draft_files(state: &AppState) -> Result<crate::content::ContentFiles, ApiError> {
    crate::engine_build::read_content_files(&state.settings)
        .map_err(|error| ApiError::new(ErrorCode::InvalidContent, error.to_string()))
}

/// The draft content on disk, loaded and trained off the request threads; kept while the
/// files are unchanged, so a try after the first costs one reply. Invalid content is a 400
/// that lists every problem with its file and line.
async fn draft_engine(state: &AppState) -> Result<std::sync::Arc<Engine>, ApiError> {
    let files = draft_files(state)?;
    Ok(state.drafts.engine_for(&state.live, &state.settings, std::sync::Arc::new(files)).await?)
}

/// Answers a question with the draft content on disk (built once per change of the files, in
/// about a second when the matcher's work is cached): candidates, scores, the decision and
/// the reply.
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

/// The longest publish message kept.
const MESSAGE_CHARS: usize = 500;

/// Loads, validates and trains the content on disk, records it as the newest version and
/// serves it; every other instance serves it within seconds. Invalid content is refused,
/// naming each problem's file and line, and the old content keeps serving. The body, with a
/// message for the history, may be left out.
#[utoipa::path(
    post,
    path = "/api/v1/editor/publish",
    operation_id = "editor_publish",
    tag = "editor",
    request_body(content = PublishRequest, description = "Optional: why, for the history."),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "What went live.", body = Published),
        (status = 400, description = "malformed_json, invalid_request, invalid_content"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn publish(
    state: web::Data<AppState>,
    body: web::Bytes,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let request: PublishRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PublishRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(ErrorCode::MalformedJson, format!("The body is not valid JSON: {e}"))
        })?
    };
    let message = request.message.unwrap_or_default().trim().to_string();
    if message.chars().count() > MESSAGE_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("The message is longer than {MESSAGE_CHARS} characters."),
        ));
    }
    let files = draft_files(&state)?;
    let publication = Publication { author: editor.name.clone(), message, restores: None };
    let (version, engine) =
        publishing::publish(&state.store, &state.live, &state.drafts, &state.settings, files, publication)
            .await?;
    tracing::info!(editor = %editor.name, version = version.number, "content published");
    Ok(HttpResponse::Ok().json(published(&engine, version)))
}

fn published(engine: &Engine, version: crate::store::ContentVersion) -> Published {
    Published {
        intents: engine.content.intents.len(),
        articles: engine.content.articles.len(),
        features: engine.matcher.feature_count(),
        version,
    }
}

/// The published versions, newest first (who, when, why, what it restored), and the one this
/// instance serves.
#[utoipa::path(
    get,
    path = "/api/v1/editor/versions",
    operation_id = "editor_versions",
    tag = "editor",
    params(Limit),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The history.", body = ContentVersions),
        (status = 400, description = "invalid_request"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn versions(
    state: web::Data<AppState>,
    query: web::Query<Limit>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, crate::store::VERSION_HISTORY_KEPT);
    let versions = state.store.content_history(limit).await?;
    let serving = state.live.version().map(|v| v.number);
    Ok(HttpResponse::Ok().json(ContentVersions { serving, versions }))
}

/// Publishes an earlier version's files again, as the newest version (a rollback); every
/// instance serves it within seconds. The files of the newest 50 versions are kept.
#[utoipa::path(
    post,
    path = "/api/v1/editor/versions/{number}/restore",
    operation_id = "editor_restore",
    tag = "editor",
    params(("number" = u64, Path, description = "The version to publish again.")),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "What went live.", body = Published),
        (status = 400, description = "invalid_request, invalid_content"),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 404, description = "not_found"),
        (status = 500, description = "internal_error"),
        (status = 503, description = "store_unavailable"),
    )
)]
async fn restore(
    state: web::Data<AppState>,
    number: web::Path<u64>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let number = number.into_inner();
    let (version, engine) = publishing::restore(
        &state.store,
        &state.live,
        &state.drafts,
        &state.settings,
        number,
        editor.name.clone(),
    )
    .await?;
    tracing::info!(editor = %editor.name, version = version.number, restores = number, "content restored");
    Ok(HttpResponse::Ok().json(published(&engine, version)))
}

/// What is due for review in the content serving now: topics and articles whose
/// `last_reviewed` is a year old (overdue) or will be within 30 days, and whether the bank
/// holidays are listed 12 months ahead.
#[utoipa::path(
    get,
    path = "/api/v1/editor/review",
    operation_id = "editor_review",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The report.", body = crate::content::review::ReviewReport),
        (status = 401, description = "missing_token, unauthorized"),
        (status = 403, description = "forbidden"),
        (status = 500, description = "internal_error"),
    )
)]
async fn review(state: web::Data<AppState>, _: Editor) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let report =
        crate::content::review::review(&state.engine().content, &state.settings.bank_holidays, today);
    HttpResponse::Ok().json(report)
}
