//! Changes waiting for a second person (four eyes) and the audit log of every content step.
//! A submission is a snapshot of the draft's files with its author and message; an approver
//! who is not the author approves it (and it is published) or rejects it with a comment. A
//! status changes only from the one the caller saw (compare and set), so two approvers cannot
//! both act on one submission. Both stores implement it here, beside the trait. Over 400
//! lines on purpose: the trait, both implementations and the Lua scripts that keep the records,
//! the files and the due index of scheduled submissions consistent are read together.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};

use redis::Script;
use serde::{Deserialize, Serialize};

use super::redis::{corrupt, unavailable};
use super::{MemoryStore, RedisStore, Store, StoreError};
use crate::content::ContentFiles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubmissionStatus {
    /// Waiting for an approver.
    Submitted,
    /// Approved, to be published at `publish_at`; rejecting it cancels it.
    Scheduled,
    /// Approved and published.
    Published,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Submission {
    /// 1, 2, 3... in the order submitted; 0 before the store numbers it.
    pub id: u64,
    pub author: String,
    pub message: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// SHA-256 of the files submitted.
    pub fingerprint: String,
    pub status: SubmissionStatus,
    /// The approver who published or rejected it, when, and their comment.
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// The content version it was published as.
    #[serde(default)]
    pub version: Option<u64>,
    /// When a scheduled submission is to be published.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub publish_at: Option<String>,
}

/// One step in the content's life: who did what, when, to which submission or version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(format = DateTime)]
    pub at: String,
    pub who: String,
    /// `submitted`, `scheduled`, `rejected`, `published` or `restored`.
    pub action: String,
    #[serde(default)]
    pub submission: Option<u64>,
    #[serde(default)]
    pub version: Option<u64>,
    /// The submission's message or the rejection's comment.
    #[serde(default)]
    pub note: String,
}

/// Submission records kept (the newest); files are dropped once a submission is decided.
pub const SUBMISSIONS_KEPT: u64 = 500;
/// Audit entries kept, newest first.
pub const AUDIT_KEPT: usize = 5000;

