//! Every table operation: the `KeyStore` and its small operations here, the larger ones in
//! one submodule each.

use std::ops::ControlFlow;
use std::time::Duration;

use apikey::{KeyHash, KeyId, OwnerId, PlanName, Timestamp};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};

use crate::audit::{Action, Audit, AuditEvent};
use crate::error::{StoreError, classify};
use crate::record::{Item, KeyRecord, hash_of_id_item, id_pk, n, s};
use crate::schema::{PK, attr};

mod audit;
#[cfg(feature = "test-util")]
mod bench;
mod list;
mod rate;
mod revoke;
mod rotate;
mod update;
mod usage;
pub(crate) mod webhook;

pub use audit::{AuditPage, AuditQuery};
#[cfg(feature = "test-util")]
pub use bench::UsageWrites;
pub use list::{MAX_PAGE, Page};
pub use rate::{CounterCells, Tally, counter_pk};
pub use update::KeyChanges;
pub use usage::{KeyDay, USAGE_RETENTION_DAYS, UsageRow, usage_pk};
pub use webhook::{
    Delivery, FAILED, FAILED_RETENTION_DAYS, NOTICES, PENDING, delivery_pk, expiry_part,
};

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

#[derive(Debug, Clone)]
pub struct KeyStore {
    client: Client,
    table: String,
    retention_secs: i64,
    /// How long audit events are kept (`AUDIT_RETENTION_DAYS`, SPEC §11).
    audit_retention_secs: i64,
    /// The plan of keys whose item names none (written before plans existed).
    default_plan: Option<PlanName>,
}

impl KeyStore {
    pub const DEFAULT_RETENTION_DAYS: i64 = 30;
    pub const DEFAULT_AUDIT_RETENTION_DAYS: i64 = 365;

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention_secs: Self::DEFAULT_RETENTION_DAYS * 86_400,
            audit_retention_secs: Self::DEFAULT_AUDIT_RETENTION_DAYS * 86_400,
            default_plan: None,
        }
    }

    /// Keys whose item names no plan read as being on `plan` (the configured default).
    pub fn with_default_plan(mut self, plan: PlanName) -> Self {
        self.default_plan = Some(plan);
        self
    }

    /// A record from an item, its plan filled in from the default when the item has none.
    pub(crate) fn record(&self, item: &Item) -> Result<KeyRecord, StoreError> {
        let mut record = KeyRecord::try_from(item)?;
        if record.plan.is_none() {
            record.plan.clone_from(&self.default_plan);
        }
        Ok(record)
    }

    /// How long revoked and expired keys stay readable before DynamoDB's TTL deletes them.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention_secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// How long audit events stay before DynamoDB's TTL deletes them.
    pub fn with_audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention_secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// The transaction items of `events`, one per audience each.
    pub(crate) fn audit_puts(
        &self,
        events: &[&AuditEvent],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut puts = Vec::new();
        for event in events {
            puts.extend(event.puts(&self.table, self.audit_retention_secs)?);
        }
        Ok(puts)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Writes the key item, its id item and its `key.created` audit event in one
    /// transaction. Either item already existing (a hash or id collision) fails the whole
    /// write with `Conflict`; nothing is overwritten, and no event is left behind.
    pub async fn create(&self, record: &KeyRecord, audit: &Audit) -> Result<(), StoreError> {
        let event = AuditEvent::new(Action::Created, record, audit, record.created_at)?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(self.put_new(record.to_item(self.retention_secs))?)
            .transact_items(self.put_new(record.to_id_item(self.retention_secs))?);
        for put in self.audit_puts(&[&event])? {
            tx = tx.transact_items(put);
        }
        tx.send().await.map_err(transaction_error)?;
        Ok(())
    }

    /// A transaction item that writes `item` only if nothing has its key yet.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        put_if_new(&self.table, item)
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
        out.item.as_ref().map(|i| self.record(i)).transpose()
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
            .projection_expression(attr::KEY_HASH)
            .send()
            .await
            .map_err(classify)?;
        out.item.as_ref().map(hash_of_id_item).transpose()
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

/// Runs `query` (from its exclusive start key, if it has one) page after page, handing `each`
/// every item in order, until `each` breaks or the pages end. The one query-and-page loop of
/// the store's index reads.
pub(crate) async fn query_each(
    mut query: QueryFluentBuilder,
    mut each: impl FnMut(&Item) -> Result<ControlFlow<()>, StoreError>,
) -> Result<(), StoreError> {
    loop {
        let out = query.clone().send().await.map_err(classify)?;
        for item in out.items() {
            if each(item)?.is_break() {
                return Ok(());
            }
        }
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => query = query.set_exclusive_start_key(Some(key)),
            _ => return Ok(()),
        }
    }
}

/// A transaction item that writes `item` into `table` only if nothing has its key yet.
pub(crate) fn put_if_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PK)
        .build()
        .map_err(|e| StoreError::Unexpected(e.into()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A cancelled transaction: a failed condition is `Conflict`; a clash with a concurrent
/// transaction on the same item is `Throttled` (the same call may succeed later).
pub(crate) fn transaction_error<R>(
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
