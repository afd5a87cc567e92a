//! `make bench`: every SPEC §7 figure, each against a baseline measured in the same run and
//! interleaved with it (the machine is noisy), then the results section of BENCHMARKS.md is
//! rewritten. Needs DynamoDB Local (`PODKEYS_BENCH_DYNAMODB`) and the release binaries
//! (`scripts/bench.sh` provides both).

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apikey::{ApiKey, KeyName, KeyPrefix, OwnerId, ScopeSet, Timestamp};
use authorizer::AuthorizerEvent;
use gateway::{Config, State};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use keystore::client::{self, ClientSettings};
use keystore::{KeyRecord, KeyStore, Listing, NewKey};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const SAMPLES: usize = 5_000;
const WARMUP: usize = 300;

struct Row {
    figure: String,
    measured: String,
    target: String,
    pass: Option<bool>,
}

fn row(figure: &str, measured: String, target: &str, pass: Option<bool>) -> Row {
    println!("{figure:<58} {measured:<34} {target:<10} {}", verdict(pass));
    Row {
        figure: figure.into(),
        measured,
        target: target.into(),
        pass,
    }
}

fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn timed<F: Future<Output = T>, T>(f: F) -> (Duration, T) {
    let start = Instant::now();
    let out = f.await;
    (start.elapsed(), out)
}

/// Runs `a` and `b` alternately (order flipped every round) `n` times after a warm-up, and
/// returns both sample sets.
async fn interleave<A, B, FA, FB>(n: usize, mut a: A, mut b: B) -> (Vec<Duration>, Vec<Duration>)
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = ()>,
    FB: Future<Output = ()>,
{
    for _ in 0..WARMUP {
        a().await;
        b().await;
    }
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        if i % 2 == 0 {
            xs.push(timed(a()).await.0);
            ys.push(timed(b()).await.0);
        } else {
            ys.push(timed(b()).await.0);
            xs.push(timed(a()).await.0);
        }
    }
    (xs, ys)
}

fn new_key(owner: &str, i: usize) -> NewKey {
    NewKey {
        owner_id: OwnerId::parse(owner).expect("valid owner"),
        name: KeyName::parse(&format!("bench key {i}")).expect("valid name"),
        description: None,
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: None,
    }
}

async fn fresh_store(endpoint: &str, label: &str) -> KeyStore {
    let client = client::local(endpoint, ClientSettings::interactive());
    let table = format!("bench-{label}-{}", std::process::id());
    keystore::create_table(&client, &table)
        .await
        .expect("create table");
    KeyStore::new(client, table)
}

fn state_for(store: KeyStore) -> State {
    let config = Config {
        table_name: store.table().to_owned(),
        key_prefix: KeyPrefix::default(),
        retention: Duration::from_secs(30 * 86_400),
        last_used_interval: Duration::from_secs(60),
    };
    State::new(store, config)
}

async fn seed(store: &KeyStore, owner: &str) -> (ApiKey, KeyRecord) {
    let (key, record) =
        KeyRecord::issue(&KeyPrefix::default(), new_key(owner, 0), Timestamp::now())
            .expect("os rng");
    store.create(&record).await.expect("seed");
    (key, record)
}

fn authorizer_event(key: &str) -> AuthorizerEvent {
    serde_json::from_value(event_json(key)).expect("an authorizer event")
}

fn event_json(key: &str) -> Value {
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/api/v1/podcasts/42",
        "resource": "/{proxy+}",
        "path": "/api/v1/podcasts/42",
        "httpMethod": "GET",
        "headers": {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "User-Agent": "podcast-app/3.2", "X-API-Key": key},
        "multiValueHeaders": {"Accept": ["application/json"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"],
                              "User-Agent": ["podcast-app/3.2"], "X-API-Key": [key]},
        "queryStringParameters": {}, "multiValueQueryStringParameters": {},
        "pathParameters": {"proxy": "api/v1/podcasts/42"}, "stageVariables": {},
        "requestContext": {"path": "/prod/api/v1/podcasts/42", "accountId": "123456789012", "stage": "prod",
                           "requestId": "bench", "resourcePath": "/{proxy+}", "httpMethod": "GET", "apiId": "abc123"}
    })
}

