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
    let (seeded, log): (Vec<_>, Vec<_>) = app
        .state
        .store
        .audit_log(&query)
        .await
        .expect("log")
        .events
        .into_iter()
        .partition(|e| e.actor_kind == "system");
    // The fixture's own key, seeded by the test itself (on the real clock, where the API's
    // changes are on the app's: which second comes first is not this test's business).
    let seeded: Vec<_> = seeded.iter().map(|e| e.action).collect();
    assert_eq!(seeded, [Action::Created]);
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

/// Query-string pairs.
type Query<'a> = &'a [(&'a str, &'a str)];

/// The events of a page, and its `Link`'s cursor.
fn page(resp: &crate::helpers::Resp) -> (Vec<serde_json::Value>, Option<String>) {
    assert_eq!(resp.status, 200, "{}", resp.body);
    let events = resp.body.as_array().expect("a JSON array").clone();
    (events, crate::helpers::next_cursor(resp))
}

#[tokio::test]
async fn the_audit_log_shows_each_owner_their_events_and_admins_all() {
    let app = App::new("auditlog").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let root = app.seed("root", &["admin"]).await;
    let made = app
        .call(&Event::create(json!({"name": "phone"})).by(&alice))
        .await;
    let phone = made.body["id"].as_str().expect("id").to_owned();
    let renamed = app
        .call(&Event::patch(&phone, r#"{"description":"on the bus"}"#).by(&alice))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    // An admin revokes bob's key: bob and the admin's owner both see it.
    let revoked = app.call(&Event::revoke(bob.id.as_str()).by(&root)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let (before, audits) = (app.items().await, app.audits().await);

    let (events, next) = page(&app.call(&Event::audit_log(&[]).by(&alice)).await);
    assert_eq!(next, None);
    // Alice's own changes, newest first, and the test's seeding of her key (made on the real
    // clock, not the app's, so its place in the order is not asserted).
    let by_key: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["actor"]["type"] == "key")
        .collect();
    let actions: Vec<&str> = by_key.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["key.updated", "key.created"]);
    assert_eq!(events.len(), 3);
    let updated = by_key[0];
    assert_eq!(updated["target"]["key_id"], phone.as_str());
    assert_eq!(updated["actor"]["type"], "key");
    assert_eq!(updated["actor"]["key_id"], alice.id.as_str());
    assert_eq!(
        updated["changes"],
        json!({"description": {"from": null, "to": "on the bus"}})
    );
    assert!(
        updated["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("evt_"))
    );
    assert!(updated["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    for field in ["request_id", "source_ip", "user_agent", "correlation_id"] {
        assert!(updated.get(field).is_some(), "{field} in {updated}");
    }

    let (bobs, _) = page(&app.call(&Event::audit_log(&[]).by(&bob)).await);
    assert!(
        bobs.iter().all(|e| e["target"]["owner_id"] == "bob"),
        "{bobs:?}"
    );
    assert!(
        bobs.iter()
            .any(|e| e["action"] == "key.revoked" && e["actor"]["owner_id"] == "root")
    );
    let (all, _) = page(&app.call(&Event::audit_log(&[]).by(&root)).await);
    assert_eq!(
        all.len(),
        6,
        "three seeded keys, a create, an update, a revoke"
    );
    let (alices, _) = page(
        &app.call(&Event::audit_log(&[("owner_id", "alice")]).by(&root))
            .await,
    );
    assert_eq!(alices.len(), 3);
    // Filters: by key, by action, by time.
    let (about, _) = page(
        &app.call(&Event::audit_log(&[("key_id", &phone)]).by(&alice))
            .await,
    );
    assert_eq!(about.len(), 2);
    let (updates, _) = page(
        &app.call(&Event::audit_log(&[("action", "key.updated")]).by(&alice))
            .await,
    );
    assert_eq!(updates.len(), 1);
    let (none, _) = page(
        &app.call(&Event::audit_log(&[("until", "2001-01-01T00:00:00Z")]).by(&alice))
            .await,
    );
    assert!(none.is_empty());
    // Pages of one follow their Link; a cursor is bound to its audience.
    let (first, cursor) = page(
        &app.call(&Event::audit_log(&[("limit", "1")]).by(&alice))
            .await,
    );
    assert_eq!(first.len(), 1);
    let cursor = cursor.expect("a next page");
    let (second, _) = page(
        &app.call(&Event::audit_log(&[("limit", "1"), ("cursor", &cursor)]).by(&alice))
            .await,
    );
    assert_eq!(second.len(), 1);
    assert_ne!(second[0]["id"], first[0]["id"]);
    app.call(&Event::audit_log(&[("cursor", &cursor)]).by(&bob))
        .await
        .assert_error(400, "invalid_request");
    // Reading wrote nothing.
    assert_eq!((app.items().await, app.audits().await), (before, audits));
}

#[tokio::test]
async fn bad_audit_log_queries_are_400_403_or_404_and_write_nothing() {
    let app = App::new("auditbad").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let reader = app.seed("carol", &["podcasts:read"]).await;
    let (items, audits) = (app.items().await, app.audits().await);
    let cases: &[(Query, u16, &str)] = &[
        (&[("action", "key.deleted")], 400, "invalid_request"),
        (&[("since", "yesterday")], 400, "invalid_request"),
        (&[("until", "2026-12-04")], 400, "invalid_request"),
        (
            &[
                ("since", "2026-12-05T00:00:00Z"),
                ("until", "2026-12-04T00:00:00Z"),
            ],
            400,
            "invalid_request",
        ),
        (&[("limit", "0")], 400, "invalid_request"),
        (&[("limit", "101")], 400, "invalid_request"),
        (&[("key_id", "not-a-key")], 400, "invalid_request"),
        (&[("cursor", "bm9wZQ")], 400, "invalid_request"),
        (&[("verbose", "1")], 400, "invalid_request"),
        (&[("owner_id", "bob")], 403, "forbidden"),
    ];
    for (query, status, code) in cases {
        app.call(&Event::audit_log(query).by(&alice))
            .await
            .assert_error(*status, code);
    }
    // Another owner's key, or one that does not exist: 404, alike.
    app.call(&Event::audit_log(&[("key_id", bob.id.as_str())]).by(&alice))
        .await
        .assert_error(404, "not_found");
    app.call(&Event::audit_log(&[("key_id", "key_AAAAAAAAAAAAAAAAAAAA")]).by(&alice))
        .await
        .assert_error(404, "not_found");
    // keys:read is needed.
    app.call(&Event::audit_log(&[]).by(&reader))
        .await
        .assert_error(403, "insufficient_scope");
    assert_eq!((app.items().await, app.audits().await), (items, audits));
}
