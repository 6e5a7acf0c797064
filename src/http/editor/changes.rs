//! The editors' changes to what is live: submitting the draft for review, approving (and so
//! publishing) or rejecting a submission, publishing directly where review is not required,
//! and restoring an earlier version. Each parses, takes the signed-in person, calls
//! `publishing` and shapes the response; every step is written to the audit log.

use super::super::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpResponse, web};

use super::super::AppState;
use super::super::auth::{Approver, Editor};
use super::super::wire::{ApproveRequest, PublishRequest, Published, Rejection};
use super::drafts::draft_files;
use crate::engine::Engine;
use crate::error::{ApiError, ErrorCode};
use crate::publishing::{self, PublishError};
use crate::store::Submission;

/// The longest publish message kept.
const MESSAGE_CHARS: usize = 500;

/// Loads, validates and trains the approver's draft, records it as the newest version and
/// serves it; every other instance serves it within seconds. Only where review is not
/// required (`HA_REVIEW_REQUIRED=0`, a one-person team); otherwise 409: submit for review.
/// Invalid content is refused, naming each problem's file and line, and the old content
/// keeps serving. The body, with a message for the history, may be left out.
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
        StaffAccess,
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn publish(
    state: web::Data<AppState>,
    body: web::Bytes,
    editor: Approver,
) -> Result<HttpResponse, ApiError> {
    if state.settings.review_required {
        return Err(PublishError::ReviewRequired.into());
    }
    let message = message_of(&body)?;
    let files = draft_files(&state, &editor.name).await?;
    let (version, engine) = publishing::publish_directly(
        &state.store,
        &state.live,
        &state.drafts,
        &state.settings,
        files,
        &editor.name,
        message,
    )
    .await?;
    tracing::info!(editor = %editor.name, version = version.number, "content published");
    Ok(HttpResponse::Ok().json(published(&engine, version)))
}

/// The optional `{"message"}` body of a publish or a submission, trimmed and bounded.
fn message_of(body: &[u8]) -> Result<String, ApiError> {
    let request: PublishRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PublishRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|e| {
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
    Ok(message)
}

fn published(engine: &Engine, version: crate::store::ContentVersion) -> Published {
    Published {
        intents: engine.content.intents.len(),
        articles: engine.content.articles.len(),
        features: engine.matcher.feature_count(),
        version,
    }
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
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn restore(
    state: web::Data<AppState>,
    number: web::Path<u64>,
    editor: Approver,
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

/// Submits the editor's draft for review: it is validated (and its engine built, so tries and
/// the approval reuse it) and kept as it is now, whatever the draft becomes after. Invalid
/// content is refused with each problem's file and line.
#[utoipa::path(
    post,
    path = "/api/v1/editor/submissions",
    operation_id = "editor_submit",
    tag = "editor",
    request_body(content = PublishRequest, description = "Optional: what changed and why."),
    security(("editor_token" = [])),
    responses(
        (status = 201, description = "Waiting for an approver.", body = Submission),
        (status = 400, description = "malformed_json, invalid_request, invalid_content"),
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn submit(
    state: web::Data<AppState>,
    body: web::Bytes,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let message = message_of(&body)?;
    let files = draft_files(&state, &editor.name).await?;
    let submission = publishing::submit(
        &state.store,
        &state.live,
        &state.drafts,
        &state.settings,
        files,
        &editor.name,
        message,
    )
    .await?;
    tracing::info!(editor = %editor.name, submission = submission.id, "content submitted for review");
    Ok(HttpResponse::Created().json(submission))
}

/// Approves a waiting submission and publishes it (every instance serves it within seconds),
/// or schedules it for `at`, answering 202. Needs the `approver` role and someone other than
/// the author. Approving a scheduled submission again publishes it now, or at the new time.
#[utoipa::path(
    post,
    path = "/api/v1/editor/submissions/{id}/approve",
    operation_id = "editor_approve",
    tag = "editor",
    params(("id" = u64, Path, description = "The submission.")),
    request_body(content = ApproveRequest, description = "Optional: when to publish it."),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "What went live.", body = Published),
        (status = 202, description = "Scheduled.", body = Submission),
        (status = 400, description = "malformed_json, invalid_request, invalid_content"),
        StaffAccess,
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn approve(
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Bytes,
    approver: Approver,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let at = publish_time(&body)?;
    let approval = publishing::approve(
        &state.store,
        &state.live,
        &state.drafts,
        &state.settings,
        id,
        &approver.name,
        at,
    )
    .await?;
    match approval {
        publishing::Approval::Published(_, version, engine) => {
            tracing::info!(approver = %approver.name, submission = id, version = version.number, "submission approved and published");
            Ok(HttpResponse::Ok().json(published(&engine, version)))
        }
        publishing::Approval::Scheduled(submission) => {
            tracing::info!(approver = %approver.name, submission = id, at = ?submission.publish_at, "submission approved and scheduled");
            Ok(HttpResponse::Accepted().json(submission))
        }
    }
}

/// The furthest ahead a publish may be scheduled.
const SCHEDULE_DAYS_MAX: i64 = 366;

/// The optional `{"at"}` of an approval: an RFC 3339 time within a year.
fn publish_time(body: &[u8]) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let request: ApproveRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("The body is not valid JSON: {e}")))?;
    let Some(at) = request.at else { return Ok(None) };
    let at = chrono::DateTime::parse_from_rfc3339(&at)
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidRequest, "`at` is a time like 2027-01-04T06:00:00Z (RFC 3339).")
        })?
        .with_timezone(&chrono::Utc);
    if at > chrono::Utc::now() + chrono::Duration::days(SCHEDULE_DAYS_MAX) {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "A publish is scheduled at most a year ahead."));
    }
    Ok(Some(at))
}

/// Rejects a waiting submission with a comment for its author (who may so withdraw their own).
#[utoipa::path(
    post,
    path = "/api/v1/editor/submissions/{id}/reject",
    operation_id = "editor_reject",
    tag = "editor",
    params(("id" = u64, Path, description = "The submission.")),
    request_body = Rejection,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "Rejected.", body = Submission),
        (status = 400, description = "malformed_json, invalid_request"),
        StaffAccess,
        (status = 404, description = "not_found"),
        (status = 409, description = "conflict"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn reject(
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Json<Rejection>,
    approver: Approver,
) -> Result<HttpResponse, ApiError> {
    let comment = body.into_inner().comment.trim().to_string();
    if comment.is_empty() || comment.chars().count() > MESSAGE_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("Say why, in 1 to {MESSAGE_CHARS} characters."),
        ));
    }
    let submission = publishing::reject(&state.store, id.into_inner(), &approver.name, comment).await?;
    Ok(HttpResponse::Ok().json(submission))
}