/// Authorizer (one consistent GetItem + decision) against the bare consistent GetItem of the
/// same item, same client.
async fn authorizer_vs_get_item(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "auth").await;
    let (key, record) = seed(&store, "alice").await;
    let state = state_for(store.clone());
    let event = authorizer_event(key.expose_secret());
    let client = store.client().clone();
    let table = store.table().to_owned();
    let pk = record.hash.to_hex();
    let (mut bare, mut auth) = interleave(
        SAMPLES,
        || {
            let (client, table, pk) = (client.clone(), table.clone(), pk.clone());
            async move {
                client
                    .get_item()
                    .table_name(table)
                    .key("pk", aws_sdk_dynamodb_attr(pk))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("GetItem");
            }
        },
        || async {
            let r = authorizer::authorize(&state, &event)
                .await
                .expect("a policy");
            assert!(r.context.get("owner_id").is_some(), "allowed");
        },
    )
    .await;
    let (b50, b99) = (percentile(&mut bare, 0.50), percentile(&mut bare, 0.99));
    let (a50, a99) = (percentile(&mut auth, 0.50), percentile(&mut auth, 0.99));
    let r50 = us(a50) / us(b50);
    let r99 = us(a99) / us(b99);
    rows.push(row(
        "authorizer p50 vs bare consistent GetItem (DynamoDB Local)",
        format!("{:.0} µs vs {:.0} µs = {r50:.2}×", us(a50), us(b50)),
        "≤ 1.10×",
        Some(r50 <= 1.10),
    ));
    rows.push(row(
        "authorizer p99 vs bare consistent GetItem",
        format!("{:.0} µs vs {:.0} µs = {r99:.2}×", us(a99), us(b99)),
        "≤ 1.25×",
        Some(r99 <= 1.25),
    ));
}

fn aws_sdk_dynamodb_attr(s: String) -> keystore::AttributeValue {
    keystore::AttributeValue::S(s)
}

/// Malformed and bad-checksum keys against a store that cannot be reached: any database call
/// would fail the decision, so an `Unauthorized` answer proves there was none.
async fn garbage(rows: &mut Vec<Row>) {
    let offline = KeyStore::new(
        client::local("http://127.0.0.1:9", ClientSettings::default()),
        "offline",
    );
    let state = state_for(offline);
    let valid = ApiKey::generate(&KeyPrefix::default()).expect("os rng");
    let mut bad = valid.expose_secret().to_owned();
    bad.replace_range(bad.len() - 6.., "000000");
    let events = [
        authorizer_event(&bad),
        authorizer_event("garbage"),
        authorizer_event(&"x".repeat(4096)),
    ];
    let n = 100_000;
    for e in &events {
        for _ in 0..1_000 {
            let _ = authorizer::authorize(&state, e).await;
        }
    }
    let start = Instant::now();
    let mut refused = 0;
    for i in 0..n {
        if matches!(
            authorizer::authorize(&state, &events[i % events.len()]).await,
            Err(authorizer::AuthError::Unauthorized)
        ) {
            refused += 1;
        }
    }
    let per_call = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    rows.push(row(
        "malformed / bad-checksum key: full decision, 0 DB calls",
        format!("{per_call:.0} ns/call, {refused}/{n} refused, 0 DB calls"),
        "< 1 µs",
        Some(per_call < 1_000.0 && refused == n),
    ));
    // The same, with the event arriving as JSON bytes (what the runtime deserializes).
    let bytes = serde_json::to_vec(&event_json(&bad)).expect("JSON");
    let start = Instant::now();
    let m = 20_000;
    for _ in 0..m {
        let e: AuthorizerEvent = serde_json::from_slice(&bytes).expect("event");
        let _ = authorizer::authorize(&state, &e).await;
    }
    let per_call = start.elapsed().as_secs_f64() * 1e9 / m as f64;
    rows.push(row(
        "  … including deserializing the event JSON (informational)",
        format!("{per_call:.0} ns/call"),
        "-",
        None,
    ));
}

