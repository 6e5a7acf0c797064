//! The editors' API: what residents asked that went unanswered, each editor's draft
//! (`drafts`, and one intent in it as a form of fields in `intents`), trying a question against
//! it, submitting it for review, approving (publishing to every instance without a redeploy) or
//! rejecting it, the history of published versions and restoring one, the audit log, and what
//! is due for review. Reading, trying and submitting need the `editor` role; approving,
//! rejecting, publishing and restoring the `approver` role. Just over 400 lines: the reads with
//! their OpenAPI descriptions; changes, drafts and the intent form are apart.

use crate::http::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpResponse, web};

mod changes;
mod drafts;
mod intents;

use changes::{approve, publish, reject, restore, submit};

use super::auth::Editor;
use super::wire::{
    AuditLog, ContentVersions, Dismiss, Dismissed, Limit, Period, Question, QuestionGroups, Submissions,
    Tried, TriedLive, UnansweredQuestions,
};
use super::{AppState, Routes};
use crate::engine::{Context, ConversationState, Engine};
use crate::error::{ApiError, ErrorCode};
use crate::store::{ContentStore, CountStore, DayCount, InsightStore, ReviewStore};

/// This module's part of the OpenAPI document (src/http/openapi.rs).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    unanswered,
    try_draft,
    changes::publish,
    versions,
    changes::restore,
    review,
    changes::submit,
    submissions,
    changes::approve,
    changes::reject,
    audit,
    insights,
    insights_csv,
    unanswered_groups,
    dismiss,
    drafts::show,
    drafts::discard,
    drafts::import,
    drafts::file,
    drafts::save,
    drafts::remove,
    drafts::revert,
    drafts::add_phrasing,
    drafts::draft_diff,
    drafts::submission_diff,
    intents::show,
    intents::save,
    me
))]
pub(super) struct Api;

pub fn routes(routes: &mut Routes) {
    routes
        .at("/api/v1/editor/me", |r| r.get(me))
        .at("/api/v1/editor/unanswered", |r| r.get(unanswered))
        .at("/api/v1/editor/try", |r| r.post(try_draft))
        .at("/api/v1/editor/publish", |r| r.post(publish))
        .at("/api/v1/editor/versions", |r| r.get(versions))
        .at("/api/v1/editor/review", |r| r.get(review))
        .at("/api/v1/editor/submissions", |r| r.get(submissions).post(submit))
        .at("/api/v1/editor/submissions/{id}/approve", |r| r.post(approve))
        .at("/api/v1/editor/submissions/{id}/reject", |r| r.post(reject))
        .at("/api/v1/editor/audit", |r| r.get(audit))
        .at("/api/v1/editor/insights", |r| r.get(insights))
        .at("/api/v1/editor/insights.csv", |r| r.get(insights_csv))
        .at("/api/v1/editor/unanswered/groups", |r| r.get(unanswered_groups))
        .at("/api/v1/editor/unanswered/dismiss", |r| r.post(dismiss))
        .at("/api/v1/editor/versions/{number}/restore", |r| r.post(restore))
        .at("/api/v1/editor/draft", |r| r.get(drafts::show).delete(drafts::discard))
        .at("/api/v1/editor/draft/import", |r| r.post(drafts::import))
        .at("/api/v1/editor/draft/files/{folder}/{name}", |r| {
            r.app_data(web::PayloadConfig::new(drafts::FILE_BODY_BYTES_MAX))
                .get(drafts::file)
                .put(drafts::save)
                .delete(drafts::remove)
        })
        .at("/api/v1/editor/draft/files/{folder}/{name}/revert", |r| r.post(drafts::revert))
        .at("/api/v1/editor/draft/intents/{id}", |r| {
            r.app_data(web::PayloadConfig::new(drafts::FILE_BODY_BYTES_MAX))
                .get(intents::show)
                .put(intents::save)
        })
        .at("/api/v1/editor/draft/phrasings", |r| r.post(drafts::add_phrasing))
        .at("/api/v1/editor/draft/diff", |r| r.get(drafts::draft_diff))
        .at("/api/v1/editor/submissions/{id}/diff", |r| r.get(drafts::submission_diff));
}

/// Who is signed in, with their roles: the page shows approving and restoring to approvers.
#[utoipa::path(
    get,
    path = "/api/v1/editor/me",
    operation_id = "editor_me",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The signed-in editor.", body = super::wire::Me),
        StaffAccess,
    )
)]
async fn me(editor: Editor) -> HttpResponse {
    HttpResponse::Ok().json(super::wire::Me { name: editor.name.clone(), roles: editor.roles.clone() })
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
        StaffAccess,
        StoreFailures,
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

/// The editor's draft, loaded and trained off the request threads; kept while the files are
/// unchanged, so a try after the first costs one reply. Invalid content is a 400 that lists
/// every problem with its file and line.
async fn draft_engine(state: &AppState, editor: &str) -> Result<std::sync::Arc<Engine>, ApiError> {
    let files = drafts::draft_files(state, editor).await?;
    Ok(state.drafts.engine_for(&state.live, &state.settings, std::sync::Arc::new(files)).await?)
}

/// Answers a question with the editor's draft (built once per change of the files, in about
/// a second when the matcher's work is cached): candidates, scores, the decision and the
/// reply; and how the content serving now answers it, to see what the change does.
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
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        (status = 500, description = "internal_error"),
    )
)]
async fn try_draft(
    state: web::Data<AppState>,
    body: web::Json<Question>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let text = body.into_inner().text;
    if text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::EmptyText, "The question is empty."));
    }
    let engine = draft_engine(&state, &editor.name).await?;
    let found = engine.explain(&text);
    let turn = engine.reply(&ConversationState::default(), &text, &Context::default());
    let live = state.engine().reply(&ConversationState::default(), &text, &Context::default());
    Ok(HttpResponse::Ok().json(Tried {
        normalised: found.normalised,
        candidates: found.candidates,
        decision: found.decision,
        matched: turn.matched,
        replies: turn.replies,
        live: TriedLive { matched: live.matched, replies: live.replies },
    }))
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
        StaffAccess,
        StoreFailures,
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
        StaffAccess,
        (status = 500, description = "internal_error"),
    )
)]
async fn review(state: web::Data<AppState>, _: Editor) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    let report =
        crate::content::review::review(&state.engine().content, &state.settings.bank_holidays, today);
    HttpResponse::Ok().json(report)
}

