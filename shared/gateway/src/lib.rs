//! API Gateway glue shared by the functions: configuration, the calling key's identity,
//! request parsing (route, JSON body, query, path id), the one error → JSON response mapping,
//! the key object, and the one log line per request.

mod caller;
mod clock;
mod config;
mod error;
mod request;
mod response;
pub mod responses;
pub mod routes;
pub mod signer;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use keystore::KeyStore;
use keystore::client::{self, ClientSettings};
use keystore::signing::SigningStore;
use lambda_http::{Body, Request, Response};

pub use caller::Caller;
pub use clock::Clock;
pub use config::{Config, ConfigError, is_loopback_url};
pub use error::ApiError;
pub use request::{ListParams, MAX_BODY, json_body, path_id, request_id, resource, route};
pub use response::{KeyObject, created_body, json};

/// What a function keeps between invocations: its configuration, one store (one client, one
/// connection pool) and the assertion signer (used by the authorizer; it reads nothing until
/// first asked).
#[derive(Debug, Clone)]
pub struct State {
    pub store: KeyStore,
    pub config: Config,
    pub signer: Arc<signer::Signer>,
    /// "Now" for every handler (the system clock; tests move an adjustable one).
    pub clock: Clock,
}

impl State {
    pub fn new(store: KeyStore, config: Config) -> Self {
        let store = store.with_retention(config.retention);
        let signing = SigningStore::new(store.client().clone(), &config.signing_table_name);
        Self {
            store,
            config,
            signer: Arc::new(signer::Signer::new(signing)),
            clock: Clock::system(),
        }
    }

    /// From the environment: config first (a clear error if it is wrong), then the client.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let client = client::for_lambda(ClientSettings::default()).await;
        Ok(Self::new(KeyStore::new(client, &config.table_name), config))
    }
}

/// Init for a function's `main`: JSON logging, then configuration and client. A bad
/// configuration is logged and returned, so the function fails at init with a clear message.
pub async fn init() -> Result<State, ConfigError> {
    init_tracing();
    State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))
}

/// JSON log lines on stdout (CloudWatch). `RUST_LOG` is one level (`error` … `debug`, the
/// template's `LogLevel`), `info` by default: a plain level keeps a regex engine out of
/// every binary (see BENCHMARKS.md).
pub fn init_tracing() {
    let level = log_level(std::env::var("RUST_LOG").ok().as_deref());
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The level `RUST_LOG` asks for, never above `debug` (SPEC §4): at `trace`, `lambda_runtime`
/// logs every raw event, headers and so keys included. Unknown values mean `info`.
pub fn log_level(rust_log: Option<&str>) -> tracing_subscriber::filter::LevelFilter {
    use tracing_subscriber::filter::LevelFilter;
    let asked = rust_log
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    asked.min(LevelFilter::DEBUG)
}

/// Runs `handle`, turns its error into the JSON error response, and writes the request's one
/// log line: request id, method, route, status, calling key id, latency. Never a key.
pub async fn serve<F, Fut>(req: Request, handle: F) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().to_string();
    let route = resource(&req).unwrap_or("-").to_owned();
    let caller_key = Caller::key_id_for_log(&req);
    let (response, error) = match handle(req).await {
        Ok(response) => (response, None),
        Err(e) => {
            let code = e.code();
            let cause = e.cause_chain();
            (e.into_response(request_id.as_deref()), Some((code, cause)))
        }
    };
    let status = response.status().as_u16();
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let request_id = request_id.as_deref().unwrap_or("-");
    let key_id = caller_key.as_deref().unwrap_or("-");
    match error {
        None => tracing::info!(
            request_id, method, route, status, key_id, latency_us, "request"
        ),
        Some((code, None)) => {
            tracing::info!(
                request_id, method, route, status, key_id, latency_us, code, "request"
            )
        }
        Some((code, Some(cause))) => tracing::error!(
            request_id, method, route, status, key_id, latency_us, code, cause, "request"
        ),
    }
    response
}
