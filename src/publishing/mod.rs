//! Content going live on every instance. An editor's publish builds the new engine, records
//! the version in the store and swaps it in here; every other instance sees the newer version
//! within a second (`follow` reads the newest version's record once a second, one small read),
//! builds the engine off the request threads and swaps it in whole. A request in flight
//! finishes on the engine it started with, so no reply mixes two versions, and nobody waits
//! for a build. Knows the store and the engine builder, not HTTP.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::Settings;
use crate::content::{ContentErrors, ContentFiles};
use crate::engine::Engine;
use crate::engine_build::{BuildError, build_engine_from};
use crate::store::{ContentStore, ContentVersion, ReviewStore, StoreError};

mod review;
pub use review::{Approval, approve, publish_directly, reject, submit};

/// How often an instance reads which version is newest.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(ContentErrors),
    #[error(transparent)]
    Build(BuildError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("there is no version {0} with its files kept")]
    NoSuchVersion(u64),
    #[error("building the content was interrupted")]
    Interrupted,
    #[error("there is no submission {0}")]
    NoSuchSubmission(u64),
    #[error("submission {0} is no longer waiting for review")]
    NotWaiting(u64),
    #[error("a change is approved by someone other than its author")]
    OwnChange,
    #[error("this service publishes reviewed changes only")]
    ReviewRequired,
}

impl From<BuildError> for PublishError {
    fn from(error: BuildError) -> Self {
        match error {
            BuildError::Content(errors) => Self::Invalid(errors),
            other => Self::Build(other),
        }
    }
}

/// What this instance serves: the engine, the files it was built from and, once anything has
/// been published, the version they are.
struct Serving {
    engine: Arc<Engine>,
    files: Arc<ContentFiles>,
    fingerprint: String,
    version: Option<ContentVersion>,
}

pub struct LiveContent {
    serving: RwLock<Serving>,
}

impl LiveContent {
    /// Serving the content the instance started with (from its folders), not yet a version.
    pub fn new(engine: Arc<Engine>, files: ContentFiles) -> Self {
        let fingerprint = files.fingerprint();
        Self { serving: RwLock::new(Serving { engine, files: Arc::new(files), fingerprint, version: None }) }
    }

    /// The engine now serving; a request holds it to the end, so it sees one version.
    pub fn engine(&self) -> Arc<Engine> {
        self.read(|s| s.engine.clone())
    }

    /// The published version now serving; `None` while serving the folders it started with.
    pub fn version(&self) -> Option<ContentVersion> {
        self.read(|s| s.version.clone())
    }

    pub fn fingerprint(&self) -> String {
        self.read(|s| s.fingerprint.clone())
    }

    /// The files of the content now serving: what editors' drafts change.
    pub fn files(&self) -> Arc<ContentFiles> {
        self.read(|s| s.files.clone())
    }

