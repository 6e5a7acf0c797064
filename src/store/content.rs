//! Published content versions, in the store so every instance serves the same one. Each
//! version is its files (`ContentFiles`) and a record of who published it, when and why;
//! versions are numbered 1, 2, 3... in the order published, and the newest is the one served.
//! A rollback publishes an old version's files again as a new version, so the history only
//! grows. Both stores implement it here, beside the trait: the Redis one is a single script.

use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};

use redis::Script;
use serde::{Deserialize, Serialize};

use super::redis::{corrupt, unavailable};
use super::{MemoryStore, RedisStore, Store, StoreError};
use crate::content::ContentFiles;

/// One published version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContentVersion {
    /// 1, 2, 3... in the order published; 0 before the store numbers it.
    pub number: u64,
    /// SHA-256 of the files: instances serving the same fingerprint serve the same content.
    pub fingerprint: String,
    /// The name of the editor who published it.
    pub author: String,
    pub message: String,
    #[schema(format = DateTime)]
    pub published_at: String,
    /// Topics and articles in it.
    pub intents: usize,
    pub articles: usize,
    /// The version whose files it published again (a rollback).
    #[serde(default)]
    pub restores: Option<u64>,
    /// The submission it published, and the approver who approved it.
    #[serde(default)]
    pub submission: Option<u64>,
    #[serde(default)]
    pub approved_by: Option<String>,
}

/// Versions whose files are kept (each a few hundred kilobytes); older ones keep their record.
pub const VERSION_FILES_KEPT: u64 = 50;
/// Version records kept in the history.
pub const VERSION_HISTORY_KEPT: usize = 1000;

pub trait ContentStore: Send + Sync {
    /// Records `files` as the newest version; returns `version` with its number.
    fn publish_content(
        &self,
        version: ContentVersion,
        files: &ContentFiles,
    ) -> impl Future<Output = Result<ContentVersion, StoreError>> + Send;
    /// The newest version, the one every instance should serve.
    fn current_content(&self) -> impl Future<Output = Result<Option<ContentVersion>, StoreError>> + Send;
    /// A version with its files; `None` when there is no such version or its files are no
    /// longer kept.
    fn content_version(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Option<(ContentVersion, ContentFiles)>, StoreError>> + Send;
    /// Newest first, at most `limit`.
    fn content_history(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ContentVersion>, StoreError>> + Send;
}

/// The memory store's versions, newest last, each with its files while they are kept.
pub(super) type MemoryVersions = Arc<Mutex<Vec<(ContentVersion, Option<Arc<ContentFiles>>)>>>;

impl ContentStore for MemoryStore {
    async fn publish_content(
        &self,
        mut version: ContentVersion,
        files: &ContentFiles,
    ) -> Result<ContentVersion, StoreError> {
        let mut versions = self.content.lock().unwrap_or_else(|e| e.into_inner());
        version.number = versions.len() as u64 + 1;
        versions.push((version.clone(), Some(Arc::new(files.clone()))));
        let kept_from = versions.len().saturating_sub(VERSION_FILES_KEPT as usize);
        for (_, old) in &mut versions[..kept_from] {
            *old = None;
        }
        Ok(version)
    }

    async fn current_content(&self) -> Result<Option<ContentVersion>, StoreError> {
        Ok(self.content.lock().unwrap_or_else(|e| e.into_inner()).last().map(|(v, _)| v.clone()))
    }

    async fn content_version(
        &self,
        number: u64,
    ) -> Result<Option<(ContentVersion, ContentFiles)>, StoreError> {
        let versions = self.content.lock().unwrap_or_else(|e| e.into_inner());
        Ok(versions
            .iter()
            .find(|(v, _)| v.number == number)
            .and_then(|(v, files)| files.as_ref().map(|f| (v.clone(), ContentFiles::clone(f)))))
    }

    async fn content_history(&self, limit: usize) -> Result<Vec<ContentVersion>, StoreError> {
        let versions = self.content.lock().unwrap_or_else(|e| e.into_inner());
        Ok(versions.iter().rev().take(limit).map(|(v, _)| v.clone()).collect())
    }
}

/// Numbers the version, keeps its files (dropping the files of the version that falls out of
/// the kept window) and puts its record first in the history, in one step. KEYS: sequence,
/// history list, files hash. ARGV: the record's JSON, the files' JSON, files kept, history kept.
const PUBLISH_CONTENT: &str = r"
local number = redis.call('INCR', KEYS[1])
local version = cjson.decode(ARGV[1])
version['number'] = number
local record = cjson.encode(version)
redis.call('HSET', KEYS[3], number, ARGV[2])
local kept = tonumber(ARGV[3])
if number > kept then redis.call('HDEL', KEYS[3], number - kept) end
redis.call('LPUSH', KEYS[2], record)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return record
";

static PUBLISH_CONTENT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(PUBLISH_CONTENT));

impl RedisStore {
    /// Content keys share one hash tag, so the publishing script touches one slot.
    fn content_keys(&self) -> [String; 3] {
        ["{content}:seq", "{content}:history", "{content}:files"].map(|k| self.global(k))
    }
}

impl ContentStore for RedisStore {
    async fn publish_content(
        &self,
        version: ContentVersion,
        files: &ContentFiles,
    ) -> Result<ContentVersion, StoreError> {
        let [seq, history, stored_files] = self.content_keys();
        let record = serde_json::to_string(&version).map_err(corrupt)?;
        let files = serde_json::to_string(files).map_err(corrupt)?;
        let mut connection = self.connection.clone();
        let numbered: String = PUBLISH_CONTENT_SCRIPT
            .key(seq)
            .key(history)
            .key(stored_files)
            .arg(record)
            .arg(files)
            .arg(VERSION_FILES_KEPT)
            .arg(VERSION_HISTORY_KEPT)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        serde_json::from_str(&numbered).map_err(corrupt)
    }

