//! What the figures measure with: fresh tables on DynamoDB Local, seeded keys, the function
//! state, and the events API Gateway would send.

use apikey::{ApiKey, KeyName, KeyPrefix, OwnerId, ScopeSet, Timestamp};
use authorizer::AuthorizerEvent;
use gateway::{Config, State};
use keystore::client::{self, ClientSettings};
use keystore::{KeyRecord, KeyStore, NewKey};
use serde_json::{Value, json};

pub fn new_key(owner: &str, i: usize) -> NewKey {
    NewKey {
        owner_id: OwnerId::parse(owner).expect("valid owner"),
        name: KeyName::parse(&format!("bench key {i}")).expect("valid name"),
        description: None,
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: None,
        plan: None,
    }
}

/// A new table named after the figure and this process, so runs never share data.
pub async fn fresh_store(endpoint: &str, label: &str) -> KeyStore {
    let client = client::local(endpoint, ClientSettings::interactive());
    let table = format!("bench-{label}-{}", std::process::id());
    // No stream: nothing reads one here, and DynamoDB Local's stream writes would be a cost of
    // the emulator in every write figure (the figures before webhooks had none).
    keystore::create_table_with(&client, &table, keystore::Stream::Off)
        .await
        .expect("create table");
    // The authorizer signs every Allow's assertion with a key from this table.
    keystore::signing::create_signing_table(
        &client,
        &keystore::signing::default_signing_table(&table),
    )
    .await
    .expect("create signing table");
    KeyStore::new(client, table)
}

/// Every key on an unlimited plan: the authorizer's figures of SPEC §7, with no counter.
pub fn state_for(store: KeyStore) -> State {
    state_on_plan(store, "unlimited")
}

/// The plans the figures use: `unlimited`, and `metered`, limited per minute and per day but
/// so high that no run reaches it (SPEC §7b: every request is counted, none refused).
const BENCH_PLANS: &str = r#"{"unlimited":{},"metered":{"requests_per_minute":1000000000,"requests_per_day":1000000000}}"#;

/// Keys without a plan of their own get `default_plan`.
pub fn state_on_plan(store: KeyStore, default_plan: &str) -> State {
    let config = Config {
        plans: gateway::parse_plans(BENCH_PLANS, default_plan).expect("bench plans"),
        ..Config::for_table(store.table())
    };
    State::new(store, config)
}

pub async fn seed(store: &KeyStore, owner: &str) -> (ApiKey, KeyRecord) {
    let (key, record) =
        KeyRecord::issue(&KeyPrefix::default(), new_key(owner, 0), Timestamp::now())
            .expect("os rng");
    store
        .create(&record, &keystore::Audit::system())
        .await
        .expect("seed");
    (key, record)
}

pub fn authorizer_event(key: &str) -> AuthorizerEvent {
    serde_json::from_value(event_json(key)).expect("an authorizer event")
}

/// The REQUEST authorizer event API Gateway sends for `GET /api/v1/podcasts/42` with `key`.
pub fn event_json(key: &str) -> Value {
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

/// A REST proxy event as API Gateway hands it to a function once `record`'s key is allowed.
pub fn proxy_request(
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
                           "scopes": record.scopes.to_spaced(),
                           "admin": record.scopes.is_admin().to_string()}
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("a REST proxy event")
}
