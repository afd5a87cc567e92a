//! Building the DynamoDB client with bounded timeouts and retries.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

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
    let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB");
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.clone()))
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .timeout_config(settings.timeouts())
        .retry_config(settings.retries());
    match endpoint {
        Some(endpoint) => config = config.endpoint_url(endpoint),
        None => {
            if let Some(http) = aws_endpoint_client(&region) {
                config = config.http_client(http);
            }
        }
    }
    Client::from_conf(config.build())
}

/// Root CAs of Amazon Trust Services, which issue the certificates of AWS service endpoints.
pub const AWS_ROOTS_PEM: &str = include_str!("aws-roots.pem");

/// The HTTPS client for DynamoDB's own endpoint in `region`: it trusts only the Amazon Trust
/// Services roots compiled into the binary. The SDK's default client loads and parses the
/// system's whole CA store (hundreds of files and ~140 PEM certificates) before the first
/// invocation: 2/3 of the authorizer's cold init (BENCHMARKS.md). Trusting only the issuer of
/// AWS endpoints also means a rogue CA elsewhere in the system store cannot intercept key
/// checks. China regions (`cn-*`, other certificate issuers) keep the default client, as does
/// any custom endpoint.
fn aws_endpoint_client(region: &str) -> Option<SharedHttpClient> {
    if region.starts_with("cn-") {
        return None;
    }
    let trust = TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM.as_bytes());
    let tls = TlsContext::builder().with_trust_store(trust).build().ok()?;
    Some(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(tls)
            .build_https(),
    )
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

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    /// The bundle must hold the four Amazon roots and the Starfield cross-signer, each a DER
    /// certificate: the SDK's rustls provider panics on an unparsable one at first connect.
    #[test]
    fn the_aws_roots_are_five_certificates() {
        let blocks: Vec<&str> = AWS_ROOTS_PEM
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|b| b.split("-----END CERTIFICATE-----").next().unwrap_or(""))
            .collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let b64: String = block.split_whitespace().collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64 certificate");
            assert_eq!(der.first(), Some(&0x30), "a DER SEQUENCE");
            assert!(der.len() > 400, "a whole certificate");
        }
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 4",
            "Starfield Services Root",
        ] {
            assert!(AWS_ROOTS_PEM.contains(name), "{name}");
        }
    }

    #[test]
    fn only_commercial_and_govcloud_regions_get_the_pinned_client() {
        assert!(aws_endpoint_client("us-east-1").is_some());
        assert!(aws_endpoint_client("us-gov-west-1").is_some());
        assert!(aws_endpoint_client("cn-north-1").is_none());
    }
}
