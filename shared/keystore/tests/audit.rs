//! The audit log (SPEC §11) against DynamoDB Local: every change writes its event in the
//! change's own transaction, a change that fails leaves none, and the log reads back by
//! audience, newest first, filtered and paged.

use std::time::{Duration, Instant};

use apikey::{KeyName, KeyPrefix, OwnerId, ScopeSet, Timestamp};
use keystore::audit::{ALL, Value, owner_part};
use keystore::{
    Access, Action, Actor, Audit, AuditEvent, AuditQuery, KeyChanges, KeyRecord, KeyStore, NewKey,
    StoreError,
};
use testkit::{audit_count, fresh_store};

const T0: Timestamp = Timestamp::from_epoch_secs(1_700_000_000);

fn owner(s: &str) -> OwnerId {
    OwnerId::parse(s).expect("valid owner")
}

fn record(who: &str, at: Timestamp) -> KeyRecord {
    let new = NewKey {
        owner_id: owner(who),
        name: KeyName::parse("laptop").expect("valid name"),
        description: None,
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: None,
        plan: None,
    };
    KeyRecord::issue(&KeyPrefix::default(), new, at)
        .expect("os rng")
        .1
}

/// A key of `owner` acting through the API, from a known address.
fn by_key(key: &KeyRecord) -> Audit {
    Audit {
        actor: Actor::Key {
            key_id: key.id.clone(),
            owner_id: key.owner_id.clone(),
        },
        request_id: Some("req-1".into()),
        source_ip: Some("203.0.113.7".into()),
        user_agent: Some("podcast-app/3.2".into()),
    }
}

fn query(part: &str) -> AuditQuery {
    AuditQuery {
        limit: 100,
        ..AuditQuery::of(part)
    }
}

/// The audience's events once the index shows `expected` of them (it is eventually
/// consistent), newest first.
async fn events(store: &KeyStore, part: &str, expected: usize) -> Vec<AuditEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = store.audit_log(&query(part)).await.expect("audit log");
        if page.events.len() >= expected || Instant::now() > deadline {
            return page.events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_change_writes_its_event_with_who_what_and_from_where() {
    let store = fresh_store("auditall").await;
    let key = record("alice", T0);
    store.create(&key, &by_key(&key)).await.expect("create");
    let changes = KeyChanges {
        name: Some(KeyName::parse("phone").expect("name")),
        scopes: Some(ScopeSet::parse_spaced("podcasts:read").expect("scopes")),
        ..KeyChanges::default()
    };
    let updated = store
        .update(&key, &changes, T0.plus_secs(10), &by_key(&key))
        .await
        .expect("update");
    let successor = record("alice", T0.plus_secs(20));
    let rotation = store
        .rotate(&updated, &successor, 60, T0.plus_secs(20), &by_key(&key))
        .await
        .expect("rotate");
    store
        .revoke(
            &rotation.new.id,
            &Access::Admin,
            T0.plus_secs(30),
            &Audit::cli(),
        )
        .await
        .expect("revoke");

    let log = events(&store, &owner_part("alice"), 5).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    // Newest first; the rotation's two events share a second, so their order is the ids'.
    assert_eq!(actions[0], "key.revoked");
    let mut middle = actions[1..3].to_vec();
    middle.sort_unstable();
    assert_eq!(middle, ["key.created", "key.rotated"]);
    assert_eq!(actions[3..], ["key.updated", "key.created"]);

    let created = &log[4];
    assert!(
        created.id.starts_with("evt_") && created.id.len() == 24,
        "{}",
        created.id
    );
    assert_eq!(created.target.key_id, key.id.as_str());
    assert_eq!(created.target.owner_id, "alice");
    assert_eq!(created.target.hint, key.hint);
    assert_eq!(created.actor_kind, "key");
    assert_eq!(created.actor_key_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(created.request_id.as_deref(), Some("req-1"));
    assert_eq!(created.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(created.user_agent.as_deref(), Some("podcast-app/3.2"));
    assert_eq!(created.time, T0);

    let update = &log[3];
    let fields: Vec<(&str, &Value, &Value)> = update
        .changes
        .iter()
        .map(|c| (c.field.as_str(), &c.from, &c.to))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "name",
                &Value::Text("laptop".into()),
                &Value::Text("phone".into())
            ),
            (
                "scopes",
                &Value::List(vec!["*".into()]),
                &Value::List(vec!["podcasts:read".into()])
            ),
        ],
        "{:?}",
        update.changes
    );
    assert_eq!(update.target.name, "phone");

    let rotated = log
        .iter()
        .find(|e| e.action == Action::Rotated)
        .expect("rotated");
    let new = log[1..3]
        .iter()
        .find(|e| e.action == Action::Created)
        .expect("the successor's creation");
    assert!(rotated.correlation_id.is_some());
    assert_eq!(rotated.correlation_id, new.correlation_id);
    assert_eq!(rotated.target.key_id, key.id.as_str());
    assert_eq!(new.target.key_id, successor.id.as_str());

    assert_eq!(log[0].actor_kind, "cli");
    assert_eq!(log[0].actor_key_id, None);
    assert_eq!(log[0].target.key_id, successor.id.as_str());

    // Never a key's hash (nor, by construction, the key) in an audit item.
    let raw = store.raw_items().await.expect("scan");
    for item in raw
        .iter()
        .filter(|i| i.iter().any(|(k, v)| k == "pk" && v.contains("audit#")))
    {
        let text = format!("{item:?}");
        for hash in [key.hash.to_hex(), successor.hash.to_hex()] {
            assert!(!text.contains(&hash), "a hash in {text}");
        }
    }
}

