//! API Gateway (REST) on your machine, as faithful as we can make it and no further than AWS
//! documents it: the routes of `infra/openapi.yaml` (public ones without the authorizer), the
//! REQUEST authorizer and its policy, the usage plans the authorizer's `usageIdentifierKey`
//! picks (API key source `AUTHORIZER`), the template's gateway responses, Lambda proxy events
//! with the authorizer's context, and the podcast backend behind the document's `HTTP_PROXY`
//! integration with its header mappings.
//!
//! One module per job: `routes` (which resource and method), `authorize` (calling the
//! authorizer, reading its answer), `policy` (IAM evaluation of that answer), `events` (the
//! events API Gateway builds), `invoke` (running functions in-process or through a Lambda
//! Invoke API, by the `catalogue` of the template's binaries), `proxy` (the podcast backend),
//! `responses` (gateway responses). This file wires them into one axum router.

pub mod authorize;
pub mod catalogue;
pub mod echo;
pub mod events;
pub mod http_api;
pub mod invoke;
pub mod policy;
pub mod proxy;
pub mod responses;
pub mod routes;
pub mod streams;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};
use tokio::net::TcpListener;

pub use gateway::UsageKeys;
pub use invoke::Functions;

use authorize::Decision;
use catalogue::Catalogue;
use events::Incoming;
use invoke::Invoker;
use responses::{Kind, gateway_response};
use routes::{Integration, Resource};

/// API Gateway's payload limit, 10 MB for REST and HTTP APIs alike
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>).
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// Which of the template's front doors this gateway is (SPEC §17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The REST API of `infra/openapi.yaml`: policies, usage plans, gateway responses.
    Rest,
    /// The HTTP API of `infra/template.yaml` (`HttpApiFrontDoor`): payload format 2.0,
    /// simple responses, API Gateway's own error bodies.
    Http,
}

impl std::str::FromStr for Api {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rest" => Ok(Api::Rest),
            "http" => Ok(Api::Http),
            other => Err(format!("--api {other:?}: rest or http")),
        }
    }
}

pub struct LocalGateway {
    api: Api,
    resources: Vec<Resource>,
    /// The REQUEST authorizer's logical id.
    authorizer: String,
    invoker: Invoker,
    backend: String,
    client: invoke::HttpClient,
    /// The keys of the API's two usage plans (the template's `UsagePlanUnlimited` and
    /// `UsagePlanBlocked`): the authorizer's configuration, or `USAGE_KEY_*` for remote
    /// functions, as `make dev` sets them for both.
    usage_keys: UsageKeys,
    next_request: AtomicU64,
}

impl LocalGateway {
    /// `backend` is the podcast backend's base URL (`http://…`). Fails when the document or
    /// the template cannot be read, or names a function this gateway cannot run.
    pub fn new(functions: Functions, backend: &str) -> Result<Self, String> {
        Self::for_api(Api::Rest, functions, backend)
    }

    /// The gateway of one front door: the REST API's routes come from the OpenAPI document,
    /// the HTTP API's from the template's `AWS::ApiGatewayV2::Route`s.
    pub fn for_api(api: Api, functions: Functions, backend: &str) -> Result<Self, String> {
        let (resources, authorizer) = match api {
            Api::Rest => (
                routes::from_openapi(routes::OPENAPI)?,
                routes::authorizer_function(routes::OPENAPI)?,
            ),
            Api::Http => {
                let http = http_api::from_template(catalogue::TEMPLATE)?;
                (http.resources, http.authorizer)
            }
        };
        let needs_keys = resources
            .iter()
            .flat_map(|r| &r.operations)
            .any(|o| o.api_key_required);
        if needs_keys && routes::api_key_source(routes::OPENAPI)? != "AUTHORIZER" {
            return Err(
                "openapi: methods require usage-plan keys, but this gateway emulates \
                 only the API key source AUTHORIZER"
                    .into(),
            );
        }
        let usage_keys = match &functions {
            Functions::InProcess(state) => state.config.usage_keys.clone(),
            Functions::Remote(_) => UsageKeys::from_lookup(|name| std::env::var(name).ok())
                .map_err(|e| e.to_string())?,
        };
        let client = Client::builder(TokioExecutor::new()).build_http();
        let catalogue = Catalogue::from_template(catalogue::TEMPLATE)?;
        let invoker = Invoker::new(functions, catalogue, client.clone());
        invoker.check(&authorizer, true)?;
        for resource in &resources {
            for operation in &resource.operations {
                if let Integration::Lambda(function) = &operation.integration {
                    invoker.check(function, false)?;
                }
            }
        }
        Ok(Self {
            api,
            resources,
            authorizer,
            invoker,
            backend: backend.trim_end_matches('/').to_owned(),
            client,
            usage_keys,
            next_request: AtomicU64::new(1),
        })
    }

