//! Every table operation.

use std::time::Duration;

use apikey::{KeyHash, KeyId, KeyStatus, OwnerId, Timestamp};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};

use crate::cursor::{self, Listing};
use crate::error::{StoreError, classify};
use crate::record::{Item, KeyRecord, hash_of_id_item, id_pk, n, s};
use crate::schema::{BY_CREATED, BY_OWNER, KIND_KEY, PK, PURGE_AT};

/// Who is acting on a key: its owner, or an admin acting on anyone's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Owner(OwnerId),
    Admin,
}

impl Access {
    /// The isolation rule: owners act on their own keys, admins on anyone's.
    pub fn permits(&self, record: &KeyRecord) -> bool {
        match self {
            Self::Admin => true,
            Self::Owner(owner) => *owner == record.owner_id,
        }
    }
}

/// A rotation as stored: the new key (`rotated_from` set) and the old one, ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub new: KeyRecord,
    pub old: KeyRecord,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub keys: Vec<KeyRecord>,
    /// Present when more keys follow; pass it back to get them.
    pub next_cursor: Option<String>,
}

/// Largest page a listing returns.
pub const MAX_PAGE: usize = 100;

/// Revocations that meet a concurrent transaction on the same key retry this often.
const REVOKE_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone)]
pub struct KeyStore {
    client: Client,
    table: String,
    retention_secs: i64,
}

