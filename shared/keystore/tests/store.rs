//! The key store against the real DynamoDB Local: one fresh table per test.

use keystore::Audit;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use apikey::{ApiKey, KeyId, KeyName, KeyPrefix, KeyStatus, OwnerId, ScopeSet, Timestamp};
use keystore::client::ClientSettings;
use keystore::{
    Access, KeyRecord, KeyStore, Listing, NewKey, StoreError, TableCreation, create_table,
};
use testkit::{fresh_store, item_count, local_client};

const T0: Timestamp = Timestamp::from_epoch_secs(1_700_000_000);

fn owner(s: &str) -> OwnerId {
    OwnerId::parse(s).expect("valid owner")
}

fn new_key(who: &str, name: &str) -> NewKey {
    NewKey {
        owner_id: owner(who),
        name: KeyName::parse(name).expect("valid name"),
        description: None,
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: None,
        plan: None,
    }
}

async fn issue(store: &KeyStore, new: NewKey, at: Timestamp) -> (ApiKey, KeyRecord) {
    let (key, record) = KeyRecord::issue(&KeyPrefix::default(), new, at).expect("os rng");
    store.create(&record, &SYSTEM).await.expect("create");
    (key, record)
}

async fn ids_of_listing(
    store: &KeyStore,
    listing: &Listing,
    status: Option<KeyStatus>,
    limit: usize,
) -> (Vec<KeyId>, usize) {
    testkit::settle(store).await;
    let (mut ids, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let page = store
            .list(
                listing,
                status,
                limit,
                cursor.as_deref(),
                T0.plus_secs(1_000),
            )
            .await
            .expect("list");
        pages += 1;
        assert!(page.keys.len() <= limit);
        ids.extend(page.keys.into_iter().map(|k| k.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (ids, pages),
        }
        assert!(pages < 100, "pagination does not end");
    }
}

#[tokio::test]
async fn a_created_key_is_found_by_hash_and_by_id() {
    let store = fresh_store("roundtrip").await;
    let (key, record) = issue(&store, new_key("alice", "laptop"), T0).await;
    assert_eq!(
        store.get_by_hash(&key.hash()).await.expect("get"),
        Some(record.clone())
    );
    assert_eq!(
        store.get_by_id(&record.id).await.expect("get"),
        Some(record.clone())
    );
    assert_eq!(record.status(T0), KeyStatus::Active);
    assert_eq!(item_count(&store).await, 2, "one key item and one id item");
}

#[tokio::test]
async fn unknown_hashes_and_ids_are_not_found() {
    let store = fresh_store("unknown").await;
    let stranger = ApiKey::generate(&KeyPrefix::default()).expect("os rng");
    assert_eq!(
        store.get_by_hash(&stranger.hash()).await.expect("get"),
        None
    );
    let id = KeyId::generate().expect("os rng");
    assert_eq!(store.get_by_id(&id).await.expect("get"), None);
}

#[tokio::test]
async fn creating_over_an_existing_hash_or_id_is_a_conflict_and_overwrites_nothing() {
    let store = fresh_store("conflict").await;
    let (_, original) = issue(&store, new_key("alice", "original"), T0).await;

    let mut same_hash = KeyRecord::issue(&KeyPrefix::default(), new_key("mallory", "x"), T0)
        .expect("os rng")
        .1;
    same_hash.hash = original.hash;
    assert!(matches!(
        store.create(&same_hash, &SYSTEM).await,
        Err(StoreError::Conflict)
    ));

    let mut same_id = KeyRecord::issue(&KeyPrefix::default(), new_key("mallory", "y"), T0)
        .expect("os rng")
        .1;
    same_id.id = original.id.clone();
    assert!(matches!(
        store.create(&same_id, &SYSTEM).await,
        Err(StoreError::Conflict)
    ));

    assert_eq!(
        item_count(&store).await,
        2,
        "neither half of a failed create is written"
    );
    assert_eq!(
        store.get_by_hash(&original.hash).await.expect("get"),
        Some(original.clone())
    );
    assert_eq!(
        store.get_by_id(&original.id).await.expect("get"),
        Some(original)
    );
}

#[tokio::test]
async fn the_table_holds_the_hash_and_hint_but_never_the_plaintext_key() {
    let store = fresh_store("plaintext").await;
    let (key, record) = issue(&store, new_key("alice", "laptop"), T0).await;
    let secret_part = &key.expose_secret()[8..];
    let items = store.raw_items().await.expect("scan");
    let everything: String = items
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    assert!(everything.contains(&record.hash.to_hex()));
    assert!(everything.contains(&record.hint));
    assert!(!everything.contains(key.expose_secret()));
    assert!(!everything.contains(secret_part));
}

#[tokio::test]
async fn an_owners_listing_pages_newest_first_through_every_key_exactly_once() {
    let store = fresh_store("pages").await;
    let mut created = Vec::new();
    for i in 0..23 {
        let (_, r) = issue(&store, new_key("alice", &format!("k{i}")), T0.plus_secs(i)).await;
        created.push(r.id);
    }
    issue(&store, new_key("bob", "not alice's"), T0.plus_secs(5)).await;

    let (ids, pages) = ids_of_listing(&store, &Listing::Owner(owner("alice")), None, 5).await;
    created.reverse();
    assert_eq!(ids, created, "newest first, each key once");
    assert_eq!(pages, 5, "23 keys in pages of 5");
}

#[tokio::test]
async fn keys_created_in_the_same_second_are_paged_without_loss_or_repeats() {
    let store = fresh_store("ties").await;
    let mut created = HashSet::new();
    for i in 0..12 {
        created.insert(
            issue(&store, new_key("alice", &format!("k{i}")), T0)
                .await
                .1
                .id,
        );
    }
    let (ids, pages) = ids_of_listing(&store, &Listing::Owner(owner("alice")), None, 4).await;
    assert_eq!(ids.len(), 12);
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), created);
    assert_eq!(pages, 3, "exactly 3 full pages and no empty fourth");
}

