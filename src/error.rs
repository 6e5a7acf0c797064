//! The one error table: every error the API can answer with, its HTTP status and its stable
//! code. Every module's errors map into [`ApiError`] (the store's and the handoff service's
//! here, below the table); nothing else reaches a client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::handoff::service::HandoffError;
use crate::publishing::PublishError;
use crate::store::StoreError;

/// Seconds a client is asked to wait before retrying a 503 (or a 429 that names no time).
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Declares [`ErrorCode`] and its table from one list of rows, so that [`ErrorCode::ALL`] (which
/// the OpenAPI document lists) cannot leave a code out.
macro_rules! error_table {
    ($($variant:ident => ($status:ident, $code:literal),)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The row: (status, stable code).
            pub const fn row(self) -> (StatusCode, &'static str) {
                match self {
                    $(ErrorCode::$variant => (StatusCode::$status, $code),)*
                }
            }
        }
    };
}

// The table: variant => (status, stable code). Codes never change once published.
error_table! {
    MalformedJson => (BAD_REQUEST, "malformed_json"),
    InvalidRequest => (BAD_REQUEST, "invalid_request"),
    EmptyText => (BAD_REQUEST, "empty_text"),
    TextTooLong => (BAD_REQUEST, "text_too_long"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large"),
    MissingToken => (UNAUTHORIZED, "missing_token"),
    Unauthorized => (UNAUTHORIZED, "unauthorized"),
    Forbidden => (FORBIDDEN, "forbidden"),
    ConversationNotFound => (NOT_FOUND, "conversation_not_found"),
    NotFound => (NOT_FOUND, "not_found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed"),
    Conflict => (CONFLICT, "conflict"),
    AlreadyClaimed => (CONFLICT, "already_claimed"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited"),
    TooManyStreams => (TOO_MANY_REQUESTS, "too_many_streams"),
    InvalidContent => (BAD_REQUEST, "invalid_content"),
    StoreUnavailable => (SERVICE_UNAVAILABLE, "store_unavailable"),
    Busy => (SERVICE_UNAVAILABLE, "busy"),
    Internal => (INTERNAL_SERVER_ERROR, "internal_error"),
}

impl ErrorCode {
    /// The code with this stable name, if the table has one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.row().1 == code)
    }
}

/// On the wire a code is its stable name.
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.row().1)
    }
}

/// In the OpenAPI document: a string, one of the table's codes, each named with its status.
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let rows: Vec<String> =
            Self::ALL.iter().map(|c| format!("`{}` ({})", c.row().1, c.row().0.as_u16())).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.iter().map(|c| c.row().1)))
            .description(Some(format!(
                "The stable error code; each operation lists the codes it can answer with. \
                 Every code, with its status: {}.",
                rows.join(", ")
            )))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

/// An error as a client sees it: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// For a 429: when the client may try again, in seconds.
    pub retry_after: Option<u64>,
    /// The request field the error concerns, where one does (a form shows it beside it).
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None, field: None }
    }

    /// The same error, naming the field it concerns.
    pub fn with_field(self, field: impl Into<String>) -> Self {
        Self { field: Some(field.into()), ..self }
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

/// The body of every error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A sentence a person can read; it may change, the code does not.
    pub message: String,
    /// The request field it concerns (`answer`, `facets.cost`), where one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.row().0
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.code.row().0;
        let mut response = HttpResponse::build(status);
        if matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
            let seconds = self.retry_after.unwrap_or(RETRY_AFTER_SECONDS);
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message.clone(), field: self.field.clone() },
        })
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

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::Invalid(errors) => ApiError::new(ErrorCode::InvalidContent, errors.to_string()),
            PublishError::Store(error) => error.into(),
            PublishError::NoSuchVersion(number) => ApiError::new(
                ErrorCode::NotFound,
                format!("There is no version {number} with its files kept."),
            ),
            PublishError::Build(error) => {
                tracing::error!(%error, "cannot build the content");
                ApiError::new(ErrorCode::Internal, "The content could not be built.")
            }
            PublishError::Interrupted => {
                ApiError::new(ErrorCode::Internal, "Building the content was interrupted.")
            }
            PublishError::NoSuchSubmission(id) => {
                ApiError::new(ErrorCode::NotFound, format!("There is no submission {id}."))
            }
            PublishError::NotWaiting(id) => ApiError::new(
                ErrorCode::Conflict,
                format!("Submission {id} is no longer waiting for review: someone has already decided it."),
            ),
            PublishError::OwnChange => ApiError::new(
                ErrorCode::Forbidden,
                "You cannot approve your own change: another approver must review it.",
            ),
            PublishError::ReviewRequired => ApiError::new(
                ErrorCode::Conflict,
                "This service publishes reviewed changes only: submit the draft for review.",
            ),
        }
    }
}

impl From<HandoffError> for ApiError {
    fn from(error: HandoffError) -> Self {
        let conflict = |message: &str| ApiError::new(ErrorCode::Conflict, message);
        match error {
            HandoffError::ConversationNotFound => ApiError::conversation_not_found(),
            HandoffError::NotFound => ApiError::new(ErrorCode::NotFound, "No such conversation."),
            HandoffError::NotWaiting => conflict("This conversation is not waiting for a person."),
            HandoffError::NoLongerWaiting => conflict("This conversation is no longer waiting."),
            HandoffError::AlreadyClaimed(holder) => ApiError::new(
                ErrorCode::AlreadyClaimed,
                format!("{holder} has already taken this conversation."),
            ),
            HandoffError::NotHeld => conflict("Claim this conversation first."),
            HandoffError::NotQueued => conflict("You are not waiting in a queue."),
            HandoffError::NoSuchTeam => ApiError::new(ErrorCode::InvalidRequest, "There is no such team."),
            HandoffError::InvalidPresence => {
                ApiError::new(ErrorCode::InvalidRequest, "status is online or away.")
            }
            HandoffError::InvalidOutcome => {
                ApiError::new(ErrorCode::InvalidRequest, "outcome is resolved, referred or no_response.")
            }
            HandoffError::NoSuchOfflineMessage => ApiError::new(ErrorCode::NotFound, "No such message."),
            HandoffError::TeamOpen => {
                conflict("The team is open now: ask to talk to a person and they will reply here.")
            }
            HandoffError::TooManyOfflineMessages => ApiError::new(
                ErrorCode::RateLimited,
                "You have already left messages for the team. They will contact you when they are open.",
            )
            .with_retry_after(3600),
            HandoffError::ChangingTooFast => {
                conflict("The conversation is changing too fast. Please try again.")
            }
            HandoffError::Store(error) => error.into(),
        }
    }
}
