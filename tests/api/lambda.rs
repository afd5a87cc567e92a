//! A fake Lambda Runtime API (and Extensions API) and a way to run a function's real binary
//! under it: its debug build (`target/debug/<name>`, built by `make test`'s
//! `cargo build --workspace --bins`), with the environment Lambda gives a function and the
//! app's table on DynamoDB Local.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::helpers::App;

/// What the fake Runtime API saw: the function's answers, by request id.
#[derive(Default)]
struct Runtime {
    events: VecDeque<(String, Value)>,
    answers: Vec<(String, String)>,
}

async fn runtime_api(
    state: Arc<Mutex<Runtime>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    // An internal extension registers before the runtime's first `next` and then waits for
    // events it never gets (it subscribes to none); its registration is what makes Lambda send
    // SIGTERM at shutdown (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html).
    if path.ends_with("/extension/register") {
        let response = Response::builder()
            .header("lambda-extension-identifier", "ext-0")
            .body(Full::new(Bytes::from_static(
                br#"{"functionName":"podkeys","functionVersion":"$LATEST","handler":"bootstrap"}"#,
            )))
            .unwrap_or_default();
        return Ok(response);
    }
    if path.ends_with("/extension/event/next") {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(Response::new(Full::new(Bytes::new())));
    }
    if path.ends_with("/invocation/next") {
        let next = state.lock().ok().and_then(|mut s| s.events.pop_front());
        let Some((id, event)) = next else {
            // Nothing more to do: hold the long poll until the test ends the process.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(Response::new(Full::new(Bytes::new())));
        };
        let response = Response::builder()
            .header("lambda-runtime-aws-request-id", &id)
            .header("lambda-runtime-deadline-ms", "99999999999999")
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:podkeys",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .unwrap_or_default();
        return Ok(response);
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    if let Ok(mut s) = state.lock() {
        s.answers.push((path, body));
    }
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap_or_default())
}

pub(crate) fn binary(name: &str) -> PathBuf {
    // target/debug/deps/api-… → target/debug/<name>
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the functions first (`cargo build -p {name}`; `make test` does)",
        path.display()
    );
    path
}

/// How the function is stopped once it has answered every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGKILL: a crash, or a container reaped without notice.
    Kill,
    /// SIGTERM, as Lambda shuts down a function with a registered extension; it has 2 s.
    Terminate,
}

/// Runs a function binary on `events` at `RUST_LOG=trace` with `env` added to Lambda's and
/// the app's; returns its answers and all it wrote.
pub(crate) async fn run_function(
    app: &App,
    name: &str,
    events: Vec<Value>,
    env: &[(&str, &str)],
    stop: Stop,
) -> (Vec<String>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let expected = events.len();
    let state = Arc::new(Mutex::new(Runtime {
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, e)| (format!("req-{i}"), e))
            .collect(),
        answers: Vec::new(),
    }));
    let served = state.clone();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = served.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| runtime_api(state.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let config = &app.state.config;
    let mut child = tokio::process::Command::new(binary(name))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RUST_LOG", "trace")
        .env("TABLE_NAME", &config.table_name)
        .env("SIGNING_TABLE_NAME", &config.signing_table_name)
        .env("AWS_ENDPOINT_URL_DYNAMODB", testkit::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .spawn()
        .expect("start the function");
    for _ in 0..300 {
        if state.lock().map(|s| s.answers.len()).unwrap_or(0) >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    match (stop, child.id()) {
        (Stop::Terminate, Some(pid)) => {
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("kill -TERM");
            assert!(sent.success(), "SIGTERM sent");
        }
        _ => child.start_kill().expect("stop the function"),
    }
    let output = tokio::time::timeout(Duration::from_secs(2), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{name} still runs 2 s after it was stopped"))
        .expect("its output");
    server.abort();
    let answers = state
        .lock()
        .map(|s| s.answers.iter().map(|(_, body)| body.clone()).collect())
        .unwrap_or_default();
    let written = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (answers, written)
}
