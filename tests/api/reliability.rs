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
    let app = Arc::new(App::new("storm").await);
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

/// Every log line of this test binary, at TRACE, from the first test that asks onwards.
fn captured_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Writer(logs))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
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
