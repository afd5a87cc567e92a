//! SPEC §7: the warm authorizer (one consistent GetItem + the decision) against the bare
//! consistent GetItem of the same item, same client, interleaved. SPEC §7b: the authorizer
//! for a key on a limited plan (the key read and the counter write) against a bare GetItem
//! and a bare UpdateItem issued concurrently.

use crate::fixtures::{authorizer_event, fresh_store, seed, state_for, state_on_plan};
use crate::report::{Row, row};
use crate::stats::{SAMPLES, interleave, percentile, ratio, us};

pub async fn authorizer_vs_get_item(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "auth").await;
    let (key, record) = seed(&store, "alice").await;
    let state = state_for(store.clone());
    let event = authorizer_event(key.expose_secret());
    let client = store.client().clone();
    let table = store.table().to_owned();
    let pk = record.hash.to_hex();
    let (mut bare, mut auth) = interleave(
        SAMPLES,
        || {
            let (client, table, pk) = (client.clone(), table.clone(), pk.clone());
            async move {
                client
                    .get_item()
                    .table_name(table)
                    .key("pk", keystore::AttributeValue::S(pk))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("GetItem");
            }
        },
        || async {
            let r = authorizer::authorize(&state, &event)
                .await
                .expect("a policy");
            assert!(r.context.get("owner_id").is_some(), "allowed");
        },
    )
    .await;
    let (b50, b99) = (percentile(&mut bare, 0.50), percentile(&mut bare, 0.99));
    let (a50, a99) = (percentile(&mut auth, 0.50), percentile(&mut auth, 0.99));
    let (r50, r99) = (ratio(a50, b50), ratio(a99, b99));
    rows.push(row(
        "authorizer p50 vs bare consistent GetItem (DynamoDB Local)",
        format!("{:.0} µs vs {:.0} µs = {r50:.2}×", us(a50), us(b50)),
        "≤ 1.10×",
        Some(r50 <= 1.10),
    ));
    rows.push(row(
        "authorizer p99 vs bare consistent GetItem",
        format!("{:.0} µs vs {:.0} µs = {r99:.2}×", us(a99), us(b99)),
        "≤ 1.25×",
        Some(r99 <= 1.25),
    ));
}

/// SPEC §7b: a key whose plan has limits costs one counter write, overlapped with the key
/// read; the baseline is the same two calls, bare, joined.
pub async fn rate_limited_authorizer(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "rate").await;
    let (key, record) = seed(&store, "alice").await;
    let state = state_on_plan(store.clone(), "metered");
    let event = authorizer_event(key.expose_secret());
    let client = store.client().clone();
    let table = store.table().to_owned();
    let pk = record.hash.to_hex();
    let counter = format!("bench-counter#{pk}");
    let (mut bare, mut auth) = interleave(
        SAMPLES,
        || {
            let (client, table, pk, counter) =
                (client.clone(), table.clone(), pk.clone(), counter.clone());
            async move {
                let get = client
                    .get_item()
                    .table_name(&table)
                    .key("pk", keystore::AttributeValue::S(pk))
                    .consistent_read(true)
                    .send();
                let update = client
                    .update_item()
                    .table_name(&table)
                    .key("pk", keystore::AttributeValue::S(counter))
                    .update_expression("ADD #n :one")
                    .expression_attribute_names("#n", "n")
                    .expression_attribute_values(":one", keystore::AttributeValue::N("1".into()))
                    .send();
                let (got, updated) = tokio::join!(get, update);
                got.expect("GetItem");
                updated.expect("UpdateItem");
            }
        },
        || async {
            let r = authorizer::authorize(&state, &event)
                .await
                .expect("a policy");
            assert_eq!(
                r.context.get("rate_limit_limit").and_then(|v| v.as_str()),
                Some("1000000000"),
                "allowed and counted"
            );
        },
    )
    .await;
    let (b50, a50) = (percentile(&mut bare, 0.50), percentile(&mut auth, 0.50));
    let r50 = ratio(a50, b50);
    rows.push(row(
        "rate-limited authorizer p50 vs concurrent bare GetItem + UpdateItem (DynamoDB Local)",
        format!("{:.0} µs vs {:.0} µs = {r50:.2}×", us(a50), us(b50)),
        "≤ 1.15×",
        Some(r50 <= 1.15),
    ));
}
