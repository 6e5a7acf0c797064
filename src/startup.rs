//! Putting the parts together: content -> engine (`engine_build`), settings -> store, both ->
//! the HTTP server. Only this module and `main.rs` wire the application; nothing imports it but
//! the binary and the tests.

use crate::config::Settings;
pub use crate::engine_build::{
    BuildError, build_engine, build_engine_from, content_meaning, load_encoder, read_content_files,
};
use crate::http::{AppState, Application};
use crate::publishing::LiveContent;
use crate::store::{MemoryStore, RedisStore, RedisTarget, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
}

pub fn build_store(settings: &Settings) -> Result<Store, StartupError> {
    Ok(match &settings.redis_url {
        Some(url) => Store::Redis(
            RedisStore::open(
                RedisTarget::from_url(url, settings.redis_cluster),
                &settings.redis_prefix,
                settings.retention(),
            )?
            .wait_for_replicas(settings.redis_wait_replicas),
        ),
        None => Store::Memory(MemoryStore::new(settings.retention())),
    })
}

/// Everything `serve` needs, bound and ready.
pub fn build_application(settings: Settings) -> Result<Application, StartupError> {
    warn_if_bank_holidays_run_out(&settings.bank_holidays, chrono::Utc::now().date_naive());
    // The folders are the seed; a version published since is served within a second of start.
    let files = read_content_files(&settings)?;
    let engine = build_engine_from(&settings, &files)?;
    let store = build_store(&settings)?;
    let listen = settings.listen.clone();
    let live = LiveContent::new(std::sync::Arc::new(engine), files);
    Application::build(AppState::new(live, store, settings)).map_err(|e| StartupError::Listen(listen, e))
}

/// The bank holidays are a list in the settings: say so in good time before it runs out, or
/// teams would show as open on a holiday nobody listed.
fn warn_if_bank_holidays_run_out(holidays: &[chrono::NaiveDate], today: chrono::NaiveDate) -> bool {
    let last = holidays.iter().max();
    let soon = last.is_none_or(|last| *last < today + chrono::Days::new(120));
    if soon {
        tracing::warn!(
            last = ?last,
            "bank holidays are listed for less than four more months: add the next year's to bank_holidays in the config file"
        );
    }
    soon
}

#[cfg(test)]
mod bank_holiday_tests {
    use chrono::NaiveDate;

    #[test]
    fn a_warning_comes_four_months_before_the_list_runs_out() {
        let last = NaiveDate::from_ymd_opt(2027, 12, 28).unwrap();
        let warned = |today| super::warn_if_bank_holidays_run_out(&[last], today);
        assert!(!warned(NaiveDate::from_ymd_opt(2027, 8, 1).unwrap()));
        assert!(warned(NaiveDate::from_ymd_opt(2027, 9, 1).unwrap()));
        assert!(super::warn_if_bank_holidays_run_out(&[], NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    }
}
