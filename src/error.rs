//! The one error table: every error the API can answer with, its HTTP status and its stable
//! code. Every module's errors map into [`ApiError`]; nothing else reaches a client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::store::StoreError;

/// Seconds a client is asked to wait before retrying a 503 (or a 429 that names no time).
pub const RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedJson,
    InvalidRequest,
    EmptyText,
    TextTooLong,
    PayloadTooLarge,
    MissingToken,
    ConversationNotFound,
    NotFound,
    MethodNotAllowed,
    Forbidden,
    Unauthorized,
    Conflict,
    AlreadyClaimed,
    RateLimited,
    TooManyStreams,
    InvalidContent,
    StoreUnavailable,
    Busy,
    Internal,
}

impl ErrorCode {
    /// The table: (status, stable code). Codes never change once published.
    pub const fn row(self) -> (StatusCode, &'static str) {
        match self {
            ErrorCode::MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json"),
            ErrorCode::InvalidRequest => (StatusCode::BAD_REQUEST, "invalid_request"),
            ErrorCode::EmptyText => (StatusCode::BAD_REQUEST, "empty_text"),
            ErrorCode::TextTooLong => (StatusCode::BAD_REQUEST, "text_too_long"),
            ErrorCode::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ErrorCode::MissingToken => (StatusCode::UNAUTHORIZED, "missing_token"),
            ErrorCode::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ErrorCode::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ErrorCode::ConversationNotFound => (StatusCode::NOT_FOUND, "conversation_not_found"),
            ErrorCode::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorCode::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ErrorCode::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorCode::AlreadyClaimed => (StatusCode::CONFLICT, "already_claimed"),
            ErrorCode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ErrorCode::TooManyStreams => (StatusCode::TOO_MANY_REQUESTS, "too_many_streams"),
            ErrorCode::InvalidContent => (StatusCode::BAD_REQUEST, "invalid_content"),
            ErrorCode::StoreUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
            ErrorCode::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

/// An error as a client sees it: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// For a 429: when the client may try again, in seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    /// The same error, telling the client how long to wait.
    pub fn with_retry_after(self, seconds: u64) -> Self {
        Self { retry_after: Some(seconds.max(1)), ..self }
    }

    pub fn conversation_not_found() -> Self {
        // One answer for "no such conversation" and "wrong token", so that neither can be
        // told from the other.
        Self::new(ErrorCode::ConversationNotFound, "No conversation with that id and token.")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.row().1, self.message)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.row().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.code.row();
        let mut response = HttpResponse::build(status);
        if matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
            let seconds = self.retry_after.unwrap_or(RETRY_AFTER_SECONDS);
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(Body { error: Inner { code, message: &self.message } })
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "conversation store unavailable");
                ApiError::new(
                    ErrorCode::StoreUnavailable,
                    "The service is busy. Please try again in a few seconds.",
                )
            }
            StoreError::Corrupt(cause) => {
                tracing::error!(%cause, "unreadable record in the conversation store");
                ApiError::new(ErrorCode::Internal, "Something went wrong on our side.")
            }
        }
    }
}
