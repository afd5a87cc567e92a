//! The template's gateway responses, rendered as API Gateway renders them: the response of
//! the type API Gateway raises, its mapping template with `$context` variables filled in
//! (types and default statuses:
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>).
//! The bodies come from `outcome::responses`, the one source the template is checked against.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use outcome::responses::GatewayResponse;
use serde_json::{Map, Value};

/// The gateway response types this gateway raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No resource or method matches the request (API Gateway's 403, our template's 404).
    MissingAuthenticationToken,
    RequestTooLarge,
    /// The authorizer answered `Unauthorized`.
    Unauthorized,
    /// The policy does not allow the method ARN.
    AccessDenied,
    /// The authorizer errored or answered something that is not a policy.
    AuthorizerFailure,
    /// The Allow named no key of the API's usage plans.
    InvalidApiKey,
    /// The Allow named the key of a usage plan that admits no request (the blocked plan).
    Throttled,
    IntegrationFailure,
    IntegrationTimeout,
    Default5xx,
}

impl Kind {
    pub const EVERY: [Kind; 10] = [
        Kind::MissingAuthenticationToken,
        Kind::RequestTooLarge,
        Kind::Unauthorized,
        Kind::AccessDenied,
        Kind::AuthorizerFailure,
        Kind::InvalidApiKey,
        Kind::Throttled,
        Kind::IntegrationFailure,
        Kind::IntegrationTimeout,
        Kind::Default5xx,
    ];

    /// The type's name in API Gateway and in the template.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Kind::RequestTooLarge => "REQUEST_TOO_LARGE",
            Kind::Unauthorized => "UNAUTHORIZED",
            Kind::AccessDenied => "ACCESS_DENIED",
            Kind::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Kind::InvalidApiKey => "INVALID_API_KEY",
            Kind::Throttled => "THROTTLED",
            Kind::IntegrationFailure => "INTEGRATION_FAILURE",
            Kind::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Kind::Default5xx => "DEFAULT_5XX",
        }
    }
}

/// API Gateway hands authorizer context values to integrations and templates as strings
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html>).
pub fn context_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One of the template's gateway responses; `context` is the authorizer's, for
/// `$context.authorizer.*` (empty when the authorizer did not answer with one).
pub fn gateway_response(kind: Kind, request_id: &str, context: &Map<String, Value>) -> Response {
    // A type the template does not customise falls back to its default response.
    let Some(response) = GatewayResponse::by_kind(kind.as_str())
        .or_else(|| GatewayResponse::by_kind(Kind::Default5xx.as_str()))
    else {
        let mut bare = Response::new(Body::empty());
        *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return bare;
    };
    let body = response.render(|var| match var {
        "$context.requestId" => Some(request_id.to_owned()),
        "$context.error.messageString" => Some(kind.as_str().to_lowercase().replace('_', " ")),
        v => v
            .strip_prefix("$context.authorizer.")
            .and_then(|k| context.get(k))
            .map(context_string),
    });
    let mut out = Response::new(Body::from(body));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(*name),
            HeaderValue::try_from(*value),
        ) {
            headers.insert(name, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use serde_json::json;

    async fn render(kind: Kind, context: Value) -> (u16, Value, Option<String>) {
        let context = context.as_object().cloned().unwrap_or_default();
        let resp = gateway_response(kind, "req-1", &context);
        let status = resp.status().as_u16();
        let cache = resp
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = to_bytes(resp.into_body(), 1 << 16).await.expect("body");
        let body = serde_json::from_slice(&bytes).expect("JSON");
        (status, body, cache)
    }

    #[tokio::test]
    async fn every_raised_type_has_a_json_body_with_the_request_id() {
        for kind in Kind::EVERY {
            let (status, body, cache) = render(kind, json!({"error_code": "x"})).await;
            assert!(status >= 400, "{kind:?}: {status}");
            assert_eq!(body["error"]["request_id"], "req-1", "{kind:?}");
            assert!(
                body["error"]["code"]
                    .as_str()
                    .is_some_and(|c| !c.is_empty())
            );
            assert_eq!(cache.as_deref(), Some("no-store"), "{kind:?}");
        }
    }

    #[tokio::test]
    async fn responses_have_the_templates_status_and_code() {
        let cases = [
            (Kind::MissingAuthenticationToken, 404, "not_found"),
            (Kind::RequestTooLarge, 413, "payload_too_large"),
            (Kind::Unauthorized, 401, "unauthorized"),
            (Kind::AuthorizerFailure, 500, "internal_error"),
            (Kind::InvalidApiKey, 403, "forbidden"),
            (Kind::Throttled, 429, "rate_limit_exceeded"),
            (Kind::IntegrationFailure, 503, "service_unavailable"),
            (Kind::IntegrationTimeout, 503, "service_unavailable"),
            (Kind::Default5xx, 500, "internal_error"),
        ];
        for (kind, status, code) in cases {
            let (got, body, _) = render(kind, json!({})).await;
            assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)));
        }
    }

    #[tokio::test]
    async fn access_denied_carries_the_authorizers_error_code_and_message() {
        let context = json!({"error_code": "key_revoked", "error_message": "revoked", "n": 3});
        let (status, body, _) = render(Kind::AccessDenied, context).await;
        assert_eq!(status, 403);
        assert_eq!(body["error"]["code"], "key_revoked");
        assert_eq!(body["error"]["message"], "revoked");
    }

    #[tokio::test]
    async fn throttled_carries_the_authorizers_figures_and_retry_after() {
        let fields = r#","limit":5,"remaining":0,"reset":1796378460,"retry_after":7"#;
        let context = json!({"rate_limit_fields": fields});
        let context = context.as_object().cloned().unwrap_or_default();
        let resp = gateway_response(Kind::Throttled, "req-1", &context);
        assert_eq!(resp.status(), 429);
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("60")
        );
        let bytes = to_bytes(resp.into_body(), 1 << 16).await.expect("body");
        let body: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_eq!(body["error"]["request_id"], "req-1");
        assert_eq!(
            (&body["error"]["limit"], &body["error"]["retry_after"]),
            (&json!(5), &json!(7))
        );
    }

    #[test]
    fn context_values_become_strings() {
        let cases = [
            (json!("a b"), "a b"),
            (json!(true), "true"),
            (json!(42), "42"),
            (Value::Null, ""),
        ];
        for (value, text) in cases {
            assert_eq!(context_string(&value), text, "{value}");
        }
    }
}
