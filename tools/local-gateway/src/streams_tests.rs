use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keystore::streams::TableStream;
use keystore::{AttributeValue, Client, TableCreation};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::*;

/// DynamoDB Local is a busy JVM under parallel tests: generous, but finite.
const PATIENCE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Against DynamoDB Local
// ---------------------------------------------------------------------------------------------

struct Table {
    client: Client,
    name: String,
}

impl Table {
    async fn fresh(label: &str) -> Self {
        let client = testkit::local_client();
        let name = testkit::unique_table_name(label);
        match keystore::create_table(&client, &name).await {
            Ok(TableCreation::Created) => Self { client, name },
            other => panic!("creating {name}: {other:?}"),
        }
    }

    /// Puts an item `pk` (an INSERT the first time, a MODIFY after), with `audit_part` when
    /// given.
    async fn put(&self, pk: &str, audit_part: Option<&str>) {
        self.put_noted(pk, audit_part, &format!("item {pk}")).await;
    }

    /// DynamoDB writes no stream record for a put that changes nothing: a MODIFY needs a new
    /// `note`.
    async fn put_noted(&self, pk: &str, audit_part: Option<&str>, note: &str) {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.name)
            .item("pk", AttributeValue::S(pk.into()))
            .item("note", AttributeValue::S(note.into()));
        if let Some(part) = audit_part {
            put = put.item("audit_part", AttributeValue::S(part.into()));
        }
        put.send().await.expect("put_item");
    }

    async fn stream(&self) -> TableStream {
        TableStream::open(&self.client, &self.name)
            .await
            .expect("the table's stream")
    }
}

/// What a fake function received, one entry per invocation.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<Vec<Value>>>>);

impl Calls {
    fn record(&self, event: &Value) -> Vec<Value> {
        let records = event["Records"]
            .as_array()
            .cloned()
            .expect("an event with Records");
        self.0.lock().expect("calls lock").push(records.clone());
        records
    }

    fn all(&self) -> Vec<Vec<Value>> {
        self.0.lock().expect("calls lock").clone()
    }

    /// The keys of each invocation's records.
    fn keys(&self) -> Vec<Vec<String>> {
        self.all().iter().map(|records| keys(records)).collect()
    }
}

fn key(record: &Value) -> String {
    record["dynamodb"]["Keys"]["pk"]["S"]
        .as_str()
        .expect("a pk key")
        .to_owned()
}

fn keys(records: &[Value]) -> Vec<String> {
    records.iter().map(key).collect()
}

fn sequence(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .expect("a sequence number")
        .to_owned()
}

/// Sequence numbers are decimal strings of any length.
fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn quick(config: MappingConfig) -> MappingConfig {
    MappingConfig {
        poll_interval: Duration::from_millis(20),
        ..config
    }
}

struct Running {
    progress: Progress,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    fn start(config: MappingConfig, stream: TableStream, handler: StreamHandler) -> Self {
        let mapping = EventSourceMapping::new(config).expect("a valid mapping");
        let progress = mapping.progress();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(mapping.run(stream, handler, async move {
            let _ = stopped.await;
        }));
        Self {
            progress,
            stop,
            task,
        }
    }

    async fn wait(&self, what: &str, done: impl Fn(&ProgressSnapshot) -> bool) {
        let reached = self.progress.wait_until(PATIENCE, done).await;
        assert!(reached, "{what}: {:?}", self.progress.snapshot());
    }

    /// Stops the mapping; `run` must return once shutdown completes.
    async fn stop(self) -> ProgressSnapshot {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("run returns after shutdown")
            .expect("run does not panic");
        self.progress.snapshot()
    }
}

fn memory() -> (OnFailure, Arc<Mutex<Vec<Value>>>) {
    let records = Arc::new(Mutex::new(Vec::new()));
    (OnFailure::Memory(Arc::clone(&records)), records)
}

