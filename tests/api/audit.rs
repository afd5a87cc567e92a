//! The audit log through the functions (SPEC §11): every change made through the API records
//! who made it (the calling key), the request id and the client's address and user agent.

use keystore::audit::{ALL, owner_part};
use keystore::{Action, AuditQuery};
use serde_json::json;

use crate::helpers::{App, Event};

#[tokio::test]
async fn every_change_through_the_api_is_audited_with_its_caller_and_request() {
    let app = App::new("auditapi").await;
    let caller = app.seed("alice", &["*"]).await;
    let before = app.audits().await;

    let created = app
        .call(&Event::create(json!({"name": "phone"})).by(&caller))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let renamed = app
        .call(&Event::patch(&id, r#"{"name":"tablet"}"#).by(&caller))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let rotated = app
        .call(&Event::rotate(&id, Some(r#"{"grace_period_seconds":0}"#)).by(&caller))
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let successor = rotated.body["id"].as_str().expect("id").to_owned();
    let revoked = app.call(&Event::revoke(&successor).by(&caller)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    // Revoking again changes nothing and records nothing.
    assert_eq!(
        app.call(&Event::revoke(&successor).by(&caller))
            .await
            .status,
        200
    );
    // Five events (created, updated, rotated + created, revoked), each once for admins and
    // once for alice, who is both actor and owner.
    assert_eq!(app.audits().await - before, 10);

    let query = AuditQuery::of(owner_part("alice"));
    let mut log = app.state.store.audit_log(&query).await.expect("log").events;
    // The oldest is the fixture's own key, seeded by the test itself.
    let seeded = log.pop().expect("the seeded key's event");
    assert_eq!(
        (seeded.actor_kind.as_str(), seeded.action),
        ("system", Action::Created)
    );
    assert_eq!(log.len(), 5);
    for event in &log {
        assert_eq!(event.actor_kind, "key");
        assert_eq!(event.actor_key_id.as_deref(), Some(caller.id.as_str()));
        assert_eq!(event.actor_owner_id.as_deref(), Some("alice"));
        assert_eq!(
            event.request_id.as_deref(),
            Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
        );
        assert_eq!(event.source_ip.as_deref(), Some("203.0.113.7"));
        assert!(event.user_agent.is_some());
    }
    let count = |action: Action| log.iter().filter(|e| e.action == action).count();
    assert_eq!(
        Action::EVERY.map(count),
        [2, 1, 1, 1],
        "created, rotated, revoked, updated"
    );
    let all = AuditQuery {
        part: ALL.into(),
        ..query
    };
    assert_eq!(
        app.state
            .store
            .audit_log(&all)
            .await
            .expect("all")
            .events
            .len(),
        6
    );
}
