//! Each editor's draft: reading it (its files, what it changes, its problems and topics),
//! saving, removing and reverting a file, discarding it, importing the server's content
//! folders into it, adding a resident's question to a topic's phrasings, and the line diff of
//! a draft or a waiting submission against what is live. A draft is the editor's changes over
//! the content serving now (`content::draft`); trying and submitting read it. Over 400 lines
//! because half of it is the ten routes' OpenAPI descriptions, which shared response sets would
//! shorten.

use super::super::responses::{StaffAccess, StoreFailures};
use std::sync::Arc;

use actix_web::{HttpResponse, web};

use super::super::AppState;
use super::super::auth::Editor;
use super::super::wire::{
    ContentDiff, DraftFilePath, DraftFileText, DraftView, FileText, NewPhrasing, Problem,
};
use crate::content::draft::{self, DRAFT_BYTES_MAX, Draft, FILE_BYTES_MAX, PhrasingError};
use crate::content::{ContentFiles, diff};
use crate::error::{ApiError, ErrorCode};
use crate::store::{DraftStore, ReviewStore};

/// A file's text in JSON may take up to twice its length (escapes), plus the braces.
pub(super) const FILE_BODY_BYTES_MAX: usize = 2 * FILE_BYTES_MAX + 1024;
/// The longest phrasing added from the page, as the resident's message limit.
const PHRASING_CHARS: usize = 300;

/// The files the editor's draft makes: what is live with their changes.
pub(super) async fn draft_files(state: &AppState, editor: &str) -> Result<ContentFiles, ApiError> {
    let draft = state.store.draft(editor).await?;
    Ok(draft.apply(&state.live.files()))
}

pub(super) fn view(state: &AppState, editor: &str, live: &ContentFiles, draft: &Draft) -> DraftView {
    let files = draft.apply(live);
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    let (problems, topics) = match files.parse() {
        Ok(content) => (Vec::new(), draft::topics(&content, today)),
        Err(errors) => {
            let problems = errors
                .0
                .into_iter()
                .map(|e| Problem {
                    path: e.at.file.to_string_lossy().into_owned(),
                    line: e.at.line,
                    field: e.field,
                    message: e.message,
                })
                .collect();
            (problems, draft::topics(&state.engine().content, today))
        }
    };
    let named = |folder: &str, names: &std::collections::BTreeMap<String, String>| {
        names.keys().map(|name| format!("{folder}/{name}")).collect::<Vec<_>>()
    };
    let mut paths = named(crate::content::INTENTS_FOLDER, &files.intents);
    paths.extend(named(crate::content::ARTICLES_FOLDER, &files.articles));
    DraftView {
        editor: editor.to_string(),
        live_version: state.live.version().map(|v| v.number),
        files: paths,
        changes: draft.changes(live),
        problems,
        topics,
    }
}

/// Changes the editor's draft with `change` and saves it; returns what is live and the draft.
pub(super) async fn save_changed_draft(
    state: &AppState,
    editor: &str,
    change: impl FnOnce(&ContentFiles, &mut Draft) -> Result<(), ApiError>,
) -> Result<(Arc<ContentFiles>, Draft), ApiError> {
    let live = state.live.files();
    let mut draft = state.store.draft(editor).await?;
    change(&live, &mut draft)?;
    if draft.bytes() > DRAFT_BYTES_MAX {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "A draft holds at most {} MiB of changed files: submit some first.",
                DRAFT_BYTES_MAX >> 20
            ),
        ));
    }
    state.store.save_draft(editor, &draft).await?;
    Ok((live, draft))
}

/// Changes the editor's draft with `change`, saves it and answers with the new view.
async fn change_draft(
    state: &AppState,
    editor: &str,
    change: impl FnOnce(&ContentFiles, &mut Draft) -> Result<(), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (live, draft) = save_changed_draft(state, editor, change).await?;
    Ok(HttpResponse::Ok().json(view(state, editor, &live, &draft)))
}

pub(super) fn checked_path(folder: &str, name: &str) -> Result<String, ApiError> {
    draft::file_path(folder, name).map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.0))
}

