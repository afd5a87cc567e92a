//! SPEC §7b: usage counting costs at most one table write per key per `USAGE_FLUSH_SECS` per
//! container under load. One container (one `State`, decisions one at a time as Lambda runs
//! them) authorizes requests round-robin over a few keys for a few seconds with a 1 s
//! interval; the usage writes are counted as they leave the client, then the shutdown flush
//! writes the rest and the counts read back must equal the requests made.

use std::time::{Duration, Instant};

use apikey::{Day, DayRange, Timestamp, UsageCounts};

use crate::fixtures::{authorizer_event, fresh_store, seed, state_for};
use crate::report::{Row, row};

const KEYS: usize = 10;
const RUN: Duration = Duration::from_secs(5);
const INTERVAL: Duration = Duration::from_secs(1);

pub async fn usage_writes(endpoint: &str, rows: &mut Vec<Row>) {
    let (store, writes) = fresh_store(endpoint, "usage").await.counting_usage_writes();
    let mut state = state_for(store);
    state.config.usage_flush = INTERVAL;
    let mut keys = Vec::new();
    for i in 0..KEYS {
        let (key, record) = seed(&state.store, &format!("owner{i}")).await;
        keys.push((authorizer_event(key.expose_secret()), record.id));
    }
    let started = Instant::now();
    let mut requests = 0u64;
    while started.elapsed() < RUN {
        let (event, _) = &keys[requests as usize % KEYS];
        authorizer::authorize(&state, event)
            .await
            .expect("a policy");
        requests += 1;
    }
    let elapsed = started.elapsed();
    let during = writes.count();
    let flushed = authorizer::flush_all(&state).await;
    // Each key may be written once per interval begun, and once more at shutdown.
    let intervals = elapsed.as_secs_f64() / INTERVAL.as_secs_f64();
    let allowed = KEYS as f64 * intervals.ceil();
    let per_key_interval = during as f64 / (KEYS as f64 * intervals);
    rows.push(row(
        "usage writes under load per key per USAGE_FLUSH_SECS (1 s), one container",
        format!(
            "{during} writes for {requests} requests on {KEYS} keys in {:.1} s = {per_key_interval:.2} per key per interval (+{} at shutdown)",
            elapsed.as_secs_f64(),
            flushed.written
        ),
        "≤ 1",
        Some(during as f64 <= allowed && flushed.kept == 0),
    ));
    let today = Day::of(Timestamp::now());
    let range = DayRange::new(today.plus(-1), today).expect("two days");
    let mut counted = 0;
    for (_, id) in &keys {
        let days = state.store.key_usage(id, range).await.expect("usage");
        counted += days.iter().map(|d: &UsageCounts| d.allowed).sum::<u64>();
    }
    rows.push(row(
        "usage counted after the shutdown flush",
        format!("{counted} allowed of {requests} requests"),
        "exact",
        Some(counted == requests),
    ));
}
