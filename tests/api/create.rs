use apikey::{ApiKey, KeyPrefix, Timestamp};
use serde_json::json;

use crate::helpers::{App, Event};

#[tokio::test]
async fn create_returns_201_a_location_and_the_key_once() {
    let app = App::new("create").await;
    let caller = app.seed("alice", &["*"]).await;
    let resp = app
        .call(&Event::fixture("create-key.json").by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let b = &resp.body;
    let id = b["id"].as_str().expect("id");
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/auth/api-keys/{id}").as_str())
    );
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(b["name"], "staging");
    assert_eq!(b["description"], "CI pipeline");
    assert_eq!(b["scopes"], json!(["keys:read", "podcasts:read"]));
    assert_eq!(b["status"], "active");
    assert_eq!(b["owner_id"], "alice");
    assert_eq!(b["last_used_at"], json!(null));
    assert_eq!(b["revoked_at"], json!(null));

    let plaintext = b["key"].as_str().expect("plaintext key");
    let key = ApiKey::parse(&KeyPrefix::default(), plaintext).expect("a well-formed key");
    assert_eq!(b["hint"], key.hint());
    let stored = app
        .state
        .store
        .get_by_hash(&key.hash())
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.id.as_str(), id);

    // Seen once: reading the key back never shows the plaintext again.
    let again = app.call(&Event::get(id).by(&caller)).await;
    assert_eq!(again.status, 200);
    assert!(again.body.get("key").is_none());
    assert!(!again.text.contains(plaintext));
}

#[tokio::test]
async fn the_defaults_are_all_scopes_no_expiry_and_the_callers_own_key() {
    let app = App::new("defaults").await;
    let caller = app.seed("alice", &["*"]).await;
    let resp = app
        .call(&Event::create(json!({"name": "laptop"})).by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["scopes"], json!(["*"]));
    assert_eq!(resp.body["expires_at"], json!(null));
    assert_eq!(resp.body["description"], json!(null));
    assert_eq!(resp.body["owner_id"], "alice");
}

#[tokio::test]
async fn expires_in_days_sets_the_expiry_that_many_days_after_creation() {
    let app = App::new("expiry").await;
    let caller = app.seed("alice", &["*"]).await;
    let before = Timestamp::now();
    let resp = app
        .call(&Event::create(json!({"name": "short", "expires_in_days": 7})).by(&caller))
        .await;
    let after = Timestamp::now();
    assert_eq!(resp.status, 201, "{}", resp.text);
    let expires = resp.body["expires_at"].as_str().expect("expiry");
    let possible: Vec<String> = (before.epoch_secs()..=after.epoch_secs())
        .map(|s| Timestamp::from_epoch_secs(s).plus_days(7).to_rfc3339())
        .collect();
    assert!(
        possible.iter().any(|p| p == expires),
        "{expires} not in {possible:?}"
    );
}

#[tokio::test]
async fn a_json_body_is_accepted_whatever_the_content_type_says() {
    // The fixture is what `curl -d` sends: Content-Type application/x-www-form-urlencoded.
    let app = App::new("ctype").await;
    let caller = app.seed("alice", &["*"]).await;
    let event = Event::fixture("create-key.json").by(&caller);
    assert_eq!(
        event.0["headers"]["Content-Type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(app.call(&event).await.status, 201);
}

#[tokio::test]
async fn admins_create_keys_for_other_owners_and_with_admin_scope() {
    let app = App::new("admincreate").await;
    let admin = app.seed("admin-1", &["admin"]).await;
    let resp = app
        .call(&Event::fixture("create-key-admin.json").by(&admin))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["owner_id"], "carol");
    let resp = app
        .call(&Event::create(json!({"name": "second admin", "scopes": ["admin"]})).by(&admin))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["scopes"], json!(["admin"]));
}

