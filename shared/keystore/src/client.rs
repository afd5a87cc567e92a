//! Building the DynamoDB client with bounded timeouts and retries.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// Time and attempt bounds for every call. The defaults let the authorizer decide within 3 s
/// whatever DynamoDB does: each attempt is cut at 800 ms and the whole call, retries and
/// backoff included, at 2.5 s.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_millis(500),
            attempt_timeout: Duration::from_millis(800),
            operation_timeout: Duration::from_millis(2_500),
            max_attempts: 3,
        }
    }
}

impl ClientSettings {
    /// For people and scripts (the CLI): patient rather than fast-failing.
    pub fn interactive() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            max_attempts: 3,
        }
    }

    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    fn retries(&self) -> RetryConfig {
        RetryConfig::standard().with_max_attempts(self.max_attempts.max(1))
    }
}

/// A client from the environment's standard AWS configuration (region, credentials, and
/// `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local), with `settings` applied.
pub async fn from_env(settings: ClientSettings) -> Client {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(settings.timeouts())
        .retry_config(settings.retries())
        .load()
        .await;
    Client::new(&shared)
}

/// A client for a Lambda function. Lambda puts the region and the execution role's
/// credentials in the environment, so the client is built from exactly those (plus
/// `AWS_ENDPOINT_URL_DYNAMODB` when set), without `aws_config`'s full default chain: loading
/// that chain (profile files, SSO, IMDS and web-identity providers) took ~7 ms of every cold
/// start (BENCHMARKS.md). Anywhere those variables are missing, the full chain is used.
pub async fn for_lambda(settings: ClientSettings) -> Client {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    let env_credentials =
        var("AWS_ACCESS_KEY_ID").is_some() && var("AWS_SECRET_ACCESS_KEY").is_some();
    let Some(region) = region.filter(|_| env_credentials) else {
        return from_env(settings).await;
    };
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .timeout_config(settings.timeouts())
        .retry_config(settings.retries());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL_DYNAMODB") {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// A client for a DynamoDB Local at `endpoint`, with fixed dummy credentials: no credential
/// chain or region lookup, so nothing on the machine can leak into tests.
pub fn local(endpoint: &str, settings: ClientSettings) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "podkeys-local",
        ))
        .timeout_config(settings.timeouts())
        .retry_config(settings.retries())
        .build();
    Client::from_conf(config)
}
