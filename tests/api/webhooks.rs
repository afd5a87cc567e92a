//! Lifecycle webhooks and expiry notices (SPEC §14) end to end: the local gateway with the
//! notifier on DynamoDB Local's stream, a receiver on this machine that checks every
//! signature, and `apikeys notify-expiring` as an operator runs it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apikey::Timestamp;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use local_gateway::streams::OnFailure;
use local_gateway::webhooks::{Webhooks, mapping_config};
use notifier::Notifier;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use webhook::{RetrySchedule, Secret, WebhookConfig, WebhookUrl};

use crate::e2e::{Stack, key_of, streaming_stack};
use crate::metrics::check_emf;
use crate::reliability::{json_lines_since, log_mark};

const SECRET: &str = "whsec-test-0123456789";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    event_id: String,
    body: Value,
    status: u16,
    at: Instant,
}

/// A webhook receiver on loopback that verifies every request as the README's receivers do,
/// answers 500 to each event's first `fail_first` attempts, and records everything.
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Requests whose signature did not verify (never expected).
    forged: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/hooks/podkeys",
            listener.local_addr().expect("addr")
        );
        let receiver = Self {
            url,
            hits: Arc::default(),
            forged: Arc::default(),
        };
        let shared = receiver.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let r = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let r = r.clone();
                        async move { Ok::<_, Infallible>(r.answer(req, fail_first).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        receiver
    }

    async fn answer(&self, req: Request<Incoming>, fail_first: usize) -> Response<Full<Bytes>> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let signature = header("podkeys-signature");
        let event_id = header("podkeys-event-id");
        let bytes = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let secret = Secret::new(SECRET).expect("secret");
        let now = Timestamp::now().epoch_secs();
        if webhook::verify(&secret, &signature, &bytes, now, 300).is_err() {
            self.forged.lock().expect("lock").push(event_id);
            return reply(400);
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut hits = self.hits.lock().expect("lock");
        let seen = hits.iter().filter(|h| h.event_id == event_id).count();
        let status = if seen < fail_first { 500 } else { 204 };
        hits.push(Hit {
            event_id,
            body,
            status,
            at: Instant::now(),
        });
        reply(status)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }

    /// Delivered (2xx) events, in arrival order.
    fn delivered(&self) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.status < 300).collect()
    }

    /// Waits at most `limit` for a delivered event that `matches`.
    async fn wait_for(&self, limit: Duration, matches: impl Fn(&Hit) -> bool) -> Option<Hit> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(hit) = self.delivered().into_iter().find(|h| matches(h)) {
                return Some(hit);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn assert_nothing_forged(&self) {
        assert!(
            self.forged.lock().expect("lock").is_empty(),
            "unsigned or badly signed deliveries"
        );
    }
}

fn reply(status: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    response
}

fn config(url: &str) -> WebhookConfig {
    WebhookConfig::new(
        WebhookUrl::parse(url).expect("loopback url"),
        Secret::new(SECRET).expect("secret"),
    )
}

/// A retry schedule of `n` one-second waits, for tests that cannot wait minutes.
fn quick(n: usize) -> RetrySchedule {
    RetrySchedule::new(vec![Duration::from_secs(1); n], 0)
}

/// The notifier on `s`'s table, as the local gateway runs it: the stream mapping with the
/// template's properties and the delivery timer (every 200 ms here, every minute deployed).
async fn notifier_on(s: &Stack, url: &str, schedule: RetrySchedule) -> (Arc<Notifier>, Webhooks) {
    let notifier = Arc::new(
        Notifier::new(s.app.state.store.clone(), config(url))
            .expect("client")
            .with_schedule(schedule),
    );
    let webhooks = Webhooks::start(
        notifier.clone(),
        mapping_config(OnFailure::Log),
        Duration::from_millis(200),
    )
    .await
    .expect("the table's stream");
    (notifier, webhooks)
}

fn of_type<'a>(kind: &'a str, key_id: &'a str) -> impl Fn(&Hit) -> bool + 'a {
    move |h| h.body["type"] == kind && h.body["data"]["target"]["key_id"] == key_id
}

