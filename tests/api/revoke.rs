use serde_json::json;

use crate::helpers::{App, Event};

#[tokio::test]
async fn revoke_returns_the_revoked_key_and_is_idempotent() {
    let app = App::new("revoke").await;
    let caller = app.seed("alice", &["*"]).await;
    let target = app.seed("alice", &["podcasts:read"]).await;
    let first = app
        .call(&Event::revoke(target.id.as_str()).by(&caller))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["status"], "revoked");
    assert_eq!(first.body["id"], target.id.as_str());
    let revoked_at = first.body["revoked_at"]
        .as_str()
        .expect("revoked_at")
        .to_owned();
    app.advance(5);
    let again = app
        .call(&Event::revoke(target.id.as_str()).by(&caller))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["revoked_at"],
        revoked_at.as_str(),
        "same revoked_at"
    );
    let stored = app
        .state
        .store
        .get_by_hash(&target.hash)
        .await
        .expect("get")
        .expect("kept");
    assert!(stored.revoked_at.is_some());
}

#[tokio::test]
async fn a_key_can_be_revoked_the_moment_it_is_created() {
    let app = App::new("revokenow").await;
    let caller = app.seed("alice", &["*"]).await;
    for i in 0..10 {
        let created = app
            .call(&Event::create(json!({"name": format!("k{i}")})).by(&caller))
            .await;
        let id = created.body["id"].as_str().expect("id");
        let revoked = app.call(&Event::revoke(id).by(&caller)).await;
        assert_eq!(revoked.status, 200, "{}", revoked.text);
    }
}

#[tokio::test]
async fn another_owners_key_is_not_found_and_stays_active_but_admins_can_revoke_it() {
    let app = App::new("revokeother").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let admin = app.seed("admin-1", &["admin"]).await;
    let resp = app.call(&Event::revoke(alice.id.as_str()).by(&bob)).await;
    resp.assert_error(404, "not_found");
    let stored = app
        .state
        .store
        .get_by_id(&alice.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.revoked_at, None);
    let resp = app.call(&Event::revoke(alice.id.as_str()).by(&admin)).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["owner_id"], "alice");
}

#[tokio::test]
async fn a_key_may_revoke_itself() {
    let app = App::new("revokeself").await;
    let caller = app.seed("alice", &["keys:write"]).await;
    let resp = app
        .call(&Event::revoke(caller.id.as_str()).by(&caller))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["status"], "revoked");
}

#[tokio::test]
async fn revoking_needs_keys_write() {
    let app = App::new("revokescope").await;
    let caller = app.seed("alice", &["keys:read"]).await;
    let resp = app
        .call(&Event::revoke(caller.id.as_str()).by(&caller))
        .await;
    resp.assert_error(403, "insufficient_scope");
    let stored = app
        .state
        .store
        .get_by_id(&caller.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(stored.revoked_at, None);
}
