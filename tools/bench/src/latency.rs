//! SPEC §7: the warm authorizer (one consistent GetItem + the decision) against the bare
//! consistent GetItem of the same item, same client, interleaved.

use crate::fixtures::{authorizer_event, fresh_store, seed, state_for};
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