/// Submissions, newest first: waiting, published (with the version) or rejected (with the
/// comment).
#[utoipa::path(
    get,
    path = "/api/v1/editor/submissions",
    operation_id = "editor_submissions",
    tag = "editor",
    params(Limit),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The submissions.", body = Submissions),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
async fn submissions(
    state: web::Data<AppState>,
    query: web::Query<Limit>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, crate::store::SUBMISSIONS_KEPT as usize);
    let submissions = state.store.submissions(limit).await?;
    Ok(HttpResponse::Ok().json(Submissions { submissions }))
}

/// Every content step, newest first: submitted, published, rejected, restored; who, when,
/// which submission and version.
#[utoipa::path(
    get,
    path = "/api/v1/editor/audit",
    operation_id = "editor_audit",
    tag = "editor",
    params(Limit),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The log.", body = AuditLog),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
async fn audit(
    state: web::Data<AppState>,
    query: web::Query<Limit>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, crate::store::AUDIT_KEPT);
    let entries = state.store.audit(limit).await?;
    Ok(HttpResponse::Ok().json(AuditLog { entries }))
}

/// The longest period the insights cover: the counters' retention is 90 days by default.
const INSIGHT_DAYS: u32 = 90;

/// The counters of the `days` days up to today (UK), oldest first.
async fn counts_of(
    state: &AppState,
    days: Option<u32>,
) -> Result<(Vec<chrono::NaiveDate>, Vec<DayCount>), ApiError> {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let days = crate::insights::period(today, days.unwrap_or(30).clamp(1, INSIGHT_DAYS));
    let counts = state.store.counts(&days).await?;
    Ok((days, counts))
}

/// Per day and per topic: questions answered, declined, clarified and handed to a person, the
/// feedback on answers, conversations with a question and the share resolved without a person
/// (containment). Numbers only: nothing identifies a resident.
#[utoipa::path(
    get,
    path = "/api/v1/editor/insights",
    operation_id = "editor_insights",
    tag = "editor",
    params(Period),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The figures.", body = crate::insights::Insights),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
async fn insights(
    state: web::Data<AppState>,
    query: web::Query<Period>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let (days, counts) = counts_of(&state, query.days).await?;
    Ok(HttpResponse::Ok().json(crate::insights::summarise(&counts, &days, &state.engine().content)))
}

/// The same figures as CSV, one row per day and topic, for a spreadsheet.
#[utoipa::path(
    get,
    path = "/api/v1/editor/insights.csv",
    operation_id = "editor_insights_csv",
    tag = "editor",
    params(Period),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "day, topic, title, then each count.", body = String, content_type = "text/csv"),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
async fn insights_csv(
    state: web::Data<AppState>,
    query: web::Query<Period>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let (_, counts) = counts_of(&state, query.days).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("content-disposition", "attachment; filename=\"insights.csv\""))
        .body(crate::insights::to_csv(&counts, &state.engine().content)))
}

/// The unanswered questions grouped by what they ask (same best guess, mostly the same
/// words), most asked first, each with a count, a sample and the nearest topic: what to
/// write next. Groups the newest `limit` questions (500 by default and at most).
#[utoipa::path(
    get,
    path = "/api/v1/editor/unanswered/groups",
    operation_id = "editor_unanswered_groups",
    tag = "editor",
    params(Limit),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The groups.", body = QuestionGroups),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
async fn unanswered_groups(
    state: web::Data<AppState>,
    query: web::Query<Limit>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(crate::store::UNANSWERED_KEPT).clamp(1, crate::store::UNANSWERED_KEPT);
    let questions = state.store.unanswered(limit).await?;
    let groups = crate::insights::group_unanswered(&questions, &state.engine().content);
    Ok(HttpResponse::Ok().json(QuestionGroups { groups }))
}

/// Takes questions an editor has dealt with off the unanswered list (every stored question
/// with one of these texts).
#[utoipa::path(
    post,
    path = "/api/v1/editor/unanswered/dismiss",
    operation_id = "editor_dismiss_unanswered",
    tag = "editor",
    request_body = Dismiss,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "How many went.", body = Dismissed),
        (status = 400, description = "malformed_json, invalid_request"),
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
async fn dismiss(
    state: web::Data<AppState>,
    body: web::Json<Dismiss>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let texts = body.into_inner().texts;
    if texts.is_empty() || texts.len() > 100 {
        return Err(ApiError::new(ErrorCode::InvalidRequest, "Send 1 to 100 texts."));
    }
    let removed = state.store.dismiss_unanswered(&texts).await?;
    Ok(HttpResponse::Ok().json(Dismissed { removed }))
}