#[tokio::test]
async fn records_arrive_in_order_in_batches_and_filtered_records_never_reach_the_function() {
    let table = Table::fresh("esm-order").await;
    // In write order: what the filter keeps is marked ✓.
    table.put("a1", Some("all")).await; // ✓
    table.put("x1", Some("owner")).await;
    table.put("a2", Some("all")).await; // ✓
    table.put("n1", None).await;
    table.put("a3", Some("all")).await; // ✓
    table.put_noted("a1", Some("all"), "changed").await; // a MODIFY: not an INSERT
    table.put("a4", Some("all")).await; // ✓
    table.put("a5", Some("all")).await; // ✓
    table.put("x2", Some("owner")).await;
    let stream = table.stream().await;
    let arn = stream.arn().to_owned();
    let calls = Calls::default();
    let recorder = calls.clone();
    let config = quick(MappingConfig {
        batch_size: 2,
        filter: Some(json!({
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"audit_part": {"S": ["all"]}}}
        })),
        ..MappingConfig::default()
    });

    let running = Running::start(
        config,
        stream,
        handler(move |event| {
            let recorder = recorder.clone();
            async move {
                recorder.record(&event);
                Ok(json!({}))
            }
        }),
    );
    running
        .wait("all nine records checkpointed", |p| p.checkpointed() == 9)
        .await;
    // Written after the mapping caught up: still polled for.
    table.put("a6", Some("all")).await;
    table.put("x3", Some("owner")).await;
    running
        .wait("the later records checkpointed", |p| p.checkpointed() == 11)
        .await;
    let progress = running.stop().await;

    let batches = calls.keys();
    let delivered: Vec<String> = batches.concat();
    assert_eq!(delivered, ["a1", "a2", "a3", "a4", "a5", "a6"]);
    assert!(
        batches.iter().all(|b| !b.is_empty() && b.len() <= 2),
        "{batches:?}"
    );
    assert!(batches.iter().any(|b| b.len() == 2), "{batches:?}");
    assert_eq!(progress.filtered, 5);
    assert_eq!(progress.delivered, 6);
    assert_eq!(
        progress.invocations,
        u64::try_from(batches.len()).expect("a count")
    );
    let records: Vec<Value> = calls.all().concat();
    let sequences: Vec<String> = records.iter().map(sequence).collect();
    assert!(
        sequences
            .windows(2)
            .all(|w| numeric_order(&w[0], &w[1]).is_lt()),
        "{sequences:?}"
    );
    for record in &records {
        assert_eq!(record["eventName"], "INSERT");
        assert_eq!(record["eventSource"], "aws:dynamodb");
        assert_eq!(record["eventSourceARN"], arn.as_str());
        assert!(record["eventID"].is_string() && record["eventVersion"].is_string());
        assert!(record["awsRegion"].is_string());
        assert_eq!(record["dynamodb"]["StreamViewType"], "NEW_IMAGE");
        assert_eq!(
            record["dynamodb"]["NewImage"]["audit_part"],
            json!({"S": "all"})
        );
        assert_eq!(
            record["dynamodb"]["NewImage"]["note"],
            json!({"S": format!("item {}", key(record))})
        );
        assert!(record["dynamodb"]["SizeBytes"].is_u64());
        assert!(record["dynamodb"]["ApproximateCreationDateTime"].is_number());
    }
}

#[tokio::test]
async fn a_function_error_retries_the_same_batch_until_it_succeeds() {
    let table = Table::fresh("esm-retry").await;
    for pk in ["b1", "b2", "b3"] {
        table.put(pk, None).await;
    }
    let calls = Calls::default();
    let recorder = calls.clone();
    let failures_left = Arc::new(AtomicUsize::new(2));
    let (on_failure, failed) = memory();
    let config = quick(MappingConfig {
        bisect_batch_on_function_error: false,
        on_failure,
        ..MappingConfig::default()
    });

    let running = Running::start(
        config,
        table.stream().await,
        handler(move |event| {
            let recorder = recorder.clone();
            let failures_left = Arc::clone(&failures_left);
            async move {
                recorder.record(&event);
                let fail = failures_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if fail {
                    Err("the webhook endpoint is down".into())
                } else {
                    Ok(json!({"batchItemFailures": []}))
                }
            }
        }),
    );
    running
        .wait("the batch delivered", |p| p.delivered == 3)
        .await;
    let progress = running.stop().await;

    let batches = calls.keys();
    assert_eq!(batches, vec![vec!["b1", "b2", "b3"]; 3]);
    assert_eq!(progress.invocations, 3);
    assert_eq!(progress.discarded, 0);
    assert!(failed.lock().expect("destination lock").is_empty());
}

