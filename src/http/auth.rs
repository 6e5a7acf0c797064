//! Who is asking. Staff sign in with bearer tokens from configuration, stored hashed; a handler
//! takes [`Agent`], [`Editor`] or [`Approver`] as an argument and actix checks the token and the role before
//! the handler runs (401 for a missing or unknown token, 403 without the role). A resident's
//! token belongs to one conversation: [`resident`] loads it and answers the same 404 for a
//! wrong token as for no conversation.
//!
//! Put the role argument after the path, query and body extractors: they are tried in order.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::AppState;
use crate::config::AgentConfig;
use crate::error::{ApiError, ErrorCode};
use crate::handoff::hash_token;
use crate::store::{ConversationStore, Snapshot};

/// The bearer token of a request; `missing` says what to send when there is none.
pub(crate) fn bearer<'r>(request: &'r HttpRequest, missing: &str) -> Result<&'r str, ApiError> {
    request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 7235): "bearer" is as good as "Bearer".
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::MissingToken, missing))
}

/// The signed-in person, if their token is known and carries `role`.
fn signed_in(request: &HttpRequest, role: &str) -> Result<AgentConfig, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "Something went wrong on our side."))?;
    let token = bearer(request, "Sign in with your agent token.")?;
    let person = state
        .handoff
        .agent_for_token(token)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "That token is not known."))?;
    if !person.roles.iter().any(|r| r == role) {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("This needs the {role} role.")));
    }
    Ok(person.clone())
}

/// Declares an extractor for people with one role.
macro_rules! role {
    ($(#[$doc:meta])* $name:ident, $role:literal) => {
        $(#[$doc])*
        pub struct $name(pub AgentConfig);

        impl Deref for $name {
            type Target = AgentConfig;
            fn deref(&self) -> &AgentConfig {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(signed_in(request, $role).map($name))
            }
        }
    };
}

role!(
    /// A signed-in person with the `agent` role (the console).
    Agent,
    "agent"
);
role!(
    /// A signed-in person with the `editor` role (unanswered questions, try, submit, history).
    Editor,
    "editor"
);
role!(
    /// A signed-in person with the `approver` role (approve or reject submissions, publish,
    /// restore a version).
    Approver,
    "approver"
);

/// Conversation ids are 32 lowercase hex characters; anything else cannot exist.
fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loads the conversation if the request's token is its own; otherwise the same 404 as for no
/// conversation.
pub(crate) async fn resident(
    state: &AppState,
    request: &HttpRequest,
    id: &str,
) -> Result<Snapshot, ApiError> {
    let token = bearer(request, "Send the conversation's token as a Bearer token.")?;
    if !valid_id(id) {
        return Err(ApiError::conversation_not_found());
    }
    match state.store.load(id).await? {
        Some(snapshot) if constant_time_eq(snapshot.token_hash.as_bytes(), hash_token(token).as_bytes()) => {
            Ok(snapshot)
        }
        _ => Err(ApiError::conversation_not_found()),
    }
}