#[tokio::test]
async fn listings_filter_by_status_and_fill_pages_while_the_matches_lie_within_the_budget() {
    let store = fresh_store("status").await;
    let now = T0.plus_secs(1_000);
    let (mut active, mut revoked, mut expired) = (HashSet::new(), HashSet::new(), HashSet::new());
    for i in 0..30 {
        let mut new = new_key("alice", &format!("k{i}"));
        if i % 3 == 1 {
            new.expires_at = Some(T0.plus_secs(10)); // before `now`
        }
        let (_, r) = issue(&store, new, T0.plus_secs(i)).await;
        match i % 3 {
            0 => active.insert(r.id),
            1 => expired.insert(r.id),
            _ => {
                store
                    .revoke(&r.id, &Access::Admin, now, &SYSTEM)
                    .await
                    .expect("revoke");
                revoked.insert(r.id)
            }
        };
    }
    testkit::settle(&store).await;
    let alice = Listing::Owner(owner("alice"));
    for (status, want) in [
        (KeyStatus::Active, &active),
        (KeyStatus::Expired, &expired),
        (KeyStatus::Revoked, &revoked),
    ] {
        let first = store
            .list(&alice, Some(status), 4, None, now)
            .await
            .expect("list");
        assert_eq!(
            first.keys.len(),
            4,
            "{status}: a full first page despite the filter"
        );
        assert!(first.keys.iter().all(|k| k.status(now) == status));
        let (ids, _) = ids_of_listing(&store, &alice, Some(status), 4).await;
        assert_eq!(&ids.into_iter().collect::<HashSet<_>>(), want, "{status}");
    }
}

#[tokio::test]
async fn a_cursor_only_works_for_the_listing_that_issued_it() {
    let store = fresh_store("cursor").await;
    for i in 0..3 {
        issue(&store, new_key("alice", "a"), T0.plus_secs(i)).await;
        issue(&store, new_key("bob", "b"), T0.plus_secs(i)).await;
    }
    testkit::settle(&store).await;
    let alice = Listing::Owner(owner("alice"));
    let page = store.list(&alice, None, 1, None, T0).await.expect("list");
    let cursor = page.next_cursor.expect("more pages");
    assert!(store.list(&alice, None, 1, Some(&cursor), T0).await.is_ok());

    let bob = Listing::Owner(owner("bob"));
    for (listing, c) in [
        (&bob, cursor.as_str()),
        (&Listing::All, cursor.as_str()),
        (&alice, "not-base64!"),
        (&alice, ""),
        (&alice, "MSBvIDEgeHl6IGFsaWNl"), // "1 o 1 xyz alice": bad hash
        (&alice, &"A".repeat(600)),
    ] {
        assert!(
            matches!(
                store.list(listing, None, 1, Some(c), T0).await,
                Err(StoreError::InvalidCursor)
            ),
            "{listing:?} {c}"
        );
    }
}

