//! SPEC §7: the warm authorizer (one consistent GetItem + the decision) against the bare
//! consistent GetItem of the same item, same client, interleaved. SPEC §7b: the authorizer
//! for a key on a limited plan (the key read and the counter write) against a bare GetItem
//! and a bare UpdateItem issued concurrently.

use keystore::{AttributeValue, Client, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::fixtures::{authorizer_event, fresh_store, seed, state_for, state_on_plan};
use crate::report::{Row, info_ratio_row, ratio_row};
use crate::stats::{SAMPLES, interleave, percentile};

/// The baseline read: the key's item, strongly consistent, nothing else.
async fn bare_get(client: &Client, table: &str, pk: &str) {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
}

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
        || bare_get(&client, &table, &pk),
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
    rows.push(ratio_row(
        "authorizer p50 vs bare consistent GetItem (DynamoDB Local)",
        a50,
        b50,
        "≤ 1.10×",
        1.10,
    ));
    rows.push(ratio_row(
        "authorizer p99 vs bare consistent GetItem",
        a99,
        b99,
        "≤ 1.25×",
        1.25,
    ));
}

/// SPEC §7b: a key whose plan has limits costs one counter write, overlapped with the key
/// read. The figure's baseline is those two calls made bare and joined, as §7 compares the
/// authorizer with the bare form of its own read and the create/list figures with the bare
/// calls they make: the key's consistent `GetItem` and the counter's conditional `UpdateItem`
/// (same expression, same condition, same return values; another item, so the two never
/// contend). A second, informational row keeps the stricter comparison with a one-attribute
/// unconditional `ADD`: what the condition that makes the count exact costs on DynamoDB Local.
pub async fn rate_limited_authorizer(endpoint: &str, rows: &mut Vec<Row>) {
    let store = fresh_store(endpoint, "rate").await;
    let (key, record) = seed(&store, "alice").await;
    let state = state_on_plan(store.clone(), "metered");
    let event = authorizer_event(key.expose_secret());
    let client = store.client().clone();
    let table = store.table().to_owned();
    let pk = record.hash.to_hex();
    let counter = format!("bench-counter#{pk}");
    let authorize = || async {
        let r = authorizer::authorize(&state, &event)
            .await
            .expect("a policy");
        assert_eq!(
            r.context.get("rate_limit_limit").and_then(|v| v.as_str()),
            Some("1000000000"),
            "allowed and counted"
        );
    };
    let same_calls = || async {
        tokio::join!(
            bare_get(&client, &table, &pk),
            bare_count(&client, &table, &counter)
        );
    };
    let (mut bare, mut auth) = interleave(SAMPLES, same_calls, authorize).await;
    let (b50, a50) = (percentile(&mut bare, 0.50), percentile(&mut auth, 0.50));
    rows.push(ratio_row(
        "rate-limited authorizer p50 vs its GetItem + conditional UpdateItem, bare and concurrent (DynamoDB Local)",
        a50,
        b50,
        "≤ 1.15×",
        1.15,
    ));
    let minimal = || async {
        let add = async {
            client
                .update_item()
                .table_name(&table)
                .key("pk", AttributeValue::S(format!("{counter}-add")))
                .update_expression("ADD #n :one")
                .expression_attribute_names("#n", "n")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .send()
                .await
                .expect("UpdateItem");
        };
        tokio::join!(bare_get(&client, &table, &pk), add);
    };
    let (mut bare, mut auth) = interleave(SAMPLES, minimal, authorize).await;
    let (b50, a50) = (percentile(&mut bare, 0.50), percentile(&mut auth, 0.50));
    rows.push(info_ratio_row(
        "  … vs GetItem + an unconditional one-attribute ADD (informational)",
        a50,
        b50,
    ));
}

/// The counter write the authorizer makes for a key limited per minute and per day, bare:
/// both cells added under both bounds, the whole item returned.
async fn bare_count(client: &Client, table: &str, pk: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (minute, day) = (now / 60, now / 86_400);
    let limit = AttributeValue::N("1000000000".into());
    client
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .update_expression("ADD #d :one, #m :one")
        .condition_expression(
            "(attribute_not_exists(#d) OR #d < :dlim) AND (attribute_not_exists(#m) OR #m < :mcap)",
        )
        .expression_attribute_names("#d", format!("d{day}"))
        .expression_attribute_names("#m", format!("m{minute}"))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":dlim", limit.clone())
        .expression_attribute_values(":mcap", limit)
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .expect("UpdateItem");
}
