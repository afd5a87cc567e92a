//! SIGTERM at shutdown (SPEC §12). Lambda sends it, with about 500 ms to act, only to a
//! function that registered an extension; this registers an internal one that subscribes to
//! no events, waits on its (never answered) `event/next` as the Extensions API requires to end
//! init, and runs the hook on SIGTERM, then exits
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html>,
//! <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown>).
//!
//! `lambda_runtime`'s `graceful-shutdown` feature does the same through the whole
//! `lambda-extension` crate (its Logs and Telemetry APIs, `chrono`): 420 KB more in the
//! authorizer's 8 MB budget for two HTTP calls. This makes those two calls with the Runtime
//! API client `lambda_runtime` already links.

use std::future::Future;

use http::{Method, header};
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{BoxError, Client, build_request};
use tokio::signal::unix::{SignalKind, signal};

/// Internal extension names must be unique within the function.
const EXTENSION_NAME: &str = "podkeys-usage-flush";
const ID_HEADER: &str = "Lambda-Extension-Identifier";

/// A registered extension, its `event/next` waiting.
#[derive(Debug)]
pub struct Registered(());

/// Registers the extension and starts its long poll. Call during init, before
/// `lambda_runtime::run` (extensions register before the runtime's first `next`); it is two
/// local calls, so `main` overlaps it with the rest of init.
pub async fn register() -> Result<Registered, BoxError> {
    let client = Client::builder().build()?;
    let register = build_request()
        .method(Method::POST)
        .uri("/2020-01-01/extension/register")
        .header("Lambda-Extension-Name", EXTENSION_NAME)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"events":[]}"#))?;
    let registered = client.call(register).await?;
    if !registered.status().is_success() {
        return Err(format!("extension registration answered {}", registered.status()).into());
    }
    let id = registered
        .headers()
        .get(ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or("extension registration without an identifier")?
        .to_owned();
    let next = build_request()
        .method(Method::GET)
        .uri("/2020-01-01/extension/event/next")
        .header(ID_HEADER, id)
        .body(Body::empty())?;
    tokio::spawn(async move {
        // Subscribed to nothing, this long poll is never answered; it only has to be made.
        let _ = client.call(next).await;
        std::future::pending::<()>().await;
    });
    Ok(Registered(()))
}

impl Registered {
    /// Runs `hook` on SIGTERM, then exits.
    pub fn on_sigterm<F, Fut>(self, hook: F) -> Result<(), BoxError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut term = signal(SignalKind::terminate())?;
        tokio::spawn(async move {
            if term.recv().await.is_some() {
                hook().await;
                std::process::exit(0);
            }
        });
        Ok(())
    }
}