pub(super) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("The body is not valid JSON: {e}")))
}

/// The editor's draft: its files, what it changes against what is live (and where someone
/// has published the same file since), its problems and its topics.
#[utoipa::path(
    get,
    path = "/api/v1/editor/draft",
    operation_id = "editor_draft",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        StaffAccess,
        StoreFailures,
    )
)]
pub(super) async fn show(state: web::Data<AppState>, editor: Editor) -> Result<HttpResponse, ApiError> {
    let draft = state.store.draft(&editor.name).await?;
    Ok(HttpResponse::Ok().json(view(&state, &editor.name, &state.live.files(), &draft)))
}

/// Discards the editor's whole draft: their content is what is live again.
#[utoipa::path(
    delete,
    path = "/api/v1/editor/draft",
    operation_id = "editor_draft_discard",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft, now without changes.", body = DraftView),
        StaffAccess,
        StoreFailures,
    )
)]
pub(super) async fn discard(state: web::Data<AppState>, editor: Editor) -> Result<HttpResponse, ApiError> {
    change_draft(&state, &editor.name, |_, draft| {
        draft.files.clear();
        Ok(())
    })
    .await
}

/// Loads the server's content folders as the editor's draft (content kept in git and
/// deployed as files): every file that differs from what is live becomes a change.
#[utoipa::path(
    post,
    path = "/api/v1/editor/draft/import",
    operation_id = "editor_draft_import",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        (status = 400, description = "invalid_content"),
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn import(state: web::Data<AppState>, editor: Editor) -> Result<HttpResponse, ApiError> {
    let settings = state.settings.clone();
    let folders = web::block(move || crate::engine_build::read_content_files(&settings))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "Reading the content folders was interrupted."))?
        .map_err(|error| ApiError::new(ErrorCode::InvalidContent, error.to_string()))?;
    change_draft(&state, &editor.name, |live, draft| {
        *draft = Draft::between(live, &folders);
        Ok(())
    })
    .await
}

/// One file of the editor's draft, with the same file as it is live.
#[utoipa::path(
    get,
    path = "/api/v1/editor/draft/files/{folder}/{name}",
    operation_id = "editor_draft_file",
    tag = "editor",
    params(DraftFilePath),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The file.", body = DraftFileText),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn file(
    state: web::Data<AppState>,
    path: web::Path<DraftFilePath>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let path = checked_path(&path.folder, &path.name)?;
    let live = state.live.files();
    let files = state.store.draft(&editor.name).await?.apply(&live);
    let text = draft::text_at(&files, &path)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "The draft has no such file."))?;
    Ok(HttpResponse::Ok().json(DraftFileText {
        text: text.clone(),
        live_text: draft::text_at(&live, &path).cloned(),
        path,
    }))
}

/// Saves a file of the editor's draft (a new one or a change). It is kept even when the
/// content then has problems, which are listed at their lines; a draft with problems cannot
/// be submitted.
#[utoipa::path(
    put,
    path = "/api/v1/editor/draft/files/{folder}/{name}",
    operation_id = "editor_draft_save",
    tag = "editor",
    params(DraftFilePath),
    request_body = FileText,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        (status = 400, description = "malformed_json, invalid_request"),
        StaffAccess,
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn save(
    state: web::Data<AppState>,
    path: web::Path<DraftFilePath>,
    body: web::Bytes,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let path = checked_path(&path.folder, &path.name)?;
    let FileText { text } = json_body(&body)?;
    if text.len() > FILE_BYTES_MAX {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("A content file holds at most {} KiB.", FILE_BYTES_MAX >> 10),
        ));
    }
    change_draft(&state, &editor.name, |live, draft| {
        draft.set(live, &path, Some(text));
        Ok(())
    })
    .await
}