    /// The same gateway with other usage-plan keys (a stack whose plans and authorizer
    /// disagree, for tests).
    pub fn with_usage_keys(mut self, usage_keys: UsageKeys) -> Self {
        self.usage_keys = usage_keys;
        self
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Every request goes to one handler: API Gateway's resource matching (a literal segment
    /// before `{var}` before `{proxy+}`, an empty segment still binding `{var}`, a trailing
    /// slash ignored) is not a path router's, so `routes` does it.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .fallback(
                |State(gateway): State<Arc<Self>>, req: Request| async move {
                    gateway.handle(req).await
                },
            )
            .with_state(self)
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        if let Err(e) = axum::serve(listener, self.router()).await {
            tracing::error!(error = %e, "local gateway stopped");
        }
    }

    pub async fn handle(&self, req: Request) -> Response {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("local-{:08x}-{n:06}", std::process::id());
        let (parts, body) = req.into_parts();
        let Ok(body) = to_bytes(body, MAX_PAYLOAD).await else {
            return self.refusal(Kind::RequestTooLarge, &request_id, &Map::new());
        };
        let (method, path) = (parts.method.as_str(), parts.uri.path());
        let Some(matched) = routes::route(&self.resources, method, path) else {
            return self.refusal(Kind::MissingAuthenticationToken, &request_id, &Map::new());
        };
        let incoming = Incoming {
            method,
            path,
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
            request_id: &request_id,
        };
        let mut context = Map::new();
        if matched.operation.authorized && self.api == Api::Http {
            let event = incoming.authorizer_event_v2(&matched);
            match authorize::authorize_simple(&self.invoker, &self.authorizer, event).await {
                Ok(http_api::Simple::Authorized(c)) => context = c,
                Ok(http_api::Simple::Refused(_)) => return http_api::forbidden(),
                Err(why) => {
                    tracing::error!(request_id, why, "authorizer failed");
                    return http_api::internal_error();
                }
            }
        } else if matched.operation.authorized {
            let event = incoming.authorizer_event(&matched);
            match authorize::authorize(&self.invoker, &self.authorizer, event).await {
                Decision::Unauthorized => {
                    return gateway_response(Kind::Unauthorized, &request_id, &context);
                }
                Decision::Failed(why) => {
                    tracing::error!(request_id, why, "authorizer failed");
                    return gateway_response(Kind::AuthorizerFailure, &request_id, &context);
                }
                Decision::Policy {
                    statements,
                    context: c,
                    principal,
                    usage_key,
                } => {
                    context = c;
                    context.insert("principalId".into(), Value::String(principal));
                    if !policy::allows(&statements, &incoming.method_arn()) {
                        return gateway_response(Kind::AccessDenied, &request_id, &context);
                    }
                    if matched.operation.api_key_required
                        && let Some(refusal) = self.usage_plan(usage_key.as_deref())
                    {
                        return gateway_response(refusal, &request_id, &context);
                    }
                }
            }
        }
        match &matched.operation.integration {
            Integration::Lambda(function) => {
                let event = match self.api {
                    Api::Rest => incoming.proxy_event(&matched, &context),
                    Api::Http => incoming.proxy_event_v2(&matched, &context),
                };
                match self.invoker.http_function(function, event).await {
                    Ok(resp) => resp,
                    Err(e) => {
                        tracing::error!(request_id, function, error = ?e, "integration failed");
                        self.refusal(Kind::Default5xx, &request_id, &Map::new())
                    }
                }
            }
            Integration::HttpProxy(mappings) => {
                let proxy_path = matched
                    .path_parameters
                    .iter()
                    .find(|(k, _)| k == "proxy")
                    .map_or("", |(_, v)| v.as_str());
                let client = &self.client;
                let forwarded = proxy::forward(
                    client,
                    &self.backend,
                    &incoming,
                    proxy_path,
                    mappings,
                    &context,
                )
                .await;
                forwarded.unwrap_or_else(|kind| self.refusal(kind, &request_id, &Map::new()))
            }
        }
    }
}

impl LocalGateway {
    /// API Gateway's own answer of type `kind`: the template's gateway response on the REST
    /// API; on the HTTP API, which has none, its fixed `{"message": …}` bodies.
    fn refusal(&self, kind: Kind, request_id: &str, context: &Map<String, Value>) -> Response {
        match (self.api, kind) {
            (Api::Rest, _) => gateway_response(kind, request_id, context),
            (Api::Http, Kind::MissingAuthenticationToken) => http_api::not_found(),
            (Api::Http, Kind::RequestTooLarge) => http_api::error(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large",
            ),
            (Api::Http, _) => http_api::internal_error(),
        }
    }

    /// The usage plan an Allow's `usageIdentifierKey` names, as API Gateway applies it: a key
    /// of no plan of this API is `INVALID_API_KEY` (403 Forbidden,
    /// <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html>),
    /// the blocked plan (throttle 0, quota 0) admits nothing (`THROTTLED`, 429), the
    /// unlimited plan everything.
    fn usage_plan(&self, usage_key: Option<&str>) -> Option<Kind> {
        match usage_key {
            Some(k) if k == self.usage_keys.unlimited => None,
            Some(k) if k == self.usage_keys.blocked => Some(Kind::Throttled),
            _ => Some(Kind::InvalidApiKey),
        }
    }
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
