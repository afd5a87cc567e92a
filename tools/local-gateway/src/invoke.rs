//! Running the template's functions: in this process (their handlers called directly, one
//! shared store), or as the real binaries behind a Lambda Invoke API (`cargo lambda watch`):
//! `POST /2015-03-31/functions/{name}/invocations` with the event, a function error flagged
//! by `X-Amz-Function-Error` (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>).
//! Functions are named by logical id; the catalogue says which binary each one is.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use gateway::routes::Function;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

use crate::catalogue::Catalogue;

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// API Gateway's integration timeout
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>).
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// How functions are run.
#[derive(Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per gateway, made once at startup"
)]
pub enum Functions {
    /// Each function's handler called in this process, sharing one store.
    InProcess(gateway::State),
    /// The real binaries behind a Lambda Invoke API (`cargo lambda watch`), at this base URL.
    Remote(String),
}

/// Why an invocation gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The function ran and failed: its error message (`errorMessage`).
    Function(String),
    /// The function could not be invoked, or its answer could not be read.
    Invoke(String),
}

/// The HTTP functions this gateway can run in-process (the authorizer is called apart).
fn http_function(binary: &str) -> Option<Function> {
    Function::from_binary(binary).filter(|f| *f != Function::Authorizer)
}

pub struct Invoker {
    functions: Functions,
    catalogue: Catalogue,
    client: HttpClient,
}

impl Invoker {
    pub fn new(functions: Functions, catalogue: Catalogue, client: HttpClient) -> Self {
        Self {
            functions,
            catalogue,
            client,
        }
    }

    /// At startup: the function is in the template, and runnable here.
    pub fn check(&self, logical_id: &str, authorizer: bool) -> Result<(), String> {
        let binary = self
            .catalogue
            .binary(logical_id)
            .ok_or_else(|| format!("{logical_id} is not a function of the template"))?;
        let in_process = match authorizer {
            true => Function::from_binary(binary) == Some(Function::Authorizer),
            false => http_function(binary).is_some(),
        };
        match (&self.functions, in_process) {
            (Functions::InProcess(_), false) => Err(format!(
                "{logical_id} (binary {binary}) cannot run in this process"
            )),
            _ => Ok(()),
        }
    }

    /// Invokes the REQUEST authorizer with its event; the answer is its JSON response.
    pub async fn authorizer(&self, logical_id: &str, event: Value) -> Result<Value, Failure> {
        match &self.functions {
            Functions::InProcess(state) => match authorizer::answer_value(state, event).await {
                Ok(r) => serde_json::to_value(r).map_err(|e| Failure::Invoke(e.to_string())),
                // Its message is what Lambda would report as `errorMessage`.
                Err(e) => Err(Failure::Function(e.to_string())),
            },
            Functions::Remote(endpoint) => self.remote(endpoint, logical_id, &event).await,
        }
    }

    /// Invokes a Lambda proxy integration with its event: the HTTP response it describes.
    pub async fn http_function(&self, logical_id: &str, event: Value) -> Result<Response, Failure> {
        match &self.functions {
            Functions::InProcess(state) => {
                let handler = self
                    .catalogue
                    .binary(logical_id)
                    .and_then(http_function)
                    .ok_or_else(|| Failure::Invoke(format!("no function {logical_id}")))?;
                let req = lambda_http::request::from_str(&event.to_string())
                    .map_err(|e| Failure::Invoke(format!("proxy event: {e}")))?;
                let resp = match handler {
                    Function::CreateKey => create_key::handler(state, req).await,
                    Function::ListKeys => list_keys::handler(state, req).await,
                    Function::RevokeKey => revoke_key::handler(state, req).await,
                    Function::Site => match site::handler(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    },
                    Function::Authorizer => {
                        return Err(Failure::Invoke(format!("{logical_id} is the authorizer")));
                    }
                };
                let (parts, body) = resp.into_parts();
                let mut out = Response::new(Body::from(Bytes::copy_from_slice(body.as_ref())));
                *out.status_mut() = parts.status;
                *out.headers_mut() = parts.headers;
                Ok(out)
            }
            Functions::Remote(endpoint) => {
                let answer = self.remote(endpoint, logical_id, &event).await?;
                proxy_response(&answer).map_err(Failure::Invoke)
            }
        }
    }

    async fn remote(
        &self,
        endpoint: &str,
        logical_id: &str,
        event: &Value,
    ) -> Result<Value, Failure> {
        let binary = self
            .catalogue
            .binary(logical_id)
            .ok_or_else(|| Failure::Invoke(format!("no function {logical_id}")))?;
        let uri = invocation_uri(endpoint, binary);
        let req = hyper::Request::post(&uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| Failure::Invoke(e.to_string()))?;
        let resp = tokio::time::timeout(INTEGRATION_TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| Failure::Invoke(format!("{uri} timed out")))?
            .map_err(|e| Failure::Invoke(format!("{uri}: {e}")))?;
        let function_error = resp.headers().contains_key("x-amz-function-error");
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::Invoke(format!("{uri}: {e}")))?
            .to_bytes();
        invoke_answer(status, function_error, &bytes)
    }
}

