//! One error type for every function, mapped to a status and a JSON body in one place.

use std::error::Error as StdError;

use keystore::StoreError;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use outcome::{Code, message};

type Cause = Box<dyn StdError + Send + Sync>;

/// What went wrong with a request. Client errors say exactly what; server errors say only
/// that something failed, and carry the cause for the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{}", outcome::insufficient_scope(.0))]
    InsufficientScope(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{}", message::METHOD_NOT_ALLOWED)]
    MethodNotAllowed { allow: String },
    #[error("{}", message::PAYLOAD_TOO_LARGE)]
    PayloadTooLarge,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    KeyNotActive(&'static str),
    #[error("{0}")]
    AlreadyRotated(&'static str),
    #[error("{0}")]
    KeyLimitReached(String),
    #[error("{}", message::UNAVAILABLE)]
    ServiceUnavailable(#[source] Cause),
    #[error("{}", message::INTERNAL)]
    Internal(#[source] Cause),
}

impl ApiError {
    pub fn not_found_key() -> Self {
        Self::NotFound(message::NO_SUCH_KEY)
    }

    /// The status that goes with the code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn code(&self) -> Code {
        match self {
            Self::InvalidRequest(_) => Code::InvalidRequest,
            Self::Unauthorized(_) => Code::Unauthorized,
            Self::Forbidden(_) => Code::Forbidden,
            Self::InsufficientScope(_) => Code::InsufficientScope,
            Self::NotFound(_) => Code::NotFound,
            Self::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            Self::PayloadTooLarge => Code::PayloadTooLarge,
            Self::Conflict(_) => Code::Conflict,
            Self::KeyNotActive(_) => Code::KeyNotActive,
            Self::AlreadyRotated(_) => Code::AlreadyRotated,
            Self::KeyLimitReached(_) => Code::KeyLimitReached,
            Self::ServiceUnavailable(_) => Code::ServiceUnavailable,
            Self::Internal(_) => Code::InternalError,
        }
    }

    /// The full cause chain, for the log line of a server error.
    pub fn cause_chain(&self) -> Option<String> {
        let mut source = self.source()?;
        let mut chain = source.to_string();
        while let Some(next) = source.source() {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next;
        }
        Some(chain)
    }

    pub fn into_response(self, request_id: Option<&str>) -> Response<Body> {
        let body = outcome::error_body(self.code(), &self.to_string(), request_id);
        let mut response = crate::response::json_text(self.status(), body);
        let headers = response.headers_mut();
        match &self {
            Self::MethodNotAllowed { allow } => {
                if let Ok(v) = allow.parse() {
                    headers.insert(header::ALLOW, v);
                }
            }
            Self::ServiceUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found_key(),
            StoreError::Conflict => Self::Conflict("the key changed concurrently; retry"),
            StoreError::NotActive => Self::KeyNotActive("the key is revoked or expired"),
            StoreError::AlreadyRotated => {
                Self::AlreadyRotated("the key was already rotated; rotate its successor instead")
            }
            StoreError::InvalidCursor => {
                Self::InvalidRequest("cursor is not valid for this listing".into())
            }
            e if e.is_transient() => Self::ServiceUnavailable(e.into()),
            e => Self::Internal(e.into()),
        }
    }
}