pub trait ReviewStore: Send + Sync {
    /// Records a submission with its files; returns it numbered.
    fn submit_content(
        &self,
        submission: Submission,
        files: &ContentFiles,
    ) -> impl Future<Output = Result<Submission, StoreError>> + Send;
    /// A submission and, while it waits, its files.
    fn submission(
        &self,
        id: u64,
    ) -> impl Future<Output = Result<Option<(Submission, Option<ContentFiles>)>, StoreError>> + Send;
    /// Newest first.
    fn submissions(&self, limit: usize) -> impl Future<Output = Result<Vec<Submission>, StoreError>> + Send;
    /// Replaces the record if its stored status is still `from`; false when it was not.
    /// `drop_files` when the submission is done with (published or rejected).
    fn decide_submission(
        &self,
        from: SubmissionStatus,
        decided: &Submission,
        drop_files: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The scheduled submissions whose time has come by `now`, earliest first: an index kept
    /// beside the records, so the instances' frequent check reads nothing when nothing is due.
    fn due_submissions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send;
    /// Puts every scheduled submission in the due index; run once at start-up, so submissions
    /// scheduled before the index existed are still published. Returns how many it added.
    fn index_scheduled(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    fn record_audit(&self, entry: AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Newest first.
    fn audit(&self, limit: usize) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
}

#[derive(Default)]
pub(super) struct MemoryReview {
    submissions: Vec<Submission>,
    files: HashMap<u64, Arc<ContentFiles>>,
    audit: VecDeque<AuditEntry>,
}

pub(super) type SharedMemoryReview = Arc<Mutex<MemoryReview>>;

impl MemoryStore {
    fn review(&self) -> std::sync::MutexGuard<'_, MemoryReview> {
        self.review.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ReviewStore for MemoryStore {
    async fn submit_content(
        &self,
        mut submission: Submission,
        files: &ContentFiles,
    ) -> Result<Submission, StoreError> {
        let mut review = self.review();
        submission.id = review.submissions.last().map_or(1, |s| s.id + 1);
        review.files.insert(submission.id, Arc::new(files.clone()));
        review.submissions.push(submission.clone());
        if review.submissions.len() as u64 > SUBMISSIONS_KEPT {
            let gone = review.submissions.remove(0);
            review.files.remove(&gone.id);
        }
        Ok(submission)
    }

    async fn submission(&self, id: u64) -> Result<Option<(Submission, Option<ContentFiles>)>, StoreError> {
        let review = self.review();
        let files = review.files.get(&id).map(|f| ContentFiles::clone(f));
        Ok(review.submissions.iter().find(|s| s.id == id).map(|s| (s.clone(), files)))
    }

    async fn submissions(&self, limit: usize) -> Result<Vec<Submission>, StoreError> {
        Ok(self.review().submissions.iter().rev().take(limit).cloned().collect())
    }

    async fn decide_submission(
        &self,
        from: SubmissionStatus,
        decided: &Submission,
        drop_files: bool,
    ) -> Result<bool, StoreError> {
        let mut review = self.review();
        let Some(stored) = review.submissions.iter_mut().find(|s| s.id == decided.id) else {
            return Ok(false);
        };
        if stored.status != from {
            return Ok(false);
        }
        *stored = decided.clone();
        if drop_files {
            review.files.remove(&decided.id);
        }
        Ok(true)
    }

    async fn due_submissions(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<u64>, StoreError> {
        let mut due: Vec<(i64, u64)> = self
            .review()
            .submissions
            .iter()
            .filter_map(|s| publish_millis(s).map(|at| (at, s.id)))
            .filter(|(at, _)| *at <= now.timestamp_millis())
            .collect();
        due.sort_unstable();
        Ok(due.into_iter().map(|(_, id)| id).collect())
    }

    /// The memory store's due list reads the records themselves: there is no index to fill.
    async fn index_scheduled(&self) -> Result<usize, StoreError> {
        Ok(0)
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let mut review = self.review();
        review.audit.push_front(entry);
        review.audit.truncate(AUDIT_KEPT);
        Ok(())
    }

    async fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.review().audit.iter().take(limit).cloned().collect())
    }
}

/// Numbers a submission, keeps it and its files, and drops the record, files and due-index
/// entry that fall out of the kept window. KEYS: sequence, records hash, files hash, due index.
/// ARGV: record JSON, files JSON, records kept.
const SUBMIT: &str = r"
local id = redis.call('INCR', KEYS[1])
local submission = cjson.decode(ARGV[1])
submission['id'] = id
local record = cjson.encode(submission)
redis.call('HSET', KEYS[2], id, record)
redis.call('HSET', KEYS[3], id, ARGV[2])
local kept = tonumber(ARGV[3])
if id > kept then
  redis.call('HDEL', KEYS[2], id - kept)
  redis.call('HDEL', KEYS[3], id - kept)
  redis.call('ZREM', KEYS[4], id - kept)
end
return record
";

/// Replaces a submission's record if its status is still ARGV[2]; drops its files when ARGV[4]
/// is 1; keeps the due index: the submission is in it, scored by its publishing time in
/// milliseconds (ARGV[5]), exactly while it is scheduled (ARGV[5] not empty).
/// KEYS: records hash, files hash, due index. ARGV: id, expected status, new record JSON, drop,
/// publishing time.
const DECIDE: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
if cjson.decode(current)['status'] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '1' then redis.call('HDEL', KEYS[2], ARGV[1]) end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 1
";

/// Adds a submission to the due index if its record is still scheduled, in one step, so an
/// entry is never added for one decided meanwhile. KEYS: records hash, due index. ARGV: id,
/// publishing time (ms). Returns 1 when it was added.
const INDEX: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or cjson.decode(current)['status'] ~= 'scheduled' then return 0 end
return redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
";

static SUBMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(SUBMIT));
static INDEX_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(INDEX));
static DECIDE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(DECIDE));

impl RedisStore {
    /// Review keys share the content's hash tag: one slot for every script.
    fn review_keys(&self) -> [String; 4] {
        ["{content}:submission-seq", "{content}:submissions", "{content}:submission-files", "{content}:audit"]
            .map(|k| self.global(k))
    }

    /// Scheduled submissions' ids scored by their publishing time (ms), in the same slot.
    fn due_key(&self) -> String {
        self.global("{content}:scheduled")
    }
}

/// A scheduled submission's publishing time in milliseconds since 1970.
fn publish_millis(submission: &Submission) -> Option<i64> {
    (submission.status == SubmissionStatus::Scheduled)
        .then_some(submission.publish_at.as_deref())
        .flatten()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.timestamp_millis())
}

