//! Rate-limit counters against the real DynamoDB Local (SPEC §10).

use std::sync::Arc;

use apikey::{ApiKey, KeyPrefix, PlanLimits, Timestamp, Verdict, Window};
use keystore::{CounterCells, KeyStore, counter_pk};
use testkit::fresh_store;

// 2026-12-04T10:00:00Z, the start of a minute.
const T: i64 = 1_796_378_400;

fn at(secs: i64) -> Window {
    Window::at(Timestamp::from_epoch_secs(secs))
}

fn per_minute(n: u32) -> PlanLimits {
    PlanLimits {
        requests_per_minute: Some(n),
        requests_per_day: None,
    }
}

fn hash() -> apikey::KeyHash {
    ApiKey::generate(&KeyPrefix::default()).expect("rng").hash()
}

async fn counter_item(store: &KeyStore, hash: &apikey::KeyHash) -> Vec<(String, String)> {
    let out = store
        .client()
        .get_item()
        .table_name(store.table())
        .key(
            keystore::schema::PK,
            keystore::AttributeValue::S(counter_pk(hash)),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("get");
    let mut attrs: Vec<(String, String)> = out
        .item
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_n().ok().map(|n| (k, n.clone())))
        .collect();
    attrs.sort();
    attrs
}

#[tokio::test]
async fn a_burst_gets_exactly_the_limit_and_refusals_are_not_counted() {
    let store = fresh_store("rate_burst").await;
    let h = hash();
    let mut allowed = Vec::new();
    for i in 0..8 {
        let tally = store
            .count(&h, per_minute(5), at(T + i), &CounterCells::default())
            .await
            .expect("count");
        allowed.push(tally.counted);
        match tally.verdict {
            Verdict::Allowed(f) => assert_eq!(f.remaining, 4 - u32::try_from(i).expect("small")),
            Verdict::Limited {
                figures,
                retry_after,
            } => {
                assert_eq!((figures.limit, figures.remaining), (5, 0));
                assert!(retry_after >= 1);
            }
        }
    }
    assert_eq!(allowed, [true, true, true, true, true, false, false, false]);
    let item = counter_item(&store, &h).await;
    let minute = format!("m{}", T / 60);
    assert!(
        item.contains(&(minute, "5".into())),
        "refused requests are not counted: {item:?}"
    );
}

#[tokio::test]
async fn concurrent_requests_never_pass_the_bound() {
    let store = Arc::new(fresh_store("rate_parallel").await);
    let h = hash();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, h) = (Arc::clone(&store), h);
            tokio::spawn(async move {
                store
                    .count(&h, per_minute(20), at(T + 5), &CounterCells::default())
                    .await
            })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        if t.await.expect("task").expect("count").counted {
            passed += 1;
        }
    }
    assert_eq!(passed, 20);
}

#[tokio::test]
async fn the_previous_minute_weighs_in_and_an_over_estimate_is_taken_back() {
    let store = fresh_store("rate_sliding").await;
    let h = hash();
    for i in 0..10 {
        store
            .count(&h, per_minute(10), at(T + i), &CounterCells::default())
            .await
            .expect("count");
    }
    // Half-way through the next minute the previous cell weighs 5: five more fit.
    let next = T + 60 + 30;
    let mut counted = 0;
    for _ in 0..8 {
        // No hint: the write's bound is the whole limit; the estimate refuses the rest.
        if store
            .count(&h, per_minute(10), at(next), &CounterCells::default())
            .await
            .expect("count")
            .counted
        {
            counted += 1;
        }
    }
    assert_eq!(counted, 5);
    let item = counter_item(&store, &h).await;
    assert!(
        item.contains(&(format!("m{}", next / 60), "5".into())),
        "taken back: {item:?}"
    );
}

#[tokio::test]
async fn the_day_quota_holds_and_old_cells_are_removed() {
    let store = fresh_store("rate_day").await;
    let h = hash();
    let daily = PlanLimits {
        requests_per_minute: None,
        requests_per_day: Some(3),
    };
    let mut counted = Vec::new();
    let mut seen = CounterCells::default();
    for i in 0..5 {
        let tally = store
            .count(&h, daily, at(T + i * 600), &seen)
            .await
            .expect("count");
        counted.push(tally.counted);
        seen = tally.cells;
    }
    assert_eq!(counted, [true, true, true, false, false]);
    // The next day starts afresh; the names the last answer showed are removed with it.
    let tomorrow = (T / 86_400 + 1) * 86_400 + 10;
    let tally = store
        .count(&h, daily, at(tomorrow), &seen)
        .await
        .expect("count");
    assert!(tally.counted);
    let item = counter_item(&store, &h).await;
    let names: Vec<&str> = item.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        !names.contains(&format!("d{}", T / 86_400).as_str()),
        "{names:?}"
    );
    assert_eq!(
        names,
        [
            format!("d{}", tomorrow / 86_400),
            format!("m{}", tomorrow / 60),
            "purge_at".to_owned()
        ],
        "only today's count and the current cell"
    );
}

#[tokio::test]
async fn uncount_never_creates_a_counter() {
    let store = fresh_store("rate_uncount").await;
    let h = hash();
    store.uncount(&h, at(T)).await.expect("uncount");
    assert!(counter_item(&store, &h).await.is_empty());
}

#[tokio::test]
async fn the_day_quota_holds_when_its_bound_is_left_to_the_minute() {
    let store = Arc::new(fresh_store("rate_day_minute").await);
    let h = hash();
    let plan = PlanLimits {
        requests_per_minute: Some(20),
        requests_per_day: Some(30),
    };
    // Seen in this minute (day 1, minute 1): at most 20 in the day this minute, under 30.
    let first = store
        .count(&h, plan, at(T + 1), &CounterCells::default())
        .await
        .expect("count");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, seen) = (Arc::clone(&store), first.cells.clone());
            tokio::spawn(async move { store.count(&h, plan, at(T + 2), &seen).await })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        if t.await.expect("task").expect("count").counted {
            passed += 1;
        }
    }
    assert_eq!(passed, 19);
    // Minute after minute, each near its end (the previous cell weighs 1), the day stops at
    // exactly 30 whichever bound the writes carried.
    let mut seen = CounterCells::default();
    let mut total = 20;
    for minute in 1..4 {
        for _ in 0..25 {
            let tally = store
                .count(&h, plan, at(T + minute * 60 + 59), &seen)
                .await
                .expect("count");
            total += u32::from(tally.counted);
            seen = tally.cells;
        }
    }
    assert_eq!(total, 30);
    let item = counter_item(&store, &h).await;
    assert!(
        item.contains(&(format!("d{}", T / 86_400), "30".into())),
        "{item:?}"
    );
}