/// The Invoke API's address for one function.
pub fn invocation_uri(endpoint: &str, binary: &str) -> String {
    format!(
        "{}/2015-03-31/functions/{binary}/invocations",
        endpoint.trim_end_matches('/')
    )
}

/// What an Invoke API answer means: the function's result, or how it failed.
pub fn invoke_answer(
    status: StatusCode,
    function_error: bool,
    bytes: &[u8],
) -> Result<Value, Failure> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| Failure::Invoke(format!("the answer is not JSON ({e})")))?;
    if function_error || !status.is_success() || v.get("errorMessage").is_some() {
        let message = v["errorMessage"].as_str().unwrap_or("function error");
        return Err(Failure::Function(message.to_owned()));
    }
    Ok(v)
}

/// A Lambda proxy response (`statusCode`, `headers`, `multiValueHeaders`, `body`) as HTTP
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format>).
pub fn proxy_response(v: &Value) -> Result<Response, String> {
    let status = v["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no statusCode")?;
    if v["isBase64Encoded"].as_bool() == Some(true) {
        return Err("binary bodies are not served by this gateway".into());
    }
    let body = v["body"].as_str().unwrap_or_default().to_owned();
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    let header = |name: &str, value: &Value| {
        Some((
            HeaderName::try_from(name).ok()?,
            HeaderValue::from_str(value.as_str()?).ok()?,
        ))
    };
    for (name, values) in v["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            if let Some((n, val)) = header(name, value) {
                out.headers_mut().append(n, val);
            }
        }
    }
    // `headers` and `multiValueHeaders` are merged; a single value replaces the list.
    for (name, value) in v["headers"].as_object().into_iter().flatten() {
        if let Some((n, val)) = header(name, value) {
            out.headers_mut().insert(n, val);
        }
    }
    // Payload format 2.0: "each cookie becomes a set-cookie header"
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
    for cookie in v["cookies"].as_array().into_iter().flatten() {
        if let Some((n, val)) = header("set-cookie", cookie) {
            out.headers_mut().append(n, val);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_invocation_uri_names_the_binary() {
        for endpoint in ["http://127.0.0.1:9000", "http://127.0.0.1:9000/"] {
            assert_eq!(
                invocation_uri(endpoint, "list-keys"),
                "http://127.0.0.1:9000/2015-03-31/functions/list-keys/invocations"
            );
        }
    }

    #[test]
    fn invoke_answers_are_results_or_failures() {
        let ok = StatusCode::OK;
        let cases: [(StatusCode, bool, &str, Result<Value, Failure>); 6] = [
            (
                ok,
                false,
                r#"{"statusCode":200}"#,
                Ok(json!({"statusCode": 200})),
            ),
            (
                ok,
                true,
                r#"{"errorMessage":"Unauthorized","errorType":"x"}"#,
                Err(Failure::Function("Unauthorized".into())),
            ),
            (
                ok,
                false,
                r#"{"errorMessage":"boom"}"#,
                Err(Failure::Function("boom".into())),
            ),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                false,
                "{}",
                Err(Failure::Function("function error".into())),
            ),
            (
                ok,
                true,
                "[]",
                Err(Failure::Function("function error".into())),
            ),
            (ok, false, "<html>", Err(Failure::Invoke(String::new()))),
        ];
        for (status, flagged, body, expected) in cases {
            let got = invoke_answer(status, flagged, body.as_bytes());
            match (&got, &expected) {
                (Err(Failure::Invoke(_)), Err(Failure::Invoke(_))) => {}
                _ => assert_eq!(got, expected, "{status} {flagged} {body}"),
            }
        }
    }

    #[tokio::test]
    async fn a_proxy_response_becomes_http_with_merged_headers() {
        let v = json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-one": "single"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "x-one": ["m1", "m2"]},
            "body": "{\"ok\":true}",
            "isBase64Encoded": false,
        });
        let resp = proxy_response(&v).expect("valid");
        assert_eq!(resp.status(), StatusCode::CREATED);
        let all = |n: &str| -> Vec<String> {
            resp.headers()
                .get_all(n)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect()
        };
        assert_eq!(all("set-cookie"), ["a=1", "b=2"]);
        assert_eq!(all("x-one"), ["single"]);
        assert_eq!(all("content-type"), ["application/json"]);
        let body = axum::body::to_bytes(resp.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(&body[..], b"{\"ok\":true}");
    }

    #[test]
    fn malformed_proxy_responses_are_refused() {
        let cases = [
            json!({}),
            json!({"statusCode": "200"}),
            json!({"statusCode": 70000}),
            json!({"statusCode": 99}),
            json!({"statusCode": 200, "body": "AA==", "isBase64Encoded": true}),
        ];
        for v in cases {
            assert!(proxy_response(&v).is_err(), "{v}");
        }
    }
}
