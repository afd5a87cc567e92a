//! API Gateway's own responses (authorizer 401/403, throttling, its 4xx/5xx), with bodies in
//! the same JSON shape as ours. This table is the one source: `infra/template.yaml` carries
//! the same templates (a test compares them) and the local gateway renders them.

use crate::{Code, message};

/// One gateway response: its API Gateway type, status and JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayResponse {
    pub kind: &'static str,
    pub status: u16,
    pub code: Text,
    pub message: Text,
}

/// A body field: fixed text, or an API Gateway context variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Fixed(&'static str),
    /// A `$context…` variable holding plain text: quoted in the template.
    Variable(&'static str),
    /// A `$context…` variable that API Gateway already renders as a quoted JSON string.
    JsonString(&'static str),
}

/// A response with a fixed code, sent with that code's status.
const fn fixed(kind: &'static str, code: Code, message: &'static str) -> GatewayResponse {
    GatewayResponse {
        kind,
        status: code.status(),
        code: Text::Fixed(code.as_str()),
        message: Text::Fixed(message),
    }
}

pub const GATEWAY_RESPONSES: &[GatewayResponse] = &[
    fixed("UNAUTHORIZED", Code::Unauthorized, message::UNAUTHORIZED),
    GatewayResponse {
        kind: "ACCESS_DENIED",
        status: 403,
        // Set by the authorizer on every Deny, so that each refusal says why.
        code: Text::Variable("$context.authorizer.error_code"),
        message: Text::Variable("$context.authorizer.error_message"),
    },
    fixed(
        "AUTHORIZER_FAILURE",
        Code::InternalError,
        message::AUTHORIZER_FAILED,
    ),
    fixed(
        "AUTHORIZER_CONFIGURATION_ERROR",
        Code::InternalError,
        message::AUTHORIZER_FAILED,
    ),
    fixed(
        "MISSING_AUTHENTICATION_TOKEN",
        Code::NotFound,
        message::NO_SUCH_ROUTE,
    ),
    fixed("RESOURCE_NOT_FOUND", Code::NotFound, message::NO_SUCH_ROUTE),
    fixed(
        "REQUEST_TOO_LARGE",
        Code::PayloadTooLarge,
        message::PAYLOAD_TOO_LARGE,
    ),
    fixed("THROTTLED", Code::RateLimitExceeded, message::THROTTLED),
    fixed(
        "QUOTA_EXCEEDED",
        Code::RateLimitExceeded,
        message::QUOTA_EXCEEDED,
    ),
    fixed(
        "INTEGRATION_FAILURE",
        Code::ServiceUnavailable,
        message::UNAVAILABLE,
    ),
    fixed(
        "INTEGRATION_TIMEOUT",
        Code::ServiceUnavailable,
        message::UNAVAILABLE,
    ),
    GatewayResponse {
        kind: "DEFAULT_4XX",
        status: 400,
        code: Text::Fixed(Code::InvalidRequest.as_str()),
        message: Text::JsonString("$context.error.messageString"),
    },
    fixed("DEFAULT_5XX", Code::InternalError, message::INTERNAL),
];

impl GatewayResponse {
    pub fn by_kind(kind: &str) -> Option<&'static GatewayResponse> {
        GATEWAY_RESPONSES.iter().find(|r| r.kind == kind)
    }

    /// The mapping template, as it stands in the template's `responseTemplates`.
    pub fn template(&self) -> String {
        format!(
            r#"{{"error":{{"code":{},"message":{},"request_id":"$context.requestId"}}}}"#,
            self.code.template(),
            self.message.template()
        )
    }

    /// The body API Gateway would send: `context` resolves `$context…` variables.
    pub fn render(&self, context: impl Fn(&str) -> Option<String>) -> String {
        let field = |t: Text| match t {
            Text::Fixed(s) => s.to_owned(),
            Text::Variable(v) | Text::JsonString(v) => context(v).unwrap_or_default(),
        };
        serde_json::json!({"error": {
            "code": field(self.code),
            "message": field(self.message),
            "request_id": context("$context.requestId").unwrap_or_default(),
        }})
        .to_string()
    }
}

impl Text {
    fn template(self) -> String {
        match self {
            // Fixed texts are plain ASCII without quotes or backslashes.
            Self::Fixed(s) => format!("\"{s}\""),
            Self::Variable(v) => format!("\"{v}\""),
            Self::JsonString(v) => v.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_the_error_shape_once_variables_are_filled() {
        for r in GATEWAY_RESPONSES {
            let filled = r
                .template()
                .replace("$context.error.messageString", "\"Missing\"")
                .replace("$context.", "ctx_");
            let v: serde_json::Value = serde_json::from_str(&filled).expect("JSON");
            assert!(v["error"]["code"].is_string(), "{}", r.kind);
            assert!(v["error"]["message"].is_string(), "{}", r.kind);
            assert!(v["error"]["request_id"].is_string(), "{}", r.kind);
        }
    }

    #[test]
    fn rendering_resolves_context_variables() {
        let denied = GatewayResponse::by_kind("ACCESS_DENIED").expect("listed");
        let body = denied.render(|v| match v {
            "$context.authorizer.error_code" => Some("key_revoked".into()),
            "$context.authorizer.error_message" => Some("revoked".into()),
            "$context.requestId" => Some("r1".into()),
            _ => None,
        });
        assert_eq!(
            body,
            r#"{"error":{"code":"key_revoked","message":"revoked","request_id":"r1"}}"#
        );
    }
}
