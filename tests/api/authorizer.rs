//! The authorizer with the `events/authorizer-*.json` fixtures, against DynamoDB Local.

use std::time::{Duration, Instant};

use apikey::Timestamp;
use authorizer::{AuthError, Response};
use local_gateway::policy;
use serde_json::json;

use crate::helpers::{App, Event, FIXTURE_KEY};

fn statements(r: &Response) -> Vec<policy::Statement> {
    // Read the policy back through its JSON, as API Gateway does.
    let doc = serde_json::to_value(&r.policy_document).expect("serializable");
    assert_eq!(doc["Version"], "2012-10-17");
    doc["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| {
            assert_eq!(s["Action"], json!(["execute-api:Invoke"]));
            policy::Statement {
                effect: match s["Effect"].as_str() {
                    Some("Allow") => policy::Effect::Allow,
                    Some("Deny") => policy::Effect::Deny,
                    other => panic!("effect {other:?}"),
                },
                resources: s["Resource"]
                    .as_array()
                    .expect("resources")
                    .iter()
                    .map(|r| r.as_str().expect("string").to_owned())
                    .collect(),
            }
        })
        .collect()
}

fn allows(r: &Response, event: &Event) -> bool {
    let arn = event.0["methodArn"].as_str().expect("methodArn");
    policy::allows(&statements(r), arn)
}

