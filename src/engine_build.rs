//! Building the engine from the content (on disk, or a published version's files): load and validate the content, load the
//! sentence encoder and embed the content's phrasings, choose the decline threshold, train the
//! matchers or load the weights they learned before (each cached, `cache.rs`). Used by
//! `startup` (serve and the CLI) and by the editors' API (try the draft, publish); it knows
//! nothing of HTTP or the store.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::cache::{Cache, decode_embeddings, encode_embeddings, fingerprint};
use crate::config::Settings;
use crate::content::{Content, ContentErrors, ContentFiles};
use crate::engine::calibrate::{DeclineTuning, tune_decline_threshold};
use crate::engine::encoder::{Encoder, EncoderError};
use crate::engine::matcher::{MATCHER_REVISION, MatchSettings};
use crate::engine::{ContentMeaning, Engine, EngineError};

/// Why an engine could not be built; the content's errors name each file and line.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Content(#[from] ContentErrors),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot load the sentence encoder: {0}")]
    Encoder(#[from] EncoderError),
}

/// Folds of the cross-validation that chooses the decline threshold.
const TUNING_FOLDS: usize = 5;

/// Content versions whose learned weights stay on disk (the running one and the ones before,
/// for a quick rollback); each is tens of megabytes.
const WEIGHTS_KEPT: usize = 3;

/// Loads and validates the content, loads the sentence encoder and embeds the content's
/// phrasings (cached), chooses the decline threshold and the encoder's share (unless the
/// threshold is set; cached), and trains the engine (or loads the weights it learned before).
pub fn build_engine(settings: &Settings) -> Result<Engine, BuildError> {
    build_engine_from(settings, &read_content_files(settings)?)
}

/// The content files in the folders the settings name (the seed, and the editors' draft).
pub fn read_content_files(settings: &Settings) -> Result<ContentFiles, BuildError> {
    Ok(ContentFiles::read(&settings.intents_dir, &settings.knowledge_dir)?)
}

/// As [`build_engine`], from files already read (a published version from the store).
pub fn build_engine_from(settings: &Settings, files: &ContentFiles) -> Result<Engine, BuildError> {
    let started = Instant::now();
    let content = files.parse()?;
    let cache = Cache::new(&settings.cache_dir);
    let meaning = match &settings.encoder_dir {
        Some(dir) => Some(content_meaning(&cache, load_encoder(dir)?, &content)),
        None => None,
    };
    // File names, not paths: the same content read from anywhere is one version.
    let content_key = files.fingerprint();
    let encoder = meaning.as_ref().map_or("none", |m| m.encoder.fingerprint());
    let code = format!("{encoder}{MATCHER_REVISION}{}", env!("CARGO_PKG_VERSION"));
    let mut match_settings = MatchSettings::default();
    match settings.threshold {
        Some(threshold) => match_settings.threshold = threshold,
        None => {
            let settings_text = format!("{match_settings:?}{TUNING_FOLDS}{code}");
            let key = fingerprint([content_key.as_bytes(), settings_text.as_bytes()]);
            let tuning = cache.read_json::<DeclineTuning>("tuning", &key).unwrap_or_else(|| {
                let tuning = tune_decline_threshold(&content, match_settings, TUNING_FOLDS, meaning.as_ref());
                cache.write_json("tuning", &key, &tuning);
                tuning
            });
            tracing::info!(
                threshold = tuning.threshold,
                encoder_share = tuning.encoder_share,
                encoder_below = tuning.encoder_below,
                in_scope = tuning.in_scope_accuracy,
                decline_recall = tuning.decline_recall,
                decline_precision = tuning.decline_precision,
                "decline threshold chosen by cross-validation"
            );
            match_settings.threshold = tuning.threshold;
            match_settings.encoder_share = tuning.encoder_share;
            match_settings.encoder_below = tuning.encoder_below;
        }
    }
    // The learned weights: loading them instead of training keeps a restart under a second.
    // Keyed by this build too: weights from other training code must never be loaded.
    let weights_text = format!("{match_settings:?}{code}{}", build_identity());
    let weights_key = fingerprint([content_key.as_bytes(), weights_text.as_bytes()]);
    let learned = cache.read_bytes("weights", &weights_key);
    let engine = Engine::build_or_load(content, match_settings, meaning.as_ref(), learned.as_deref())?;
    drop(learned);
    if !engine.weights_loaded() {
        cache.write_bytes("weights", &weights_key, &engine.learned_weights());
        cache.keep_newest("weights", WEIGHTS_KEPT);
    }
    tracing::info!(
        intents = engine.content.intents.len(),
        articles = engine.content.articles.len(),
        features = engine.matcher.feature_count(),
        encoder = engine.matcher.has_encoder(),
        weights_loaded = engine.weights_loaded(),
        millis = started.elapsed().as_millis() as u64,
        "content loaded and matcher trained"
    );
    Ok(engine)
}

/// The running executable's size and modification time: a new build, a new identity.
fn build_identity() -> String {
    let metadata = std::env::current_exe().and_then(std::fs::metadata);
    match metadata {
        Ok(m) => format!("{}{:?}", m.len(), m.modified().ok()),
        // Unknown: a key no other start shares, so nothing is loaded that may not fit.
        Err(_) => format!("{:?}", std::time::SystemTime::now()),
    }
}

pub fn load_encoder(dir: &Path) -> Result<Arc<Encoder>, BuildError> {
    let started = Instant::now();
    let encoder = Encoder::load(dir)?;
    tracing::info!(dir = %dir.display(), millis = started.elapsed().as_millis() as u64, "sentence encoder loaded");
    Ok(Arc::new(encoder))
}

/// The embeddings of every phrasing the engine trains on: read from the cache, the missing
/// ones embedded now and the cache written back.
pub fn content_meaning(cache: &Cache, encoder: Arc<Encoder>, content: &Content) -> ContentMeaning {
    let key = encoder.fingerprint().to_string();
    let mut embeddings =
        cache.read_bytes("embeddings", &key).and_then(|b| decode_embeddings(&b)).unwrap_or_default();
    let missing: Vec<String> =
        ContentMeaning::texts_needed(content).into_iter().filter(|t| !embeddings.contains_key(t)).collect();
    if !missing.is_empty() {
        let started = Instant::now();
        let texts: Vec<&str> = missing.iter().map(String::as_str).collect();
        embeddings.extend(missing.iter().cloned().zip(encoder.embed(&texts)));
        tracing::info!(
            phrasings = missing.len(),
            millis = started.elapsed().as_millis() as u64,
            "embedded the content's new phrasings"
        );
        cache.write_bytes("embeddings", &key, &encode_embeddings(&embeddings));
    }
    ContentMeaning { encoder, embeddings }
}
