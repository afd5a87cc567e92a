//! One delivery attempt: a signed POST of the stored body, 2xx within the timeout or not.

use std::time::Duration;

use apikey::Timestamp;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use webhook::{EVENT_ID_HEADER, SIGNATURE_HEADER, WebhookConfig, sign};

/// The HTTP client every attempt uses: HTTPS with the system's roots (the receiver is the
/// operator's, so any public CA), plain HTTP only where the configuration allows it
/// (loopback, checked by [`webhook::WebhookUrl::parse`]).
#[derive(Clone, Debug)]
pub struct Sender {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: WebhookConfig,
    timeout: Duration,
}

/// Why an attempt did not count as delivered. The text is kept on the delivery for the
/// operator (`apikeys webhooks failed`); it never holds the body or the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError(pub String);

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Sender {
    pub fn new(config: WebhookConfig, timeout: Duration) -> Result<Self, std::io::Error> {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self {
            client,
            config,
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `body` as event `event_id`, signed for `now`. Redirects are not followed: the
    /// URL is the operator's setting, and a signed request goes only there.
    pub async fn attempt(
        &self,
        event_id: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<(), AttemptError> {
        let signature = sign(self.config.secret(), now.epoch_secs(), body.as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.config.url().as_str())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static("podkeys-webhooks/1"))
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_ID_HEADER, event_id)
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| AttemptError(format!("request not built: {e}")))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| AttemptError(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| AttemptError(format!("transport: {}", error_chain(&e))))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(AttemptError(format!("HTTP {}", status.as_u16())))
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