    async fn current_content(&self) -> Result<Option<ContentVersion>, StoreError> {
        let [_, history, _] = self.content_keys();
        let newest: Option<String> = redis::cmd("LINDEX")
            .arg(history)
            .arg(0)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        newest.map(|json| serde_json::from_str(&json).map_err(corrupt)).transpose()
    }

    async fn content_version(
        &self,
        number: u64,
    ) -> Result<Option<(ContentVersion, ContentFiles)>, StoreError> {
        let [_, _, stored_files] = self.content_keys();
        let files: Option<String> = redis::cmd("HGET")
            .arg(stored_files)
            .arg(number)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        let Some(files) = files else { return Ok(None) };
        let files: ContentFiles = serde_json::from_str(&files).map_err(corrupt)?;
        let history = self.content_history(VERSION_HISTORY_KEPT).await?;
        Ok(history.into_iter().find(|v| v.number == number).map(|v| (v, files)))
    }

    async fn content_history(&self, limit: usize) -> Result<Vec<ContentVersion>, StoreError> {
        let [_, history, _] = self.content_keys();
        let records: Vec<String> = redis::cmd("LRANGE")
            .arg(history)
            .arg(0)
            .arg(limit.max(1) as i64 - 1)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        records.iter().map(|json| serde_json::from_str(json).map_err(corrupt)).collect()
    }
}

impl ContentStore for Store {
    async fn publish_content(
        &self,
        version: ContentVersion,
        files: &ContentFiles,
    ) -> Result<ContentVersion, StoreError> {
        delegate!(self, s => s.publish_content(version, files))
    }
    async fn current_content(&self) -> Result<Option<ContentVersion>, StoreError> {
        delegate!(self, s => s.current_content())
    }
    async fn content_version(
        &self,
        number: u64,
    ) -> Result<Option<(ContentVersion, ContentFiles)>, StoreError> {
        delegate!(self, s => s.content_version(number))
    }
    async fn content_history(&self, limit: usize) -> Result<Vec<ContentVersion>, StoreError> {
        delegate!(self, s => s.content_history(limit))
    }
}
