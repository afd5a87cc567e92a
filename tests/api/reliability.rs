//! Races and secrets (SPEC §8): revocation is immediate under concurrent use, create storms
//! give distinct working keys, and no key ever reaches a log line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::json;

use crate::helpers::{App, Event};

/// After a revoke returns 200, no authorization that started later is ever allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_request_is_allowed_after_its_keys_revocation_returned() {
    let app = Arc::new(App::new("racerevoke").await);
    let admin = app.seed("root", &["admin"]).await;
    let trials = 1_000;
    let mut keys = Vec::with_capacity(trials);
    for _ in 0..trials {
        keys.push(app.seed_key("alice", &["podcasts:read"]).await);
    }
    let mut allowed_late = 0;
    let mut checked_late = 0;
    for (key, record) in keys {
        let event = Arc::new(Event::authorizer_for("GET", "/api/v1/podcasts/1", &key));
        let stop = Arc::new(AtomicBool::new(false));
        let users: Vec<_> = (0..1)
            .map(|_| {
                let (app, event, stop) = (app.clone(), event.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let started = Instant::now();
                        let allowed = app
                            .authorize(&event)
                            .await
                            .is_ok_and(|r| r.context.get("owner_id").is_some());
                        seen.push((started, allowed));
                    }
                    seen
                })
            })
            .collect();
        let revoked = app
            .call(&Event::revoke(record.id.as_str()).by(&admin))
            .await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
        let revoked_at = Instant::now();
        // Requests that start after the revoke returned, besides the user's own.
        for _ in 0..2 {
            app.authorize(&event).await.ok();
        }
        stop.store(true, Ordering::SeqCst);
        for u in users {
            for (started, allowed) in u.await.expect("user task") {
                if started > revoked_at {
                    checked_late += 1;
                    allowed_late += usize::from(allowed);
                }
            }
        }
    }
    assert_eq!(
        allowed_late, 0,
        "{allowed_late} of {checked_late} late requests were allowed"
    );
    assert!(
        checked_late >= trials,
        "too few late requests to mean anything: {checked_late}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_500_concurrent_creates_gives_500_distinct_working_keys() {
    let mut app = App::new("storm").await;
    // 500 keys for one owner: above the default per-owner limit, which is not under test here.
    app.state.config.max_active_keys_per_owner = 1_000;
    let app = Arc::new(app);
    let caller = app.seed("alice", &["*"]).await;
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let (app, caller) = (app.clone(), caller.clone());
            tokio::spawn(async move {
                app.call(&Event::create(json!({"name": format!("storm {i}")})).by(&caller))
                    .await
            })
        })
        .collect();
    let mut keys = std::collections::HashSet::new();
    for t in tasks {
        let resp = t.await.expect("task");
        assert_eq!(resp.status, 201, "{}", resp.text);
        keys.insert(resp.body["key"].as_str().expect("key").to_owned());
    }
    assert_eq!(keys.len(), 500);
    for key in keys.iter().take(500) {
        let event = Event::authorizer_for("GET", "/api/v1/podcasts/1", key);
        assert!(
            app.authorize(&event)
                .await
                .is_ok_and(|r| r.context.get("owner_id").is_some())
        );
    }
    assert_eq!(app.items().await, 2 + 1000);
}

/// Every log line of this test binary, at TRACE, and every metric line, from the first test
/// that asks onwards.
pub(crate) fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Writer(logs))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        // The decision and request lines (with their metrics) are written apart from tracing.
        gateway::metrics::set_sink(Box::new(Writer(logs)));
        logs
    })
}

/// Where the captured logs end now (capturing from here on if nothing did yet). A test that
/// polls the logs reads only what follows its mark: by the end of a run they hold about a
/// gigabyte (every crate at TRACE).
pub(crate) fn log_mark() -> usize {
    captured_logs().lock().map(|l| l.len()).unwrap_or_default()
}

