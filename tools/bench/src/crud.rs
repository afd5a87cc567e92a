//! SPEC §7: the create and list handlers against the bare DynamoDB calls they make.

use std::sync::atomic::{AtomicUsize, Ordering};

use apikey::{KeyPrefix, Timestamp};
use keystore::KeyRecord;

use crate::fixtures::{fresh_store, new_key, proxy_request, seed, state_for};
use crate::report::{Row, ratio_row};
use crate::stats::{SAMPLES, interleave, percentile};

pub async fn create_and_list(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "crud").await;
    let (_, caller) = seed(&store, "alice").await;
    // alice creates SAMPLES + WARMUP keys: more than the default active-key limit (SPEC §2),
    // so the run raises it to the most the configuration accepts.
    let mut state = state_for(store.clone());
    state.config.max_active_keys_per_owner = gateway::MAX_MAX_ACTIVE_KEYS;
    let n = SAMPLES;
    let counter = AtomicUsize::new(0);
    let (mut bare, mut handler) = interleave(
        n,
        || {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            let (_, record) =
                KeyRecord::issue(&KeyPrefix::default(), new_key("bob", i), Timestamp::now())
                    .expect("os rng");
            let store = &store;
            async move { store.create(&record).await.expect("transaction") }
        },
        || async {
            let req = proxy_request(
                "POST",
                "/api/v1/auth/api-keys",
                Some(r#"{"name":"bench"}"#),
                &caller,
            );
            let resp = create_key::handler(&state, req).await;
            assert_eq!(resp.status(), 201);
        },
    )
    .await;
    let (b, h) = (percentile(&mut bare, 0.5), percentile(&mut handler, 0.5));
    rows.push(ratio_row(
        "create p50 vs its bare TransactWriteItems",
        h,
        b,
        "≤ 1.5×",
        1.5,
    ));

    // alice now has SAMPLES + WARMUP + 1 keys; a page is 50 of them.
    let client = store.client().clone();
    let table = store.table().to_owned();
    let (mut bare, mut handler) = interleave(
        n,
        || {
            let (client, table) = (client.clone(), table.clone());
            async move {
                client
                    .query()
                    .table_name(table)
                    .index_name(keystore::schema::BY_OWNER)
                    .key_condition_expression("owner_id = :o")
                    .expression_attribute_values(":o", keystore::AttributeValue::S("alice".into()))
                    .scan_index_forward(false)
                    .limit(51)
                    .send()
                    .await
                    .expect("Query");
            }
        },
        || async {
            let req = proxy_request("GET", "/api/v1/auth/api-keys", None, &caller);
            let resp = list_keys::handler(&state, req).await;
            assert_eq!(resp.status(), 200);
        },
    )
    .await;
    let (b, h) = (percentile(&mut bare, 0.5), percentile(&mut handler, 0.5));
    rows.push(ratio_row(
        "list (50 keys) p50 vs its bare Query",
        h,
        b,
        "≤ 1.5×",
        1.5,
    ));
}
