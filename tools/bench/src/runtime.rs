//! A fake Lambda Runtime API and a way to start a function binary against it, with the
//! environment Lambda gives a function.

use std::convert::Infallible;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Every `GET …/invocation/next` is counted; while `invocations` lasts it is answered with
/// the event, after that it is held open (the function idles).
pub struct FakeRuntime {
    nexts: AtomicUsize,
    pub responses: AtomicUsize,
    invocations: usize,
    event: Bytes,
    first_next: mpsc::UnboundedSender<Instant>,
    done: mpsc::UnboundedSender<()>,
}

fn verbose() -> bool {
    std::env::var_os("PODKEYS_BENCH_VERBOSE").is_some()
}

impl FakeRuntime {
    async fn handle(
        self: Arc<Self>,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = req.uri().path().to_owned();
        // The authorizer registers an internal extension before its first `next` (for
        // SIGTERM at shutdown), then waits on it for events it never gets: its registration
        // is part of the init being measured.
        if path.ends_with("/extension/register") {
            return Ok(Response::builder()
                .header("Lambda-Extension-Identifier", "bench-extension")
                .body(Full::new(Bytes::from_static(
                    br#"{"functionName":"bench","functionVersion":"$LATEST","handler":"bootstrap"}"#,
                )))
                .unwrap_or_default());
        }
        if path.ends_with("/extension/event/next") {
            std::future::pending::<()>().await;
        }
        if path.ends_with("/invocation/next") {
            let n = self.nexts.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                let _ = self.first_next.send(Instant::now());
            }
            if n >= self.invocations {
                let _ = self.done.send(());
                std::future::pending::<()>().await;
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 3_000)
                .unwrap_or_default();
            let resp = Response::builder()
                .header("Lambda-Runtime-Aws-Request-Id", format!("req-{n}"))
                .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
                .header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:authorizer",
                )
                .body(Full::new(self.event.clone()))
                .unwrap_or_default();
            return Ok(resp);
        }
        if path.ends_with("/response") {
            self.responses.fetch_add(1, Ordering::SeqCst);
        } else if path.ends_with("/error") && verbose() {
            use http_body_util::BodyExt;
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            eprintln!("function error: {}", String::from_utf8_lossy(&body));
        }
        Ok(Response::builder()
            .status(202)
            .body(Full::new(Bytes::new()))
            .unwrap_or_default())
    }
}

pub struct Spawned {
    pub child: tokio::process::Child,
    pub first_next: mpsc::UnboundedReceiver<Instant>,
    pub done: mpsc::UnboundedReceiver<()>,
    pub runtime: Arc<FakeRuntime>,
    pub server: tokio::task::JoinHandle<()>,
}

/// Starts a fake Runtime API serving `invocations` copies of `event`, then `bin` against it;
/// returns the instant just before the spawn.
pub async fn spawn_function(
    bin: &Path,
    invocations: usize,
    event: &Value,
    env: &[(&str, String)],
) -> (Instant, Spawned) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (first_tx, first_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let runtime = Arc::new(FakeRuntime {
        nexts: AtomicUsize::new(0),
        responses: AtomicUsize::new(0),
        invocations,
        event: Bytes::from(event.to_string()),
        first_next: first_tx,
        done: done_tx,
    });
    let rt = runtime.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let rt = rt.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| rt.clone().handle(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let output = || {
        if verbose() {
            Stdio::inherit()
        } else {
            Stdio::null()
        }
    };
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("RUST_LOG", "error")
        .stdout(output())
        .stderr(output())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
    (
        start,
        Spawned {
            child,
            first_next: first_rx,
            done: done_rx,
            runtime,
            server,
        },
    )
}

/// What the authorizer needs besides Lambda's own variables.
pub fn authorizer_env(endpoint: &str, table: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TABLE_NAME", table.to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.to_owned()),
        // Lambda passes the execution role's credentials as environment variables. DynamoDB
        // Local keeps one database per access key: use the one the bench created tables with.
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_SESSION_TOKEN", "bench".into()),
    ]
}
