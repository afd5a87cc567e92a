//! What every function behind API Gateway shares, the authorizer included: configuration,
//! the store, the assertion signer, the clock, the route table, JSON logging. Nothing here
//! links `lambda_http`: the HTTP side of the key functions is the `handler` crate, and the
//! outcome vocabulary is the `outcome` crate.

mod clock;
mod config;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod signer;
pub mod usage;

use std::sync::Arc;

use keystore::KeyStore;
use keystore::client::{self, ClientSettings};
use keystore::signing::SigningStore;

pub use clock::Clock;
pub use config::{
    Config, ConfigError, DEFAULT_PLAN, DEFAULT_PLANS, DEFAULT_USAGE_FLUSH_SECS,
    DEFAULT_USAGE_KEY_BLOCKED, DEFAULT_USAGE_KEY_UNLIMITED, MAX_MAX_ACTIVE_KEYS, UsageKeys,
    default_plans, is_loopback_url, parse_plans,
};

/// What a function keeps between invocations: its configuration, one store (one client, one
/// connection pool) and the assertion signer (used by the authorizer; it reads nothing until
/// first asked).
#[derive(Debug, Clone)]
pub struct State {
    pub store: KeyStore,
    pub config: Config,
    pub signer: Arc<signer::Signer>,
    /// Keys' plans as last read, so the authorizer can count beside the key read.
    pub limits: Arc<limits::LimitCache>,
    /// The authorizer's usage counts not yet written (SPEC §12).
    pub usage: Arc<usage::UsageTally>,
    /// "Now" for every handler (the system clock; tests move an adjustable one).
    pub clock: Clock,
}

impl State {
    pub fn new(store: KeyStore, config: Config) -> Self {
        let store = store
            .with_retention(config.retention)
            .with_audit_retention(config.audit_retention)
            .with_default_plan(config.plans.default_plan().clone());
        let signing = SigningStore::new(store.client().clone(), &config.signing_table_name);
        Self {
            store,
            config,
            signer: Arc::new(signer::Signer::new(signing)),
            limits: Arc::default(),
            usage: Arc::default(),
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

/// JSON log lines on stdout (CloudWatch), metric lines included (`metrics`). `RUST_LOG` is one level (`error` … `debug`, the
/// template's `LogLevel`), `info` by default: a plain level keeps a regex engine out of
/// every binary (see BENCHMARKS.md).
pub fn init_tracing() {
    metrics::enable();
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
