//! API Gateway (REST) on your machine, as faithful as we can make it: the routes of
//! `infra/openapi.yaml` (public ones without the authorizer), the REQUEST authorizer event as API Gateway builds it, policy
//! evaluation (explicit Deny wins), the template's gateway responses, REST proxy events with
//! the authorizer's context, and the podcast backend behind an HTTP proxy that adds the
//! `X-Podkeys-*` headers and blanks the caller's key.
//!
//! Functions run in-process (fast, for tests and `make dev`) or as real binaries under
//! `cargo lambda watch`, through its Lambda Invoke API.

pub mod echo;
pub mod routes;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use authorizer::policy::{self, Effect, Statement};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gateway::responses::GatewayResponse;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use routes::{Integration, Matched, Resource};

/// API Gateway's own payload limit for REST APIs.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;
/// API Gateway's integration timeout.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
const ACCOUNT: &str = "123456789012";
const API_ID: &str = "local";
const STAGE: &str = "local";
const REGION: &str = "us-east-1";

/// How functions are run.
#[derive(Clone)]
pub enum Functions {
    /// Each function's handler called in this process, sharing one store.
    InProcess(gateway::State),
    /// The real binaries behind a Lambda Invoke API (`cargo lambda watch`).
    Remote(String),
}

pub struct LocalGateway {
    resources: Vec<Resource>,
    functions: Functions,
    backend: String,
    client: Client<HttpConnector, Full<Bytes>>,
    next_request: AtomicU64,
}

type HttpResponse = Response<Full<Bytes>>;

