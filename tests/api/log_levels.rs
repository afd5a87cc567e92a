//! SPEC §4: no log level an operator can set makes a function print a key. The real release
//! binaries' debug siblings (`target/debug/authorizer`, `create-key`, built by `make test`'s
//! `cargo test --workspace --all-targets`) run under a fake Lambda Runtime API with
//! `RUST_LOG=trace`, real keys in the events' headers, against DynamoDB Local; everything they
//! write to stdout and stderr is searched for the keys.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gateway::routes::Function;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{App, Event};

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

fn binary(name: &str) -> PathBuf {
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

/// Runs a function binary on `events` at `RUST_LOG=trace`; returns its answers and all it wrote.
async fn run_function(app: &App, name: &str, events: Vec<Value>) -> (Vec<String>, String) {
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
        .kill_on_drop(true)
        .spawn()
        .expect("start the function");
    for _ in 0..300 {
        if state.lock().map(|s| s.answers.len()).unwrap_or(0) >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().expect("stop the function");
    let output = child.wait_with_output().await.expect("its output");
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

#[tokio::test]
async fn no_function_logs_a_key_at_the_most_verbose_level_an_operator_can_set() {
    let app = App::new("loglevels").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;

    // The authorizer: an Allow and a Deny, the key in all three headers.
    let mut allow = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    allow.0["headers"]["Authorization"] = json!(format!("Bearer {key}"));
    allow.0["headers"]["Api-Key"] = json!(key);
    let deny = Event::authorizer_for("DELETE", "/api/v1/auth/api-keys/key_x", &key);
    let (answers, written) =
        run_function(&app, Function::Authorizer.binary(), vec![allow.0, deny.0]).await;
    assert_eq!(
        answers.len(),
        2,
        "the authorizer answered both: {answers:?}\n{written}"
    );
    assert!(answers[0].contains("\"Allow\""), "{}", answers[0]);
    assert!(
        !answers[0].contains(&key),
        "the answer holds no key: {}",
        answers[0]
    );
    assert!(
        written.contains("\"authorize\""),
        "the decision lines are there:\n{written}"
    );
    // The level in force is debug (trace is capped): lambda_runtime's debug lines appear,
    // its trace line with the raw event does not.
    assert!(
        written.contains("\"DEBUG\""),
        "debug lines are written:\n{written}"
    );
    assert!(!written.contains("\"TRACE\""), "no trace lines:\n{written}");
    assert!(
        !written.contains(&key),
        "the key is in the authorizer's output:\n{written}"
    );

    // create-key: API Gateway hands the function the caller's headers, key included; the
    // answer holds a new key, which must not be logged either.
    let mut create = Event::create(json!({"name": "from the log test"})).by(&record);
    create.0["headers"]["X-API-Key"] = json!(key);
    create.0["multiValueHeaders"]["X-API-Key"] = json!([key]);
    let (answers, written) = run_function(&app, Function::CreateKey.binary(), vec![create.0]).await;
    assert_eq!(answers.len(), 1, "create-key answered: {written}");
    let answer: Value = serde_json::from_str(&answers[0]).expect("a proxy response");
    assert_eq!(answer["statusCode"], 201, "{answer}");
    let body: Value =
        serde_json::from_str(answer["body"].as_str().unwrap_or_default()).expect("JSON body");
    let new_key = body["key"].as_str().expect("the new key, once");
    assert!(
        written.contains("\"request\""),
        "the request line is there:\n{written}"
    );
    for secret in [key.as_str(), new_key] {
        assert!(
            !written.contains(secret),
            "a key is in create-key's output:\n{written}"
        );
    }
}
