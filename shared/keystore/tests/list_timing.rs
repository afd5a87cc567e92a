//! Issue 18, measured: how long one status-filtered listing page takes on a table of 100,000
//! keys of which (almost) none match. Ignored by default: it loads 100,000 keys and prints
//! figures. It asserts what the pages contain, never how long they took.
//!
//! ```sh
//! eval "$(scripts/dynamodb-local.sh start)"; export PODKEYS_TEST_DYNAMODB
//! cargo test -p keystore --test list_timing -- --ignored --nocapture
//! ```
//!
//! Measured (DynamoDB Local 1.25.1, debug build, 2 shared cores under load, 100,000 expired
//! keys of one owner, the 3 oldest revoked; limit 50), one page:
//!
//! | listing | before (fill the page) | after (2,000 items evaluated per page) |
//! |---|---|---|
//! | owner, `status=revoked` | 70.6 s, 68.6 s | 49 ms, 22 ms (51 pages to the end: 3.1 s, 2.6 s) |
//! | owner, `status=active`  | 65.9 s, 58.7 s | 37 ms, 34 ms (51 pages: 2.9 s, 2.8 s) |
//! | admin, `status=revoked` | 56.1 s, 50.5 s | 20 ms, 29 ms (51 pages: 2.9 s, 2.2 s) |
//! | admin, `status=active`  | 101.4 s, 47.6 s | 29 ms, 26 ms (51 pages: 2.5 s, 2.4 s) |
//!
//! Before, each `Query` asked for the keys the page still missed (`Limit` = 51 minus those
//! found, counted before the filter), so one page took ~2,000 calls; now it takes one call of
//! `Limit` 2,000, and following cursors to the end 51.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apikey::{KeyName, KeyPrefix, KeyStatus, OwnerId, ScopeSet, Timestamp};
use keystore::{KeyRecord, KeyStore, Listing, NewKey};
use testkit::fresh_store;

const KEYS: i64 = 100_000;
const REVOKED: i64 = 3;
const T0: Timestamp = Timestamp::from_epoch_secs(1_600_000_000);
/// Every key has expired by then; the three oldest are revoked.
const NOW: Timestamp = Timestamp::from_epoch_secs(1_700_000_000);

fn record(i: i64) -> KeyRecord {
    let new = NewKey {
        owner_id: OwnerId::parse("alice").expect("valid owner"),
        name: KeyName::parse(&format!("k{i}")).expect("valid name"),
        description: None,
        scopes: ScopeSet::default_for_new_keys(),
        expires_at: Some(T0.plus_secs(i + 1)),
        plan: None,
    };
    let (_, mut r) = KeyRecord::issue(&KeyPrefix::default(), new, T0.plus_secs(i)).expect("os rng");
    if i < REVOKED {
        r.revoked_at = Some(T0.plus_secs(i));
    }
    r
}

async fn load(store: &KeyStore) {
    let records = Arc::new((0..KEYS).map(record).collect::<Vec<_>>());
    let started = Instant::now();
    let loaders: Vec<_> = (0..8)
        .map(|part| {
            let (store, records) = (store.clone(), records.clone());
            tokio::spawn(async move {
                let chunk = records.len().div_ceil(8);
                let end = ((part + 1) * chunk).min(records.len());
                store
                    .load_for_bench(&records[part * chunk..end])
                    .await
                    .expect("load");
            })
        })
        .collect();
    for l in loaders {
        l.await.expect("loader");
    }
    // Scanning 100,000 items three times takes longer than `testkit::settle` waits.
    while !store.indexes_settled().await.expect("scan") {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "loaded {KEYS} keys in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Times the first page, then follows cursors to the end; returns how many keys were found.
async fn measure(store: &KeyStore, label: &str, listing: &Listing, status: KeyStatus) -> usize {
    let (mut found, mut pages, mut cursor) = (0, 0, None::<String>);
    let started = Instant::now();
    let mut first_page = None;
    loop {
        let page = store
            .list(listing, Some(status), 50, cursor.as_deref(), NOW)
            .await
            .expect("list");
        pages += 1;
        first_page.get_or_insert(started.elapsed());
        assert!(page.keys.iter().all(|k| k.status(NOW) == status));
        found += page.keys.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let all = started.elapsed();
    println!(
        "{label:<32} first page {:>8.1} ms; to the end: {pages:>4} pages, {:>8.1} ms, {found} keys",
        first_page.unwrap_or_default().as_secs_f64() * 1e3,
        all.as_secs_f64() * 1e3,
    );
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads 100,000 keys and prints timings; run by hand (see the module doc)"]
async fn status_filtered_pages_on_100_000_mostly_non_matching_keys() {
    let store = fresh_store("timing").await;
    load(&store).await;
    let alice = Listing::Owner(OwnerId::parse("alice").expect("valid owner"));
    for _ in 0..2 {
        assert_eq!(
            measure(&store, "alice, status=revoked", &alice, KeyStatus::Revoked).await,
            3
        );
        assert_eq!(
            measure(&store, "alice, status=active", &alice, KeyStatus::Active).await,
            0
        );
        assert_eq!(
            measure(
                &store,
                "admin, status=revoked",
                &Listing::All,
                KeyStatus::Revoked
            )
            .await,
            3
        );
        assert_eq!(
            measure(
                &store,
                "admin, status=active",
                &Listing::All,
                KeyStatus::Active
            )
            .await,
            0
        );
    }
}