impl LocalGateway {
    /// `backend` is the podcast backend's base URL (`http://…`, no trailing slash).
    pub fn new(functions: Functions, backend: &str) -> Result<Self, String> {
        Ok(Self {
            resources: routes::from_openapi(routes::OPENAPI)?,
            functions,
            backend: backend.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            next_request: AtomicU64::new(1),
        })
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let this = this.clone();
                    async move { Ok::<_, Infallible>(this.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    pub async fn handle(&self, req: Request<Incoming>) -> HttpResponse {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("local-{:08x}-{n:06}", std::process::id());
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_PAYLOAD).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return gateway_response("REQUEST_TOO_LARGE", &request_id, &Map::new()),
        };
        let path = parts.uri.path().to_owned();
        let method = parts.method.as_str().to_owned();
        let Some(matched) = routes::route(&self.resources, &method, &path) else {
            return gateway_response("MISSING_AUTHENTICATION_TOKEN", &request_id, &Map::new());
        };
        let incoming = Incoming_ {
            method: &method,
            path: &path,
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
            request_id: &request_id,
        };
        let mut context = Map::new();
        if matched.operation.authorized {
            let event = incoming.authorizer_event(&matched);
            let method_arn = event["methodArn"].as_str().unwrap_or_default().to_owned();
            match self.authorize(event).await {
                Decision::Unauthorized => {
                    return gateway_response("UNAUTHORIZED", &request_id, &context);
                }
                Decision::Failed(why) => {
                    tracing::error!(request_id, why, "authorizer failed");
                    return gateway_response("AUTHORIZER_FAILURE", &request_id, &context);
                }
                Decision::Policy {
                    statements,
                    context: c,
                    principal,
                } => {
                    context = c;
                    context.insert("principalId".into(), Value::String(principal));
                    if !policy::allows(&statements, &method_arn) {
                        return gateway_response("ACCESS_DENIED", &request_id, &context);
                    }
                }
            }
        }
        match &matched.operation.integration {
            Integration::Lambda(function) => {
                let event = incoming.proxy_event(&matched, &context);
                self.invoke_function(function, event, &request_id).await
            }
            Integration::HttpProxy => self.proxy(&incoming, &matched, &context).await,
        }
    }

    async fn authorize(&self, event: Value) -> Decision {
        let answer = match &self.functions {
            Functions::InProcess(state) => match authorizer::handler(state, event).await {
                Ok(r) => serde_json::to_value(r).map_err(|e| e.to_string()),
                Err(authorizer::AuthError::Unauthorized) => return Decision::Unauthorized,
                Err(e) => return Decision::Failed(e.to_string()),
            },
            Functions::Remote(endpoint) => {
                match self.invoke_remote(endpoint, "authorizer", &event).await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(message)) if message == "Unauthorized" => return Decision::Unauthorized,
                    Ok(Err(message)) => return Decision::Failed(message),
                    Err(e) => return Decision::Failed(e),
                }
            }
        };
        match answer {
            Ok(v) => parse_policy(&v).unwrap_or_else(Decision::Failed),
            Err(e) => Decision::Failed(e),
        }
    }

    async fn invoke_function(
        &self,
        logical_id: &str,
        event: Value,
        request_id: &str,
    ) -> HttpResponse {
        let result = match &self.functions {
            Functions::InProcess(state) => {
                let req = match lambda_http::request::from_str(&event.to_string()) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(request_id, error = %e, "proxy event");
                        return gateway_response("DEFAULT_5XX", request_id, &Map::new());
                    }
                };
                let resp = match logical_id {
                    "CreateKeyFunction" => create_key::handler(state, req).await,
                    "ListKeysFunction" => list_keys::handler(state, req).await,
                    "RevokeKeyFunction" => revoke_key::handler(state, req).await,
                    "SiteFunction" => match site::handler(req).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    },
                    other => {
                        tracing::error!(request_id, function = other, "unknown function");
                        return gateway_response("DEFAULT_5XX", request_id, &Map::new());
                    }
                };
                let (parts, body) = resp.into_parts();
                let mut out = Response::new(Full::new(Bytes::copy_from_slice(body.as_ref())));
                *out.status_mut() = parts.status;
                *out.headers_mut() = parts.headers;
                Ok(out)
            }
            Functions::Remote(endpoint) => match self
                .invoke_remote(endpoint, binary_of(logical_id), &event)
                .await
            {
                Ok(Ok(v)) => proxy_response(&v),
                Ok(Err(message)) => Err(message),
                Err(e) => Err(e),
            },
        };
        result.unwrap_or_else(|e| {
            tracing::error!(request_id, function = logical_id, error = %e, "integration failed");
            gateway_response("DEFAULT_5XX", request_id, &Map::new())
        })
    }

    /// POST to the Lambda Invoke API. `Ok(Err(message))` is a function error.
    async fn invoke_remote(
        &self,
        endpoint: &str,
        function: &str,
        event: &Value,
    ) -> Result<Result<Value, String>, String> {
        let uri = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            endpoint.trim_end_matches('/')
        );
        let req = Request::post(&uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(INTEGRATION_TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| format!("{uri} timed out"))?
            .map_err(|e| format!("{uri}: {e}"))?;
        let function_error = resp.headers().contains_key("x-amz-function-error");
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{uri}: answer is not JSON ({e})"))?;
        if function_error || !status.is_success() || v.get("errorMessage").is_some() {
            return Ok(Err(v["errorMessage"]
                .as_str()
                .unwrap_or("function error")
                .to_owned()));
        }
        Ok(Ok(v))
    }

    async fn proxy(
        &self,
        incoming: &Incoming_<'_>,
        matched: &Matched<'_>,
        context: &Map<String, Value>,
    ) -> HttpResponse {
        let proxy = matched
            .path_parameters
            .iter()
            .find(|(k, _)| k == "proxy")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let mut uri = format!("{}/{}", self.backend, encode_path(proxy));
        if !incoming.query.is_empty() {
            uri.push('?');
            uri.push_str(incoming.query);
        }
        let mut req = Request::builder().method(incoming.method).uri(&uri);
        for (name, value) in incoming.headers {
            if !matches!(
                name.as_str(),
                "host" | "connection" | "content-length" | "transfer-encoding"
            ) {
                req = req.header(name, value);
            }
        }
        let text = |k: &str| context.get(k).map(context_string).unwrap_or_default();
        let mut out = match req.body(Full::new(incoming.body.clone())) {
            Ok(r) => r,
            Err(_) => return gateway_response("DEFAULT_5XX", incoming.request_id, &Map::new()),
        };
        let headers = out.headers_mut();
        for (name, value) in [
            ("x-podkeys-owner-id", text("owner_id")),
            ("x-podkeys-key-id", text("key_id")),
            ("x-podkeys-scopes", text("scopes")),
            // As the template maps them: the caller's key never reaches the backend.
            ("x-api-key", String::new()),
            ("api-key", String::new()),
            ("authorization", String::new()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        match tokio::time::timeout(INTEGRATION_TIMEOUT, self.client.request(out)).await {
            Err(_) => gateway_response("INTEGRATION_TIMEOUT", incoming.request_id, &Map::new()),
            Ok(Err(e)) => {
                tracing::warn!(request_id = incoming.request_id, error = %e, "backend unreachable");
                gateway_response("INTEGRATION_FAILURE", incoming.request_id, &Map::new())
            }
            Ok(Ok(resp)) => {
                let (parts, body) = resp.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let mut out = Response::new(Full::new(bytes));
                *out.status_mut() = parts.status;
                for (name, value) in &parts.headers {
                    if !matches!(name.as_str(), "connection" | "transfer-encoding") {
                        out.headers_mut().append(name, value.clone());
                    }
                }
                out
            }
        }
    }
}

/// What the authorizer said.
enum Decision {
    Unauthorized,
    Failed(String),
    Policy {
        statements: Vec<Statement>,
        context: Map<String, Value>,
        principal: String,
    },
}

fn parse_policy(v: &Value) -> Result<Decision, String> {
    let statements = v["policyDocument"]["Statement"]
        .as_array()
        .ok_or("authorizer answer has no policyDocument.Statement")?;
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut parsed = Vec::new();
    for s in statements {
        let actions = strings(&s["Action"]);
        if !actions
            .iter()
            .any(|a| a == "execute-api:Invoke" || a == "execute-api:*" || a == "*")
        {
            continue;
        }
        let effect = match s["Effect"].as_str() {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(format!("policy effect {other:?}")),
        };
        parsed.push(Statement {
            effect,
            resources: strings(&s["Resource"]),
        });
    }
    Ok(Decision::Policy {
        statements: parsed,
        context: v["context"].as_object().cloned().unwrap_or_default(),
        principal: v["principalId"].as_str().unwrap_or_default().to_owned(),
    })
}

/// API Gateway hands context values to integrations as strings.
fn context_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn binary_of(logical_id: &str) -> &str {
    match logical_id {
        "CreateKeyFunction" => "create-key",
        "ListKeysFunction" => "list-keys",
        "RevokeKeyFunction" => "revoke-key",
        "SiteFunction" => "site",
        other => other,
    }
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A Lambda proxy response (`statusCode`, `headers`, `multiValueHeaders`, `body`) as HTTP.
fn proxy_response(v: &Value) -> Result<HttpResponse, String> {
    let status = v["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no statusCode")?;
    let body = v["body"].as_str().unwrap_or_default();
    let bytes = if v["isBase64Encoded"].as_bool() == Some(true) {
        return Err("binary bodies are not served by this gateway".into());
    } else {
        Bytes::from(body.to_owned())
    };
    let mut out = Response::new(Full::new(bytes));
    *out.status_mut() = StatusCode::from_u16(status).map_err(|e| e.to_string())?;
    for (name, values) in v["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            if let (Ok(n), Some(Ok(val))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                out.headers_mut().append(n, val);
            }
        }
    }
    for (name, value) in v["headers"].as_object().into_iter().flatten() {
        if let (Ok(n), Some(Ok(val))) = (
            HeaderName::try_from(name.as_str()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            out.headers_mut().insert(n, val);
        }
    }
    Ok(out)
}

/// One of the template's gateway responses, rendered as API Gateway would.
fn gateway_response(kind: &str, request_id: &str, context: &Map<String, Value>) -> HttpResponse {
    let response = GatewayResponse::by_kind(kind)
        .or_else(|| GatewayResponse::by_kind("DEFAULT_5XX"))
        .copied();
    let Some(response) = response else {
        return Response::new(Full::new(Bytes::new()));
    };
    let body = response.render(|var| match var {
        "$context.requestId" => Some(request_id.to_owned()),
        "$context.error.messageString" => Some(kind.to_lowercase().replace('_', " ")),
        v => v
            .strip_prefix("$context.authorizer.")
            .and_then(|k| context.get(k))
            .map(context_string),
    });
    let mut out = Response::new(Full::new(Bytes::from(body)));
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    out.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    out.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    out
}

/// The parts of one HTTP request that events are built from.
struct Incoming_<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a hyper::HeaderMap,
    body: &'a Bytes,
    request_id: &'a str,
}