    fn read<T>(&self, f: impl FnOnce(&Serving) -> T) -> T {
        f(&self.serving.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Swaps `engine` in unless a newer version is already serving (a slow build must not
    /// undo a quicker, later one). Returns whether it did.
    fn swap_if_newer(&self, engine: Arc<Engine>, files: Arc<ContentFiles>, version: ContentVersion) -> bool {
        let mut serving = self.serving.write().unwrap_or_else(|e| e.into_inner());
        if serving.version.as_ref().is_some_and(|v| v.number >= version.number) {
            return false;
        }
        *serving =
            Serving { engine, fingerprint: version.fingerprint.clone(), files, version: Some(version) };
        true
    }
}

/// The engines of editors' drafts, the most recently used few kept while their files are
/// unchanged, so trying question after question costs a reply, not a training. One build at
/// a time: a try that arrives while a draft is being built waits for that build instead of
/// starting another.
#[derive(Default)]
pub struct DraftEngine {
    /// Most recently used last.
    kept: tokio::sync::Mutex<Vec<(String, Arc<Engine>)>>,
}

/// Draft engines kept (each as large as the serving one): two editors trying at once.
const DRAFT_ENGINES_KEPT: usize = 2;

impl DraftEngine {
    /// The engine for `files`: the one serving when they are what is live, a kept one when
    /// they are unchanged, else built now.
    pub async fn engine_for(
        &self,
        live: &LiveContent,
        settings: &Settings,
        files: Arc<ContentFiles>,
    ) -> Result<Arc<Engine>, PublishError> {
        let fingerprint = files.fingerprint();
        if fingerprint == live.fingerprint() {
            return Ok(live.engine());
        }
        let mut kept = self.kept.lock().await;
        if let Some(at) = kept.iter().position(|(f, _)| *f == fingerprint) {
            let entry = kept.remove(at);
            let engine = entry.1.clone();
            kept.push(entry);
            return Ok(engine);
        }
        let engine = Arc::new(build(settings, files).await?);
        if kept.len() >= DRAFT_ENGINES_KEPT {
            kept.remove(0);
        }
        kept.push((fingerprint, engine.clone()));
        Ok(engine)
    }
}

/// Builds an engine off the async threads: training takes seconds.
async fn build(settings: &Settings, files: Arc<ContentFiles>) -> Result<Engine, PublishError> {
    let settings = settings.clone();
    let built = tokio::task::spawn_blocking(move || build_engine_from(&settings, &files))
        .await
        .map_err(|_| PublishError::Interrupted)?;
    Ok(built?)
}

/// Who publishes and why.
#[derive(Default)]
pub struct Publication {
    pub author: String,
    pub message: String,
    /// The version being published again, for a rollback.
    pub restores: Option<u64>,
    /// The submission being published, and who approved it.
    pub submission: Option<u64>,
    pub approved_by: Option<String>,
}

/// Validates and builds `files`, records them as the newest version and serves them here.
/// The first publish records the content the instance started with as version 1, so there
/// is always a version to roll back to. Invalid content is refused and nothing changes.
pub async fn publish(
    store: &impl ContentStore,
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    files: ContentFiles,
    publication: Publication,
) -> Result<(ContentVersion, Arc<Engine>), PublishError> {
    let files = Arc::new(files);
    let engine = drafts.engine_for(live, settings, files.clone()).await?;
    if store.current_content().await?.is_none() {
        let (seed, seed_files) = live.read(|s| (s.engine.clone(), s.files.clone()));
        let starting = Publication {
            author: publication.author.clone(),
            message: "The content this service started with".into(),
            ..Publication::default()
        };
        store.publish_content(record(&seed, &seed_files, &starting), &seed_files).await?;
    }
    let version = store.publish_content(record(&engine, &files, &publication), &files).await?;
    live.swap_if_newer(engine.clone(), files, version.clone());
    Ok((version, engine))
}

/// Publishes version `number`'s files again as the newest version.
pub async fn restore(
    store: &(impl ContentStore + ReviewStore),
    live: &LiveContent,
    drafts: &DraftEngine,
    settings: &Settings,
    number: u64,
    author: String,
) -> Result<(ContentVersion, Arc<Engine>), PublishError> {
    let (_, files) = store.content_version(number).await?.ok_or(PublishError::NoSuchVersion(number))?;
    let publication = Publication {
        author: author.clone(),
        message: format!("Restores version {number}"),
        restores: Some(number),
        ..Publication::default()
    };
    let (version, engine) = publish(store, live, drafts, settings, files, publication).await?;
    review::audit(store, &author, "restored", None, Some(version.number), &version.message).await;
    Ok((version, engine))
}

fn record(engine: &Engine, files: &ContentFiles, publication: &Publication) -> ContentVersion {
    ContentVersion {
        number: 0,
        fingerprint: files.fingerprint(),
        author: publication.author.clone(),
        message: publication.message.clone(),
        published_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        intents: engine.content.intents.len(),
        articles: engine.content.articles.len(),
        restores: publication.restores,
        submission: publication.submission,
        approved_by: publication.approved_by.clone(),
    }
}

/// Serves the newest published version, checking once a second, for as long as the instance
/// runs. A version this build cannot load is logged once and skipped; the instance keeps
/// serving what it has.
pub async fn follow(store: impl ContentStore, live: Arc<LiveContent>, settings: Settings) {
    let mut skipped: Option<u64> = None;
    let mut ticks = tokio::time::interval(FOLLOW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let newest = match store.current_content().await {
            Ok(Some(newest)) => newest,
            Ok(None) => continue,
            Err(error) => {
                tracing::debug!(%error, "cannot read the newest content version");
                continue;
            }
        };
        let serving = live.version().map_or(0, |v| v.number);
        if newest.number <= serving || skipped == Some(newest.number) {
            continue;
        }
        match catch_up(&store, &live, &settings, newest.number).await {
            Ok(version) => tracing::info!(version = version.number, "serving published content"),
            Err(PublishError::Store(error)) => {
                tracing::warn!(%error, "cannot read the newest content version")
            }
            Err(error) => {
                tracing::error!(version = newest.number, %error, "cannot serve the published content");
                skipped = Some(newest.number);
            }
        }
    }
}

/// How often each instance looks for scheduled submissions that have fallen due.
pub const SCHEDULE_EVERY: Duration = Duration::from_secs(5);

/// Publishes scheduled submissions when they fall due, on every instance: whichever sees one
/// first publishes it (the store's compare and set), and `follow` brings the rest along.
pub async fn publish_scheduled(store: crate::store::Store, live: Arc<LiveContent>, settings: Settings) {
    let drafts = DraftEngine::default();
    let mut ticks = tokio::time::interval(SCHEDULE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Submissions scheduled before the due index existed are not in it: indexed once, on the
    // first tick the store answers.
    let mut indexed = false;
    loop {
        ticks.tick().await;
        if !indexed {
            match store.index_scheduled().await {
                Ok(added) => {
                    indexed = true;
                    if added > 0 {
                        tracing::info!(added, "scheduled submissions added to the due index");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot index the scheduled submissions; trying again"),
            }
        }
        match review::publish_due(&store, &live, &drafts, &settings, chrono::Utc::now()).await {
            Ok(published) => {
                for version in published {
                    tracing::info!(version = version.number, submission = ?version.submission, "scheduled content published");
                }
            }
            Err(error) => tracing::warn!(%error, "cannot publish the scheduled content; trying again"),
        }
    }
}

/// Loads version `number` and serves it; when this instance already has its files (it
/// published them), only the record changes.
async fn catch_up(
    store: &impl ContentStore,
    live: &LiveContent,
    settings: &Settings,
    number: u64,
) -> Result<ContentVersion, PublishError> {
    let (version, files) = store.content_version(number).await?.ok_or(PublishError::NoSuchVersion(number))?;
    let (engine, files) = if version.fingerprint == live.fingerprint() {
        live.read(|s| (s.engine.clone(), s.files.clone()))
    } else {
        let files = Arc::new(files);
        (Arc::new(build(settings, files.clone()).await?), files)
    };
    live.swap_if_newer(engine, files, version.clone());
    Ok(version)
}

#[cfg(test)]
mod tests;