/// The captured JSON lines from byte `from` on that contain `needle`. Only those lines are
/// copied and parsed, so polling neither rescans the whole run's output nor holds every
/// other test's logging up for long (a full copy under the lock took seconds each time).
pub(crate) fn json_lines_since(from: usize, needle: &str) -> Vec<serde_json::Value> {
    let matching: Vec<String> = {
        let logs = captured_logs().lock().expect("logs");
        logs.get(from..)
            .unwrap_or_default()
            .split(|&b| b == b'\n')
            .filter_map(|line| std::str::from_utf8(line).ok())
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    };
    matching
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

struct Writer(&'static Mutex<Vec<u8>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_key_appears_in_trace_logs_or_the_table() {
    let logs = captured_logs();
    let app = App::new("secrets").await;
    let (admin_key, admin) = app.seed_key("root", &["admin"]).await;
    let mut issued = vec![admin_key.clone()];
    // Every flow once: create, use, list, get, rotate, revoke, refusals and errors.
    let created = app
        .call(&Event::create(json!({"name": "s", "scopes": ["podcasts:read"]})).by(&admin))
        .await;
    let key = created.body["key"].as_str().expect("key").to_owned();
    issued.push(key.clone());
    let id = created.body["id"].as_str().expect("id").to_owned();
    for (verb, path) in [
        ("GET", "/api/v1/podcasts/1"),
        ("POST", "/api/v1/podcasts"),
        ("GET", "/api/v1/auth/me"),
    ] {
        let _ = app
            .authorize(&Event::authorizer_for(verb, path, &key))
            .await;
    }
    app.call(&Event::list(&[]).by(&admin)).await;
    app.call(&Event::get(&id).by(&admin)).await;
    let rotated = app
        .call(&Event::rotate(&id, Some(r#"{"grace_period_seconds":0}"#)).by(&admin))
        .await;
    issued.push(rotated.body["key"].as_str().expect("key").to_owned());
    let _ = app
        .authorize(&Event::authorizer_for("GET", "/api/v1/podcasts/1", &key))
        .await;
    app.call(&Event::revoke(&id).by(&admin)).await;
    app.call(&Event::create(json!({"name": ""})).by(&admin))
        .await;
    let mut bad = key.clone();
    bad.replace_range(bad.len() - 6.., "000000");
    let _ = app
        .authorize(&Event::authorizer_for("GET", "/x", &bad))
        .await;
    let _ = App::offline()
        .authorize(&Event::authorizer_for("GET", "/x", &key))
        .await;

    let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(
        text.contains("\"authorize\""),
        "the authorizer's log lines were captured"
    );
    assert!(
        text.contains("\"request\""),
        "the functions' log lines were captured"
    );
    let table: String = app
        .state
        .store
        .raw_items()
        .await
        .expect("scan")
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    for key in issued.iter().chain([&bad]) {
        let secret = &key[8..];
        assert!(!text.contains(secret), "a key reached the logs");
        assert!(!table.contains(secret), "a key reached the table");
    }
}

mod properties {
    use proptest::prelude::*;
    use serde_json::json;

    use crate::helpers::{App, Event};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn json_ish() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,64}",
            r#"\{("(name|description|scopes|expires_in_days|owner_id|x)":(-?[0-9]{1,12}|"[^"\\]{0,12}"|\["[a-z:*]{0,14}"\]|null|true|1e[0-9]{1,3}|\{\}),?){0,5}\}"#,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any body: a documented status, a JSON body, never a panic or a 5xx.
        #[test]
        fn create_answers_any_body_with_a_documented_status(body in json_ish()) {
            let rt = runtime();
            rt.block_on(async {
                let app = App::new("propcreate").await;
                let caller = app.seed("alice", &["keys:write", "podcasts:read"]).await;
                let resp = app.call(&Event::fixture("create-key.json").body(Some(&body)).by(&caller)).await;
                assert!([201, 400, 403, 413].contains(&resp.status), "{body}: {}", resp.text);
                if resp.status != 201 {
                    assert!(resp.body["error"]["code"].is_string());
                }
            });
        }

        #[test]
        fn list_answers_any_query_with_a_documented_status(
            pairs in proptest::collection::vec(("(status|limit|cursor|owner_id|[a-z]{1,6})", ".{0,20}"), 0..4)
        ) {
            let rt = runtime();
            rt.block_on(async {
                let app = App::new("proplist").await;
                let caller = app.seed("alice", &["keys:read"]).await;
                let query: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let resp = app.call(&Event::list(&query).by(&caller)).await;
                assert!([200, 400, 403].contains(&resp.status), "{query:?}: {}", resp.text);
            });
        }

        /// Any headers: without a well-formed key of ours there is no lookup and no Allow.
        #[test]
        fn the_authorizer_refuses_arbitrary_headers_without_a_lookup(
            headers in proptest::collection::vec(("(x-api-key|api-key|authorization|[A-Za-z-]{1,12})", ".{0,80}"), 0..6)
        ) {
            let rt = runtime();
            rt.block_on(async {
                let app = App::offline();
                let mut event = Event::fixture("authorizer-missing-key.json");
                let map: serde_json::Map<String, serde_json::Value> =
                    headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                event.0["headers"] = serde_json::Value::Object(map);
                event.0["multiValueHeaders"] = json!({});
                let result = app.authorize(&event).await;
                assert!(matches!(result, Err(authorizer::AuthError::Unauthorized)), "{headers:?}: {result:?}");
            });
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listing_while_revoking_shows_each_key_whole_and_ends_consistent() {
    let app = Arc::new(App::new("revokelist").await);
    let admin = app.seed("root", &["admin"]).await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(app.seed("alice", &["podcasts:read"]).await.id);
    }
    let revoker = {
        let (app, admin, ids) = (app.clone(), admin.clone(), ids.clone());
        tokio::spawn(async move {
            for id in ids {
                assert_eq!(
                    app.call(&Event::revoke(id.as_str()).by(&admin))
                        .await
                        .status,
                    200
                );
            }
        })
    };
    while !revoker.is_finished() {
        let page = app
            .state
            .store
            .list(
                &keystore::Listing::Owner(apikey::OwnerId::parse("alice").expect("owner")),
                None,
                100,
                None,
                apikey::Timestamp::now(),
            )
            .await
            .expect("list");
        for k in page.keys {
            // Whole: revoked keys carry their revocation time, active ones none.
            assert_eq!(
                k.revoked_at.is_some(),
                k.status(apikey::Timestamp::now()) == apikey::KeyStatus::Revoked
            );
        }
    }
    revoker.await.expect("revoker");
    let revoked = app
        .call(&Event::list(&[("status", "revoked"), ("owner_id", "alice")]).by(&admin))
        .await;
    assert_eq!(
        revoked.body.as_array().map(Vec::len),
        Some(30),
        "{}",
        revoked.text
    );
}

#[tokio::test]
async fn another_owners_key_is_invisible_on_every_route_and_id_spelling() {
    let app = App::new("isolation").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let id = alice.id.as_str();
    let spellings = [
        id.to_owned(),
        id.to_uppercase(),
        format!("{id}/"),
        format!(" {id}"),
        id.replace("key_", "key%5F"),
    ];
    for spelling in &spellings {
        for event in [
            Event::get(spelling),
            Event::revoke(spelling),
            Event::rotate(spelling, None),
        ] {
            let resp = app.call(&event.by(&bob)).await;
            resp.assert_error(404, "not_found");
            assert!(!resp.text.contains("alice"), "{spelling}: {}", resp.text);
        }
    }
    let listed = app.call(&Event::list(&[]).by(&bob)).await;
    assert!(
        listed
            .body
            .as_array()
            .expect("array")
            .iter()
            .all(|k| k["owner_id"] == "bob")
    );
    app.call(&Event::list(&[("owner_id", "alice")]).by(&bob))
        .await
        .assert_error(403, "forbidden");
    let stored = app
        .state
        .store
        .get_by_id(&alice.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(
        (stored.revoked_at, stored.rotated_to),
        (None, None),
        "bob changed nothing"
    );
}
