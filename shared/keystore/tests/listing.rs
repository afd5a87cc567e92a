//! Issue 18 against DynamoDB Local: status-filtered listings do bounded work per page, and
//! counting an owner's active keys stops at the cap. Tables are bulk-loaded
//! (`load_for_bench`) so that thousands of keys take seconds, not minutes.

use keystore::Audit;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use apikey::{Description, KeyId, KeyName, KeyPrefix, KeyStatus, OwnerId, ScopeSet, Timestamp};
use keystore::{Access, KeyRecord, KeyStore, Listing, NewKey, StoreError};
use testkit::fresh_store;

const T0: Timestamp = Timestamp::from_epoch_secs(1_700_000_000);
const NOW: Timestamp = Timestamp::from_epoch_secs(1_700_100_000);
const BUDGET: usize = KeyStore::FILTERED_PAGE_EVALUATES;

fn owner(s: &str) -> OwnerId {
    OwnerId::parse(s).expect("valid owner")
}

/// Key `i` of `who`, created at `T0 + i` (so newest first is highest `i` first), active.
fn record(who: &str, i: usize, description: Option<&Description>) -> KeyRecord {
    let new = NewKey {
        owner_id: owner(who),
        name: KeyName::parse(&format!("k{i}")).expect("valid name"),
        description: description.cloned(),
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: None,
        plan: None,
    };
    let at = T0.plus_secs(i64::try_from(i).expect("small"));
    KeyRecord::issue(&KeyPrefix::default(), new, at)
        .expect("os rng")
        .1
}

fn revoked(mut r: KeyRecord) -> KeyRecord {
    r.revoked_at = Some(r.created_at.plus_secs(1));
    r
}

/// The largest description there is (500 four-byte characters): ~2.4 KB key items, so that
/// DynamoDB's 1 MB per `Query` ends a read before the item budget does.
fn bulky() -> Description {
    Description::parse(&"🎙".repeat(Description::MAX_CHARS)).expect("valid description")
}