#[tokio::test]
async fn a_panicking_function_is_a_function_error_and_its_batch_is_retried() {
    let table = Table::fresh("esm-panic").await;
    table.put("c1", None).await;
    let calls = Calls::default();
    let recorder = calls.clone();
    let config = quick(MappingConfig::default());

    let running = Running::start(
        config,
        table.stream().await,
        handler(move |event| {
            let recorder = recorder.clone();
            async move {
                if recorder.record(&event).len() == 1 && recorder.all().len() == 1 {
                    panic!("a crashing function");
                }
                Ok(Value::Null)
            }
        }),
    );
    running
        .wait("the record delivered", |p| p.delivered == 1)
        .await;
    running.stop().await;

    assert_eq!(calls.keys(), vec![vec!["c1"]; 2]);
}

#[tokio::test]
async fn a_poison_record_is_retried_then_discarded_to_the_on_failure_destination_and_the_shard_moves_on()
 {
    let table = Table::fresh("esm-poison").await;
    for pk in ["p1", "p2", "poison", "p3", "p4", "p5"] {
        table.put(pk, None).await;
    }
    let stream = table.stream().await;
    let arn = stream.arn().to_owned();
    let calls = Calls::default();
    let recorder = calls.clone();
    let (on_failure, failed) = memory();
    let config = quick(MappingConfig {
        batch_size: 3,
        maximum_retry_attempts: Some(3),
        function_name: "notifier-test".into(),
        on_failure,
        ..MappingConfig::default()
    });

    // A function that processes records in order and reports the first it cannot process.
    let running = Running::start(
        config,
        stream,
        handler(move |event| {
            let recorder = recorder.clone();
            async move {
                let records = recorder.record(&event);
                let failures: Vec<Value> = records
                    .iter()
                    .filter(|r| key(r) == "poison")
                    .map(|r| json!({"itemIdentifier": sequence(r)}))
                    .take(1)
                    .collect();
                Ok(json!({"batchItemFailures": failures}))
            }
        }),
    );
    running
        .wait("all six records past", |p| p.checkpointed() == 6)
        .await;
    let progress = running.stop().await;

    let batches = calls.keys();
    let poisoned: Vec<&Vec<String>> = batches
        .iter()
        .filter(|b| b.iter().any(|k| k == "poison"))
        .collect();
    assert_eq!(
        poisoned.len(),
        1 + 3,
        "the first try and 3 retries: {batches:?}"
    );
    // Retries start at the reported record: the ones before it are checkpointed.
    assert!(
        poisoned[1..].iter().all(|b| b.as_slice() == ["poison"]),
        "{batches:?}"
    );
    let after: Vec<String> = batches
        .iter()
        .skip_while(|b| !b.iter().any(|k| k == "poison"))
        .filter(|b| !b.iter().any(|k| k == "poison"))
        .flatten()
        .cloned()
        .collect();
    assert_eq!(after, ["p3", "p4", "p5"], "{batches:?}");
    assert_eq!(progress.delivered, 5);
    assert_eq!(progress.discarded, 1);
    assert_eq!(progress.failure_records, 1);

    let poison_sequence = calls
        .all()
        .concat()
        .iter()
        .find(|r| key(r) == "poison")
        .map(sequence)
        .expect("the poison record was delivered");
    let failed = failed.lock().expect("destination lock").clone();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let record = &failed[0];
    assert_eq!(record["version"], "1.0");
    assert!(
        record["timestamp"]
            .as_str()
            .expect("a timestamp")
            .ends_with('Z')
    );
    let context = &record["requestContext"];
    assert_eq!(context["condition"], "RetryAttemptsExhausted");
    assert_eq!(context["approximateInvokeCount"], 4);
    assert!(
        context["functionArn"]
            .as_str()
            .expect("a function ARN")
            .ends_with(":function:notifier-test")
    );
    assert!(
        context["requestId"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );
    assert_eq!(record["responseContext"]["statusCode"], 200);
    assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
    assert!(record["responseContext"].get("functionError").is_none());
    let info = &record["DDBStreamBatchInfo"];
    assert_eq!(info["startSequenceNumber"], poison_sequence.as_str());
    assert_eq!(info["endSequenceNumber"], poison_sequence.as_str());
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["streamArn"], arn.as_str());
    assert!(info["shardId"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(info["approximateArrivalOfFirstRecord"].is_string());
    assert!(info["approximateArrivalOfLastRecord"].is_string());
    // Metadata only: the discarded item itself is not in the record.
    assert!(!record.to_string().contains("item poison"));
}

#[tokio::test]
async fn bisecting_on_function_errors_isolates_the_record_that_fails() {
    let table = Table::fresh("esm-bisect").await;
    for pk in ["d1", "d2", "poison", "d3", "d4", "d5"] {
        table.put(pk, None).await;
    }
    let calls = Calls::default();
    let recorder = calls.clone();
    let file = std::env::temp_dir().join(format!(
        "{}.jsonl",
        testkit::unique_table_name("esm-on-failure")
    ));
    let config = quick(MappingConfig {
        maximum_retry_attempts: Some(2),
        bisect_batch_on_function_error: true,
        report_batch_item_failures: false,
        on_failure: OnFailure::File(file.clone()),
        ..MappingConfig::default()
    });

    // A function that fails the whole invocation when one record in it is bad.
    let running = Running::start(
        config,
        table.stream().await,
        handler(move |event| {
            let recorder = recorder.clone();
            async move {
                let records = recorder.record(&event);
                if records.iter().any(|r| key(r) == "poison") {
                    Err("cannot process this batch".into())
                } else {
                    Ok(json!({}))
                }
            }
        }),
    );
    running
        .wait("all six records past", |p| p.checkpointed() == 6)
        .await;
    let progress = running.stop().await;

    let batches = calls.keys();
    let succeeded: Vec<String> = batches
        .iter()
        .filter(|b| !b.iter().any(|k| k == "poison"))
        .flatten()
        .cloned()
        .collect();
    assert_eq!(succeeded, ["d1", "d2", "d3", "d4", "d5"], "{batches:?}");
    assert_eq!(batches[0].len(), 6, "the whole batch first: {batches:?}");
    let alone = batches
        .iter()
        .filter(|b| b.as_slice() == ["poison"])
        .count();
    assert_eq!(alone, 1 + 2, "isolated, then retried twice: {batches:?}");
    assert_eq!(progress.discarded, 1);

    let written = std::fs::read_to_string(&file).expect("the on-failure file");
    let _ = std::fs::remove_file(&file);
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{written}");
    let info = &lines[0]["DDBStreamBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    let poison_sequence = calls
        .all()
        .concat()
        .iter()
        .find(|r| key(r) == "poison")
        .map(sequence)
        .expect("the poison record was delivered");
    assert_eq!(info["startSequenceNumber"], poison_sequence.as_str());
    assert_eq!(lines[0]["responseContext"]["functionError"], "Unhandled");
}

#[tokio::test]
async fn latest_skips_what_was_written_before_the_mapping_started() {
    let table = Table::fresh("esm-latest").await;
    table.put("old", None).await;
    let calls = Calls::default();
    let recorder = calls.clone();
    let config = quick(MappingConfig {
        starting_position: StartingPosition::Latest,
        ..MappingConfig::default()
    });

    let running = Running::start(
        config,
        table.stream().await,
        handler(move |event| {
            let recorder = recorder.clone();
            async move {
                recorder.record(&event);
                Ok(json!({}))
            }
        }),
    );
    running
        .wait("the shard being read", |p| p.shards_started >= 1)
        .await;
    table.put("new", None).await;
    running.wait("the new record", |p| p.delivered == 1).await;
    running.stop().await;

    assert_eq!(calls.keys(), vec![vec!["new"]]);
}

#[tokio::test]
async fn a_table_without_a_stream_has_none_to_open() {
    let client = testkit::local_client();
    // The signing-key table is created without a stream.
    let name = testkit::unique_table_name("esm-nostream");
    keystore::signing::create_signing_table(&client, &name)
        .await
        .expect("a table");
    let opened = TableStream::open(&client, &name).await;
    assert!(
        matches!(opened, Err(keystore::streams::StreamError::NoStream)),
        "{opened:?}"
    );
    let missing = TableStream::open(&client, &testkit::unique_table_name("esm-none")).await;
    assert!(
        matches!(
            missing,
            Err(keystore::streams::StreamError::Store(
                keystore::StoreError::TableNotFound(_)
            ))
        ),
        "{missing:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Pure parts: the function's response, the filter rules, the configuration
// ---------------------------------------------------------------------------------------------

fn records(sequences: &[&str]) -> Vec<StreamRecord> {
    sequences
        .iter()
        .map(|s| StreamRecord {
            sequence_number: (*s).to_owned(),
            approximate_arrival: None,
            event: json!({"dynamodb": {"SequenceNumber": s}}),
        })
        .collect()
}

#[test]
fn function_responses_read_as_lambda_reads_them() {
    let batch = records(&["100", "200", "300"]);
    let cases: Vec<(Value, Outcome)> = vec![
        // Complete successes.
        (json!({}), Outcome::Success),
        (Value::Null, Outcome::Success),
        (json!("done"), Outcome::Success),
        (json!({"batchItemFailures": []}), Outcome::Success),
        (json!({"batchItemFailures": null}), Outcome::Success),
        (json!({"statusCode": 200}), Outcome::Success),
        // Partial: the lowest sequence number reported is the checkpoint.
        (
            json!({"batchItemFailures": [{"itemIdentifier": "200"}]}),
            Outcome::Partial(1),
        ),
        (
            json!({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "100"}]}),
            Outcome::Partial(0),
        ),
        // Complete failures.
        (
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            Outcome::Unusable("an empty itemIdentifier"),
        ),
        (
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            Outcome::Unusable("a null itemIdentifier"),
        ),
        (
            json!({"batchItemFailures": [{"itemId": "200"}]}),
            Outcome::Unusable("a batch item failure without itemIdentifier"),
        ),
        (
            json!({"batchItemFailures": [{"itemIdentifier": "999"}]}),
            Outcome::Unusable("an itemIdentifier naming no record of the batch"),
        ),
        (
            json!({"batchItemFailures": [{"itemIdentifier": 200}]}),
            Outcome::Unusable("an itemIdentifier that is not a string"),
        ),
        (
            json!({"batchItemFailures": "200"}),
            Outcome::Unusable("batchItemFailures is not a list"),
        ),
    ];
    for (response, expected) in cases {
        assert_eq!(outcome(&response, &batch, true), expected, "{response}");
    }
}

#[test]
fn without_report_batch_item_failures_a_response_is_a_success() {
    let batch = records(&["100", "200"]);
    let response = json!({"batchItemFailures": [{"itemIdentifier": "200"}]});
    assert_eq!(outcome(&response, &batch, false), Outcome::Success);
}

fn event(name: &str, image: Value) -> Value {
    json!({
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "k"}}, "NewImage": image}
    })
}

