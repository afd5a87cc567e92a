//! Rotation in one call (SPEC §3), against DynamoDB Local.

use std::sync::Arc;

use apikey::Timestamp;
use serde_json::{Value, json};

use crate::helpers::{App, Event};

async fn outcome(app: &App, key: &str) -> Result<(), String> {
    let event = Event::authorizer_for("GET", "/api/v1/podcasts/1", key);
    match app.authorize(&event).await {
        Ok(r) if r.context.get("owner_id").is_some() => Ok(()),
        Ok(r) => Err(r.context["error_code"]
            .as_str()
            .unwrap_or("deny")
            .to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn rotation_copies_the_key_and_links_old_and_new() {
    let app = App::new("rotate").await;
    let caller = app.seed("alice", &["*"]).await;
    let created = app
        .call(&Event::create(json!({
            "name": "ci", "description": "pipeline", "scopes": ["podcasts:read"], "expires_in_days": 10
        })).by(&caller))
        .await;
    let old_id = created.body["id"].as_str().expect("id").to_owned();
    let before = app.state.clock.now();
    let resp = app.call(&Event::rotate(&old_id, None).by(&caller)).await;
    let after = app.state.clock.now();
    assert_eq!(resp.status, 201, "{}", resp.text);
    let new = &resp.body;
    let new_id = new["id"].as_str().expect("new id");
    assert_ne!(new_id, old_id);
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/v1/auth/api-keys/{new_id}").as_str())
    );
    for field in ["name", "description", "scopes", "owner_id"] {
        assert_eq!(new[field], created.body[field], "{field} copied");
    }
    assert_eq!(new["status"], "active");
    assert!(new["key"].as_str().is_some_and(|k| k.starts_with("pod_")));
    let old = &new["rotated_from"];
    assert_eq!(
        old["id"],
        old_id.as_str(),
        "rotated_from is the old key's object"
    );
    assert_eq!(old["rotated_to"], new_id);
    assert_eq!(old["status"], "active", "inside its grace");
    // Once at the top (the old key's object) and once inside it (its own, null): never twice
    // at the top, which a flattened key object would have produced.
    assert_eq!(
        resp.text.matches("\"rotated_from\"").count(),
        2,
        "{}",
        resp.text
    );
    assert_eq!(old["rotated_from"], Value::Null);

    // The same lifetime from now: created with 10 days, so the new key ends ~10 days out.
    let stored_new = app.call(&Event::get(new_id).by(&caller)).await.body;
    let stored_old = app.call(&Event::get(&old_id).by(&caller)).await.body;
    assert_eq!(stored_old["rotated_to"], new_id);
    assert_eq!(stored_new["rotated_from"], old_id.as_str());
    // (Read between the clock before and after the rotation: comparing to the hour failed
    // when an hour began between the rotation and the test's reading of the clock.)
    let ends = |v: &Value| {
        Timestamp::parse_rfc3339(v["expires_at"].as_str().expect("expiry")).expect("rfc3339")
    };
    let within =
        |t: Timestamp, days: i64| before.plus_days(days) <= t && t <= after.plus_days(days);
    assert!(within(ends(&stored_new), 10), "{stored_new}");
    // The old key now ends within the default grace of a day (sooner than its 10 days).
    assert!(within(ends(&stored_old), 1), "{stored_old}");
}

#[tokio::test]
async fn the_new_key_works_at_once_and_the_old_one_until_its_grace_ends() {
    let app = App::new("rotategrace").await;
    let caller = app.seed("alice", &["*"]).await;
    let (old_key, old) = app.seed_key("alice", &["podcasts:read"]).await;
    let resp = app
        .call(&Event::rotate(old.id.as_str(), Some(r#"{"grace_period_seconds":60}"#)).by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let new_key = resp.body["key"].as_str().expect("key").to_owned();
    assert_eq!(outcome(&app, &new_key).await, Ok(()));
    assert_eq!(
        outcome(&app, &old_key).await,
        Ok(()),
        "still inside its grace"
    );
    // (A grace of 2 s once ran out in real time on a loaded machine; 60 s is passed only by
    // moving the clock.)
    app.advance(60);
    assert_eq!(outcome(&app, &old_key).await, Err("key_expired".into()));
    assert_eq!(outcome(&app, &new_key).await, Ok(()));
}

#[tokio::test]
async fn a_grace_of_zero_revokes_the_old_key_now() {
    let app = App::new("rotatezero").await;
    let caller = app.seed("alice", &["*"]).await;
    let (old_key, old) = app.seed_key("alice", &["podcasts:read"]).await;
    let resp = app
        .call(&Event::rotate(old.id.as_str(), Some(r#"{"grace_period_seconds":0}"#)).by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(outcome(&app, &old_key).await, Err("key_revoked".into()));
}

#[tokio::test]
async fn rotation_never_extends_the_old_keys_life() {
    let app = App::new("rotatesooner").await;
    let caller = app.seed("alice", &["*"]).await;
    let now = Timestamp::now();
    let soon = now.plus_secs(100);
    let (_, old) = app.seed_with("alice", &["*"], now, Some(soon)).await;
    let resp = app
        .call(&Event::rotate(old.id.as_str(), None).by(&caller))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let stored = app
        .state
        .store
        .get_by_id(&old.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(stored.expires_at, Some(soon));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_concurrent_rotations_exactly_one_wins() {
    let app = Arc::new(App::new("rotaterace").await);
    let caller = app.seed("alice", &["*"]).await;
    let target = app.seed("alice", &["podcasts:read"]).await;
    let before = app.items().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, caller, id) = (app.clone(), caller.clone(), target.id.to_string());
            tokio::spawn(async move { app.call(&Event::rotate(&id, None).by(&caller)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let resp = t.await.expect("task");
        if resp.status == 409 {
            assert!(
                ["already_rotated", "key_not_active", "conflict"].contains(&resp.code()),
                "{}",
                resp.text
            );
        }
        statuses.push(resp.status);
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 409).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(
        app.items().await,
        before + 2,
        "exactly one new key (and its id item)"
    );
}

#[tokio::test]
async fn a_rotated_key_cannot_be_rotated_again_and_ended_keys_not_at_all() {
    let app = App::new("rotateagain").await;
    let caller = app.seed("alice", &["*"]).await;
    let target = app.seed("alice", &["podcasts:read"]).await;
    assert_eq!(
        app.call(&Event::rotate(target.id.as_str(), None).by(&caller))
            .await
            .status,
        201
    );
    app.call(&Event::rotate(target.id.as_str(), None).by(&caller))
        .await
        .assert_error(409, "already_rotated");

    let revoked = app.seed("alice", &["podcasts:read"]).await;
    app.call(&Event::revoke(revoked.id.as_str()).by(&caller))
        .await;
    app.call(&Event::rotate(revoked.id.as_str(), None).by(&caller))
        .await
        .assert_error(409, "key_not_active");

    let now = Timestamp::now();
    let (_, expired) = app
        .seed_with("alice", &["*"], now.plus_secs(-10), Some(now.plus_secs(-1)))
        .await;
    app.call(&Event::rotate(expired.id.as_str(), None).by(&caller))
        .await
        .assert_error(409, "key_not_active");
}

#[tokio::test]
async fn another_owners_key_is_not_found_and_bad_bodies_write_nothing() {
    let app = App::new("rotatebad").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let weak = app.seed("alice", &["keys:write"]).await;
    let before = app.items().await;
    app.call(&Event::rotate(alice.id.as_str(), None).by(&bob))
        .await
        .assert_error(404, "not_found");
    app.call(&Event::rotate(alice.id.as_str(), None).by(&weak))
        .await
        .assert_error(403, "forbidden");
    for body in [
        r#"{"grace_period_seconds":-1}"#,
        r#"{"grace_period_seconds":2592001}"#,
        r#"{"grace_period_seconds":"60"}"#,
        r#"{"grace_period_seconds":1.5}"#,
        r#"{"grace":60}"#,
        r#"[60]"#,
        r#"{"grace_period_seconds":60"#,
    ] {
        app.call(&Event::rotate(alice.id.as_str(), Some(body)).by(&alice))
            .await
            .assert_error(400, "invalid_request");
    }
    app.call(&Event::rotate("key_nope", None).by(&alice))
        .await
        .assert_error(404, "not_found");
    assert_eq!(app.items().await, before);
}

/// SPEC §2: rotation may not mint a key that outlives the (non-admin) caller either.
#[tokio::test]
async fn a_key_cannot_rotate_another_into_a_key_that_outlives_it() {
    let app = App::new("rotoutlive").await;
    let now = Timestamp::now();
    let (_, caller) = app
        .seed_with("alice", &["*"], now, Some(now.plus_days(10)))
        .await;
    let (_, forever) = app.seed_with("alice", &["*"], now, None).await;
    let (_, month) = app
        .seed_with("alice", &["*"], now, Some(now.plus_days(30)))
        .await;
    for target in [&forever, &month] {
        let before = app.items().await;
        let resp = app
            .call(&Event::rotate(target.id.as_str(), None).by(&caller))
            .await;
        resp.assert_error(403, "forbidden");
        assert!(resp.text.contains("outlives"), "{}", resp.text);
        assert_eq!(app.items().await, before);
    }
    let (_, week) = app
        .seed_with("alice", &["*"], now, Some(now.plus_days(7)))
        .await;
    let ok = app
        .call(&Event::rotate(week.id.as_str(), None).by(&caller))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}
