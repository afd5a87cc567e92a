//! Rotation: the new key written and the old one ended, in one transaction.

use apikey::{KeyStatus, Timestamp};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::{KeyStore, Rotation, transaction_error};
use crate::audit::{Action, Audit, AuditEvent, event_id};
use crate::error::StoreError;
use crate::record::{KeyRecord, id_pk, n, s};
use crate::schema::{PK, PURGE_AT, attr};

impl KeyStore {
    /// Rotates `old` into `new` in one transaction: writes the new key (and its id item) and
    /// ends the old one `grace_secs` from `now` (never later than it already ended; 0 revokes
    /// it now), marking both with each other's id. Conditional on `old` still being active and
    /// never rotated, so of concurrent rotations exactly one wins. Returns both keys as they
    /// now stand. The transaction also writes `key.rotated` (the old key) and `key.created`
    /// (the new one), sharing one `correlation_id` (SPEC §11).
    pub async fn rotate(
        &self,
        old: &KeyRecord,
        new: &KeyRecord,
        grace_secs: i64,
        now: Timestamp,
        audit: &Audit,
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
            Some(r) if grace_secs == 0 => (attr::REVOKED_AT, n(r)),
            _ => (attr::EXPIRES_AT, n(ended.expires_at.unwrap_or(now))),
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
        let correlation = Some(event_id()?);
        let mut rotated = AuditEvent::new(Action::Rotated, &ended, audit, now)?;
        rotated.correlation_id.clone_from(&correlation);
        let mut created = AuditEvent::new(Action::Created, &new, audit, now)?;
        created.correlation_id = correlation;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(self.put_new(new.to_item(self.retention_secs))?)
            .transact_items(self.put_new(new.to_id_item(self.retention_secs))?)
            .transact_items(TransactWriteItem::builder().update(end_old).build())
            .transact_items(TransactWriteItem::builder().update(end_old_id).build());
        for put in self.audit_puts(&[&rotated, &created])? {
            tx = tx.transact_items(put);
        }
        let written = tx.send().await.map_err(transaction_error);
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
}