#[tokio::test]
async fn a_key_cannot_mint_a_stronger_key() {
    let app = App::new("escalate").await;
    let cases: &[(&[&str], serde_json::Value)] = &[
        (&["keys:write"], json!({"name": "x", "scopes": ["*"]})),
        (&["keys:write"], json!({"name": "x"})), // the default `*` is more than it holds
        (
            &["keys:write", "podcasts:read"],
            json!({"name": "x", "scopes": ["podcasts:write"]}),
        ),
        (&["*"], json!({"name": "x", "scopes": ["admin"]})),
        (&["*"], json!({"name": "x", "owner_id": "bob"})),
    ];
    for (scopes, body) in cases {
        let caller = app.seed("alice", scopes).await;
        let before = app.items().await;
        let resp = app.call(&Event::create(body.clone()).by(&caller)).await;
        resp.assert_error(403, "forbidden");
        assert_eq!(app.items().await, before, "{scopes:?} {body}");
    }
}

#[tokio::test]
async fn naming_yourself_as_owner_is_allowed_for_everyone() {
    let app = App::new("selfowner").await;
    let caller = app.seed("alice", &["*"]).await;
    let resp = app
        .call(&Event::create(json!({"name": "x", "owner_id": "alice"})).by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
}

#[tokio::test]
async fn a_key_without_keys_write_cannot_create() {
    let app = App::new("noscope").await;
    let caller = app.seed("alice", &["keys:read", "podcasts:write"]).await;
    let resp = app
        .call(&Event::create(json!({"name": "x"})).by(&caller))
        .await;
    resp.assert_error(403, "insufficient_scope");
    assert_eq!(app.items().await, 2);
}

#[tokio::test]
async fn the_deployments_key_prefix_is_used() {
    let app = App::with_prefix("prefix", KeyPrefix::parse("ap").expect("valid")).await;
    let caller = app.seed("alice", &["*"]).await;
    let resp = app
        .call(&Event::create(json!({"name": "audiopod"})).by(&caller))
        .await;
    assert_eq!(resp.status, 201);
    let key = resp.body["key"].as_str().expect("key");
    assert!(key.starts_with("ap_"), "{key}");
    assert!(resp.body["hint"].as_str().expect("hint").starts_with("ap_"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_give_distinct_working_keys() {
    let app = std::sync::Arc::new(App::new("parcreate").await);
    let caller = app.seed("alice", &["*"]).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (app, caller) = (app.clone(), caller.clone());
            tokio::spawn(async move {
                app.call(&Event::create(json!({"name": format!("k{i}")})).by(&caller))
                    .await
            })
        })
        .collect();
    let mut keys = std::collections::HashSet::new();
    for t in tasks {
        let resp = t.await.expect("task");
        assert_eq!(resp.status, 201, "{}", resp.text);
        let key = resp.body["key"].as_str().expect("key").to_owned();
        let parsed = ApiKey::parse(&KeyPrefix::default(), &key).expect("valid");
        assert!(
            app.state
                .store
                .get_by_hash(&parsed.hash())
                .await
                .expect("get")
                .is_some()
        );
        keys.insert(key);
    }
    assert_eq!(keys.len(), 50);
}

/// SPEC §2: a non-admin key cannot mint a key that outlives itself, so a leaked key (or one
/// in its rotation grace) cannot give itself a longer-lived successor. Admins are exempt.
#[tokio::test]
async fn a_key_cannot_create_a_key_that_outlives_it() {
    let app = App::new("outlive").await;
    let now = Timestamp::now();
    let (_, caller) = app
        .seed_with("alice", &["*"], now, Some(now.plus_days(10)))
        .await;
    for body in [
        json!({"name": "forever"}),
        json!({"name": "longer", "expires_in_days": 11}),
    ] {
        let before = app.items().await;
        let resp = app.call(&Event::create(body.clone()).by(&caller)).await;
        resp.assert_error(403, "forbidden");
        assert!(resp.text.contains("outlives"), "{}", resp.text);
        assert_eq!(app.items().await, before, "{body}");
    }
    let shorter = app
        .call(&Event::create(json!({"name": "ok", "expires_in_days": 9})).by(&caller))
        .await;
    assert_eq!(shorter.status, 201, "{}", shorter.text);

    let (_, admin) = app
        .seed_with("root", &["admin"], now, Some(now.plus_days(1)))
        .await;
    let forever = app
        .call(&Event::create(json!({"name": "admin made"})).by(&admin))
        .await;
    assert_eq!(forever.status, 201, "{}", forever.text);
}

/// SPEC §2: at most MAX_ACTIVE_KEYS_PER_OWNER active keys; revoked and expired ones do not
/// count, and the refusal writes nothing.
#[tokio::test]
async fn an_owner_at_the_active_key_limit_gets_409_key_limit_reached() {
    let mut app = App::new("keylimit").await;
    app.state.config.max_active_keys_per_owner = 3;
    let now = Timestamp::now();
    let caller = app.seed("alice", &["*"]).await;
    app.seed_with(
        "alice",
        &["*"],
        now.plus_secs(-100),
        Some(now.plus_secs(-1)),
    )
    .await;
    let revoked = app.seed("alice", &["*"]).await;
    let revoke = app
        .call(&Event::revoke(revoked.id.as_str()).by(&caller))
        .await;
    assert_eq!(revoke.status, 200);
    app.seed("alice", &["*"]).await;
    testkit::settle(&app.state.store).await;

    let third = app
        .call(&Event::create(json!({"name": "third"})).by(&caller))
        .await;
    assert_eq!(third.status, 201, "{}", third.text);
    testkit::settle(&app.state.store).await;
    let before = app.items().await;
    let fourth = app
        .call(&Event::create(json!({"name": "fourth"})).by(&caller))
        .await;
    fourth.assert_error(409, "key_limit_reached");
    assert!(fourth.text.contains("revoke one"), "{}", fourth.text);
    assert_eq!(app.items().await, before);

    // Another owner is not affected.
    let bob = app.seed("bob", &["*"]).await;
    let theirs = app
        .call(&Event::create(json!({"name": "bob's"})).by(&bob))
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
}

/// SPEC §10: every key has a plan; admins choose it, everyone else gets the default (and may
/// name it); an unknown plan is 400 for everyone; a refused create writes nothing; rotation
/// keeps the plan.
#[tokio::test]
async fn plans_are_chosen_by_admins_and_kept_by_rotation() {
    let app = App::new("plans").await;
    let admin = app.seed("root", &["admin"]).await;
    let user = app.seed("ann", &["*"]).await;

    let made = app
        .call(&Event::create(json!({"name": "a"})).by(&user))
        .await;
    assert_eq!((made.status, &made.body["plan"]), (201, &json!("free")));
    let named = app
        .call(&Event::create(json!({"name": "b", "plan": "free"})).by(&user))
        .await;
    assert_eq!((named.status, &named.body["plan"]), (201, &json!("free")));

    let before = app.items().await;
    let refused = app
        .call(&Event::create(json!({"name": "c", "plan": "pro"})).by(&user))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "forbidden");
    for caller in [&user, &admin] {
        let unknown = app
            .call(&Event::create(json!({"name": "d", "plan": "gold"})).by(caller))
            .await;
        assert_eq!(unknown.status, 400, "{}", unknown.text);
        assert!(unknown.text.contains("unknown plan"), "{}", unknown.text);
    }
    let malformed = app
        .call(&Event::create(json!({"name": "e", "plan": 5})).by(&admin))
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    assert_eq!(app.items().await, before, "refused creates wrote nothing");

    let pro = app
        .call(&Event::create(json!({"name": "f", "plan": "pro", "owner_id": "ann"})).by(&admin))
        .await;
    assert_eq!((pro.status, &pro.body["plan"]), (201, &json!("pro")));
    let id = pro.body["id"].as_str().expect("id");
    let rotated = app.call(&Event::rotate(id, None).by(&admin)).await;
    assert_eq!(rotated.status, 201, "{}", rotated.text);
    assert_eq!(rotated.body["plan"], "pro");
    assert_eq!(rotated.body["rotated_from"]["plan"], "pro");
    let listed = app.call(&Event::get(id).by(&admin)).await;
    assert_eq!(listed.body["plan"], "pro");
}
