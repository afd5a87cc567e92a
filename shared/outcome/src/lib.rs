//! The one outcome vocabulary (SPEC §3): every error code podkeys or its gateway sends, the
//! status it goes with, the messages that more than one place sends, and the JSON error body.
//! Functions, the authorizer, the site, the gateway responses of the template and the local
//! gateway all take their codes from here; `infra/openapi.yaml`'s `ErrorCode` lists exactly
//! [`Code::ALL`] (a test in `openapi` checks it).

pub mod responses;

/// A stable, machine-readable error code: `error.code` in every error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    KeyRevoked,
    KeyExpired,
    InsufficientScope,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimitExceeded,
    Conflict,
    KeyNotActive,
    AlreadyRotated,
    KeyLimitReached,
    InternalError,
    ServiceUnavailable,
}

impl Code {
    /// Every code, in the order of the OpenAPI document's `ErrorCode` enum.
    pub const ALL: [Self; 16] = [
        Self::InvalidRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::KeyRevoked,
        Self::KeyExpired,
        Self::InsufficientScope,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PayloadTooLarge,
        Self::RateLimitExceeded,
        Self::Conflict,
        Self::KeyNotActive,
        Self::AlreadyRotated,
        Self::KeyLimitReached,
        Self::InternalError,
        Self::ServiceUnavailable,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::KeyRevoked => "key_revoked",
            Self::KeyExpired => "key_expired",
            Self::InsufficientScope => "insufficient_scope",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimitExceeded => "rate_limit_exceeded",
            Self::Conflict => "conflict",
            Self::KeyNotActive => "key_not_active",
            Self::AlreadyRotated => "already_rotated",
            Self::KeyLimitReached => "key_limit_reached",
            Self::InternalError => "internal_error",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }

    /// The HTTP status that goes with the code, wherever it is sent.
    pub const fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::KeyRevoked | Self::KeyExpired | Self::InsufficientScope => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict | Self::KeyNotActive | Self::AlreadyRotated | Self::KeyLimitReached => {
                409
            }
            Self::PayloadTooLarge => 413,
            Self::RateLimitExceeded => 429,
            Self::InternalError => 500,
            Self::ServiceUnavailable => 503,
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Messages sent from more than one place (a function and the gateway, the authorizer and a
/// function), worded once.
pub mod message {
    pub const UNAUTHORIZED: &str =
        "a valid API key is required in X-API-Key, Api-Key or Authorization: Bearer";
    pub const KEY_REVOKED: &str = "this API key has been revoked";
    pub const KEY_EXPIRED: &str = "this API key has expired";
    pub const NO_SUCH_ROUTE: &str = "no such route";
    pub const PAYLOAD_TOO_LARGE: &str = "request body exceeds 16 KiB";
    pub const UNAVAILABLE: &str = "the service is temporarily unavailable; retry shortly";
    pub const AUTHORIZER_FAILED: &str = "the request could not be authorized; retry shortly";
    pub const INTERNAL: &str = "internal error";
    pub const METHOD_NOT_ALLOWED: &str = "method not allowed on this resource";
    /// Over a plan's limit (SPEC §10); the body's `retry_after` says when to retry.
    pub const THROTTLED: &str =
        "rate limit exceeded for this key's plan; retry after retry_after seconds";
    /// API Gateway's `INVALID_API_KEY`: an Allow named no key of the API's usage plans.
    pub const FORBIDDEN: &str = "Forbidden";
    pub const NO_SUCH_KEY: &str = "no API key with this id";
}

/// The message for a key that lacks `scope` (one wording for the authorizer's 403 and a
/// function's own scope check).
pub fn insufficient_scope(scope: &str) -> String {
    format!("this API key lacks the {scope} scope")
}

/// `{"error":{"code","message","request_id"}}`, the one error body (`request_id` left out
/// when there is none).
pub fn error_body(code: Code, message: &str, request_id: Option<&str>) -> String {
    let mut error = serde_json::Map::new();
    error.insert("code".into(), code.as_str().into());
    error.insert("message".into(), message.into());
    if let Some(id) = request_id {
        error.insert("request_id".into(), id.into());
    }
    serde_json::json!({ "error": error }).to_string()
}

/// The body sent when even the error body cannot be built: constant, valid JSON.
pub const INTERNAL_ERROR_BODY: &str =
    r#"{"error":{"code":"internal_error","message":"internal error"}}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert_eq!(Code::parse(s), Some(code));
            assert!((400..600).contains(&code.status()), "{s}");
        }
        assert_eq!(Code::parse("nope"), None);
    }

    #[test]
    fn statuses_follow_the_spec() {
        assert_eq!(Code::Unauthorized.status(), 401);
        for c in [Code::KeyRevoked, Code::KeyExpired, Code::InsufficientScope] {
            assert_eq!(c.status(), 403, "{c}");
        }
        assert_eq!(Code::KeyLimitReached.status(), 409);
        assert_eq!(Code::RateLimitExceeded.status(), 429);
    }

    #[test]
    fn the_error_body_escapes_and_omits_a_missing_request_id() {
        let body = error_body(Code::InvalidRequest, "a \"quoted\" name", Some("r-1"));
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(v["error"]["code"], "invalid_request");
        assert_eq!(v["error"]["message"], "a \"quoted\" name");
        assert_eq!(v["error"]["request_id"], "r-1");
        let v: serde_json::Value =
            serde_json::from_str(&error_body(Code::NotFound, "x", None)).expect("JSON");
        assert!(v["error"].get("request_id").is_none());
        let fallback: serde_json::Value = serde_json::from_str(INTERNAL_ERROR_BODY).expect("JSON");
        assert_eq!(fallback["error"]["code"], Code::InternalError.as_str());
    }
}
