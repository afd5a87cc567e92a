//! Injected faults between the functions and DynamoDB Local (SPEC §8): the authorizer never
//! allows and always answers within 3 s; nothing is half-written; errors are JSON; and once
//! the fault clears everything works again without a restart.

use std::time::{Duration, Instant};

use gateway::State;
use keystore::KeyStore;
use keystore::client::ClientSettings;
use serde_json::json;
use testkit::{Fault, FaultProxy};

use crate::helpers::{App, Event};

const FAULTS: [Fault; 4] = [
    Fault::Drop,
    Fault::Stall,
    Fault::ResetMidResponse,
    Fault::Garbage,
];

/// The app's table, reached only through a fault proxy, with the production time bounds.
async fn through_proxy(app: &App) -> (State, FaultProxy) {
    let proxy = FaultProxy::start(&testkit::endpoint()).await;
    let client = keystore::client::local(proxy.url(), ClientSettings::default());
    let store = KeyStore::new(client, app.state.store.table());
    (State::new(store, app.state.config.clone()), proxy)
}

#[tokio::test]
async fn the_authorizer_never_allows_under_any_fault_and_answers_within_3_s() {
    let app = App::new("faultauth").await;
    let (key, _) = app.seed_key("alice", &["*"]).await;
    let (state, proxy) = through_proxy(&app).await;
    let event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    // Healthy first, so that a pooled connection exists when the fault strikes.
    assert!(authorizer::handler(&state, event.0.clone()).await.is_ok());
    for fault in FAULTS {
        proxy.set(fault);
        let started = Instant::now();
        let result = authorizer::handler(&state, event.0.clone()).await;
        assert!(
            matches!(result, Err(authorizer::AuthError::Failed(_))),
            "{fault:?}: {result:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{fault:?}: {:?}",
            started.elapsed()
        );
        proxy.set(Fault::None);
        let healed = authorizer::handler(&state, event.0.clone()).await;
        assert!(
            healed.is_ok_and(|r| r.context.get("owner_id").is_some()),
            "{fault:?}: no recovery"
        );
    }
}

#[tokio::test]
async fn a_create_under_fault_writes_both_items_or_neither_and_answers_json() {
    let app = App::new("faultcreate").await;
    let caller = app.seed("alice", &["*"]).await;
    let (state, proxy) = through_proxy(&app).await;
    let create = || {
        Event::create(json!({"name": "under fault"}))
            .by(&caller)
            .request()
    };
    assert_eq!(create_key::handler(&state, create()).await.status(), 201);
    for fault in FAULTS {
        let (before, audits_before) = (app.items().await, app.audits().await);
        proxy.set(fault);
        let started = Instant::now();
        let resp = create_key::handler(&state, create()).await;
        let elapsed = started.elapsed();
        proxy.set(Fault::None);
        let status = resp.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).expect("JSON");
        assert!(status == 503 || status == 500, "{fault:?}: {status} {body}");
        assert!(body["error"]["code"].is_string(), "{fault:?}: {body}");
        assert!(
            !body.to_string().contains("pod_"),
            "no key in an error: {body}"
        );
        assert!(elapsed < Duration::from_secs(6), "{fault:?}: {elapsed:?}");
        // A lost response may hide a committed transaction, but never half of one.
        let delta = app.items().await - before;
        assert!(delta == 0 || delta == 2, "{fault:?}: {delta} items written");
        // Its audit event (SPEC §11, one item for admins and one for alice) is in the same
        // transaction: written with the key, or not at all.
        let audited = app.audits().await - audits_before;
        assert_eq!(
            audited, delta,
            "{fault:?}: {audited} audit items for {delta}"
        );
        assert_eq!(
            create_key::handler(&state, create()).await.status(),
            201,
            "{fault:?}: no recovery"
        );
    }
}

#[tokio::test]
async fn list_and_revoke_under_fault_answer_5xx_json_and_leave_keys_whole() {
    let app = App::new("faultrevoke").await;
    let caller = app.seed("alice", &["*"]).await;
    let (state, proxy) = through_proxy(&app).await;
    for fault in FAULTS {
        let target = app.seed("alice", &["podcasts:read"]).await;
        proxy.set(fault);
        let listed = list_keys::handler(&state, Event::list(&[]).by(&caller).request()).await;
        let revoked = revoke_key::handler(
            &state,
            Event::revoke(target.id.as_str()).by(&caller).request(),
        )
        .await;
        proxy.set(Fault::None);
        for (what, resp) in [("list", &listed), ("revoke", &revoked)] {
            let body: serde_json::Value =
                serde_json::from_slice(resp.body().as_ref()).expect("JSON");
            assert!(
                resp.status().is_server_error(),
                "{fault:?} {what}: {} {body}",
                resp.status()
            );
            assert!(
                body["error"]["code"].is_string(),
                "{fault:?} {what}: {body}"
            );
        }
        // Either untouched or fully revoked (both items carry the purge time): never half.
        let items = app.state.store.raw_items().await.expect("scan");
        let mine: Vec<_> = items
            .iter()
            .filter(|i| {
                i.iter().any(|(k, v)| {
                    k == "pk"
                        && (v.contains(&target.hash.to_hex()) || v.contains(target.id.as_str()))
                })
            })
            .collect();
        assert_eq!(mine.len(), 2, "{fault:?}");
        let purged = mine
            .iter()
            .filter(|i| i.iter().any(|(k, _)| k == "purge_at"))
            .count();
        assert!(purged == 0 || purged == 2, "{fault:?}: half-revoked");
        let again = revoke_key::handler(
            &state,
            Event::revoke(target.id.as_str()).by(&caller).request(),
        )
        .await;
        assert_eq!(again.status(), 200, "{fault:?}: no recovery");
    }
}

#[tokio::test]
async fn a_dynamodb_that_disappears_fails_closed_and_recovers_when_it_returns() {
    let app = App::new("faultgone").await;
    let (key, _) = app.seed_key("alice", &["*"]).await;
    let event = Event::fixture("authorizer-x-api-key.json").with_key(&key);
    let (state, proxy) = through_proxy(&app).await;
    assert!(authorizer::handler(&state, event.0.clone()).await.is_ok());
    let url = proxy.url().to_owned();
    drop(proxy); // nothing listens there any more
    let started = Instant::now();
    assert!(matches!(
        authorizer::handler(&state, event.0.clone()).await,
        Err(authorizer::AuthError::Failed(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
    // The same state and client recover once DynamoDB is reachable there again.
    let addr = url.trim_start_matches("http://").to_owned();
    let _back = FaultProxy::start_at(&testkit::endpoint(), &addr).await;
    let healed = authorizer::handler(&state, event.0.clone()).await;
    assert!(healed.is_ok_and(|r| r.context.get("owner_id").is_some()));
}
