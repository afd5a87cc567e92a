//! SPEC §4: no log level an operator can set makes a function print a key. The real release
//! binaries' debug siblings (`target/debug/authorizer`, `create-key`, built by `make test`'s
//! `cargo test --workspace --all-targets`) run under a fake Lambda Runtime API with
//! `RUST_LOG=trace`, real keys in the events' headers, against DynamoDB Local; everything they
//! write to stdout and stderr is searched for the keys.

use gateway::routes::Function;
use serde_json::{Value, json};

use crate::helpers::{App, Event};
use crate::lambda::{Stop, run_function};

#[tokio::test]
async fn no_function_logs_a_key_at_the_most_verbose_level_an_operator_can_set() {
    let app = App::new("loglevels").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;

    // The authorizer: an Allow and a Deny, the key in all three headers.
    let mut allow = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    allow.0["headers"]["Authorization"] = json!(format!("Bearer {key}"));
    allow.0["headers"]["Api-Key"] = json!(key);
    let deny = Event::authorizer_for("DELETE", "/api/v1/auth/api-keys/key_x", &key);
    let (answers, written) = run_function(
        &app,
        Function::Authorizer.binary(),
        vec![allow.0, deny.0],
        &[],
        Stop::Kill,
    )
    .await;
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
    let (answers, written) = run_function(
        &app,
        Function::CreateKey.binary(),
        vec![create.0],
        &[],
        Stop::Kill,
    )
    .await;
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
