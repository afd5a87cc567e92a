//! SPEC §7: the create and list handlers against the bare DynamoDB calls they make.

use std::sync::atomic::{AtomicUsize, Ordering};

use apikey::{KeyPrefix, ScopeSet, Timestamp};
use keystore::KeyRecord;

use crate::fixtures::{fresh_store, new_key, proxy_request, seed, state_for};
use crate::report::{Row, ratio_row};
use crate::stats::{SAMPLES, interleave, percentile};

/// Owners the creates are spread over: each ends a run with about (SAMPLES + WARMUP) / 100
/// keys, under the default active-key limit (SPEC §2), so every create pays the count of
/// an owner's active keys that the limit costs, as in a real deployment.
const OWNERS: usize = 100;

pub async fn create_and_list(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "crud").await;
    let admin = {
        let mut new = new_key("ops", 0);
        new.scopes = ScopeSet::parse_spaced("* admin").expect("admin scopes");
        let (_, record) =
            KeyRecord::issue(&KeyPrefix::default(), new, Timestamp::now()).expect("os rng");
        store
            .create(&record, &keystore::Audit::system())
            .await
            .expect("seed");
        record
    };
    let state = state_for(store.clone());
    let cap = state.config.max_active_keys_per_owner;
    let n = SAMPLES;
    let (bare_i, handler_i) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // The bare calls create-key makes: the owner's active-key count, then the transaction.
    let (mut bare, mut handler) = interleave(
        n,
        || {
            let i = bare_i.fetch_add(1, Ordering::Relaxed);
            let owner = format!("bob-{}", i % OWNERS);
            let now = Timestamp::now();
            let (_, record) =
                KeyRecord::issue(&KeyPrefix::default(), new_key(&owner, i), now).expect("os rng");
            let store = &store;
            async move {
                let held = store
                    .count_active(&record.owner_id, now, cap)
                    .await
                    .expect("Query");
                assert!(held < cap, "under the limit");
                store
                    .create(&record, &keystore::Audit::system())
                    .await
                    .expect("transaction");
            }
        },
        || {
            let i = handler_i.fetch_add(1, Ordering::Relaxed);
            let body = format!(r#"{{"name":"bench","owner_id":"carol-{}"}}"#, i % OWNERS);
            let req = proxy_request("POST", "/api/v1/auth/api-keys", Some(&body), &admin);
            let state = &state;
            async move {
                let resp = create_key::handler(state, req).await;
                assert_eq!(resp.status(), 201);
            }
        },
    )
    .await;
    let (b, h) = (percentile(&mut bare, 0.5), percentile(&mut handler, 0.5));
    rows.push(ratio_row(
        "create p50 vs its bare Query (active-key count) + TransactWriteItems",
        h,
        b,
        "≤ 1.5×",
        1.5,
    ));

    // carol-0 now holds about (SAMPLES + WARMUP) / OWNERS keys; a page is 50 of them.
    let (_, caller) = seed(&store, "carol-0").await;
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
                    .expression_attribute_values(
                        ":o",
                        keystore::AttributeValue::S("carol-0".into()),
                    )
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
