//! An app on a fresh table, requests built from the `events/` fixtures, and a check on every
//! response that no plaintext key leaks outside create's 201.

use std::sync::Mutex;
use std::time::Duration;

use apikey::{KeyName, KeyPrefix, OwnerId, ScopeSet, Timestamp};
use gateway::routes::{Function, ROUTES};
use gateway::{Config, State};
use keystore::{KeyRecord, NewKey};
use lambda_http::Request;
use lambda_http::http::HeaderMap;
use serde_json::{Value, json};

/// The well-formed key in the `authorizer-*.json` fixtures; it is never issued anywhere.
pub const FIXTURE_KEY: &str = "pod_FixtureKeyNeverIssued0123456789abcdefghijkl21ks0L";
pub const ARN_BASE: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/";

pub struct App {
    pub state: State,
    issued: Mutex<Vec<String>>,
}

impl App {
    pub async fn new(label: &str) -> Self {
        Self::with_prefix(label, KeyPrefix::default()).await
    }

    pub async fn with_prefix(label: &str, key_prefix: KeyPrefix) -> Self {
        Self::with_config(label, |config| config.key_prefix = key_prefix).await
    }

    /// An app on a table with the deployed table's stream, for the tests that read it.
    pub async fn streaming(label: &str) -> Self {
        Self::on_store(testkit::fresh_streaming_store(label).await, |_| {})
    }

    /// An app whose configuration `configure` changes from the defaults (plans, say).
    pub async fn with_config(label: &str, configure: impl FnOnce(&mut Config)) -> Self {
        Self::on_store(testkit::fresh_store(label).await, configure)
    }

    /// An app on `store` (a fresh one whose client a test has wrapped, say).
    pub fn on_store(store: keystore::KeyStore, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_table(store.table());
        configure(&mut config);
        let mut state = State::new(store, config);
        // Tests move time forward instead of sleeping (`App::advance`).
        state.clock = gateway::Clock::adjustable();
        Self {
            state,
            issued: Mutex::new(Vec::new()),
        }
    }

    /// An app whose DynamoDB is a closed port: any table call fails. Whatever it answers
    /// without failing, it answered without touching the database.
    pub fn offline() -> Self {
        let client = keystore::client::local("http://127.0.0.1:9", Default::default());
        let config = Config {
            retention: Duration::from_secs(86_400),
            ..Config::for_table("unreachable")
        };
        Self {
            state: State::new(keystore::KeyStore::new(client, "unreachable"), config),
            issued: Mutex::new(Vec::new()),
        }
    }

    /// A key put straight into the store, as the CLI's bootstrap would.
    pub async fn seed(&self, owner: &str, scopes: &[&str]) -> KeyRecord {
        self.seed_at(owner, scopes, Timestamp::now()).await
    }

    pub async fn seed_at(&self, owner: &str, scopes: &[&str], at: Timestamp) -> KeyRecord {
        self.seed_with(owner, scopes, at, None).await.1
    }

    /// A seeded key with its plaintext, for calls through the authorizer.
    pub async fn seed_key(&self, owner: &str, scopes: &[&str]) -> (String, KeyRecord) {
        self.seed_with(owner, scopes, Timestamp::now(), None).await
    }