#[test]
fn filter_patterns_match_as_lambda_documents() {
    let audit = json!({"audit_part": {"S": "all"}, "tags": {"SS": ["a", "b"]}, "n": {"N": "5"}});
    let cases: Vec<(Value, Value, bool)> = vec![
        // Nested objects and exact values.
        (
            json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"audit_part": {"S": ["all"]}}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        (
            json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"audit_part": {"S": ["all"]}}}}),
            event("MODIFY", audit.clone()),
            false,
        ),
        (
            json!({"dynamodb": {"NewImage": {"audit_part": {"S": ["owner"]}}}}),
            event("INSERT", audit.clone()),
            false,
        ),
        // A field the pattern names must be there.
        (
            json!({"dynamodb": {"NewImage": {"missing": {"S": ["x"]}}}}),
            event("INSERT", audit.clone()),
            false,
        ),
        // Or.
        (
            json!({"eventName": ["MODIFY", "INSERT"]}),
            event("INSERT", audit.clone()),
            true,
        ),
        // Exists.
        (
            json!({"dynamodb": {"NewImage": {"audit_part": [{"exists": true}]}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        (
            json!({"dynamodb": {"NewImage": {"audit_part": [{"exists": false}]}}}),
            event("INSERT", audit.clone()),
            false,
        ),
        (
            json!({"dynamodb": {"OldImage": {"audit_part": [{"exists": false}]}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        // Begins with.
        (
            json!({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "k"}]}}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        (
            json!({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "audit#"}]}}}}),
            event("INSERT", audit.clone()),
            false,
        ),
        // Arrays in the event match when one element does.
        (
            json!({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        // Not.
        (
            json!({"eventName": [{"anything-but": ["REMOVE"]}]}),
            event("INSERT", audit.clone()),
            true,
        ),
        (
            json!({"eventName": [{"anything-but": "INSERT"}]}),
            event("INSERT", audit.clone()),
            false,
        ),
        // Numbers compare by JSON value; DynamoDB's N is a string, so only strings match it.
        (
            json!({"dynamodb": {"NewImage": {"n": {"N": ["5"]}}}}),
            event("INSERT", audit.clone()),
            true,
        ),
        (
            json!({"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}),
            event("INSERT", audit.clone()),
            false,
        ),
        (
            json!({"size": [{"numeric": [">", 1, "<=", 5]}]}),
            json!({"size": 5}),
            true,
        ),
        (
            json!({"size": [{"numeric": [">", 5]}]}),
            json!({"size": 5}),
            false,
        ),
        // Null and empty.
        (json!({"v": [null]}), json!({"v": null}), true),
        (json!({"v": [null]}), json!({}), false),
        (json!({"v": [""]}), json!({"v": ""}), true),
    ];
    for (pattern, record, expected) in cases {
        let filter = FilterCriteria::parse(&pattern).expect("a valid pattern");
        assert_eq!(filter.matches(&record), expected, "{pattern} on {record}");
    }
}

#[test]
fn filter_criteria_take_the_templates_form_too_and_any_filter_may_match() {
    let criteria = json!({"Filters": [
        {"Pattern": "{\"eventName\": [\"REMOVE\"]}"},
        {"Pattern": "{\"eventName\": [\"INSERT\"], \"dynamodb\": {\"NewImage\": {\"k\": {\"S\": [\"v\"]}}}}"}
    ]});
    let filter = FilterCriteria::parse(&criteria).expect("valid criteria");
    assert!(filter.matches(&json!({"eventName": "REMOVE"})));
    assert!(filter.matches(&event("INSERT", json!({"k": {"S": "v"}}))));
    assert!(!filter.matches(&event("INSERT", json!({"k": {"S": "w"}}))));
    assert!(!filter.matches(&json!({"eventName": "MODIFY"})));
    for nothing in [json!({}), json!({"Filters": []})] {
        assert!(
            FilterCriteria::parse(&nothing)
                .expect("valid criteria")
                .matches(&json!({"eventName": "MODIFY"}))
        );
    }
}

#[test]
fn malformed_filter_criteria_are_refused_like_lambda_refuses_the_mapping() {
    let cases = [
        json!("eventName"),
        json!({"eventName": "INSERT"}),
        json!({"eventName": []}),
        json!({"eventName": [["INSERT"]]}),
        json!({"eventName": [{"suffix": "T"}]}),
        json!({"eventName": [{"prefix": 1}]}),
        json!({"eventName": [{"exists": "yes"}]}),
        json!({"eventName": [{"prefix": "I", "exists": true}]}),
        json!({"n": [{"numeric": [">"]}]}),
        json!({"Filters": [{"Pattern": "{not json"}]}),
        json!({"Filters": [{}]}),
        json!({"Filters": "x"}),
    ];
    for criteria in cases {
        assert!(
            matches!(
                EventSourceMapping::new(MappingConfig {
                    filter: Some(criteria.clone()),
                    ..MappingConfig::default()
                }),
                Err(MappingError::InvalidFilter(_))
            ),
            "{criteria}"
        );
    }
}

#[test]
fn batch_size_and_retry_attempts_keep_to_lambdas_ranges() {
    let bad = [
        MappingConfig {
            batch_size: 0,
            ..MappingConfig::default()
        },
        MappingConfig {
            batch_size: 10_001,
            ..MappingConfig::default()
        },
        MappingConfig {
            maximum_retry_attempts: Some(10_001),
            ..MappingConfig::default()
        },
    ];
    for config in bad {
        assert!(matches!(
            EventSourceMapping::new(config),
            Err(MappingError::InvalidConfig(_))
        ));
    }
    let defaults = MappingConfig::default();
    assert_eq!(defaults.batch_size, 10);
    assert_eq!(defaults.maximum_retry_attempts, Some(3));
    assert!(defaults.bisect_batch_on_function_error && defaults.report_batch_item_failures);
    assert_eq!(defaults.poll_interval, Duration::from_millis(250));
    assert!(EventSourceMapping::new(defaults).is_ok());
}

#[test]
fn request_ids_look_like_lambdas_and_differ() {
    let (a, b) = (request_id(), request_id());
    assert_ne!(a, b);
    for id in [a, b] {
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
    }
}
