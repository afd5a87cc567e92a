//! A tiny podcast backend for `make dev` and the tests: answers every request with what it
//! received (method, path, query, headers) as JSON, so you can see what the gateway forwards.
//! It also does what SPEC §15 asks of a real backend: it verifies `X-Podkeys-Assertion`
//! against the public keys the API publishes at `GET {gateway}/.well-known/jwks.json`
//! (fetched, cached, fetched again when a token names a key it has not seen) and answers the
//! verified claims as `verified_assertion`, or `null` and why as `assertion_error`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::invoke::HttpClient;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// How long fetched keys are used before they are fetched again.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// A token naming an unknown key fetches the keys again at most this often.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(5);

/// `X-Podkeys-RateLimit-*` as received → `X-RateLimit-*` on the echo's answer.
const RATE_LIMIT_ECHO: [(&str, &str); 3] = [
    ("x-podkeys-ratelimit-limit", "x-ratelimit-limit"),
    ("x-podkeys-ratelimit-remaining", "x-ratelimit-remaining"),
    ("x-podkeys-ratelimit-reset", "x-ratelimit-reset"),
];

pub struct Echo {
    /// `{gateway}/.well-known/jwks.json`, or `None`: nothing to verify against.
    jwks_url: Option<String>,
    audience: String,
    client: HttpClient,
    cache: Mutex<Option<(assertion::Jwks, Instant)>>,
}

impl Echo {
    /// `gateway` is the API's base URL; the audience is `ASSERTION_AUDIENCE`, by default
    /// `podcast-backend`.
    pub fn new(gateway: Option<&str>) -> Self {
        let audience = std::env::var("ASSERTION_AUDIENCE")
            .ok()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "podcast-backend".to_owned());
        Self {
            jwks_url: gateway.map(|g| format!("{}{JWKS_PATH}", g.trim_end_matches('/'))),
            audience,
            client: Client::builder(TokioExecutor::new()).build_http(),
            cache: Mutex::new(None),
        }
    }

    pub fn with_audience(mut self, audience: &str) -> Self {
        audience.clone_into(&mut self.audience);
        self
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .fallback(|State(echo): State<Arc<Self>>, req: Request| async move {
                echo.answer(req).await
            })
            .with_state(self)
    }

    async fn answer(&self, req: Request) -> Response {
        let headers: Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    json!(String::from_utf8_lossy(v.as_bytes())),
                )
            })
            .collect();
        let mut body = json!({
            "backend": "podkeys echo",
            "method": req.method().as_str(),
            "path": req.uri().path(),
            "query": req.uri().query(),
            "headers": headers,
        });
        let token = req
            .headers()
            .get("x-podkeys-assertion")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let verified = match token {
            None => Err("no X-Podkeys-Assertion header".to_owned()),
            Some(token) => self.verify(&token).await,
        };
        match verified {
            Ok(claims) => body["verified_assertion"] = claims,
            Err(why) => {
                body["verified_assertion"] = Value::Null;
                body["assertion_error"] = Value::String(why);
            }
        }
        let mut resp = Response::new(axum::body::Body::from(body.to_string()));
        // The rate-limit figures podkeys sent, back to the client as a backend would pass
        // them on (SPEC §10); none on an unlimited plan.
        for (from, to) in RATE_LIMIT_ECHO {
            if let Some(v) = req.headers().get(from).filter(|v| !v.is_empty()) {
                resp.headers_mut().insert(to, v.clone());
            }
        }
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }

    async fn verify(&self, token: &str) -> Result<Value, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let mut result = Err(assertion::VerifyError::Malformed);
        for refresh in [false, true] {
            let jwks = self.jwks(refresh).await?;
            result = assertion::verify(token, &jwks, &self.audience, now);
            if !matches!(result, Err(assertion::VerifyError::UnknownKid(_))) {
                break;
            }
        }
        let claims = result.map_err(|e| e.to_string())?;
        serde_json::to_value(claims).map_err(|e| e.to_string())
    }

    /// The cached keys, fetched when absent, stale, or (`refresh`) not fetched just now.
    async fn jwks(&self, refresh: bool) -> Result<assertion::Jwks, String> {
        let mut cache = self.cache.lock().await;
        if let Some((jwks, at)) = cache.as_ref() {
            let age = at.elapsed();
            if age < JWKS_TTL && (!refresh || age < JWKS_MIN_REFRESH) {
                return Ok(jwks.clone());
            }
        }
        let jwks = self.fetch().await?;
        *cache = Some((jwks.clone(), Instant::now()));
        Ok(jwks)
    }

    async fn fetch(&self) -> Result<assertion::Jwks, String> {
        let url = self.jwks_url.as_deref().ok_or(
            "the echo backend was started without the gateway's URL: no keys to verify with",
        )?;
        let req = hyper::Request::get(url)
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{url}: {e}"))?;
        let resp = tokio::time::timeout(Duration::from_secs(5), self.client.request(req))
            .await
            .map_err(|_| format!("{url} timed out"))?
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{url}: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        let text = String::from_utf8_lossy(&bytes);
        assertion::Jwks::from_json(&text).map_err(|e| format!("{url}: not a JWKS ({e})"))
    }
}

/// Serves the echo backend on `listener` until the task is dropped, verifying assertions
/// against the keys of the gateway at `gateway` (its base URL).
pub async fn serve_for(listener: TcpListener, gateway: &str) {
    run(listener, Echo::new(Some(gateway))).await;
}

/// Serves the echo backend without a gateway to fetch keys from: every request gets
/// `verified_assertion: null` and the reason.
pub async fn serve(listener: TcpListener) {
    run(listener, Echo::new(None)).await;
}

async fn run(listener: TcpListener, echo: Echo) {
    if let Err(e) = axum::serve(listener, Arc::new(echo).router()).await {
        tracing::error!(error = %e, "echo backend stopped");
    }
}

#[cfg(test)]
#[path = "echo_tests.rs"]
mod tests;
