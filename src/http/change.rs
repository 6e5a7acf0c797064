//! Changing a conversation safely from any instance: load, change, commit if nobody else did
//! in between, else again. Every write to a conversation goes through here or through the
//! same loop in the message route.

use crate::engine::ConversationState;
use crate::error::{ApiError, ErrorCode};
use crate::store::{CommitOutcome, ConversationStore, NewMessage, Role, StoredMessage};

use super::AppState;

/// How many times a change is re-applied when another writer got in first.
pub const MAX_COMMIT_ATTEMPTS: usize = 64;

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn system_message(text: impl Into<String>) -> NewMessage {
    NewMessage::plain(Role::System, text, now())
}

/// Applies `change` to the conversation's state and commits the messages it returns.
pub async fn change_conversation(
    state: &AppState,
    id: &str,
    change: impl Fn(&mut ConversationState) -> Result<Vec<NewMessage>, ApiError>,
) -> Result<(ConversationState, Vec<StoredMessage>), ApiError> {
    let _guard = state.lock_for(id).lock().await;
    for _ in 0..MAX_COMMIT_ATTEMPTS {
        let snapshot = state.store.load(id).await?.ok_or_else(ApiError::conversation_not_found)?;
        let mut conversation = snapshot.state;
        let messages = change(&mut conversation)?;
        match state.store.commit(id, snapshot.version, &conversation, messages).await? {
            CommitOutcome::Committed(stored) => return Ok((conversation, stored)),
            CommitOutcome::Conflict => continue,
            CommitOutcome::Gone => return Err(ApiError::conversation_not_found()),
        }
    }
    Err(ApiError::new(ErrorCode::Conflict, "The conversation is changing too fast. Please try again."))
}