#[track_caller]
fn assert_unauthorized(result: &Result<Response, AuthError>) {
    match result {
        Err(e @ AuthError::Unauthorized) => assert_eq!(e.to_string(), "Unauthorized"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn each_of_the_three_headers_is_allowed_with_the_callers_context() {
    let app = App::new("authheaders").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;
    for (i, fixture) in [
        "authorizer-x-api-key.json",
        "authorizer-api-key.json",
        "authorizer-bearer.json",
    ]
    .into_iter()
    .enumerate()
    {
        let event = Event::fixture(fixture).with_key(&key);
        let r = app.authorize(&event).await.expect("a policy");
        assert!(allows(&r, &event), "{fixture}");
        assert_eq!(r.principal_id.as_deref(), Some("alice"));
        // The default plan (free, 100 a minute): the unlimited usage plan's key, the figures.
        assert_eq!(
            r.usage_identifier_key.as_deref(),
            Some(gateway::DEFAULT_USAGE_KEY_UNLIMITED)
        );
        let mut context = r.context.clone();
        let assertion = context["assertion"].take();
        let reset: i64 = context["rate_limit_reset"]
            .take()
            .as_str()
            .and_then(|r| r.parse().ok())
            .expect("reset");
        let now = app.state.clock.now().epoch_secs();
        assert!(reset > now && reset <= now + 60, "{reset} vs {now}");
        assert_eq!(
            context,
            json!({
                "owner_id": "alice", "key_id": record.id.as_str(), "scopes": "*", "admin": false,
                "expires_at": "", "assertion": null, "plan": "free",
                "rate_limit_limit": "100", "rate_limit_remaining": (99 - i).to_string(),
                "rate_limit_reset": null,
            })
        );
        let claims = app
            .verify_assertion(assertion.as_str().expect("a JWT"))
            .await;
        assert_eq!(
            (claims.sub.as_str(), claims.key_id.as_str(), claims.admin),
            ("alice", record.id.as_str(), false)
        );
        assert_eq!(claims.scopes, ["*"]);
        assert_eq!(claims.aud, "podcast-backend");
        assert_eq!(
            claims.iss,
            "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod"
        );
        assert!(claims.exp - claims.iat <= 300);
    }
}

#[tokio::test]
async fn missing_malformed_and_conflicting_keys_are_401_without_a_database_call() {
    // The offline app has no reachable DynamoDB: a lookup would fail as an error, not 401.
    let app = App::offline();
    let fixtures = [
        Event::fixture("authorizer-missing-key.json"),
        Event::fixture("authorizer-bad-checksum.json"),
        Event::fixture("authorizer-two-keys.json"),
        Event::fixture("authorizer-x-api-key.json").with_key("pod_short"),
        Event::fixture("authorizer-x-api-key.json").with_key(&FIXTURE_KEY.replace("pod_", "ap_")),
        Event::fixture("authorizer-x-api-key.json").with_key(&FIXTURE_KEY.to_lowercase()),
        Event::fixture("authorizer-bearer.json").with_key(""),
        Event::fixture("authorizer-x-api-key.json").with_key(&"x".repeat(10_000)),
    ];
    // How fast is BENCHMARKS.md's business (SPEC §7: under 1 µs, measured there).
    for event in fixtures {
        assert_unauthorized(&app.authorize(&event).await);
    }
}

#[tokio::test]
async fn a_well_formed_key_that_was_never_issued_is_401() {
    let app = App::new("authunknown").await;
    assert_unauthorized(
        &app.authorize(&Event::fixture("authorizer-x-api-key.json"))
            .await,
    );
}

#[tokio::test]
async fn the_same_key_in_two_headers_is_fine_but_two_different_keys_are_not() {
    let app = App::new("authtwice").await;
    let (key, _) = app.seed_key("alice", &["*"]).await;
    let mut event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    event.0["headers"]["Authorization"] = json!(format!("Bearer {key}"));
    assert!(app.authorize(&event).await.is_ok());
    let (other, _) = app.seed_key("alice", &["*"]).await;
    event.0["headers"]["Authorization"] = json!(format!("Bearer {other}"));
    assert_unauthorized(&app.authorize(&event).await);
}

#[tokio::test]
async fn a_revoked_key_is_denied_with_key_revoked_on_the_very_next_request() {
    let app = App::new("authrevoked").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;
    let event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    assert!(allows(
        &app.authorize(&event).await.expect("policy"),
        &event
    ));
    let revoked = app
        .call(&Event::revoke(record.id.as_str()).by(&record))
        .await;
    assert_eq!(revoked.status, 200);
    let r = app.authorize(&event).await.expect("a Deny policy");
    assert!(!allows(&r, &event));
    assert_eq!(r.context["error_code"], "key_revoked");
    assert!(
        r.context["error_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn an_expired_key_is_denied_with_key_expired() {
    let app = App::new("authexpired").await;
    let now = Timestamp::now();
    let (key, _) = app
        .seed_with(
            "alice",
            &["*"],
            now.plus_secs(-100),
            Some(now.plus_secs(-1)),
        )
        .await;
    let event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    let r = app.authorize(&event).await.expect("a Deny policy");
    assert!(!allows(&r, &event));
    assert_eq!(r.context["error_code"], "key_expired");
}

#[tokio::test]
async fn routes_need_their_scopes_and_me_needs_none() {
    let app = App::new("authscopes").await;
    let (reader, _) = app.seed_key("alice", &["podcasts:read"]).await;
    let (manager, _) = app.seed_key("alice", &["keys:read", "keys:write"]).await;
    let cases = [
        (&reader, "GET", "/api/v1/podcasts/42", true),
        (&reader, "HEAD", "/api/data/get_stats", true),
        (&reader, "POST", "/api/v1/podcasts", false),
        (&reader, "GET", "/api/v1/auth/api-keys", false),
        (&reader, "GET", "/api/v1/auth/me", true),
        (&reader, "GET", "/api/v1/auth/me/x", true),
        (&manager, "GET", "/api/v1/auth/api-keys", true),
        (&manager, "DELETE", "/api/v1/auth/api-keys/key_abc", true),
        (&manager, "GET", "/api/v1/podcasts/42", false),
        (&manager, "GET", "/api/v1/auth/me", true),
        (&manager, "GET", "/api/v1/auth/me/x", false),
    ];
    for (key, verb, path, allowed) in cases {
        let event = Event::authorizer_for(verb, path, key);
        let r = app.authorize(&event).await.expect("a policy");
        assert_eq!(allows(&r, &event), allowed, "{verb} {path}");
        if !allowed {
            assert_eq!(
                r.context["error_code"], "insufficient_scope",
                "{verb} {path}"
            );
        }
    }
}

/// Paths a client might send, tricky ones first, then pseudo-random ones (a fixed seed, so a
/// failure reproduces) over an alphabet that includes IAM's wildcards and the key routes.
fn fuzzed_paths(n: usize) -> Vec<String> {
    let mut paths: Vec<String> = [
        "/api/v1/auth/me",
        "/x/api/v1/auth/me",
        "/api/v1/auth/api-keys",
        "/api/v1/auth/api-keys/key_abc/rotate",
        "/api/v1/podcasts/*",
        "/",
    ]
    .map(str::to_owned)
    .to_vec();
    let parts = [
        "api", "v1", "auth", "me", "api-keys", "podcasts", "*", "?", "é", "%2F", "",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    while paths.len() < n {
        let mut path = String::new();
        for _ in 0..(1 + state % 6) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            path.push('/');
            path.push_str(parts[(state >> 33) as usize % parts.len()]);
        }
        paths.push(path);
    }
    paths
}

/// SPEC §4: no decision is ever reused, so every answer is one statement, Allow or Deny, for
/// exactly the method ARN asked about — never a pattern that could match another route.
#[tokio::test]
async fn every_policy_is_one_statement_for_exactly_the_requested_arn() {
    let app = App::new("authexact").await;
    let verbs = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let paths = fuzzed_paths(10);
    let mut checked = 0;
    for mask in 1u32..1 << apikey::Scope::EVERY.len() {
        let names: Vec<&str> = apikey::Scope::EVERY
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, s)| s.as_str())
            .collect();
        let (key, _) = app.seed_key("alice", &names).await;
        for verb in verbs {
            for path in &paths {
                let event = Event::authorizer_for(verb, path, &key);
                let arn = event.0["methodArn"].as_str().expect("methodArn").to_owned();
                let r = app.authorize(&event).await.expect("a policy");
                let policy = serde_json::to_value(&r.policy_document).expect("json");
                let statements = policy["Statement"].as_array().expect("statements");
                assert_eq!(statements.len(), 1, "{names:?} {verb} {path}");
                assert_eq!(
                    statements[0]["Resource"],
                    json!([arn]),
                    "{names:?} {verb} {path}"
                );
                assert_eq!(statements[0]["Action"], json!(["execute-api:Invoke"]));
                let allowed = statements[0]["Effect"] == "Allow";
                assert_eq!(allowed, r.context.get("error_code").is_none());
                checked += 1;
            }
        }
    }
    let scope_sets = (1 << apikey::Scope::EVERY.len()) - 1;
    assert_eq!(checked, scope_sets * verbs.len() * paths.len());
}

#[tokio::test]
async fn last_used_is_recorded_once_per_interval() {
    let app = App::new("authlastused").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;
    let event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    app.authorize(&event).await.expect("allow");
    let first = app
        .state
        .store
        .get_by_hash(&record.hash)
        .await
        .expect("get")
        .expect("kept");
    let used = first.last_used_at.expect("recorded on first use");
    assert!(used >= record.created_at);
    let stored = || async {
        let r = app.state.store.get_by_hash(&record.hash).await;
        r.expect("get").expect("kept").last_used_at
    };
    // Within the interval the authorizer does not write again (a write would store the moved
    // time, so the value tells).
    app.advance(30);
    app.authorize(&event).await.expect("allow");
    assert_eq!(stored().await, Some(used), "no second write within 60 s");
    // Past it, the next request writes once more.
    app.advance(31);
    app.authorize(&event).await.expect("allow");
    let third = stored().await.expect("recorded");
    assert!(
        third.epoch_secs() >= used.epoch_secs() + 61,
        "{third:?} vs {used:?}"
    );
}

#[tokio::test]
async fn a_header_value_outside_ascii_does_not_break_the_decision() {
    let app = App::new("authunicode").await;
    let (key, _) = app.seed_key("alice", &["*"]).await;
    let mut event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    event.0["headers"]["User-Agent"] = json!("Podcast Café/1.0 (Größe 🎧)");
    event.0["multiValueHeaders"]["User-Agent"] = json!(["Podcast Café/1.0 (Größe 🎧)"]);
    assert!(allows(
        &app.authorize(&event).await.expect("policy"),
        &event
    ));
}

/// The decision is an error (never Allow, never a guess) and comes within 3 s.
async fn assert_fails_closed_in_time(app: &App) {
    let started = Instant::now();
    let result = app
        .authorize(&Event::fixture("authorizer-x-api-key.json"))
        .await;
    assert!(matches!(result, Err(AuthError::Failed(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_dead_dynamodb_fails_closed_within_three_seconds() {
    assert_fails_closed_in_time(&App::offline()).await;
}

#[tokio::test]
async fn a_dynamodb_that_never_answers_fails_closed_within_three_seconds() {
    let (url, _silent) = testkit::silent_endpoint().await;
    let mut app = App::offline();
    let client = keystore::client::local(&url, Default::default());
    app.state.store = keystore::KeyStore::new(client, "any");
    assert_fails_closed_in_time(&app).await;
}

#[tokio::test]
async fn a_payload_that_is_not_an_authorizer_event_fails_closed() {
    let app = App::offline();
    for payload in [
        json!(null),
        json!([1, 2]),
        json!({"headers": "nope"}),
        json!({}),
    ] {
        let r = authorizer::handler(&app.state, payload.clone()).await;
        assert!(matches!(r, Err(AuthError::Failed(_))), "{payload}: {r:?}");
    }
}

#[tokio::test]
async fn the_unauthorized_error_reaches_lambda_as_exactly_unauthorized() {
    let d: lambda_runtime::Diagnostic = AuthError::Unauthorized.into();
    assert_eq!(d.error_message, "Unauthorized");
    let d: lambda_runtime::Diagnostic = AuthError::Failed("boom".into()).into();
    assert_ne!(d.error_message, "Unauthorized");
    assert!(
        !d.error_message.contains("boom"),
        "no internals in the response"
    );
}

/// One authorizer binary, two front doors (SPEC §17): a payload-format-2.0 event from an HTTP
/// API gets a simple response, the REST event a policy, from the same entry point.
async fn answer(app: &App, event: &Event) -> serde_json::Value {
    let answer = authorizer::answer_value(&app.state, event.0.clone())
        .await
        .expect("an answer, not an error");
    serde_json::to_value(answer).expect("serializable")
}

#[tokio::test]
async fn an_http_api_event_gets_a_simple_response_with_the_same_context() {
    let app = App::new("authv2").await;
    let (key, record) = app.seed_key("alice", &["*"]).await;
    let allowed = answer(
        &app,
        &Event::fixture("authorizer-v2-x-api-key.json").with_key(&key),
    )
    .await;
    assert_eq!(allowed["isAuthorized"], true, "{allowed}");
    assert!(allowed.get("policyDocument").is_none(), "{allowed}");
    let context = &allowed["context"];
    assert_eq!(context["owner_id"], "alice");
    assert_eq!(context["key_id"], record.id.as_str());
    assert_eq!(context["scopes"], "*");
    assert_eq!(context["admin"], false);
    // The $default stage is served from the API's base URL: no stage in the issuer.
    let signing = app
        .state
        .signer
        .key(Timestamp::now())
        .await
        .expect("the signing key");
    let jwks = assertion::Jwks {
        keys: vec![signing.public_jwk()],
    };
    let token = context["assertion"].as_str().expect("an assertion");
    let claims = assertion::verify(
        token,
        &jwks,
        &app.state.config.assertion_audience,
        Timestamp::now().epoch_secs(),
    )
    .expect("a valid assertion");
    assert_eq!(
        claims.iss,
        "https://abc123defg.execute-api.us-east-1.amazonaws.com"
    );

    // The REST event, through the same entry point, still gets a policy.
    let rest = answer(
        &app,
        &Event::fixture("authorizer-x-api-key.json").with_key(&key),
    )
    .await;
    assert_eq!(rest["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert!(rest.get("isAuthorized").is_none());
}

#[tokio::test]
async fn every_refusal_is_is_authorized_false_with_its_code_on_an_http_api() {
    let app = App::new("authv2no").await;
    let (key, record) = app.seed_key("alice", &["podcasts:read"]).await;
    let event = |key: &str| Event::fixture("authorizer-v2-x-api-key.json").with_key(key);
    let refused = |v: &serde_json::Value, code: &str| {
        assert_eq!(
            (
                v["isAuthorized"].as_bool(),
                v["context"]["error_code"].as_str()
            ),
            (Some(false), Some(code)),
            "{v}"
        );
    };
    // No key, garbage, an unknown key: refused with no lookup needed.
    let mut none = event(&key);
    none.0["headers"]
        .as_object_mut()
        .expect("headers")
        .remove("x-api-key");
    refused(&answer(&app, &none).await, "unauthorized");
    refused(&answer(&app, &event("garbage")).await, "unauthorized");
    refused(&answer(&app, &event(FIXTURE_KEY)).await, "unauthorized");
    // A scope the key lacks: POST to the podcast API needs podcasts:write.
    let mut post = event(&key);
    post.0["requestContext"]["http"]["method"] = json!("POST");
    refused(&answer(&app, &post).await, "insufficient_scope");
    // Two values of one header arrive joined with a comma: one malformed key.
    let mut twice = event(&key);
    twice.0["headers"]["x-api-key"] = json!(format!("{key},{key}"));
    refused(&answer(&app, &twice).await, "unauthorized");
    // Revoked (by another of alice's keys): the very next request.
    let (_, manager) = app.seed_key("alice", &["*"]).await;
    let revoked = app
        .call(&Event::revoke(record.id.as_str()).by(&manager))
        .await;
    assert_eq!(revoked.status, 200);
    refused(&answer(&app, &event(&key)).await, "key_revoked");
}

#[tokio::test]
async fn a_bearer_key_never_rides_to_the_backend_of_an_http_api() {
    let app = App::new("authv2bearer").await;
    let (key, _) = app.seed_key("alice", &["*"]).await;
    // Authorization is reserved on HTTP APIs: it cannot be removed before the backend, so a
    // key in it is refused on the backend's route...
    let backend = answer(
        &app,
        &Event::fixture("authorizer-v2-bearer-backend.json").with_key(&key),
    )
    .await;
    assert_eq!(backend["isAuthorized"], false, "{backend}");
    // ...and accepted on podkeys' own routes, which keep it.
    let me = answer(
        &app,
        &Event::fixture("authorizer-v2-me.json").with_key(&key),
    )
    .await;
    assert_eq!(me["isAuthorized"], true, "{me}");
    // The REST API overwrites Authorization before the backend: a bearer key is fine there.
    let rest = answer(
        &app,
        &Event::fixture("authorizer-bearer.json").with_key(&key),
    )
    .await;
    assert_eq!(rest["policyDocument"]["Statement"][0]["Effect"], "Allow");
}
