//! An intent of the editor's draft as a form of fields: reading it, and saving it back into its
//! file (`content::form` rewrites only the fields that changed, so the rest of the file stays as
//! written). The content's problems with the intent come back naming their fields, so the page
//! shows each beside the field it concerns.

use super::super::responses::{StaffAccess, StoreFailures};
use actix_web::{HttpResponse, web};

use super::super::AppState;
use super::super::auth::Editor;
use super::super::wire::{DraftView, IntentSave, IntentView};
use super::drafts::{checked_path, json_body, save_changed_draft, view};
use crate::content::draft::{FILE_BYTES_MAX, text_at};
use crate::content::form::{self, FormError, IntentForm, IntentPlace};
use crate::content::{ContentFiles, INTENTS_FOLDER};
use crate::error::{ApiError, ErrorCode};
use crate::store::DraftStore;

fn form_error(error: FormError) -> ApiError {
    match error {
        FormError::NoSuchIntent => {
            ApiError::new(ErrorCode::NotFound, "The draft has no intent with that id.")
        }
        FormError::Unreadable(cause) => ApiError::new(
            ErrorCode::InvalidContent,
            format!("The intent's file does not read as TOML ({cause}): mend it as text first."),
        ),
        FormError::Invalid { field, message } => {
            ApiError::new(ErrorCode::InvalidRequest, message).with_field(field)
        }
    }
}

fn intent_view(place: IntentPlace, intent: IntentForm, draft: DraftView) -> IntentView {
    let problems =
        draft.problems.iter().filter(|p| p.path == place.path && p.line == place.line).cloned().collect();
    IntentView { path: place.path, line: place.line, intent, problems, draft }
}

/// One intent of the editor's draft, field by field, with the content's problems with it.
#[utoipa::path(
    get,
    path = "/api/v1/editor/draft/intents/{id}",
    operation_id = "editor_draft_intent",
    tag = "editor",
    params(("id" = String, Path, description = "The intent's id.")),
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The intent.", body = IntentView),
        StaffAccess,
        (status = 404, description = "not_found"),
        StoreFailures,
    )
)]
pub(super) async fn show(
    state: web::Data<AppState>,
    id: web::Path<String>,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let live = state.live.files();
    let draft = state.store.draft(&editor.name).await?;
    let (place, intent) = form::find_intent(&draft.apply(&live), &id).map_err(form_error)?;
    Ok(HttpResponse::Ok().json(intent_view(place, intent, view(&state, &editor.name, &live, &draft))))
}

/// Saves an intent's fields into the editor's draft: the intent with this id, or, when there is
/// none and `path` names an intents file, a new intent added to that file. Only the fields
/// that changed are rewritten. Kept even when the content then has problems, which come back
/// beside their fields; a form the file could not hold (an unknown scope, a link without its
/// address) is refused naming the field.
#[utoipa::path(
    put,
    path = "/api/v1/editor/draft/intents/{id}",
    operation_id = "editor_draft_intent_save",
    tag = "editor",
    params(("id" = String, Path, description = "The intent's id as it is now (a new intent's own id).")),
    request_body = IntentSave,
    security(("editor_token" = [])),
    responses(
        (status = 200, description = "The intent as saved, and the draft.", body = IntentView),
        (status = 400, description = "malformed_json, invalid_request, invalid_content"),
        StaffAccess,
        (status = 404, description = "not_found"),
        (status = 413, description = "payload_too_large"),
        StoreFailures,
    )
)]
pub(super) async fn save(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
    editor: Editor,
) -> Result<HttpResponse, ApiError> {
    let IntentSave { intent, path } = json_body(&body)?;
    let new_file = match path {
        Some(path) => {
            let (folder, name) = path.split_once('/').unwrap_or(("", &path));
            if folder != INTENTS_FOLDER {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "An intent goes in a file in intents/.",
                )
                .with_field("path"));
            }
            Some(checked_path(folder, name).map_err(|e| e.with_field("path"))?)
        }
        None => None,
    };
    let mut saved = None;
    let (live, draft) = save_changed_draft(&state, &editor.name, |live, draft| {
        let files = draft.apply(live);
        let (path, text, old_id) = match form::find_intent(&files, &id) {
            Ok((place, _)) => {
                let text = text_at(&files, &place.path).cloned().unwrap_or_default();
                (place.path, text, Some(id.as_str()))
            }
            Err(FormError::NoSuchIntent) => {
                let path = new_file.ok_or_else(|| form_error(FormError::NoSuchIntent))?;
                let text = text_at(&files, &path).cloned().unwrap_or_default();
                (path, text, None)
            }
            Err(error) => return Err(form_error(error)),
        };
        let (text, line) = form::write_intent(&text, old_id, &intent).map_err(form_error)?;
        if text.len() > FILE_BYTES_MAX {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("A content file holds at most {} KiB.", FILE_BYTES_MAX >> 10),
            ));
        }
        draft.set(live, &path, Some(text));
        saved = Some(IntentPlace { path, line });
        Ok(())
    })
    .await?;
    let place = saved.ok_or_else(|| ApiError::new(ErrorCode::Internal, "The intent was not saved."))?;
    let files: ContentFiles = draft.apply(&live);
    let text = text_at(&files, &place.path).map_or("", String::as_str);
    let (_, intent) = form::read_intent(text, &intent.id).map_err(form_error)?;
    Ok(HttpResponse::Ok().json(intent_view(place, intent, view(&state, &editor.name, &live, &draft))))
}
