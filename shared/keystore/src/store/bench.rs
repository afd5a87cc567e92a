//! Support for benchmarks and tests (feature `test-util`): bulk loading and raw scans.

use super::KeyStore;
use crate::error::{StoreError, classify};
use crate::record::KeyRecord;
use crate::schema::{BY_CREATED, BY_OWNER, attr};

impl KeyStore {
    /// Bulk-loads key items (without id items: nothing looks them up) with `BatchWriteItem`,
    /// 25 at a time, resending whatever DynamoDB leaves unprocessed. For benchmarks that need
    /// a big table.
    pub async fn load_for_bench(&self, records: &[KeyRecord]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in records.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for r in chunk {
                let put = PutRequest::builder()
                    .set_item(Some(r.to_item(self.retention_secs)))
                    .build()
                    .map_err(|e| StoreError::Unexpected(e.into()))?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
            let mut pending = Some(std::collections::HashMap::from([(
                self.table.clone(),
                requests,
            )]));
            while let Some(items) = pending.take().filter(|m| m.values().any(|v| !v.is_empty())) {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(items))
                    .send()
                    .await
                    .map_err(classify)?;
                pending = out.unprocessed_items;
            }
        }
        Ok(())
    }

    /// Every item in the table, every attribute rendered as text. A full scan: for tests that
    /// count what was written or search it for things that must never be stored.
    pub async fn raw_items(&self) -> Result<Vec<Vec<(String, String)>>, StoreError> {
        self.scan_rendered(None).await
    }

    /// Whether both indexes show exactly the key items of the table. Indexes are eventually
    /// consistent, so a test that lists right after writing waits for this first.
    pub async fn indexes_settled(&self) -> Result<bool, StoreError> {
        let key_items = |items: Vec<Vec<(String, String)>>| -> std::collections::HashSet<_> {
            items
                .into_iter()
                .filter(|item| item.iter().any(|(k, _)| k == attr::KIND))
                .collect()
        };
        let table = key_items(self.scan_rendered(None).await?);
        for index in [BY_OWNER, BY_CREATED] {
            if key_items(self.scan_rendered(Some(index)).await?) != table {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn scan_rendered(
        &self,
        index: Option<&str>,
    ) -> Result<Vec<Vec<(String, String)>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .consistent_read(index.is_none())
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in out.items() {
                let mut rendered: Vec<(String, String)> = item
                    .iter()
                    .map(|(k, v)| (k.clone(), format!("{v:?}")))
                    .collect();
                rendered.sort();
                items.push(rendered);
            }
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }
}

/// Counts the usage writes a store sends (SPEC §12, §7b): every `UpdateItem` attempt on a
/// `usage#…` item, as it leaves for DynamoDB. For the tests and the bench that prove at most
/// one write per key per flush interval.
#[derive(Debug, Default, Clone)]
pub struct UsageWrites(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl UsageWrites {
    pub fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl aws_sdk_dynamodb::config::Intercept for UsageWrites {
    fn name(&self) -> &'static str {
        "UsageWrites"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let update = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with(".UpdateItem"));
        let body = request.body().bytes().unwrap_or_default();
        if update && body.windows(6).any(|w| w == b"usage#") {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

impl KeyStore {
    /// This store's table through a client that counts its usage writes.
    pub fn counting_usage_writes(&self) -> (KeyStore, UsageWrites) {
        let writes = UsageWrites::default();
        let conf = self
            .client
            .config()
            .to_builder()
            .interceptor(writes.clone())
            .build();
        let store = KeyStore {
            client: aws_sdk_dynamodb::Client::from_conf(conf),
            ..self.clone()
        };
        (store, writes)
    }
}
