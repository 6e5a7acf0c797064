//! Putting the parts together: content -> engine, settings -> store, both -> the HTTP server.

use std::time::Instant;

use crate::cache::{Cache, fingerprint};
use crate::config::Settings;
use crate::content::{self, ContentErrors};
use crate::engine::calibrate::{DeclineTuning, tune_decline_threshold};
use crate::engine::matcher::MatchSettings;
use crate::engine::{Engine, EngineError};
use crate::http::{AppState, Application};
use crate::store::{MemoryStore, RedisStore, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Content(#[from] ContentErrors),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
}

/// Folds of the cross-validation that chooses the decline threshold.
const TUNING_FOLDS: usize = 5;

/// Loads and validates the content, chooses the decline threshold (unless set), and trains
/// the engine on it.
pub fn build_engine(settings: &Settings) -> Result<Engine, StartupError> {
    let started = Instant::now();
    let (intent_files, article_files) = content::read_dirs(&settings.intents_dir, &settings.knowledge_dir)?;
    let content = content::from_sources(&intent_files, &article_files)?;
    let mut match_settings = MatchSettings::default();
    match_settings.threshold = match settings.threshold {
        Some(threshold) => threshold,
        None => {
            let sources = intent_files.iter().chain(&article_files);
            let settings_text = format!("{match_settings:?}{TUNING_FOLDS}{}", env!("CARGO_PKG_VERSION"));
            let key = fingerprint(
                sources
                    .flat_map(|f| [f.path.as_os_str().as_encoded_bytes(), f.text.as_bytes()])
                    .chain([settings_text.as_bytes()]),
            );
            let cache = Cache::new(&settings.cache_dir);
            let tuning = cache.read_json::<DeclineTuning>("threshold", &key).unwrap_or_else(|| {
                let tuning = tune_decline_threshold(&content, match_settings, TUNING_FOLDS);
                cache.write_json("threshold", &key, &tuning);
                tuning
            });
            tracing::info!(
                threshold = tuning.threshold,
                in_scope = tuning.in_scope_accuracy,
                decline_recall = tuning.decline_recall,
                decline_precision = tuning.decline_precision,
                "decline threshold chosen by cross-validation"
            );
            tuning.threshold
        }
    };
    let engine = Engine::build(content, match_settings)?;
    tracing::info!(
        intents = engine.content.intents.len(),
        articles = engine.content.articles.len(),
        features = engine.matcher.feature_count(),
        millis = started.elapsed().as_millis() as u64,
        "content loaded and matcher trained"
    );
    Ok(engine)
}

pub fn build_store(settings: &Settings) -> Result<Store, StartupError> {
    Ok(match &settings.redis_url {
        Some(url) => Store::Redis(RedisStore::new(url, &settings.redis_prefix, settings.retention())?),
        None => Store::Memory(MemoryStore::new(settings.retention())),
    })
}

/// Everything `serve` needs, bound and ready.
pub fn build_application(settings: Settings) -> Result<Application, StartupError> {
    let engine = build_engine(&settings)?;
    let store = build_store(&settings)?;
    let listen = settings.listen.clone();
    Application::build(AppState::new(std::sync::Arc::new(engine), store, settings))
        .map_err(|e| StartupError::Listen(listen, e))
}
