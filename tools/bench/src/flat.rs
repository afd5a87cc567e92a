//! SPEC §7 flat cost: authorizer p50 on a table of 100,000 keys against one of 10,
//! interleaved.

use std::sync::Arc;
use std::time::Instant;

use apikey::{KeyPrefix, Timestamp};
use keystore::KeyRecord;

use crate::fixtures::{authorizer_event, fresh_store, new_key, seed, state_for};
use crate::report::{Row, ratio_row};
use crate::stats::{SAMPLES, interleave, percentile};

pub async fn flat_cost(endpoint: &str, rows: &mut Vec<Row>) {
    let small = fresh_store(endpoint, "small").await;
    let big = fresh_store(endpoint, "big").await;
    let now = Timestamp::now();
    let records = |n: usize| -> Vec<KeyRecord> {
        (0..n)
            .map(|i| {
                KeyRecord::issue(&KeyPrefix::default(), new_key("filler", i), now)
                    .expect("os rng")
                    .1
            })
            .collect()
    };
    small.load_for_bench(&records(9)).await.expect("load");
    let started = Instant::now();
    let filler = Arc::new(records(99_999));
    let loaders: Vec<_> = (0..8)
        .map(|part| {
            let (big, filler) = (big.clone(), filler.clone());
            tokio::spawn(async move {
                let chunk = filler.len().div_ceil(8);
                let end = ((part + 1) * chunk).min(filler.len());
                big.load_for_bench(&filler[part * chunk..end])
                    .await
                    .expect("load");
            })
        })
        .collect();
    for l in loaders {
        l.await.expect("loader");
    }
    println!(
        "  (loaded 100,000 keys in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let (small_key, _) = seed(&small, "alice").await;
    let (big_key, _) = seed(&big, "alice").await;
    let (small_state, big_state) = (state_for(small), state_for(big));
    let (small_event, big_event) = (
        authorizer_event(small_key.expose_secret()),
        authorizer_event(big_key.expose_secret()),
    );
    let (mut s, mut b) = interleave(
        SAMPLES,
        || async {
            authorizer::authorize(&small_state, &small_event)
                .await
                .expect("policy");
        },
        || async {
            authorizer::authorize(&big_state, &big_event)
                .await
                .expect("policy");
        },
    )
    .await;
    let (s50, b50) = (percentile(&mut s, 0.5), percentile(&mut b, 0.5));
    rows.push(ratio_row(
        "authorizer p50, 100,000 keys vs 10 keys",
        b50,
        s50,
        "≤ 1.10×",
        1.10,
    ));
}