    pub async fn seed_with(
        &self,
        owner: &str,
        scopes: &[&str],
        at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> (String, KeyRecord) {
        let new = NewKey {
            owner_id: OwnerId::parse(owner).expect("valid owner"),
            name: KeyName::parse(&format!("{owner}'s key")).expect("valid name"),
            description: None,
            scopes: ScopeSet::parse(scopes.iter().copied()).expect("valid scopes"),
            expires_at,
            plan: None,
        };
        let (key, record) =
            KeyRecord::issue(&self.state.config.key_prefix, new, at).expect("os rng");
        self.state
            .store
            .create(&record, &keystore::Audit::system())
            .await
            .expect("seed key");
        self.remember(key.expose_secret());
        (key.expose_secret().to_owned(), record)
    }

    /// Moves every function's clock (and the local gateway's, which shares it) forward.
    pub fn advance(&self, secs: i64) {
        self.state.clock.advance(secs);
    }

    /// Moves the clock to one second past the start of the next UTC minute, so that what a
    /// test does in the next few seconds falls in one minute window.
    pub fn start_of_a_minute(&self) {
        let now = self.state.clock.now().epoch_secs();
        self.advance(60 - now.rem_euclid(60) + 1);
    }

    /// Runs the authorizer on an event, as API Gateway would before the route.
    pub async fn authorize(
        &self,
        event: &Event,
    ) -> Result<authorizer::Response, authorizer::AuthError> {
        authorizer::handler(&self.state, event.0.clone()).await
    }

    /// Checks an assertion as a backend would: against the JWKS list-keys serves.
    pub async fn verify_assertion(&self, token: &str) -> assertion::Claims {
        let jwks = self.call(&Event::jwks()).await;
        assert_eq!(jwks.status, 200, "{}", jwks.body);
        let jwks = assertion::Jwks::from_json(&jwks.body.to_string()).expect("a JWKS");
        assertion::verify(
            token,
            &jwks,
            "podcast-backend",
            Timestamp::now().epoch_secs(),
        )
        .unwrap_or_else(|e| panic!("assertion does not verify: {e}"))
    }

    fn remember(&self, key: &str) {
        self.issued
            .lock()
            .expect("not poisoned")
            .push(key.to_owned());
    }

    pub async fn items(&self) -> usize {
        testkit::item_count(&self.state.store).await
    }

    /// Audit items in the table (SPEC §11: one per audience of each event).
    pub async fn audits(&self) -> usize {
        testkit::audit_count(&self.state.store).await
    }

    /// Calls the function that serves the event's route, as API Gateway would.
    pub async fn call(&self, event: &Event) -> Resp {
        let function = event.function();
        if function == Function::ListKeys {
            // Listings read an eventually consistent index: let it catch up with our writes.
            testkit::settle(&self.state.store).await;
        }
        let req = event.request();
        let response = match function {
            Function::CreateKey => create_key::handler(&self.state, req).await,
            Function::ListKeys => list_keys::handler(&self.state, req).await,
            Function::RevokeKey => revoke_key::handler(&self.state, req).await,
            other => panic!("{other:?} serves no key-management route"),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = String::from_utf8(response.body().to_vec()).expect("UTF-8 body");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"));
        let issued_here = function == Function::CreateKey && status == 201;
        if issued_here {
            let key = body["key"].as_str().expect("created key in body");
            assert_eq!(text.matches(key).count(), 1, "the key appears once: {text}");
            self.remember(key);
        }
        let headers_text = format!("{headers:?}");
        for key in self.issued.lock().expect("not poisoned").iter() {
            assert!(
                !headers_text.contains(key.as_str()),
                "a key leaked in headers"
            );
            assert!(
                issued_here || !text.contains(key.as_str()),
                "a key leaked: {text}"
            );
        }
        Resp {
            status,
            headers,
            body,
            text,
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.text);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(
            self.body["error"]["request_id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "errors carry API Gateway's request id"
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// A REST API proxy event from `events/`, adjusted per test.
#[derive(Debug, Clone)]
pub struct Event(pub Value);

impl Event {
    pub fn fixture(name: &str) -> Self {
        let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Self(serde_json::from_str(&text).expect("fixture is JSON"))
    }

    pub fn create(body: Value) -> Self {
        Self::fixture("create-key.json").body(Some(&body.to_string()))
    }

    pub fn list(query: &[(&str, &str)]) -> Self {
        Self::fixture("list-keys.json").query(query)
    }

    pub fn get(id: &str) -> Self {
        Self::fixture("get-key.json").path_id(id)
    }

    /// `GET /api/v1/auth/audit-log` with `query` (SPEC §11).
    pub fn audit_log(query: &[(&str, &str)]) -> Self {
        let mut e = Self::list(query);
        let route = gateway::routes::AUDIT_LOG;
        e.0["resource"] = json!(route);
        e.0["path"] = json!(route);
        e.0["requestContext"]["resourcePath"] = json!(route);
        e.0["requestContext"]["path"] = json!(format!("/prod{route}"));
        e
    }

    pub fn revoke(id: &str) -> Self {
        Self::fixture("revoke-key.json").path_id(id)
    }

    pub fn rotate(id: &str, body: Option<&str>) -> Self {
        Self::fixture("rotate-key.json").path_id(id).body(body)
    }

    /// `PATCH /api/v1/auth/api-keys/{id}` with `body`.
    pub fn patch(id: &str, body: &str) -> Self {
        let mut e = Self::get(id);
        e.0["httpMethod"] = json!("PATCH");
        e.0["requestContext"]["httpMethod"] = json!("PATCH");
        e.0["body"] = json!(body);
        e
    }

    pub fn me() -> Self {
        Self::fixture("me.json")
    }

    /// The public JWKS: no authorizer context.
    pub fn jwks() -> Self {
        Self::fixture("jwks.json")
    }

    fn context(&mut self) -> &mut Value {
        &mut self.0["requestContext"]
    }

    /// Calls as this key, with the context the authorizer would pass.
    pub fn by(mut self, key: &KeyRecord) -> Self {
        self.context()["authorizer"] = json!({
            "principalId": key.owner_id.as_str(),
            "owner_id": key.owner_id.as_str(),
            "key_id": key.id.as_str(),
            "scopes": key.scopes.to_spaced(),
            "admin": if key.scopes.is_admin() { "true" } else { "false" },
            "expires_at": key.expires_at.map(|t| t.epoch_secs().to_string()).unwrap_or_default(),
            "integrationLatency": 3,
        });
        self
    }

    pub fn authorizer(mut self, context: Value) -> Self {
        self.context()["authorizer"] = context;
        self
    }

    pub fn body(mut self, body: Option<&str>) -> Self {
        self.0["body"] = body.map_or(Value::Null, |b| Value::String(b.to_owned()));
        self
    }

    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        if pairs.is_empty() {
            self.0["queryStringParameters"] = Value::Null;
            self.0["multiValueQueryStringParameters"] = Value::Null;
            return self;
        }
        let mut single = serde_json::Map::new();
        let mut multi = serde_json::Map::new();
        for (k, v) in pairs {
            single.insert((*k).into(), json!(v));
            multi
                .entry(*k)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("array")
                .push(json!(v));
        }
        self.0["queryStringParameters"] = Value::Object(single);
        self.0["multiValueQueryStringParameters"] = Value::Object(multi);
        self
    }

    pub fn path_id(mut self, id: &str) -> Self {
        let resource = self.0["resource"].as_str().unwrap_or_default().to_owned();
        let path = resource.replace("{id}", id);
        self.0["path"] = json!(path);
        self.context()["path"] = json!(format!("/prod{path}"));
        self.0["pathParameters"] = json!({ "id": id });
        self
    }

    /// An authorizer fixture carrying `key` wherever the fixture's placeholder key was.
    pub fn with_key(&self, key: &str) -> Self {
        let text = self.0.to_string().replace(FIXTURE_KEY, key);
        Self(serde_json::from_str(&text).expect("still JSON"))
    }

    /// An authorizer event for `verb path` (method ARN, path and method kept consistent).
    pub fn authorizer_for(verb: &str, path: &str, key: &str) -> Self {
        let mut e = Self::fixture("authorizer-x-api-key.json").with_key(key);
        e.0["httpMethod"] = json!(verb);
        e.0["path"] = json!(path);
        e.0["methodArn"] = json!(format!("{ARN_BASE}{verb}{path}"));
        e
    }

    pub fn method(mut self, method: &str) -> Self {
        self.0["httpMethod"] = json!(method);
        self.context()["httpMethod"] = json!(method);
        self
    }

    pub fn resource(mut self, resource: &str) -> Self {
        self.0["resource"] = json!(resource);
        self.context()["resourcePath"] = json!(resource);
        self
    }

    pub fn request(&self) -> Request {
        lambda_http::request::from_str(&self.0.to_string()).expect("a valid REST proxy event")
    }

    /// The function API Gateway would invoke: by route, or for an unknown method the function
    /// that owns the resource (which then answers 405).
    fn function(&self) -> Function {
        let method = self.0["httpMethod"].as_str().unwrap_or_default();
        let resource = self.0["resource"].as_str().unwrap_or_default();
        ROUTES
            .iter()
            .find(|r| r.resource == resource && r.method == method)
            .or_else(|| ROUTES.iter().find(|r| r.resource == resource))
            .map_or(Function::ListKeys, |r| r.function)
    }
}

/// The `cursor` of a `Link: <…?…&cursor=…>; rel="next"` header.
pub fn next_cursor(resp: &Resp) -> Option<String> {
    let link = resp.header("link")?;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    let query = link.split_once('?')?.1.split_once('>')?.0;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .map(str::to_owned)
}
