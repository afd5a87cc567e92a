//! One error type for every function, mapped to a status and a JSON body in one place.

use std::error::Error as StdError;

use keystore::StoreError;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::response::json;

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
    #[error("this key lacks the {0} scope")]
    InsufficientScope(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("method not allowed on this resource")]
    MethodNotAllowed { allow: String },
    #[error("request body exceeds 16 KiB")]
    PayloadTooLarge,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    KeyNotActive(&'static str),
    #[error("{0}")]
    AlreadyRotated(&'static str),
    #[error("{0}")]
    KeyLimitReached(String),
    #[error("the service is temporarily unavailable; retry shortly")]
    ServiceUnavailable(#[source] Cause),
    #[error("internal error")]
    Internal(#[source] Cause),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl ApiError {
    pub fn not_found_key() -> Self {
        Self::NotFound("no API key with this id")
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_)
            | Self::KeyNotActive(_)
            | Self::AlreadyRotated(_)
            | Self::KeyLimitReached(_) => StatusCode::CONFLICT,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Conflict(_) => "conflict",
            Self::KeyNotActive(_) => "key_not_active",
            Self::AlreadyRotated(_) => "already_rotated",
            Self::KeyLimitReached(_) => "key_limit_reached",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
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
        let message = self.to_string();
        let body = ErrorBody {
            error: ErrorFields {
                code: self.code(),
                message: &message,
                request_id,
            },
        };
        let mut response = json(self.status(), &body);
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