fn proxy_request(
    method: &str,
    resource: &str,
    body: Option<&str>,
    record: &KeyRecord,
) -> lambda_http::Request {
    let event = json!({
        "resource": resource, "path": resource, "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "httpMethod": method, "path": resource,
            "requestId": "bench", "resourcePath": resource, "stage": "prod",
            "authorizer": {"owner_id": record.owner_id.as_str(), "key_id": record.id.as_str(),
                           "scopes": record.scopes.to_spaced(), "admin": "false"}
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("a REST proxy event")
}

/// Create and list handlers against the DynamoDB calls they make.
async fn create_and_list(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "crud").await;
    let (_, caller) = seed(&store, "alice").await;
    let state = state_for(store.clone());
    let n = SAMPLES;
    let counter = AtomicUsize::new(0);
    let (mut bare, mut handler) = interleave(
        n,
        || {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            let (_, record) =
                KeyRecord::issue(&KeyPrefix::default(), new_key("bob", i), Timestamp::now())
                    .expect("os rng");
            let store = &store;
            async move { store.create(&record).await.expect("transaction") }
        },
        || async {
            let req = proxy_request(
                "POST",
                "/api/v1/auth/api-keys",
                Some(r#"{"name":"bench"}"#),
                &caller,
            );
            let resp = create_key::handler(&state, req).await;
            assert_eq!(resp.status(), 201);
        },
    )
    .await;
    let (b, h) = (percentile(&mut bare, 0.5), percentile(&mut handler, 0.5));
    let r = us(h) / us(b);
    rows.push(row(
        "create p50 vs its bare TransactWriteItems",
        format!("{:.0} µs vs {:.0} µs = {r:.2}×", us(h), us(b)),
        "≤ 1.5×",
        Some(r <= 1.5),
    ));

    // alice now has SAMPLES + WARMUP + 1 keys; a page is 50 of them.
    let client = store.client().clone();
    let table = store.table().to_owned();
    let (mut bare, mut handler) = interleave(
        n,
        || {
            let (client, table) = (client.clone(), table.clone());
            async move {
                client
                    .query()
                    .table_name(table)
                    .index_name(keystore::schema::BY_OWNER)
                    .key_condition_expression("owner_id = :o")
                    .expression_attribute_values(":o", keystore::AttributeValue::S("alice".into()))
                    .scan_index_forward(false)
                    .limit(51)
                    .send()
                    .await
                    .expect("Query");
            }
        },
        || async {
            let req = proxy_request("GET", "/api/v1/auth/api-keys", None, &caller);
            let resp = list_keys::handler(&state, req).await;
            assert_eq!(resp.status(), 200);
        },
    )
    .await;
    let (b, h) = (percentile(&mut bare, 0.5), percentile(&mut handler, 0.5));
    let r = us(h) / us(b);
    rows.push(row(
        "list (50 keys) p50 vs its bare Query",
        format!("{:.0} µs vs {:.0} µs = {r:.2}×", us(h), us(b)),
        "≤ 1.5×",
        Some(r <= 1.5),
    ));
    let _ = Listing::All;
}

/// Authorizer p50 on a table of 100,000 keys against one of 10, interleaved.
async fn flat_cost(endpoint: &str, rows: &mut Vec<Row>) {
    let small = fresh_store(endpoint, "small").await;
    let big = fresh_store(endpoint, "big").await;
    let now = Timestamp::now();
    let records = |n: usize| -> Vec<KeyRecord> {
        (0..n)
            .map(|i| {
                KeyRecord::issue(&KeyPrefix::default(), new_key("filler", i), now)
                    .expect("os rng")
                    .1
            })
            .collect()
    };
    small.load_for_bench(&records(9)).await.expect("load");
    let started = Instant::now();
    let filler = Arc::new(records(99_999));
    let loaders: Vec<_> = (0..8)
        .map(|part| {
            let (big, filler) = (big.clone(), filler.clone());
            tokio::spawn(async move {
                let chunk = filler.len().div_ceil(8);
                let end = ((part + 1) * chunk).min(filler.len());
                big.load_for_bench(&filler[part * chunk..end])
                    .await
                    .expect("load");
            })
        })
        .collect();
    for l in loaders {
        l.await.expect("loader");
    }
    println!(
        "  (loaded 100,000 keys in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let (small_key, _) = seed(&small, "alice").await;
    let (big_key, _) = seed(&big, "alice").await;
    let (small_state, big_state) = (state_for(small), state_for(big));
    let (small_event, big_event) = (
        authorizer_event(small_key.expose_secret()),
        authorizer_event(big_key.expose_secret()),
    );
    let (mut s, mut b) = interleave(
        SAMPLES,
        || async {
            authorizer::authorize(&small_state, &small_event)
                .await
                .expect("policy");
        },
        || async {
            authorizer::authorize(&big_state, &big_event)
                .await
                .expect("policy");
        },
    )
    .await;
    let (s50, b50) = (percentile(&mut s, 0.5), percentile(&mut b, 0.5));
    let r = us(b50) / us(s50);
    rows.push(row(
        "authorizer p50, 100,000 keys vs 10 keys",
        format!("{:.0} µs vs {:.0} µs = {r:.2}×", us(b50), us(s50)),
        "≤ 1.10×",
        Some(r <= 1.10),
    ));
}

/// A fake Lambda Runtime API. Every `GET …/invocation/next` is counted; while `events` lasts
/// it is answered with an invocation, after that it is held open (the function idles).
struct FakeRuntime {
    nexts: AtomicUsize,
    responses: AtomicUsize,
    invocations: usize,
    event: Bytes,
    first_next: mpsc::UnboundedSender<Instant>,
    done: mpsc::UnboundedSender<()>,
}

impl FakeRuntime {
    async fn handle(
        self: Arc<Self>,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = req.uri().path().to_owned();
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
        } else if path.ends_with("/error") && std::env::var_os("PODKEYS_BENCH_VERBOSE").is_some() {
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

struct Spawned {
    child: tokio::process::Child,
    first_next: mpsc::UnboundedReceiver<Instant>,
    done: mpsc::UnboundedReceiver<()>,
    runtime: Arc<FakeRuntime>,
    server: tokio::task::JoinHandle<()>,
}

async fn spawn_function(
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
        .stdout(if std::env::var_os("PODKEYS_BENCH_VERBOSE").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stderr(if std::env::var_os("PODKEYS_BENCH_VERBOSE").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
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

fn authorizer_env(endpoint: &str, table: &str) -> Vec<(&'static str, String)> {
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

/// Spawn → first `GET /runtime/invocation/next`, authorizer vs hello world, interleaved.
async fn cold_start(endpoint: &str, release: &Path, rows: &mut Vec<Row>) {
    let auth_bin = release.join("authorizer");
    let hello_bin = release.join("hello-lambda");
    // Init as in Lambda: region and role credentials from the environment, DynamoDB's own
    // endpoint (no call is made before the first /next, so nothing needs to answer).
    let env: Vec<_> = authorizer_env(endpoint, "unused")
        .into_iter()
        .filter(|(name, _)| *name != "AWS_ENDPOINT_URL_DYNAMODB")
        .collect();
    let runs = 30;
    let (mut auth, mut hello) = (Vec::new(), Vec::new());
    for i in 0..runs + 3 {
        for (bin, out, env) in [
            (&auth_bin, &mut auth, &env[..]),
            (&hello_bin, &mut hello, &[][..]),
        ] {
            let (start, mut s) = spawn_function(bin, 0, &json!({}), env).await;
            let first = tokio::time::timeout(Duration::from_secs(10), s.first_next.recv())
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("{} never asked for an invocation", bin.display()));
            if i >= 3 {
                out.push(first - start);
            }
            let _ = s.child.kill().await;
            s.server.abort();
        }
    }
    let (a, h) = (percentile(&mut auth, 0.5), percentile(&mut hello, 0.5));
    let r = us(a) / us(h);
    rows.push(row(
        "cold init (spawn → first /next), authorizer vs hello world",
        format!(
            "{:.2} ms vs {:.2} ms = {r:.2}× ({runs} runs each)",
            us(a) / 1e3,
            us(h) / 1e3
        ),
        "≤ 1.5×",
        Some(r <= 1.5),
    ));
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Peak RSS of the authorizer binary after 10,000 invocations with a real key.
async fn memory(endpoint: &str, release: &Path, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "rss").await;
    let (key, _) = seed(&store, "alice").await;
    let invocations = 10_000;
    let env = authorizer_env(endpoint, store.table());
    let (start, mut s) = spawn_function(
        &release.join("authorizer"),
        invocations,
        &event_json(key.expose_secret()),
        &env,
    )
    .await;
    let finished = tokio::time::timeout(Duration::from_secs(600), s.done.recv())
        .await
        .is_ok();
    let elapsed = start.elapsed();
    let pid = s.child.id().unwrap_or_default();
    let peak = vm_hwm_kb(pid).unwrap_or_default();
    let answered = s.runtime.responses.load(Ordering::SeqCst);
    let _ = s.child.kill().await;
    s.server.abort();
    let (_, mut h) = spawn_function(&release.join("hello-lambda"), 1, &json!({}), &[]).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), h.done.recv()).await;
    let hello_peak = h.child.id().and_then(vm_hwm_kb).unwrap_or_default();
    let _ = h.child.kill().await;
    h.server.abort();
    rows.push(row(
        "authorizer peak RSS after 10,000 invocations",
        format!(
            "{:.1} MB ({answered} allowed in {:.1} s; hello world {:.1} MB)",
            peak as f64 / 1024.0,
            elapsed.as_secs_f64(),
            hello_peak as f64 / 1024.0
        ),
        "< 40 MB",
        Some(finished && answered == invocations && peak < 40 * 1024),
    ));
}

fn sizes(root: &Path, rows: &mut Vec<Row>) {
    for f in [
        "authorizer",
        "create-key",
        "list-keys",
        "revoke-key",
        "site",
    ] {
        let path = root.join("target/lambda").join(f).join("bootstrap");
        match std::fs::metadata(&path) {
            Ok(m) => {
                let mb = m.len() as f64 / 1e6;
                rows.push(row(
                    &format!("{f} bootstrap, arm64 stripped (make build)"),
                    format!(
                        "{} bytes = {mb:.2} MB ({:.2} MiB)",
                        m.len(),
                        m.len() as f64 / 1_048_576.0
                    ),
                    "< 8 MB",
                    Some(m.len() < 8_000_000),
                ));
            }
            Err(_) => rows.push(row(
                &format!("{f} bootstrap"),
                "not built: run make build".into(),
                "< 8 MB",
                None,
            )),
        }
    }
}

fn write_report(root: &Path, rows: &[Row], command: &str, took: Duration) {
    let path = root.join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- make bench: begin -->", "<!-- make bench: end -->");
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut section = format!(
        "{begin}\n## Results of `make bench`\n\nCommand: `{command}` · date: {} · machine: {cores} cores, {cpu} · took {:.0} s.\n\
         Latency figures: {SAMPLES} samples each after {WARMUP} warm-up rounds, the compared variants interleaved; DynamoDB Local on loopback.\n\n\
         | figure | measured | target | result |\n|---|---|---|---|\n",
        Timestamp::now().to_rfc3339(),
        took.as_secs_f64()
    );
    for r in rows {
        section.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.figure.trim(),
            r.measured,
            r.target,
            verdict(r.pass)
        ));
    }
    section.push_str(end);
    let new = match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) => format!("{}{section}{}", &text[..b], &text[e + end.len()..]),
        _ => format!("{text}\n{section}\n"),
    };
    if let Err(e) = std::fs::write(&path, new) {
        eprintln!("bench: writing {}: {e}", path.display());
    }
}

#[tokio::main]
async fn main() {
    let endpoint =
        std::env::var("PODKEYS_BENCH_DYNAMODB").expect("PODKEYS_BENCH_DYNAMODB: run `make bench`");
    let root =
        std::path::PathBuf::from(std::env::var("PODKEYS_ROOT").unwrap_or_else(|_| ".".into()));
    let release = root.join("target/release");
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let started = Instant::now();
    let mut rows = Vec::new();
    println!(
        "{:<58} {:<34} {:<10} result",
        "figure", "measured", "target"
    );
    if wants("authorizer") {
        authorizer_vs_get_item(&endpoint, &mut rows).await;
    }
    if wants("garbage") {
        garbage(&mut rows).await;
    }
    if wants("crud") {
        create_and_list(&endpoint, &mut rows).await;
    }
    if wants("flat") {
        flat_cost(&endpoint, &mut rows).await;
    }
    if wants("cold") {
        cold_start(&endpoint, &release, &mut rows).await;
    }
    if wants("memory") {
        memory(&endpoint, &release, &mut rows).await;
    }
    if wants("sizes") {
        sizes(&root, &mut rows);
    }
    if only.is_empty() {
        write_report(&root, &rows, "make bench", started.elapsed());
    }
    println!("took {:.0} s", started.elapsed().as_secs_f64());
}
