//! Test support. Every test gets its own uniquely named table on the DynamoDB Local that
//! `make test` starts (`scripts/dynamodb-local.sh`), so tests run in parallel and never see
//! each other's keys. There is no mock: without DynamoDB Local these helpers fail loudly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use keystore::client::{self, ClientSettings};
use keystore::{Client, KeyStore, TableCreation};

/// Where the project's DynamoDB Local listens.
pub const ENDPOINT_VAR: &str = "PODKEYS_TEST_DYNAMODB";

pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: these tests need the project's DynamoDB Local. \
             Run `make test`, or start it with `eval $(scripts/dynamodb-local.sh start)`."
        ),
    }
}

pub fn local_client() -> Client {
    client::local(&endpoint(), ClientSettings::default())
}

/// A table name no other test (or earlier run against the same DynamoDB Local) uses.
pub fn unique_table_name(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t-{label}-{}-{nanos}-{n}", std::process::id())
}

/// A store on a fresh table.
pub async fn fresh_store(label: &str) -> KeyStore {
    let client = local_client();
    let table = unique_table_name(label);
    match keystore::create_table(&client, &table).await {
        Ok(TableCreation::Created) => KeyStore::new(client, table),
        other => panic!("creating test table {table} on {}: {other:?}", endpoint()),
    }
}

/// Number of items (key items and id items) in the store's table.
pub async fn item_count(store: &KeyStore) -> usize {
    match store.raw_items().await {
        Ok(items) => items.len(),
        Err(e) => panic!("scanning {}: {e:?}", store.table()),
    }
}
