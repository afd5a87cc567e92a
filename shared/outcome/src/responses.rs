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
    /// A `$context…` variable holding more members of `error` as a fragment of JSON
    /// (`,"limit":5,…`), inserted as it is after `request_id`.
    pub members: Option<&'static str>,
    /// Static headers beyond `Content-Type` and `Cache-Control`. A gateway response's
    /// headers take only request parameters or literal strings, never the authorizer's
    /// context (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseParameters.html),
    /// so a header cannot carry a per-request figure.
    pub headers: &'static [(&'static str, &'static str)],
}

/// The rate-limit figures the authorizer puts in its context for the 429 body (SPEC §10).
pub const RATE_LIMIT_MEMBERS: &str = "$context.authorizer.rate_limit_fields";
/// `Retry-After` on a 429: static (see `GatewayResponse::headers`), the length of the
/// minute window; the body's `retry_after` and `reset` are the exact figures.
pub const RETRY_AFTER_SECS: &str = "60";

/// A 429 over a plan's limit: the authorizer's figures in the body, `Retry-After`.
const fn over_limit(kind: &'static str) -> GatewayResponse {
    GatewayResponse {
        members: Some(RATE_LIMIT_MEMBERS),
        headers: &[("Retry-After", RETRY_AFTER_SECS)],
        ..fixed(kind, Code::RateLimitExceeded, message::THROTTLED)
    }
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
        members: None,
        headers: &[],
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
        members: None,
        headers: &[],
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
    // The authorizer's Allow named no key of the API's usage plans: a deployment fault, 403
    // as API Gateway answers it
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
    fixed("INVALID_API_KEY", Code::Forbidden, message::FORBIDDEN),
    // The blocked usage plan (throttle 0, quota 0) raises one or the other.
    over_limit("THROTTLED"),
    over_limit("QUOTA_EXCEEDED"),
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
        members: None,
        headers: &[],
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
            r#"{{"error":{{"code":{},"message":{},"request_id":"$context.requestId"{}}}}}"#,
            self.code.template(),
            self.message.template(),
            self.members.unwrap_or_default()
        )
    }

    /// The body API Gateway would send: `context` resolves `$context…` variables.
    pub fn render(&self, context: impl Fn(&str) -> Option<String>) -> String {
        let field = |t: Text| match t {
            Text::Fixed(s) => s.to_owned(),
            Text::Variable(v) | Text::JsonString(v) => context(v).unwrap_or_default(),
        };
        let body = serde_json::json!({"error": {
            "code": field(self.code),
            "message": field(self.message),
            "request_id": context("$context.requestId").unwrap_or_default(),
        }})
        .to_string();
        // Inserted as text, as API Gateway substitutes it: before the two closing braces.
        match self.members.and_then(&context) {
            Some(members) if body.ends_with("}}") => {
                let (head, tail) = body.split_at(body.len() - 2);
                format!("{head}{members}{tail}")
            }
            _ => body,
        }
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
                .replace(RATE_LIMIT_MEMBERS, r#","limit":5"#)
                .replace("$context.", "ctx_");
            let v: serde_json::Value = serde_json::from_str(&filled).expect("JSON");
            assert!(v["error"]["code"].is_string(), "{}", r.kind);
            assert!(v["error"]["message"].is_string(), "{}", r.kind);
            assert!(v["error"]["request_id"].is_string(), "{}", r.kind);
        }
    }

    #[test]
    fn over_a_limit_the_body_carries_the_authorizers_figures_and_retry_after() {
        for kind in ["THROTTLED", "QUOTA_EXCEEDED"] {
            let r = GatewayResponse::by_kind(kind).expect("listed");
            assert_eq!(r.status, 429);
            assert_eq!(r.headers, [("Retry-After", "60")]);
            let members = r#","limit":5,"remaining":0,"reset":1796378460,"retry_after":12"#;
            let body = r.render(|v| match v {
                RATE_LIMIT_MEMBERS => Some(members.into()),
                "$context.requestId" => Some("r1".into()),
                _ => None,
            });
            let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(v["error"]["code"], "rate_limit_exceeded");
            assert_eq!(
                (
                    &v["error"]["limit"],
                    &v["error"]["remaining"],
                    &v["error"]["retry_after"]
                ),
                (&5.into(), &0.into(), &12.into())
            );
            assert_eq!(v["error"]["reset"], 1_796_378_460_i64);
            // Without the authorizer's figures (throttled for another reason) still JSON.
            let bare = r.render(|_| None);
            let v: serde_json::Value = serde_json::from_str(&bare).expect("JSON");
            assert_eq!(v["error"]["code"], "rate_limit_exceeded");
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