/// Removes a file in the editor's draft.
#[utoipa::path(
    delete,
    path = "/api/v1/editor/draft/files/{folder}/{name}",
    operation_id = "editor_draft_remove",
    tag = "editor",
    params(DraftFilePath),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn remove(
    state: web::Data<AppState>,
    path: web::Path<DraftFilePath>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let path = checked_path(&path.folder, &path.name)?;
    change_draft(&state, &editor.name, |live, draft| {
        if draft::text_at(&draft.apply(live), &path).is_none() {
            return Err(ApiError::new(ErrorCode::NotFound, "The draft has no such file."));
        }
        draft.set(live, &path, None);
        Ok(())
    })
    .await
}

/// Takes back the editor's changes to one file: it is as live again.
#[utoipa::path(
    post,
    path = "/api/v1/editor/draft/files/{folder}/{name}/revert",
    operation_id = "editor_draft_revert",
    tag = "editor",
    params(DraftFilePath),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        StoreFailures,
    )
)]
pub(super) async fn revert(
    state: web::Data<AppState>,
    path: web::Path<DraftFilePath>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let path = checked_path(&path.folder, &path.name)?;
    change_draft(&state, &editor.name, |_, draft| {
        draft.files.remove(&path);
        Ok(())
    })
    .await
}

/// Adds a question (say, one residents asked that went unanswered) to a topic's phrasings in
/// the editor's draft, keeping the rest of its file as written.
#[utoipa::path(
    post,
    path = "/api/v1/editor/draft/phrasings",
    operation_id = "editor_draft_phrasing",
    tag = "editor",
    request_body = NewPhrasing,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The draft.", body = DraftView),
        (status = 400, description = "malformed_json, invalid_request, invalid_content"),
        StaffAccess,
        (status = 404, description = "not_found"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn add_phrasing(
    state: web::Data<AppState>,
    body: web::Json<NewPhrasing>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let NewPhrasing { topic, text } = body.into_inner();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() || text.chars().count() > PHRASING_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("A phrasing is 1 to {PHRASING_CHARS} characters."),
        ));
    }
    change_draft(&state, &editor.name, |live, draft| {
        let files = draft.apply(live);
        let content = files.parse().map_err(|errors| {
            ApiError::new(ErrorCode::InvalidContent, format!("Fix the draft's problems first. {errors}"))
        })?;
        let (path, new_text) = draft::add_phrasing(&files, &content, &topic, &text).map_err(|e| match e {
            PhrasingError::NoSuchTopic => ApiError::new(ErrorCode::NotFound, "The draft has no such topic."),
            PhrasingError::Unreadable(why) => ApiError::new(ErrorCode::InvalidContent, why),
        })?;
        draft.set(live, &path, Some(new_text));
        Ok(())
    })
    .await
}

/// What the editor's draft changes against what is live, file by file, line by line.
#[utoipa::path(
    get,
    path = "/api/v1/editor/draft/diff",
    operation_id = "editor_draft_diff",
    tag = "editor",
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The changes.", body = ContentDiff),
        StaffAccess,
        StoreFailures,
    )
)]
pub(super) async fn draft_diff(state: web::Data<AppState>, editor: Editor) -> Result<HttpResponse, ApiError> {
    let live = state.live.files();
    let files = state.store.draft(&editor.name).await?.apply(&live);
    Ok(HttpResponse::Ok().json(ContentDiff { files: diff::diff(&live, &files) }))
}

/// What a waiting submission would change against what is live, file by file, line by line.
#[utoipa::path(
    get,
    path = "/api/v1/editor/submissions/{id}/diff",
    operation_id = "editor_submission_diff",
    tag = "editor",
    params(("id" = u64, Path, description = "The submission.")),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The changes.", body = ContentDiff),
        (status = 400, description = "invalid_request"),
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn submission_diff(
    state: web::Data<AppState>,
    id: web::Path<u64>,
    _: Editor,
) -> Result<HttpResponse, ApiError> {
    let submitted = state.store.submission(id.into_inner()).await?;
    let files = submitted.and_then(|(_, files)| files).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "No submission waiting with that number: its files are kept while it waits.",
        )
    })?;
    let live: Arc<ContentFiles> = state.live.files();
    Ok(HttpResponse::Ok().json(ContentDiff { files: diff::diff(&live, &files) }))
}
