//! SPEC §7: malformed and bad-checksum keys are refused with 0 database calls, in under 1 µs.

use std::time::Instant;

use apikey::{ApiKey, KeyPrefix};
use authorizer::AuthorizerEvent;
use keystore::KeyStore;
use keystore::client::{self, ClientSettings};

use crate::fixtures::{authorizer_event, event_json, state_for};
use crate::report::{Row, row};

/// Runs against a store that cannot be reached: any database call would fail the decision,
/// so an `Unauthorized` answer proves there was none.
pub async fn garbage(rows: &mut Vec<Row>) {
    let offline = KeyStore::new(
        client::local("http://127.0.0.1:9", ClientSettings::default()),
        "offline",
    );
    let state = state_for(offline);
    let valid = ApiKey::generate(&KeyPrefix::default()).expect("os rng");
    let mut bad = valid.expose_secret().to_owned();
    bad.replace_range(bad.len() - 6.., "000000");
    let events = [
        authorizer_event(&bad),
        authorizer_event("garbage"),
        authorizer_event(&"x".repeat(4096)),
    ];
    let n = 100_000;
    for e in &events {
        for _ in 0..1_000 {
            let _ = authorizer::authorize(&state, e).await;
        }
    }
    let start = Instant::now();
    let mut refused = 0;
    for i in 0..n {
        if matches!(
            authorizer::authorize(&state, &events[i % events.len()]).await,
            Err(authorizer::AuthError::Unauthorized)
        ) {
            refused += 1;
        }
    }
    let per_call = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    rows.push(row(
        "malformed / bad-checksum key: full decision, 0 DB calls",
        format!("{per_call:.0} ns/call, {refused}/{n} refused, 0 DB calls"),
        "< 1 µs",
        Some(per_call < 1_000.0 && refused == n),
    ));
    // The same, with the event arriving as JSON bytes (what the runtime deserializes).
    let bytes = serde_json::to_vec(&event_json(&bad)).expect("JSON");
    let start = Instant::now();
    let m = 20_000;
    for _ in 0..m {
        let e: AuthorizerEvent = serde_json::from_slice(&bytes).expect("event");
        let _ = authorizer::authorize(&state, &e).await;
    }
    let per_call = start.elapsed().as_secs_f64() * 1e9 / m as f64;
    rows.push(row(
        "  … including deserializing the event JSON (informational)",
        format!("{per_call:.0} ns/call"),
        "-",
        None,
    ));
}