#[tokio::test]
async fn a_change_that_fails_leaves_no_event_and_a_repeat_revoke_adds_none() {
    let store = fresh_store("auditfail").await;
    let key = record("alice", T0);
    store.create(&key, &Audit::system()).await.expect("create");
    let written = audit_count(&store).await;
    assert_eq!(written, 2, "one item for admins, one for the owner");

    // The same key again: the transaction fails as a whole.
    assert!(matches!(
        store.create(&key, &Audit::system()).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(audit_count(&store).await, written);
    // A changed nothing: no event.
    let same = KeyChanges {
        name: Some(key.name.clone()),
        ..KeyChanges::default()
    };
    store
        .update(&key, &same, T0.plus_secs(1), &Audit::system())
        .await
        .expect("a no-op update");
    assert_eq!(audit_count(&store).await, written);
    // Revoked once: one event, however often it is asked again.
    let admin = Access::Admin;
    store
        .revoke(&key.id, &admin, T0.plus_secs(2), &Audit::system())
        .await
        .expect("revoke");
    let revoked = audit_count(&store).await;
    assert_eq!(revoked, written + 2);
    let again = store
        .revoke(&key.id, &admin, T0.plus_secs(3), &Audit::system())
        .await
        .expect("revoke again");
    assert_eq!(again.revoked_at, Some(T0.plus_secs(2)));
    assert_eq!(audit_count(&store).await, revoked);
    // Changes refused on a revoked key: no event.
    let rename = KeyChanges {
        name: Some(KeyName::parse("other").expect("name")),
        ..KeyChanges::default()
    };
    let refused = store
        .update(&again, &rename, T0.plus_secs(4), &Audit::system())
        .await;
    assert!(matches!(refused, Err(StoreError::NotActive)), "{refused:?}");
    let rotated = store
        .rotate(
            &again,
            &record("alice", T0.plus_secs(5)),
            0,
            T0.plus_secs(5),
            &Audit::system(),
        )
        .await;
    assert!(rotated.is_err(), "{rotated:?}");
    assert_eq!(audit_count(&store).await, revoked);
}

#[tokio::test]
async fn each_audience_sees_its_events_filtered_and_paged() {
    let store = fresh_store("auditread").await;
    // ops (an admin's key) creates a key for alice; alice creates one herself; bob one.
    let ops = record("ops", T0);
    store.create(&ops, &Audit::system()).await.expect("ops");
    let for_alice = record("alice", T0.plus_secs(10));
    store
        .create(&for_alice, &by_key(&ops))
        .await
        .expect("alice");
    let alices = record("alice", T0.plus_secs(20));
    store
        .create(&alices, &by_key(&for_alice))
        .await
        .expect("own");
    let bobs = record("bob", T0.plus_secs(30));
    store.create(&bobs, &Audit::system()).await.expect("bob");

    let all = events(&store, ALL, 4).await;
    assert_eq!(all.len(), 4);
    let alice = events(&store, &owner_part("alice"), 2).await;
    let targets: Vec<&str> = alice.iter().map(|e| e.target.key_id.as_str()).collect();
    assert_eq!(targets, [alices.id.as_str(), for_alice.id.as_str()]);
    // ops acted on alice's key: ops sees that too.
    let by_ops = events(&store, &owner_part("ops"), 2).await;
    let targets: Vec<&str> = by_ops.iter().map(|e| e.target.key_id.as_str()).collect();
    assert_eq!(targets, [for_alice.id.as_str(), ops.id.as_str()]);
    assert!(
        events(&store, &owner_part("bob"), 1)
            .await
            .iter()
            .all(|e| e.target.owner_id == "bob")
    );

    // By key (target or actor), by action, by time.
    let mut q = query(ALL);
    q.key_id = Some(for_alice.id.as_str().to_owned());
    let about = store.audit_log(&q).await.expect("by key").events;
    assert_eq!(about.len(), 2, "created, and the actor of alice's own key");
    q.key_id = None;
    q.action = Some(Action::Revoked);
    assert!(
        store
            .audit_log(&q)
            .await
            .expect("by action")
            .events
            .is_empty()
    );
    q.action = Some(Action::Created);
    q.since = Some(T0.plus_secs(10));
    q.until = Some(T0.plus_secs(20));
    let window: Vec<String> = store
        .audit_log(&q)
        .await
        .expect("by time")
        .events
        .into_iter()
        .map(|e| e.target.key_id)
        .collect();
    assert_eq!(window, [alices.id.as_str(), for_alice.id.as_str()]);

    // Pages of one, newest first, the cursor bound to its audience.
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let mut q = query(ALL);
        q.limit = 1;
        q.cursor = cursor;
        let page = store.audit_log(&q).await.expect("page");
        assert!(page.events.len() <= 1);
        seen.extend(page.events.into_iter().map(|e| e.target.key_id));
        match page.next {
            Some(next) => {
                let mut elsewhere = query(&owner_part("bob"));
                elsewhere.cursor = Some(next.clone());
                assert!(matches!(
                    store.audit_log(&elsewhere).await,
                    Err(StoreError::InvalidCursor)
                ));
                cursor = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            bobs.id.as_str(),
            alices.id.as_str(),
            for_alice.id.as_str(),
            ops.id.as_str()
        ]
    );
}
