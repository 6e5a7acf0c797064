//! Each editor's draft (`content::draft::Draft`): only the files they changed, saved whole on
//! every change. A draft untouched for 180 days is dropped. Both stores implement it here,
//! beside the trait.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::redis::{corrupt, unavailable};
use super::{MemoryStore, RedisStore, Store, StoreError};
use crate::content::draft::Draft;

/// A draft nobody has changed for this long is dropped.
pub const DRAFT_KEPT_SECONDS: u64 = 180 * 24 * 3600;

pub trait DraftStore: Send + Sync {
    /// The editor's draft; empty when they have none.
    fn draft(&self, editor: &str) -> impl Future<Output = Result<Draft, StoreError>> + Send;
    /// Replaces the editor's draft; an empty one is removed.
    fn save_draft(&self, editor: &str, draft: &Draft) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub(super) type MemoryDrafts = Arc<Mutex<HashMap<String, Draft>>>;

impl DraftStore for MemoryStore {
    async fn draft(&self, editor: &str) -> Result<Draft, StoreError> {
        Ok(self.drafts.lock().unwrap_or_else(|e| e.into_inner()).get(editor).cloned().unwrap_or_default())
    }

    async fn save_draft(&self, editor: &str, draft: &Draft) -> Result<(), StoreError> {
        let mut drafts = self.drafts.lock().unwrap_or_else(|e| e.into_inner());
        if draft.files.is_empty() {
            drafts.remove(editor);
        } else {
            drafts.insert(editor.to_string(), draft.clone());
        }
        Ok(())
    }
}

impl RedisStore {
    /// Under the content's hash tag, beside the versions.
    fn draft_key(&self, editor: &str) -> String {
        self.global(&format!("{{content}}:draft:{editor}"))
    }
}

impl DraftStore for RedisStore {
    async fn draft(&self, editor: &str) -> Result<Draft, StoreError> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.draft_key(editor))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        json.map_or(Ok(Draft::default()), |json| serde_json::from_str(&json).map_err(corrupt))
    }

    async fn save_draft(&self, editor: &str, draft: &Draft) -> Result<(), StoreError> {
        let key = self.draft_key(editor);
        let command = if draft.files.is_empty() {
            redis::cmd("DEL").arg(key).clone()
        } else {
            let json = serde_json::to_string(draft).map_err(corrupt)?;
            redis::cmd("SET").arg(key).arg(json).arg("EX").arg(DRAFT_KEPT_SECONDS).clone()
        };
        command.query_async::<()>(&mut self.connection.clone()).await.map_err(unavailable)
    }
}

impl DraftStore for Store {
    async fn draft(&self, editor: &str) -> Result<Draft, StoreError> {
        delegate!(self, s => s.draft(editor))
    }
    async fn save_draft(&self, editor: &str, draft: &Draft) -> Result<(), StoreError> {
        delegate!(self, s => s.save_draft(editor, draft))
    }
}
