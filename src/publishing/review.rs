//! Four eyes: an editor submits the draft; an approver who is not its author publishes it or
//! rejects it with a comment. Every step goes in the audit log. A submission's status moves
//! only from `submitted` (the store's compare and set), so two approvers cannot both act.

use std::sync::Arc;

use super::{DraftEngine, LiveContent, Publication, PublishError, publish};
use crate::config::Settings;
use crate::content::ContentFiles;
use crate::engine::Engine;
use crate::store::{AuditEntry, ContentStore, ContentVersion, ReviewStore, Submission, SubmissionStatus};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes the audit entry; a failure is logged, not returned: the step itself is done.
pub(super) async fn audit(
    store: &impl ReviewStore,
    who: &str,
    action: &str,
    submission: Option<u64>,
    version: Option<u64>,
    note: &str,
) {
    let entry = AuditEntry {
        at: now(),
        who: who.into(),
        action: action.into(),
        submission,
        version,
        note: note.into(),
    };
    if let Err(error) = store.record_audit(entry).await {
        tracing::error!(%error, action, ?submission, "cannot write the audit log");
    }
}

/// Publishes the draft without review (where review is not required), in the audit log as
/// published by `author`.
pub async fn publish_directly(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    files: ContentFiles,
    author: &str,
    message: String,
) -> Result<(ContentVersion, Arc<Engine>), PublishError> {
    let publication = Publication { author: author.into(), message, ..Publication::default() };
    let (version, engine) = publish(store, live, drafts, settings, files, publication).await?;
    audit(store, author, "published", None, Some(version.number), &version.message).await;
    Ok((version, engine))
}

/// Validates the draft (building its engine, kept for tries) and records it for review.
pub async fn submit(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    files: ContentFiles,
    author: &str,
    message: String,
) -> Result<Submission, PublishError> {
    let files = Arc::new(files);
    drafts.engine_for(live, settings, files.clone()).await?;
    let submission = Submission {
        id: 0,
        author: author.into(),
        message,
        submitted_at: now(),
        fingerprint: files.fingerprint(),
        status: SubmissionStatus::Submitted,
        decided_by: None,
        decided_at: None,
        comment: None,
        version: None,
    };
    let submission = store.submit_content(submission, &files).await?;
    audit(store, author, "submitted", Some(submission.id), None, &submission.message).await;
    Ok(submission)
}

/// A submission still waiting, with its files; the approver must not be its author.
async fn waiting(
    store: &impl ReviewStore,
    id: u64,
    approver: &str,
    own_allowed: bool,
) -> Result<(Submission, ContentFiles), PublishError> {
    let (submission, files) = store.submission(id).await?.ok_or(PublishError::NoSuchSubmission(id))?;
    let files = match (submission.status, files) {
        (SubmissionStatus::Submitted, Some(files)) => files,
        _ => return Err(PublishError::NotWaiting(id)),
    };
    if !own_allowed && submission.author == approver {
        return Err(PublishError::OwnChange);
    }
    Ok((submission, files))
}

/// Approves submission `id` and publishes it. The decision is taken first (compare and set),
/// so a second approver acting at once is refused; if publishing then fails, the submission
/// waits again.
pub async fn approve(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    id: u64,
    approver: &str,
) -> Result<(Submission, ContentVersion, Arc<Engine>), PublishError> {
    let (submission, files) = waiting(store, id, approver, false).await?;
    let mut decided = Submission {
        status: SubmissionStatus::Published,
        decided_by: Some(approver.into()),
        decided_at: Some(now()),
        ..submission.clone()
    };
    if !store.decide_submission(SubmissionStatus::Submitted, &decided, false).await? {
        return Err(PublishError::NotWaiting(id));
    }
    let publication = Publication {
        author: submission.author.clone(),
        message: submission.message.clone(),
        submission: Some(id),
        approved_by: Some(approver.into()),
        ..Publication::default()
    };
    let (version, engine) = match publish(store, live, drafts, settings, files, publication).await {
        Ok(published) => published,
        Err(error) => {
            // Back to waiting (its files were kept), to be approved again or rejected.
            store.decide_submission(SubmissionStatus::Published, &submission, false).await.ok();
            return Err(error);
        }
    };
    decided.version = Some(version.number);
    store.decide_submission(SubmissionStatus::Published, &decided, true).await?;
    audit(store, approver, "published", Some(id), Some(version.number), &submission.message).await;
    Ok((decided, version, engine))
}

/// Rejects submission `id` with a comment for its author. Its author may withdraw it so too.
pub async fn reject(
    store: &impl ReviewStore,
    id: u64,
    approver: &str,
    comment: String,
) -> Result<Submission, PublishError> {
    let (submission, _) = waiting(store, id, approver, true).await?;
    let decided = Submission {
        status: SubmissionStatus::Rejected,
        decided_by: Some(approver.into()),
        decided_at: Some(now()),
        comment: Some(comment.clone()),
        ..submission
    };
    if !store.decide_submission(SubmissionStatus::Submitted, &decided, true).await? {
        return Err(PublishError::NotWaiting(id));
    }
    audit(store, approver, "rejected", Some(id), None, &comment).await;
    Ok(decided)
}