async fn loaded(label: &str, records: &[KeyRecord]) -> KeyStore {
    let store = fresh_store(label).await;
    store.load_for_bench(records).await.expect("load");
    // `testkit::settle` gives up after 5 s, which scanning thousands of large items three
    // times can take by itself on a busy machine; the load is done, so this only waits.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !store.indexes_settled().await.expect("scan") {
        assert!(
            Instant::now() < deadline,
            "indexes of {} lag",
            store.table()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store
}

/// Every page of a listing, following cursors to the end: (ids, per page (keys, cost, cursor?)).
async fn walk(
    store: &KeyStore,
    listing: &Listing,
    status: Option<KeyStatus>,
    limit: usize,
) -> (Vec<KeyId>, Vec<(usize, usize, usize, bool)>) {
    let (mut ids, mut pages, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let (page, cost) = store
            .list_with_cost(listing, status, limit, cursor.as_deref(), NOW)
            .await
            .expect("list");
        assert!(page.keys.len() <= limit);
        if let Some(status) = status {
            assert!(page.keys.iter().all(|k| k.status(NOW) == status));
        }
        pages.push((
            page.keys.len(),
            cost.queries,
            cost.evaluated,
            page.next_cursor.is_some(),
        ));
        ids.extend(page.keys.into_iter().map(|k| k.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (ids, pages),
        }
        assert!(pages.len() < 1_000, "pagination does not end");
    }
}

#[tokio::test]
async fn a_filtered_listing_evaluates_at_most_its_budget_per_page_and_still_finds_every_match_once_in_order()
 {
    // 3½ budgets of keys; the revoked ones are the newest and the three oldest, so the pages
    // between them find nothing.
    let total = 3 * BUDGET + BUDGET / 2;
    let matching = [total - 1, 2, 1, 0];
    let records: Vec<KeyRecord> = (0..total)
        .map(|i| {
            let r = record("alice", i, None);
            if matching.contains(&i) { revoked(r) } else { r }
        })
        .collect();
    let store = loaded("budget", &records).await;
    let alice = Listing::Owner(owner("alice"));

    let (ids, pages) = walk(&store, &alice, Some(KeyStatus::Revoked), 2).await;

    let want: Vec<KeyId> = matching.iter().map(|&i| records[i].id.clone()).collect();
    assert_eq!(ids, want, "every revoked key once, newest first");
    for &(_, queries, evaluated, _) in &pages {
        assert!(evaluated <= BUDGET, "{pages:?}");
        assert!(queries <= KeyStore::FILTERED_PAGE_QUERIES, "{pages:?}");
    }
    assert!(
        pages.len() > total / BUDGET,
        "the budget ended pages early: {pages:?}"
    );
    assert!(
        pages.iter().any(|&(keys, _, _, more)| keys == 0 && more),
        "an empty page that says more may follow: {pages:?}"
    );
    let evaluated: usize = pages.iter().map(|&(_, _, e, _)| e).sum();
    assert!(evaluated >= total, "every key was evaluated: {pages:?}");
}

#[tokio::test]
async fn a_cursor_from_where_a_filtered_page_stopped_works_only_for_its_own_listing() {
    let mut records: Vec<KeyRecord> = (0..BUDGET + 10).map(|i| record("alice", i, None)).collect();
    records.push(record("bob", 0, None));
    let store = loaded("budgetcursor", &records).await;
    let alice = Listing::Owner(owner("alice"));
    let page = store
        .list(&alice, Some(KeyStatus::Revoked), 10, None, NOW)
        .await
        .expect("list");
    assert!(page.keys.is_empty());
    let cursor = page
        .next_cursor
        .expect("the budget ran out before the keys did");

    let rest = store
        .list(&alice, Some(KeyStatus::Revoked), 10, Some(&cursor), NOW)
        .await
        .expect("list");
    assert_eq!((rest.keys.len(), rest.next_cursor), (0, None));
    let unfiltered = store
        .list(&alice, None, 100, Some(&cursor), NOW)
        .await
        .expect("list");
    let oldest: HashSet<KeyId> = records[..10].iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        unfiltered
            .keys
            .into_iter()
            .map(|k| k.id)
            .collect::<HashSet<_>>(),
        oldest,
        "the cursor stands right after the last key evaluated"
    );
    for listing in [Listing::Owner(owner("bob")), Listing::All] {
        assert!(
            matches!(
                store
                    .list(&listing, Some(KeyStatus::Revoked), 10, Some(&cursor), NOW)
                    .await,
                Err(StoreError::InvalidCursor)
            ),
            "{listing:?}"
        );
    }
}

#[tokio::test]
async fn a_filtered_listing_of_the_largest_items_stays_within_both_budgets_and_loses_no_key() {
    // On DynamoDB, 1 MB of these items (~430) ends a `Query` before the item budget does, so
    // pages end at the query budget. DynamoDB Local (1.25.1) counts its 1 MB only over the
    // items the filter keeps (seen here: one `Query` evaluates 2,000 of them), so this test
    // checks the bounds and the walk; the 1 MB page turn itself is exercised by counting
    // (`counting_active_keys_reads_page_after_page…`), where most items pass the filter.
    let description = bulky();
    let total = BUDGET + BUDGET / 2;
    let matching: HashSet<usize> = [0, BUDGET / 3, BUDGET, total - 1].into();
    let records: Vec<KeyRecord> = (0..total)
        .map(|i| {
            let r = record("alice", i, Some(&description));
            if matching.contains(&i) { revoked(r) } else { r }
        })
        .collect();
    let store = loaded("onemb", &records).await;

    let (ids, pages) = walk(&store, &Listing::All, Some(KeyStatus::Revoked), 50).await;

    let mut want: Vec<usize> = matching.into_iter().collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    let want: Vec<KeyId> = want.into_iter().map(|i| records[i].id.clone()).collect();
    assert_eq!(ids, want, "every revoked key once, newest first");
    for &(_, queries, evaluated, _) in &pages {
        assert!(queries <= KeyStore::FILTERED_PAGE_QUERIES, "{pages:?}");
        assert!(evaluated <= BUDGET, "{pages:?}");
    }
}

#[tokio::test]
async fn an_unfiltered_page_is_full_and_reads_one_key_more_than_it_returns() {
    let records: Vec<KeyRecord> = (0..230)
        .map(|i| {
            let r = record("alice", i, None);
            if i % 2 == 0 { revoked(r) } else { r }
        })
        .collect();
    let store = loaded("unfiltered", &records).await;

    let (ids, pages) = walk(&store, &Listing::Owner(owner("alice")), None, 50).await;

    let want: Vec<KeyId> = records.iter().rev().map(|r| r.id.clone()).collect();
    assert_eq!(ids, want, "every key once, newest first");
    assert_eq!(
        pages,
        vec![
            (50, 1, 51, true),
            (50, 1, 51, true),
            (50, 1, 51, true),
            (50, 1, 51, true),
            (30, 1, 30, false),
        ],
        "(keys, queries, evaluated, next cursor) per page"
    );
}

#[tokio::test]
async fn counting_active_keys_leaves_out_revoked_expired_and_other_owners_keys() {
    let store = fresh_store("count").await;
    let issue = |who: &str, i: i64, expires: Option<Timestamp>| {
        let new = NewKey {
            owner_id: owner(who),
            name: KeyName::parse("k").expect("valid name"),
            description: None,
            scopes: ScopeSet::default_for_new_keys(),
            expires_at: expires,
            plan: None,
        };
        KeyRecord::issue(&KeyPrefix::default(), new, T0.plus_secs(i))
            .expect("os rng")
            .1
    };
    let alice = [
        issue("alice", 0, None),
        issue("alice", 1, Some(NOW.plus_secs(1))), // still active at NOW
        issue("alice", 2, None),
        issue("alice", 3, Some(NOW)), // expired at NOW
        issue("alice", 4, Some(T0.plus_secs(10))),
        issue("alice", 5, None),
        issue("alice", 6, None),
    ];
    for r in &alice {
        store.create(r, &SYSTEM).await.expect("create");
    }
    for r in &alice[5..] {
        store
            .revoke(&r.id, &Access::Admin, T0.plus_secs(20), &SYSTEM)
            .await
            .expect("revoke");
    }
    for i in 0..4 {
        store
            .create(&issue("bob", i, None), &SYSTEM)
            .await
            .expect("create");
    }
    testkit::settle(&store).await;

    for (who, cap, want) in [
        ("alice", 100, 3),
        ("alice", 3, 3),
        ("alice", 2, 2),
        ("bob", 100, 4),
        ("carol", 100, 0),
    ] {
        assert_eq!(
            store
                .count_active(&owner(who), NOW, cap)
                .await
                .expect("count"),
            want,
            "{who}, cap {cap}"
        );
    }
    let (count, cost) = store
        .count_active_with_cost(&owner("alice"), NOW, 0)
        .await
        .expect("count");
    assert_eq!((count, cost.queries), (0, 0), "a cap of 0 needs no read");
}

#[tokio::test]
async fn counting_active_keys_reads_page_after_page_and_stops_once_the_cap_is_reached() {
    let description = bulky();
    let total = 2_000;
    let records: Vec<KeyRecord> = (0..total)
        .map(|i| {
            let r = record("alice", i, Some(&description));
            if i % 10 == 0 { revoked(r) } else { r }
        })
        .collect();
    let store = loaded("countpages", &records).await;
    let alice = owner("alice");

    let (all, cost) = store
        .count_active_with_cost(&alice, NOW, 10_000)
        .await
        .expect("count");
    assert_eq!(all, 1_800);
    assert!(cost.queries > 1, "more than 1 MB of keys: {cost:?}");
    // The count above is exact, so every key was read. `evaluated` is DynamoDB Local's own
    // ScannedCount, which once summed to 1,998 of 2,000 over four pages under a loaded
    // machine (make test, 2026-11-23) while the count was right: the emulator's accounting,
    // not ours. It must still cover every active key and never exceed the table.
    assert!((all..=total).contains(&cost.evaluated), "{cost:?}");

    let (capped, cost) = store
        .count_active_with_cost(&alice, NOW, 10)
        .await
        .expect("count");
    assert_eq!(capped, 10);
    assert_eq!(
        cost.queries, 1,
        "the first 1 MB already holds 10 active keys"
    );

    let (at_cap, _) = store
        .count_active_with_cost(&alice, NOW, 1_800)
        .await
        .expect("count");
    assert_eq!(at_cap, 1_800);
}

/// Changes made by the tests themselves.
static SYSTEM: std::sync::LazyLock<Audit> = std::sync::LazyLock::new(Audit::system);