#[tokio::test]
async fn the_admin_listing_covers_every_owner_newest_first() {
    let store = fresh_store("all").await;
    let mut created = Vec::new();
    for i in 0..7 {
        let who = ["alice", "bob", "carol"][i % 3];
        created.push(
            issue(&store, new_key(who, "k"), T0.plus_secs(i as i64))
                .await
                .1
                .id,
        );
    }
    created.reverse();
    let (ids, pages) = ids_of_listing(&store, &Listing::All, None, 3).await;
    assert_eq!(ids, created);
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn revoking_is_idempotent_and_keeps_the_first_revocation_time() {
    let store = fresh_store("revoke").await;
    let (key, r) = issue(&store, new_key("alice", "k"), T0).await;
    let access = Access::Owner(owner("alice"));
    let first = store
        .revoke(&r.id, &access, T0.plus_secs(10), &SYSTEM)
        .await
        .expect("revoke");
    assert_eq!(first.revoked_at, Some(T0.plus_secs(10)));
    assert_eq!(first.status(T0.plus_secs(11)), KeyStatus::Revoked);
    let again = store
        .revoke(&r.id, &access, T0.plus_secs(99), &SYSTEM)
        .await
        .expect("revoke");
    assert_eq!(again, first);
    let seen = store
        .get_by_hash(&key.hash())
        .await
        .expect("get")
        .expect("still stored");
    assert_eq!(seen.revoked_at, Some(T0.plus_secs(10)));
}

#[tokio::test]
async fn revocation_schedules_both_items_for_purging_after_the_retention_period() {
    let store = fresh_store("purge")
        .await
        .with_retention(Duration::from_secs(3_600));
    let (_, r) = issue(&store, new_key("alice", "k"), T0).await;
    store
        .revoke(&r.id, &Access::Admin, T0.plus_secs(10), &SYSTEM)
        .await
        .expect("revoke");
    let purge = format!("N(\"{}\")", T0.plus_secs(3_610).epoch_secs());
    // The key and its id item; audit events keep their own retention (SPEC §11).
    let items: Vec<_> = store
        .raw_items()
        .await
        .expect("scan")
        .into_iter()
        .filter(|item| !item.iter().any(|(k, v)| k == "pk" && v.contains("audit#")))
        .collect();
    assert_eq!(items.len(), 2);
    for item in items {
        assert!(
            item.contains(&("purge_at".into(), purge.clone())),
            "{item:?}"
        );
    }
}

#[tokio::test]
async fn only_the_owner_or_an_admin_can_revoke_and_others_see_not_found() {
    let store = fresh_store("owner").await;
    let (_, r) = issue(&store, new_key("alice", "k"), T0).await;
    let bob = Access::Owner(owner("bob"));
    assert!(matches!(
        store.revoke(&r.id, &bob, T0, &SYSTEM).await,
        Err(StoreError::NotFound)
    ));
    let untouched = store.get_by_id(&r.id).await.expect("get").expect("exists");
    assert_eq!(untouched.revoked_at, None);
    let by_admin = store
        .revoke(&r.id, &Access::Admin, T0, &SYSTEM)
        .await
        .expect("admin revokes");
    assert_eq!(by_admin.revoked_at, Some(T0));
}

#[tokio::test]
async fn revoking_an_unknown_id_is_not_found_and_writes_nothing() {
    let store = fresh_store("revoke404").await;
    let id = KeyId::generate().expect("os rng");
    assert!(matches!(
        store.revoke(&id, &Access::Admin, T0, &SYSTEM).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(item_count(&store).await, 0);
}

#[tokio::test]
async fn last_used_is_written_once_per_interval_and_never_creates_or_revives_items() {
    let store = fresh_store("touch").await;
    let (key, r) = issue(&store, new_key("alice", "k"), T0).await;
    let minute = Duration::from_secs(60);
    assert!(
        store
            .touch_last_used(&key.hash(), T0.plus_secs(1), minute)
            .await
            .expect("touch")
    );
    assert!(
        !store
            .touch_last_used(&key.hash(), T0.plus_secs(30), minute)
            .await
            .expect("touch")
    );
    assert!(
        store
            .touch_last_used(&key.hash(), T0.plus_secs(61), minute)
            .await
            .expect("touch")
    );
    let seen = store
        .get_by_hash(&key.hash())
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(seen.last_used_at, Some(T0.plus_secs(61)));

    let stranger = ApiKey::generate(&KeyPrefix::default()).expect("os rng");
    assert!(
        !store
            .touch_last_used(&stranger.hash(), T0, minute)
            .await
            .expect("touch")
    );
    assert_eq!(
        item_count(&store).await,
        2,
        "no item created for an unknown hash"
    );

    store
        .revoke(&r.id, &Access::Admin, T0.plus_secs(100), &SYSTEM)
        .await
        .expect("revoke");
    assert!(
        !store
            .touch_last_used(&key.hash(), T0.plus_secs(500), minute)
            .await
            .expect("touch")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_creates_give_a_hundred_distinct_readable_keys() {
    let store = fresh_store("parallel").await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { issue(&store, new_key("alice", &format!("k{i}")), T0).await })
        })
        .collect();
    let mut hashes = HashSet::new();
    let mut ids = HashSet::new();
    for t in tasks {
        let (key, r) = t.await.expect("task");
        assert_eq!(
            store.get_by_hash(&key.hash()).await.expect("get").as_ref(),
            Some(&r)
        );
        assert_eq!(
            store.get_by_id(&r.id).await.expect("get").as_ref(),
            Some(&r)
        );
        hashes.insert(r.hash);
        ids.insert(r.id);
    }
    assert_eq!((hashes.len(), ids.len()), (100, 100));
    assert_eq!(item_count(&store).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_revocations_all_succeed_with_one_revocation_time() {
    let store = fresh_store("racerevoke").await;
    let (_, r) = issue(&store, new_key("alice", "k"), T0).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (store, id) = (store.clone(), r.id.clone());
            tokio::spawn(async move {
                store
                    .revoke(
                        &id,
                        &Access::Owner(owner("alice")),
                        T0.plus_secs(i),
                        &SYSTEM,
                    )
                    .await
            })
        })
        .collect();
    let mut times = HashSet::new();
    for t in tasks {
        times.insert(
            t.await
                .expect("task")
                .expect("every revoke succeeds")
                .revoked_at,
        );
    }
    assert_eq!(times.len(), 1, "one revoked_at: {times:?}");
    let stored = store.get_by_id(&r.id).await.expect("get").expect("exists");
    assert!(times.contains(&stored.revoked_at));
}

#[tokio::test]
async fn creating_the_table_twice_is_harmless() {
    let client = local_client();
    let name = testkit::unique_table_name("twice");
    assert_eq!(
        create_table(&client, &name).await.expect("create"),
        TableCreation::Created
    );
    assert_eq!(
        create_table(&client, &name).await.expect("again"),
        TableCreation::AlreadyExisted
    );
}

/// The view type of `table`'s stream, `None` without one.
async fn stream_of(client: &keystore::Client, table: &str) -> Option<String> {
    let described = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe");
    let spec = described.table()?.stream_specification()?;
    spec.stream_enabled()
        .then(|| spec.stream_view_type().map(|v| v.as_str().to_owned()))
        .flatten()
}

/// `create_table` gives the deployed table's new-image stream (SPEC §14); the tests' tables
/// go without one unless they read it: DynamoDB Local writes a stream record beside every
/// write, and with a stream on every table the API suite took twice as long and its 500-create
/// storm ran past the store's timeouts.
#[tokio::test]
async fn the_table_streams_new_images_and_only_streaming_test_tables_have_a_stream() {
    let client = local_client();
    let name = testkit::unique_table_name("stream");
    create_table(&client, &name).await.expect("create");
    assert_eq!(
        stream_of(&client, &name).await.as_deref(),
        Some("NEW_IMAGE")
    );

    let plain = fresh_store("nostream").await;
    assert_eq!(stream_of(&client, plain.table()).await, None);
    let streaming = testkit::fresh_streaming_store("streaming").await;
    assert_eq!(
        stream_of(&client, streaming.table()).await.as_deref(),
        Some("NEW_IMAGE")
    );
}

#[tokio::test]
async fn a_missing_table_is_reported_as_such() {
    let store = KeyStore::new(local_client(), "no-such-table-here");
    let hash = ApiKey::generate(&KeyPrefix::default())
        .expect("os rng")
        .hash();
    assert!(matches!(
        store.get_by_hash(&hash).await,
        Err(StoreError::TableNotFound(_))
    ));
}

#[tokio::test]
async fn an_unreachable_dynamodb_fails_fast_as_unavailable() {
    // Port 9 (discard) on loopback: nothing listens, connections are refused.
    let settings = ClientSettings::default();
    let client = keystore::client::local("http://127.0.0.1:9", settings);
    let store = KeyStore::new(client, "any");
    let hash = ApiKey::generate(&KeyPrefix::default())
        .expect("os rng")
        .hash();
    let started = Instant::now();
    let err = store.get_by_hash(&hash).await.expect_err("nothing listens");
    assert!(err.is_transient(), "{err:?}");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_dynamodb_that_never_answers_times_out_within_the_bound() {
    let (url, _silent) = testkit::silent_endpoint().await;
    let client = keystore::client::local(&url, ClientSettings::default());
    let store = KeyStore::new(client, "any");
    let hash = ApiKey::generate(&KeyPrefix::default())
        .expect("os rng")
        .hash();
    let started = Instant::now();
    let err = store.get_by_hash(&hash).await.expect_err("never answers");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Changes made by the tests themselves.
static SYSTEM: std::sync::LazyLock<Audit> = std::sync::LazyLock::new(Audit::system);
