//! Putting the parts together: content -> engine, settings -> store, both -> the HTTP server.

use std::time::Instant;

use crate::config::Settings;
use crate::content::{self, ContentErrors};
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

/// Loads and validates the content, and trains the engine on it.
pub fn build_engine(settings: &Settings) -> Result<Engine, StartupError> {
    let started = Instant::now();
    let content = content::load(&settings.intents_dir, &settings.knowledge_dir)?;
    let match_settings = MatchSettings { threshold: settings.threshold, ..MatchSettings::default() };
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