#[tokio::test]
async fn create_rotate_update_and_revoke_each_arrive_signed_within_20_seconds() {
    let s = streaming_stack("whklife").await;
    let receiver = Receiver::start(0).await;
    let (_notifier, _webhooks) = notifier_on(&s, &receiver.url, RetrySchedule::standard()).await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let limit = Duration::from_secs(20);

    let started = Instant::now();
    let created = s
        .create(&admin, json!({"name": "laptop", "scopes": ["*"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let hit = receiver
        .wait_for(limit, of_type("key.created", &id))
        .await
        .expect("key.created within 20 s");
    assert!(hit.at - started < limit);
    assert_eq!(hit.body["data"]["action"], "key.created");
    assert_eq!(hit.body["data"]["actor"]["owner_id"], "admin");
    let created_at = hit.body["created"].as_str().expect("created");
    assert!(
        Timestamp::parse_rfc3339(created_at).is_some(),
        "{created_at}"
    );

    let started = Instant::now();
    let r = s
        .send(
            "PATCH",
            &format!("/api/v1/auth/api-keys/{id}"),
            &[("X-API-Key", &admin), ("Content-Type", "application/json")],
            Some(r#"{"name":"work laptop"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hit = receiver
        .wait_for(limit, of_type("key.updated", &id))
        .await
        .expect("key.updated within 20 s");
    assert!(hit.at - started < limit);
    assert_eq!(
        hit.body["data"]["changes"]["name"],
        json!({"from": "laptop", "to": "work laptop"})
    );

    let started = Instant::now();
    let r = s
        .send(
            "POST",
            &format!("/api/v1/auth/api-keys/{id}/rotate"),
            &[("X-API-Key", &admin), ("Content-Type", "application/json")],
            Some(r#"{"grace_period_seconds":0}"#),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new_id = r.body["id"].as_str().expect("id").to_owned();
    let rotated = receiver
        .wait_for(limit, of_type("key.rotated", &id))
        .await
        .expect("key.rotated within 20 s");
    assert!(rotated.at - started < limit);
    let successor = receiver
        .wait_for(limit, of_type("key.created", &new_id))
        .await
        .expect("the successor's key.created");
    let correlation = &rotated.body["data"]["correlation_id"];
    assert!(correlation.is_string());
    assert_eq!(&successor.body["data"]["correlation_id"], correlation);

    let started = Instant::now();
    let r = s
        .send(
            "DELETE",
            &format!("/api/v1/auth/api-keys/{new_id}"),
            &[("X-API-Key", &admin)],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hit = receiver
        .wait_for(limit, of_type("key.revoked", &new_id))
        .await
        .expect("key.revoked within 20 s");
    assert!(hit.at - started < limit);

    // Each event once (the stream shows every event's three audience copies; one is sent),
    // with the id the body carries, and nothing holds a key.
    let delivered = receiver.delivered();
    let mut ids: Vec<&str> = delivered.iter().map(|h| h.event_id.as_str()).collect();
    for h in &delivered {
        assert_eq!(h.body["id"], h.event_id.as_str());
        assert!(h.event_id.starts_with("whk_"), "{}", h.event_id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), delivered.len(), "an event delivered twice");
    // admin seeded, created, updated, rotated + successor created, revoked.
    assert_eq!(delivered.len(), 6, "{delivered:#?}");
    let everything: String = delivered.iter().map(|h| h.body.to_string()).collect();
    assert!(!everything.contains(&admin));
    assert!(!everything.contains(&key_of(&created)));
    receiver.assert_nothing_forged();
    testkit::settle(&s.app.state.store).await;
    let pending = s
        .app
        .state
        .store
        .due_deliveries(Timestamp::now().plus_days(1), 100)
        .await;
    assert_eq!(
        pending.expect("outbox").len(),
        0,
        "delivered events leave the outbox"
    );
}

#[tokio::test]
async fn a_receiver_failing_its_first_two_attempts_still_gets_the_event_signed_afresh() {
    let mark = log_mark();
    let s = streaming_stack("whkretry").await;
    let receiver = Receiver::start(2).await;
    let (_notifier, _webhooks) = notifier_on(&s, &receiver.url, quick(9)).await;
    let record = s.app.seed("alice", &["*"]).await;
    let id = record.id.to_string();
    let hit = receiver
        .wait_for(Duration::from_secs(20), |h| {
            h.body["data"]["target"]["key_id"] == id.as_str()
        })
        .await
        .expect("delivered on the third attempt");
    let attempts: Vec<Hit> = receiver
        .hits()
        .into_iter()
        .filter(|h| h.event_id == hit.event_id)
        .collect();
    let statuses: Vec<u16> = attempts.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [500, 500, 204]);
    // The same event each time: same id, same body; waits of at least the schedule's second.
    assert!(attempts.iter().all(|h| h.body == hit.body));
    assert!(attempts[1].at - attempts[0].at >= Duration::from_millis(900));
    assert!(attempts[2].at - attempts[1].at >= Duration::from_millis(900));
    receiver.assert_nothing_forged();

    // Each attempt wrote one metric line (EMF, SPEC §13): the alarm on given-up deliveries and
    // the dashboard count these; the event id is a field, never a dimension.
    let outcomes = || -> Vec<Value> {
        json_lines_since(mark, &hit.event_id)
            .into_iter()
            .filter(|l| l["message"] == "webhook" && l["event_id"] == hit.event_id.as_str())
            .collect()
    };
    // The third attempt's line follows its answer by a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while outcomes().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lines = outcomes();
    let seen: Vec<(&str, u64)> = lines
        .iter()
        .map(|l| {
            check_emf(l).unwrap_or_else(|why| panic!("{why}: {l}"));
            assert_eq!(
                l["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                json!([["Outcome"]])
            );
            assert!(!l.to_string().contains(SECRET), "{l}");
            (
                l["Outcome"].as_str().unwrap_or_default(),
                l["attempt"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(seen, [("retrying", 1), ("retrying", 2), ("delivered", 3)]);
    assert_eq!(lines[0]["error"], "HTTP 500");
    assert!(lines.iter().all(|l| l["WebhookAttempts"] == 1.0));
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_slow_key_operations() {
    let s = streaming_stack("whkdead").await;
    let (url, _silent) = testkit::silent_endpoint().await;
    let (_notifier, webhooks) = notifier_on(&s, &url, RetrySchedule::standard()).await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    // Every attempt waits the full 5 s timeout; a key operation that waited for one would
    // take at least that. Each must stay far below it while the notifier is stuck.
    let mut slowest = Duration::ZERO;
    for i in 0..5 {
        let started = Instant::now();
        let r = s
            .create(&admin, json!({"name": format!("k{i}"), "scopes": ["*"]}))
            .await;
        let took = started.elapsed();
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let started = Instant::now();
        let r = s
            .send(
                "DELETE",
                &format!("/api/v1/auth/api-keys/{id}"),
                &[("X-API-Key", &admin)],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        slowest = slowest.max(took).max(started.elapsed());
    }
    assert!(
        slowest < notifier::ATTEMPT_TIMEOUT / 2,
        "a key operation took {slowest:?} while the receiver hung"
    );
    // And the notifier was really trying: the stream reached it.
    assert!(
        webhooks
            .progress()
            .wait_until(Duration::from_secs(10), |p| p.invocations > 0)
            .await
    );
}

#[tokio::test]
async fn given_up_deliveries_are_kept_and_replay_sends_them() {
    let s = streaming_stack("whkreplay").await;
    let receiver = Receiver::start(3).await;
    let (notifier, webhooks) = notifier_on(&s, &receiver.url, quick(2)).await;
    let record = s.app.seed("alice", &["*"]).await;
    let store = &s.app.state.store;
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let failed = store.failed_deliveries(10).await.expect("failed");
        if !failed.is_empty() || Instant::now() > deadline {
            break failed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(webhooks);
    assert_eq!(failed.len(), 1, "given up after three attempts");
    assert_eq!(failed[0].attempts, 3);
    assert_eq!(failed[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(receiver.hits().len(), 3);
    let id = failed[0].id.clone();

    assert_eq!(
        notifier.replay(&id).await.expect("replay"),
        Some(notifier::Outcome::Delivered)
    );
    let hit = receiver.delivered().pop().expect("delivered by the replay");
    assert_eq!(hit.event_id, id);
    assert_eq!(hit.body["data"]["target"]["key_id"], record.id.as_str());
    assert!(
        store
            .failed_deliveries(10)
            .await
            .expect("failed")
            .is_empty()
    );
    assert_eq!(
        notifier.replay(&id).await.expect("replay"),
        None,
        "nothing left"
    );
}

#[tokio::test]
async fn a_poison_event_goes_to_the_failure_destination_and_the_stream_moves_on() {
    let s = streaming_stack("whkpoison").await;
    let receiver = Receiver::start(0).await;
    let notifier =
        Arc::new(Notifier::new(s.app.state.store.clone(), config(&receiver.url)).expect("client"));
    let failures: Arc<Mutex<Vec<Value>>> = Arc::default();
    let webhooks = Webhooks::start(
        notifier,
        mapping_config(OnFailure::Memory(failures.clone())),
        Duration::from_millis(200),
    )
    .await
    .expect("stream");
    // An item that claims to be an admin's audit event but is not a readable one.
    let store = &s.app.state.store;
    store
        .client()
        .put_item()
        .table_name(store.table())
        .item(
            "pk",
            keystore::AttributeValue::S("audit#evt_broken#0".into()),
        )
        .item("audit_part", keystore::AttributeValue::S("all".into()))
        .item(
            "audit_sort",
            keystore::AttributeValue::S("01796464800.000000#evt_broken".into()),
        )
        .item("action", keystore::AttributeValue::S("key.exploded".into()))
        .send()
        .await
        .expect("put");
    // Retried (three times, as the template says), then given up: its position goes to the
    // failure destination.
    assert!(
        webhooks
            .progress()
            .wait_until(Duration::from_secs(20), |p| p.failure_records == 1)
            .await,
        "{:?}",
        webhooks.progress().snapshot()
    );
    let failures = failures.lock().expect("lock").clone();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let info = &failures[0]["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1, "{info}");
    assert_eq!(info["startSequenceNumber"], info["endSequenceNumber"]);
    assert_eq!(
        failures[0]["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(failures[0]["requestContext"]["approximateInvokeCount"], 4);
    assert!(
        receiver.hits().is_empty(),
        "nothing sent for the poison event"
    );
    // The shard moved on: the next event is delivered.
    let after = s.app.seed("alice", &["*"]).await;
    let id = after.id.to_string();
    let hit = receiver
        .wait_for(Duration::from_secs(20), |h| {
            h.body["data"]["target"]["key_id"] == id.as_str()
        })
        .await;
    assert!(hit.is_some(), "the event after the poison one is delivered");
    assert_eq!(receiver.delivered().len(), 1);
}

/// Runs `apikeys notify-expiring --now <now>` on `table`, as an operator would.
async fn notify_expiring(table: &str, url: &str, now: Timestamp) -> Value {
    let out = tokio::process::Command::new(crate::lambda::binary("apikeys"))
        .args(["notify-expiring", "--json", "--now", &now.to_rfc3339()])
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL_DYNAMODB", testkit::endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("WEBHOOK_URL", url)
        .env("WEBHOOK_SECRET", SECRET)
        .output()
        .await
        .expect("apikeys runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[tokio::test]
async fn notify_expiring_sends_each_notice_once_even_run_twice_or_twice_at_once() {
    let s = streaming_stack("whkexpiry").await;
    let receiver = Receiver::start(0).await;
    let table = s.app.state.store.table().to_owned();
    let now = Timestamp::now();
    const DAY: i64 = 86_400;
    let expiring = |days: f64| Some(now.plus_secs((days * DAY as f64) as i64));
    let mut keys = HashMap::new();
    for (label, expires) in [
        ("in 20 days", expiring(20.0)),
        ("in 5 days", expiring(5.0)),
        ("in 12 hours", expiring(0.5)),
        ("an hour ago", expiring(-1.0 / 24.0)),
        ("in 40 days", expiring(40.0)),
        ("never", None),
    ] {
        let (_, record) = s
            .app
            .seed_with("alice", &["*"], now.plus_secs(-2 * DAY), expires)
            .await;
        keys.insert(record.id.to_string(), label);
    }
    let (_, revoked) = s.app.seed_with("bob", &["*"], now, expiring(3.0)).await;
    s.app
        .state
        .store
        .revoke(
            &revoked.id,
            &keystore::Access::Admin,
            now,
            &keystore::Audit::cli(),
        )
        .await
        .expect("revoke");
    testkit::settle(&s.app.state.store).await;

    let (a, b) = tokio::join!(
        notify_expiring(&table, &receiver.url, now),
        notify_expiring(&table, &receiver.url, now)
    );
    let again = notify_expiring(&table, &receiver.url, now).await;
    let sent: u64 = [&a, &b, &again]
        .iter()
        .map(|r| r["notices"].as_u64().expect("notices"))
        .sum();
    assert_eq!(sent, 4, "{a} {b} {again}");

    let mut got: Vec<(String, String)> = receiver
        .delivered()
        .iter()
        .map(|h| {
            let key = h.body["data"]["id"].as_str().unwrap_or_default();
            (
                keys.get(key).copied().unwrap_or("?").to_owned(),
                h.event_id.clone(),
            )
        })
        .collect();
    got.sort();
    let want = |label: &str, suffix: &str| (label.to_owned(), suffix.to_owned());
    let ids: Vec<(String, String)> = got
        .iter()
        .map(|(label, id)| {
            let suffix = id.rsplit_once("_ex").map(|(_, s)| s).unwrap_or_default();
            want(label, suffix)
        })
        .collect();
    assert_eq!(
        ids,
        [
            want("an hour ago", "pired"),
            want("in 12 hours", "piring_1"),
            want("in 20 days", "piring_30"),
            want("in 5 days", "piring_7"),
        ],
        "{got:?}"
    );
    for h in receiver.delivered() {
        let kind = h.body["type"].as_str().unwrap_or_default();
        assert!(kind == "key.expiring" || kind == "key.expired", "{kind}");
        assert!(h.body["data"]["expires_at"].is_string());
        assert!(h.body["data"].get("key").is_none());
    }

    // A week later the key that was 20 days out is inside the 7-day window: one more notice.
    let later = notify_expiring(&table, &receiver.url, now.plus_secs(14 * DAY)).await;
    assert_eq!(later["notices"], 2, "{later}");
    receiver.assert_nothing_forged();
}

/// The local gateway feeds the notifier as the template's event source mapping does: the same
/// batch size, retries, bisecting, batch item failures, starting position and filter.
#[test]
fn the_local_stream_mapping_has_the_templates_properties() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("template");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    let p = &template["Resources"]["NotifierFunction"]["Properties"]["Events"]["TableStream"]["Properties"];
    let local = mapping_config(OnFailure::Log);
    let number = |name: &str| p[name].as_u64().unwrap_or_else(|| panic!("{name}"));
    assert_eq!(number("BatchSize"), local.batch_size as u64);
    assert_eq!(
        Some(number("MaximumRetryAttempts") as u32),
        local.maximum_retry_attempts
    );
    assert_eq!(
        p["BisectBatchOnFunctionError"].as_bool(),
        Some(local.bisect_batch_on_function_error)
    );
    assert_eq!(
        p["FunctionResponseTypes"][0].as_str() == Some("ReportBatchItemFailures"),
        local.report_batch_item_failures
    );
    assert_eq!(p["StartingPosition"].as_str(), Some("TRIM_HORIZON"));
    assert_eq!(
        local.starting_position,
        local_gateway::streams::StartingPosition::TrimHorizon
    );
    let pattern = p["FilterCriteria"]["Filters"][0]["Pattern"]
        .as_str()
        .expect("one filter pattern");
    let pattern: Value = serde_json::from_str(pattern).expect("JSON pattern");
    assert_eq!(Some(pattern), local.filter);
    assert!(p["DestinationConfig"]["OnFailure"]["Destination"].is_mapping());
}

/// `events/notifier-*.json`, as `cargo lambda invoke notifier` sends them: the stream record is
/// delivered signed (once, however often it is handled), the tasks are answered.
#[tokio::test]
async fn the_notifier_handles_its_event_fixtures() {
    let s = streaming_stack("whkfixture").await;
    let receiver = Receiver::start(0).await;
    let notifier = Notifier::new(s.app.state.store.clone(), config(&receiver.url)).expect("client");
    let fixture = |name: &str| -> Value {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("JSON")
    };
    let stream = fixture("notifier-stream.json");
    for _ in 0..2 {
        let answer = notifier.handle(stream.clone()).await.expect("handled");
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 1, "a record handled twice is sent once");
    assert_eq!(delivered[0].event_id, "whk_Q3mZ8vTn0pLxR2cYb7Wd");
    assert_eq!(delivered[0].body["type"], "key.revoked");
    assert_eq!(delivered[0].body["data"]["id"], "evt_Q3mZ8vTn0pLxR2cYb7Wd");
    receiver.assert_nothing_forged();

    let ran = notifier
        .handle(fixture("notifier-deliver.json"))
        .await
        .expect("deliver");
    assert_eq!(ran, json!({"delivered": 0, "retrying": 0, "given_up": 0}));
    let scanned = notifier
        .handle(fixture("notifier-expiry-scan.json"))
        .await
        .expect("scan");
    assert_eq!(scanned, json!({"keys": 0, "notices": 0, "delivered": 0}));

    // A record without its position cannot be reported alone: the whole batch fails.
    let mut broken = stream;
    broken["Records"][0]["dynamodb"]
        .as_object_mut()
        .expect("dynamodb")
        .remove("SequenceNumber");
    assert!(notifier.handle(broken).await.is_err());
    assert!(notifier.handle(json!({"task": "launch"})).await.is_err());
}
