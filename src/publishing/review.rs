//! Four eyes: an editor submits the draft; an approver who is not its author publishes it
//! (now, or scheduled for a set time) or rejects it with a comment. Every step goes in the
//! audit log. A submission's status moves only from the one the caller saw (the store's
//! compare and set), so two approvers, or two instances publishing what is due, cannot both
//! act.

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
        publish_at: None,
    };
    let submission = store.submit_content(submission, &files).await?;
    audit(store, author, "submitted", Some(submission.id), None, &submission.message).await;
    Ok(submission)
}

/// A submission still waiting (or scheduled), with its files; the approver must not be its
/// author.
async fn waiting(
    store: &impl ReviewStore,
    id: u64,
    approver: &str,
    own_allowed: bool,
) -> Result<(Submission, ContentFiles), PublishError> {
    let (submission, files) = store.submission(id).await?.ok_or(PublishError::NoSuchSubmission(id))?;
    let files = match (submission.status, files) {
        (SubmissionStatus::Submitted | SubmissionStatus::Scheduled, Some(files)) => files,
        _ => return Err(PublishError::NotWaiting(id)),
    };
    if !own_allowed && submission.author == approver {
        return Err(PublishError::OwnChange);
    }
    Ok((submission, files))
}

/// What an approval did.
pub enum Approval {
    Published(Submission, ContentVersion, Arc<Engine>),
    /// To be published at its `publish_at` by whichever instance sees it due first.
    Scheduled(Submission),
}

/// Approves submission `id`: publishes it now, or at `at` when that is in the future. A
/// scheduled submission approved again is published now (or at the new time).
pub async fn approve(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    id: u64,
    approver: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Approval, PublishError> {
    let (submission, files) = waiting(store, id, approver, false).await?;
    if let Some(at) = at.filter(|at| *at > chrono::Utc::now()) {
        let scheduled = Submission {
            status: SubmissionStatus::Scheduled,
            decided_by: Some(approver.into()),
            decided_at: Some(now()),
            publish_at: Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ..submission.clone()
        };
        if !store.decide_submission(submission.status, &scheduled, false).await? {
            return Err(PublishError::NotWaiting(id));
        }
        let note = format!("to be published at {}", scheduled.publish_at.as_deref().unwrap_or_default());
        audit(store, approver, "scheduled", Some(id), None, &note).await;
        return Ok(Approval::Scheduled(scheduled));
    }
    let (decided, version, engine) =
        publish_submission(store, live, drafts, settings, submission, files, approver).await?;
    Ok(Approval::Published(decided, version, engine))
}

/// Publishes a waiting or scheduled submission as approved by `approver`. The decision is
/// taken first (compare and set), so a second approver acting at once is refused; if
/// publishing then fails, the submission is put back as it was.
async fn publish_submission(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    submission: Submission,
    files: ContentFiles,
    approver: &str,
) -> Result<(Submission, ContentVersion, Arc<Engine>), PublishError> {
    let id = submission.id;
    let mut decided = Submission {
        status: SubmissionStatus::Published,
        decided_by: Some(approver.into()),
        decided_at: Some(now()),
        ..submission.clone()
    };
    if !store.decide_submission(submission.status, &decided, false).await? {
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
            // Back as it was (its files were kept), to be approved again or rejected.
            store.decide_submission(SubmissionStatus::Published, &submission, false).await.ok();
            return Err(error);
        }
    };
    decided.version = Some(version.number);
    store.decide_submission(SubmissionStatus::Published, &decided, true).await?;
    audit(store, approver, "published", Some(id), Some(version.number), &submission.message).await;
    Ok((decided, version, engine))
}

/// Publishes every scheduled submission whose time has come, oldest first, each as approved
/// by the approver who scheduled it. Returns the versions published.
pub async fn publish_due(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ContentVersion>, PublishError> {
    let due = store.due_submissions(now).await?;
    let mut published = Vec::new();
    for id in due {
        let Some((submission, Some(files))) = store.submission(id).await? else { continue };
        // Another instance may have taken it since the index was read: only a submission still
        // scheduled is published, so the compare-and-set below is from `scheduled`.
        if submission.status != SubmissionStatus::Scheduled {
            continue;
        }
        let approver = submission.decided_by.clone().unwrap_or_default();
        match publish_submission(store, live, drafts, settings, submission, files, &approver).await {
            Ok((_, version, _)) => published.push(version),
            // Another instance published it first.
            Err(PublishError::NotWaiting(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(published)
}

/// Rejects submission `id` with a comment for its author (cancelling it if it was scheduled).
/// Its author may withdraw it so too.
pub async fn reject(
    store: &impl ReviewStore,
    id: u64,
    approver: &str,
    comment: String,
) -> Result<Submission, PublishError> {
    let (submission, _) = waiting(store, id, approver, true).await?;
    let from = submission.status;
    let decided = Submission {
        status: SubmissionStatus::Rejected,
        decided_by: Some(approver.into()),
        decided_at: Some(now()),
        comment: Some(comment.clone()),
        publish_at: None,
        ..submission
    };
    if !store.decide_submission(from, &decided, true).await? {
        return Err(PublishError::NotWaiting(id));
    }
    audit(store, approver, "rejected", Some(id), None, &comment).await;
    Ok(decided)
}
