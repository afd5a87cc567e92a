//! Revocation: one transaction on the key and its id item, retried when it meets another.

use std::time::Duration;

use apikey::{KeyId, Timestamp};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::{Access, KeyStore, transaction_error};
use crate::audit::{Action, Audit, AuditEvent};
use crate::error::StoreError;
use crate::record::{KeyRecord, id_pk, n, s};
use crate::schema::{PK, PURGE_AT};

/// Revocations that meet a concurrent transaction on the same key retry this often.
const REVOKE_ATTEMPTS: u32 = 5;

impl KeyStore {
    /// Revokes a key at `now` and returns it. Idempotent: revoking a revoked key returns it
    /// unchanged (same `revoked_at`, no second audit event), whoever wins a race. A key that
    /// does not exist or that `access` may not touch is `NotFound`, so ids of other owners'
    /// keys reveal nothing. The `key.revoked` event is written in the same transaction.
    pub async fn revoke(
        &self,
        id: &KeyId,
        access: &Access,
        now: Timestamp,
        audit: &Audit,
    ) -> Result<KeyRecord, StoreError> {
        let hash = self.hash_of(id).await?.ok_or(StoreError::NotFound)?;
        for attempt in 1..=REVOKE_ATTEMPTS {
            let record = match self.get_by_hash(&hash).await? {
                Some(record) if access.permits(&record) => record,
                _ => return Err(StoreError::NotFound),
            };
            if record.revoked_at.is_some() {
                return Ok(record);
            }
            match self
                .revoke_transaction(&record, id, access, now, audit)
                .await
            {
                Ok(revoked) => return Ok(revoked),
                // Changed since it was read (another revoke won): look again.
                Err(StoreError::Conflict) => {}
                Err(e @ StoreError::Throttled(_)) if attempt == REVOKE_ATTEMPTS => return Err(e),
                // A concurrent transaction on the same key: wait a little, look again.
                Err(StoreError::Throttled(_)) => {
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Sets `revoked_at` and the TTL on the key and its id item and writes the `key.revoked`
    /// event, atomically, only if the key exists, is not revoked yet and belongs to the
    /// caller. The key as revoked.
    async fn revoke_transaction(
        &self,
        record: &KeyRecord,
        id: &KeyId,
        access: &Access,
        now: Timestamp,
        audit: &Audit,
    ) -> Result<KeyRecord, StoreError> {
        let hash = &record.hash;
        let mut revoked = record.clone();
        revoked.revoked_at = Some(now);
        let event = AuditEvent::new(Action::Revoked, &revoked, audit, now)?;
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
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(key_update).build())
            .transact_items(TransactWriteItem::builder().update(id_update).build());
        for put in self.audit_puts(&[&event])? {
            tx = tx.transact_items(put);
        }
        tx.send().await.map_err(transaction_error)?;
        Ok(revoked)
    }
}