impl KeyStore {
    pub const DEFAULT_RETENTION_DAYS: i64 = 30;

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention_secs: Self::DEFAULT_RETENTION_DAYS * 86_400,
        }
    }

    /// How long revoked and expired keys stay readable before DynamoDB's TTL deletes them.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention_secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Writes the key item and its id item in one transaction. Either already existing (a
    /// hash or id collision) fails the whole write with `Conflict`; nothing is overwritten.
    pub async fn create(&self, record: &KeyRecord) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .transact_items(self.put_new(record.to_item(self.retention_secs))?)
            .transact_items(self.put_new(record.to_id_item(self.retention_secs))?)
            .send()
            .await
            .map_err(transaction_error)?;
        Ok(())
    }

    /// A transaction item that writes `item` only if nothing has its key yet.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The key with this hash: one strongly consistent read, so a revocation is seen at once.
    /// No projection: a key item is the record plus two small attributes, so projecting saves
    /// nothing on the wire, while the 13-name expression cost DynamoDB Local ~20% of a read
    /// (BENCHMARKS.md).
    pub async fn get_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(hash.to_hex()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.as_ref().map(KeyRecord::try_from).transpose()
    }

    /// The key with this id, by the id item (consistent) and then the key (consistent): never
    /// an index, so a key is found the moment `create` returns.
    pub async fn get_by_id(&self, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        let Some(hash) = self.hash_of(id).await? else {
            return Ok(None);
        };
        self.get_by_hash(&hash).await
    }

    async fn hash_of(&self, id: &KeyId) -> Result<Option<KeyHash>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(id_pk(id)))
            .consistent_read(true)
            .projection_expression("key_hash")
            .send()
            .await
            .map_err(classify)?;
        out.item.as_ref().map(hash_of_id_item).transpose()
    }

    /// A page of keys, newest first, optionally only those with `status` at `now`. Pages are
    /// full (`limit` keys) whenever that many remain, even when the filter skips many.
    pub async fn list(
        &self,
        listing: &Listing,
        status: Option<KeyStatus>,
        limit: usize,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<Page, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut start = cursor.map(|c| cursor::decode(c, listing)).transpose()?;
        let mut keys = Vec::with_capacity(limit + 1);
        // One more than asked tells whether a next page exists without an empty last page.
        let want = limit + 1;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(false)
                .limit(i32::try_from(want - keys.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match listing {
                Listing::Owner(owner) => query
                    .index_name(BY_OWNER)
                    .key_condition_expression("owner_id = :part")
                    .expression_attribute_values(":part", s(owner.as_str())),
                Listing::All => query
                    .index_name(BY_CREATED)
                    .key_condition_expression("kind = :part")
                    .expression_attribute_values(":part", s(KIND_KEY)),
            };
            if let Some(status) = status {
                query = query.filter_expression(status_filter(status));
                if status != KeyStatus::Revoked {
                    query = query.expression_attribute_values(":now", n(now));
                }
            }
            let out = query.send().await.map_err(classify)?;
            for item in out.items() {
                keys.push(KeyRecord::try_from(item)?);
            }
            match out.last_evaluated_key {
                Some(last) if keys.len() < want => start = Some(last),
                _ => break,
            }
        }
        let next_cursor = if keys.len() > limit {
            keys.truncate(limit);
            keys.last().map(|last| cursor::encode(listing, last))
        } else {
            None
        };
        Ok(Page { keys, next_cursor })
    }

    /// Revokes a key at `now` and returns it. Idempotent: revoking a revoked key returns it
    /// unchanged (same `revoked_at`), whoever wins a race. A key that does not exist or that
    /// `access` may not touch is `NotFound`, so ids of other owners' keys reveal nothing.
    pub async fn revoke(
        &self,
        id: &KeyId,
        access: &Access,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        let hash = self.hash_of(id).await?.ok_or(StoreError::NotFound)?;
        for attempt in 1..=REVOKE_ATTEMPTS {
            match self.revoke_transaction(&hash, id, access, now).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e @ StoreError::Throttled(_)) if attempt == REVOKE_ATTEMPTS => return Err(e),
                // A concurrent transaction on the same key (another revoke): look, then retry.
                Err(StoreError::Throttled(_)) => {}
                Err(e) => return Err(e),
            }
            match self.get_by_hash(&hash).await? {
                Some(record) if access.permits(&record) && record.revoked_at.is_some() => {
                    return Ok(record);
                }
                Some(record) if access.permits(&record) => {
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                }
                _ => return Err(StoreError::NotFound),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Sets `revoked_at` and the TTL on the key and its id item, atomically, only if the key
    /// exists, is not revoked yet and belongs to the caller.
    async fn revoke_transaction(
        &self,
        hash: &KeyHash,
        id: &KeyId,
        access: &Access,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let purge = n(now.plus_secs(self.retention_secs));
        let mut condition = "attribute_exists(#pk) AND attribute_not_exists(revoked_at)".to_owned();
        let mut key_update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(hash.to_hex()))
            .update_expression("SET revoked_at = :now, #purge = :purge")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":purge", purge.clone());
        if let Access::Owner(owner) = access {
            condition.push_str(" AND owner_id = :owner");
            key_update = key_update.expression_attribute_values(":owner", s(owner.as_str()));
        }
        let key_update = key_update
            .condition_expression(condition)
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let id_update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(id_pk(id)))
            .update_expression("SET #purge = :purge")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":purge", purge)
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(key_update).build())
            .transact_items(TransactWriteItem::builder().update(id_update).build())
            .send()
            .await
            .map_err(transaction_error)?;
        Ok(())
    }

    /// Rotates `old` into `new` in one transaction: writes the new key (and its id item) and
    /// ends the old one `grace_secs` from `now` (never later than it already ended; 0 revokes
    /// it now), marking both with each other's id. Conditional on `old` still being active and
    /// never rotated, so of concurrent rotations exactly one wins. Returns both keys as they
    /// now stand.
    pub async fn rotate(
        &self,
        old: &KeyRecord,
        new: &KeyRecord,
        grace_secs: i64,
        now: Timestamp,
    ) -> Result<Rotation, StoreError> {
        let mut ended = old.clone();
        ended.rotated_to = Some(new.id.clone());
        if grace_secs == 0 {
            ended.revoked_at = Some(now);
        } else {
            let end = now.plus_secs(grace_secs);
            ended.expires_at = Some(old.expires_at.map_or(end, |e| e.min(end)));
        }
        let purge = ended
            .purge_at(self.retention_secs)
            .ok_or_else(|| StoreError::corrupt("a rotated key must have an end"))?;
        let mut new = new.clone();
        new.rotated_from = Some(old.id.clone());

        let (end_attr, end_value) = match ended.revoked_at {
            Some(r) if grace_secs == 0 => ("revoked_at", n(r)),
            _ => ("expires_at", n(ended.expires_at.unwrap_or(now))),
        };
        let end_old = Update::builder()
            .table_name(&self.table)
            .key(PK, s(old.hash.to_hex()))
            .update_expression(format!(
                "SET {end_attr} = :end, rotated_to = :new, #purge = :purge"
            ))
            .condition_expression(
                "attribute_exists(#pk) AND attribute_not_exists(revoked_at) \
                 AND attribute_not_exists(rotated_to) \
                 AND (attribute_not_exists(expires_at) OR expires_at > :now)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":end", end_value)
            .expression_attribute_values(":new", s(new.id.as_str()))
            .expression_attribute_values(":purge", n(purge))
            .expression_attribute_values(":now", n(now))
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let end_old_id = Update::builder()
            .table_name(&self.table)
            .key(PK, s(id_pk(&old.id)))
            .update_expression("SET #purge = :purge")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":purge", n(purge))
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(self.put_new(new.to_item(self.retention_secs))?)
            .transact_items(self.put_new(new.to_id_item(self.retention_secs))?)
            .transact_items(TransactWriteItem::builder().update(end_old).build())
            .transact_items(TransactWriteItem::builder().update(end_old_id).build())
            .send()
            .await
            .map_err(transaction_error);
        match written {
            Ok(_) => Ok(Rotation { new, old: ended }),
            // Someone else changed the old key first: say what it is now.
            Err(StoreError::Conflict | StoreError::Throttled(_)) => {
                match self.get_by_hash(&old.hash).await? {
                    None => Err(StoreError::NotFound),
                    Some(now_old) if now_old.rotated_to.is_some() => {
                        Err(StoreError::AlreadyRotated)
                    }
                    Some(now_old) if now_old.status(now) != KeyStatus::Active => {
                        Err(StoreError::NotActive)
                    }
                    Some(_) => Err(StoreError::Conflict),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Records that a key was used at `now`, unless a use within `interval` is already
    /// recorded. Never creates an item, never touches a revoked key. Returns whether it wrote.
    pub async fn touch_last_used(
        &self,
        hash: &KeyHash,
        now: Timestamp,
        interval: Duration,
    ) -> Result<bool, StoreError> {
        let interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(hash.to_hex()))
            .update_expression("SET last_used_at = :now")
            .condition_expression(
                "attribute_exists(#pk) AND attribute_not_exists(revoked_at) \
                 AND (attribute_not_exists(last_used_at) OR last_used_at <= :stale)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":stale", n(now.plus_secs(-interval)))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The filter that keeps keys of `status`; the same rule as `KeyStatus::derive`.
fn status_filter(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Revoked => "attribute_exists(revoked_at)",
        KeyStatus::Expired => "attribute_not_exists(revoked_at) AND expires_at <= :now",
        KeyStatus::Active => {
            "attribute_not_exists(revoked_at) \
             AND (attribute_not_exists(expires_at) OR expires_at > :now)"
        }
    }
}

/// A cancelled transaction: a failed condition is `Conflict`; a clash with a concurrent
/// transaction on the same item is `Throttled` (the same call may succeed later).
fn transaction_error<R>(
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, R>,
) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    {
        let reasons: Vec<&str> = cancelled
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect();
        if reasons.contains(&"ConditionalCheckFailed") {
            return StoreError::Conflict;
        }
        return StoreError::Throttled(err.into());
    }
    classify(err)
}

#[cfg(feature = "test-util")]
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
                .filter(|item| item.iter().any(|(k, _)| k == "kind"))
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