impl Incoming_<'_> {
    /// `headers` (last value wins) and `multiValueHeaders`, as API Gateway fills them.
    fn header_maps(&self) -> (Value, Value) {
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (name, value) in self.headers {
            if name == "x-forwarded-proto" {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            single.insert(name.as_str().to_owned(), Value::String(value.clone()));
            multi
                .entry(name.as_str().to_owned())
                .or_default()
                .push(Value::String(value));
        }
        // API Gateway sets it from the connection, whatever the client sent.
        single.insert("X-Forwarded-Proto".into(), json!("http"));
        multi.insert("X-Forwarded-Proto".into(), vec![json!("http")]);
        (Value::Object(single), json!(multi))
    }

    fn query_maps(&self) -> (Value, Value) {
        if self.query.is_empty() {
            return (Value::Null, Value::Null);
        }
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode_query(k), decode_query(v));
            single.insert(k.clone(), Value::String(v.clone()));
            multi.entry(k).or_default().push(Value::String(v));
        }
        (Value::Object(single), json!(multi))
    }

    fn path_parameters(matched: &Matched<'_>) -> Value {
        if matched.path_parameters.is_empty() {
            return Value::Null;
        }
        Value::Object(
            matched
                .path_parameters
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    fn request_context(&self, matched: &Matched<'_>) -> Value {
        let user_agent = self
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        json!({
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": "localhost",
            "httpMethod": self.method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": user_agent},
            "path": self.path,
            "protocol": "HTTP/1.1",
            "requestId": self.request_id,
            "requestTimeEpoch": epoch_millis(),
            "resourceId": "local",
            "resourcePath": matched.resource.path,
            "stage": STAGE,
        })
    }

    /// The fields API Gateway puts in both the authorizer's event and the proxy event.
    fn common_event(&self, matched: &Matched<'_>) -> Map<String, Value> {
        let (headers, multi_headers) = self.header_maps();
        let (query, multi_query) = self.query_maps();
        let fields = json!({
            "resource": matched.resource.path,
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": Self::path_parameters(matched),
            "requestContext": self.request_context(matched),
        });
        match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn authorizer_event(&self, matched: &Matched<'_>) -> Value {
        let mut event = self.common_event(matched);
        event.insert("type".into(), json!("REQUEST"));
        event.insert(
            "methodArn".into(),
            json!(format!(
                "arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{}{}",
                self.method, self.path
            )),
        );
        event.insert("stageVariables".into(), json!({}));
        Value::Object(event)
    }

    fn proxy_event(&self, matched: &Matched<'_>, context: &Map<String, Value>) -> Value {
        let mut event = self.common_event(matched);
        let authorizer: Map<String, Value> = context
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(context_string(v))))
            .collect();
        if let Some(Value::Object(ctx)) = event.get_mut("requestContext") {
            ctx.insert("authorizer".into(), Value::Object(authorizer));
        }
        let (body, base64) = match std::str::from_utf8(self.body) {
            Ok("") => (Value::Null, false),
            Ok(text) => (Value::String(text.to_owned()), false),
            Err(_) => (Value::String(STANDARD.encode(self.body)), true),
        };
        event.insert("stageVariables".into(), Value::Null);
        event.insert("body".into(), body);
        event.insert("isBase64Encoded".into(), json!(base64));
        Value::Object(event)
    }
}

fn decode_query(s: &str) -> String {
    routes::percent_decode(&s.replace('+', " "))
}

fn epoch_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}