fn status_name(status: SubmissionStatus) -> Result<String, StoreError> {
    let value = serde_json::to_value(status).map_err(corrupt)?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

impl ReviewStore for RedisStore {
    async fn submit_content(
        &self,
        submission: Submission,
        files: &ContentFiles,
    ) -> Result<Submission, StoreError> {
        let [seq, records, stored_files, _] = self.review_keys();
        let numbered: String = SUBMIT_SCRIPT
            .key(seq)
            .key(records)
            .key(stored_files)
            .key(self.due_key())
            .arg(serde_json::to_string(&submission).map_err(corrupt)?)
            .arg(serde_json::to_string(files).map_err(corrupt)?)
            .arg(SUBMISSIONS_KEPT)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        serde_json::from_str(&numbered).map_err(corrupt)
    }

    async fn submission(&self, id: u64) -> Result<Option<(Submission, Option<ContentFiles>)>, StoreError> {
        let [_, records, stored_files, _] = self.review_keys();
        let (record, files): (Option<String>, Option<String>) = redis::pipe()
            .cmd("HGET")
            .arg(records)
            .arg(id)
            .cmd("HGET")
            .arg(stored_files)
            .arg(id)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        let Some(record) = record else { return Ok(None) };
        let files = files.map(|f| serde_json::from_str(&f).map_err(corrupt)).transpose()?;
        Ok(Some((serde_json::from_str(&record).map_err(corrupt)?, files)))
    }

    async fn submissions(&self, limit: usize) -> Result<Vec<Submission>, StoreError> {
        let [_, records, _, _] = self.review_keys();
        let all: Vec<String> = redis::cmd("HVALS")
            .arg(records)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        let mut submissions: Vec<Submission> =
            all.iter().map(|json| serde_json::from_str(json).map_err(corrupt)).collect::<Result<_, _>>()?;
        submissions.sort_by_key(|s| std::cmp::Reverse(s.id));
        submissions.truncate(limit);
        Ok(submissions)
    }

    async fn decide_submission(
        &self,
        from: SubmissionStatus,
        decided: &Submission,
        drop_files: bool,
    ) -> Result<bool, StoreError> {
        let [_, records, stored_files, _] = self.review_keys();
        let changed: i64 = DECIDE_SCRIPT
            .key(records)
            .key(stored_files)
            .key(self.due_key())
            .arg(decided.id)
            .arg(status_name(from)?)
            .arg(serde_json::to_string(decided).map_err(corrupt)?)
            .arg(if drop_files { "1" } else { "0" })
            .arg(publish_millis(decided).map_or(String::new(), |at| at.to_string()))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(changed == 1)
    }

    async fn due_submissions(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<u64>, StoreError> {
        redis::cmd("ZRANGE")
            .arg(self.due_key())
            .arg("-inf")
            .arg(now.timestamp_millis())
            .arg("BYSCORE")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)
    }

    async fn index_scheduled(&self) -> Result<usize, StoreError> {
        let [_, records, _, _] = self.review_keys();
        let mut added = 0;
        for submission in self.submissions(SUBMISSIONS_KEPT as usize).await? {
            let Some(at) = publish_millis(&submission) else { continue };
            let new: i64 = INDEX_SCRIPT
                .key(&records)
                .key(self.due_key())
                .arg(submission.id)
                .arg(at)
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(unavailable)?;
            added += new as usize;
        }
        Ok(added)
    }

    async fn record_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let [_, _, _, audit] = self.review_keys();
        let _: () = redis::pipe()
            .atomic()
            .cmd("LPUSH")
            .arg(&audit)
            .arg(serde_json::to_string(&entry).map_err(corrupt)?)
            .ignore()
            .cmd("LTRIM")
            .arg(&audit)
            .arg(0)
            .arg(AUDIT_KEPT as i64 - 1)
            .ignore()
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let [_, _, _, audit] = self.review_keys();
        let entries: Vec<String> = redis::cmd("LRANGE")
            .arg(audit)
            .arg(0)
            .arg(limit.max(1) as i64 - 1)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        entries.iter().map(|json| serde_json::from_str(json).map_err(corrupt)).collect()
    }
}

impl ReviewStore for Store {
    async fn submit_content(
        &self,
        submission: Submission,
        files: &ContentFiles,
    ) -> Result<Submission, StoreError> {
        delegate!(self, s => s.submit_content(submission, files))
    }
    async fn submission(&self, id: u64) -> Result<Option<(Submission, Option<ContentFiles>)>, StoreError> {
        delegate!(self, s => s.submission(id))
    }
    async fn submissions(&self, limit: usize) -> Result<Vec<Submission>, StoreError> {
        delegate!(self, s => s.submissions(limit))
    }
    async fn decide_submission(
        &self,
        from: SubmissionStatus,
        decided: &Submission,
        drop_files: bool,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.decide_submission(from, decided, drop_files))
    }
    async fn due_submissions(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<u64>, StoreError> {
        delegate!(self, s => s.due_submissions(now))
    }
    async fn index_scheduled(&self) -> Result<usize, StoreError> {
        delegate!(self, s => s.index_scheduled())
    }
    async fn record_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        delegate!(self, s => s.record_audit(entry))
    }
    async fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        delegate!(self, s => s.audit(limit))
    }
}
