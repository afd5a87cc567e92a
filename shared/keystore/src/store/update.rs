//! Changing a key's name, description, scopes or plan (SPEC §3 `PATCH`): one conditional
//! update of the key item, only while the key is active, with its audit event (SPEC §11).

use apikey::{Description, KeyName, PlanName, ScopeSet, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::{KeyStore, transaction_error};
use crate::audit::{Action, Audit, AuditEvent, Change, Value};
use crate::error::StoreError;
use crate::record::{KeyRecord, n, s};
use crate::schema::{PK, attr};

/// What a `PATCH` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChanges {
    pub name: Option<KeyName>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<Description>>,
    pub scopes: Option<ScopeSet>,
    pub plan: Option<PlanName>,
}

impl KeyChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl KeyStore {
    /// Applies `changes` to the key `record` describes and returns the key as now stored,
    /// writing a `key.updated` event with `changes: {field: {from, to}}` in the same
    /// transaction. Only fields that differ are written; none differing writes nothing.
    /// Conditional on the key still existing, being unrevoked and unexpired at `now`, and
    /// still holding what `record` shows in every field a `PATCH` can change (a concurrent
    /// change fails this one, `Conflict`, rather than recording a stale `from`); a revoked
    /// or expired key is `NotActive`.
    pub async fn update(
        &self,
        record: &KeyRecord,
        changes: &KeyChanges,
        now: Timestamp,
        audit: &Audit,
    ) -> Result<KeyRecord, StoreError> {
        let text = |v: &str| Value::Text(v.to_owned());
        let mut updated = record.clone();
        let mut diff = Vec::new();
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut req = Update::builder()
            .table_name(&self.table)
            .key(PK, s(record.hash.to_hex()))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#scopes", attr::SCOPES)
            .expression_attribute_names("#name", attr::NAME)
            .expression_attribute_names("#plan", attr::PLAN)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":seen", scope_set(record.scopes))
            .expression_attribute_values(":seen_name", s(record.name.as_str()));
        let mut condition = "attribute_exists(#pk) AND attribute_not_exists(revoked_at) \
             AND (attribute_not_exists(expires_at) OR expires_at > :now) \
             AND #scopes = :seen AND #name = :seen_name"
            .to_owned();
        match &record.description {
            None => condition.push_str(" AND attribute_not_exists(description)"),
            Some(d) => {
                condition.push_str(" AND description = :seen_description");
                req = req.expression_attribute_values(":seen_description", s(d.as_str()));
            }
        }
        match &record.plan {
            // An item written before plans existed has none; the store read the default.
            None => condition.push_str(" AND attribute_not_exists(#plan)"),
            Some(p) => {
                condition.push_str(" AND (#plan = :seen_plan OR attribute_not_exists(#plan))");
                req = req.expression_attribute_values(":seen_plan", s(p.as_str()));
            }
        }
        if let Some(name) = changes.name.as_ref().filter(|n| **n != record.name) {
            set.push("#name = :name");
            req = req.expression_attribute_values(":name", s(name.as_str()));
            diff.push(change(
                "name",
                text(record.name.as_str()),
                text(name.as_str()),
            ));
            updated.name = name.clone();
        }
        match &changes.description {
            Some(new) if *new != record.description => {
                let from = record
                    .description
                    .as_ref()
                    .map_or(Value::Null, |d| text(d.as_str()));
                let to = new.as_ref().map_or(Value::Null, |d| text(d.as_str()));
                match new {
                    None => remove.push(attr::DESCRIPTION),
                    Some(d) => {
                        set.push("description = :description");
                        req = req.expression_attribute_values(":description", s(d.as_str()));
                    }
                }
                diff.push(change("description", from, to));
                updated.description.clone_from(new);
            }
            _ => {}
        }
        if let Some(scopes) = changes.scopes.filter(|s| *s != record.scopes) {
            set.push("#scopes = :scopes");
            req = req.expression_attribute_values(":scopes", scope_set(scopes));
            let list = |x: ScopeSet| Value::List(x.iter().map(|s| s.as_str().to_owned()).collect());
            diff.push(change("scopes", list(record.scopes), list(scopes)));
            updated.scopes = scopes;
        }
        if let Some(plan) = changes
            .plan
            .as_ref()
            .filter(|p| Some(*p) != record.plan.as_ref())
        {
            set.push("#plan = :plan");
            req = req.expression_attribute_values(":plan", s(plan.as_str()));
            let from = record
                .plan
                .as_ref()
                .map_or(Value::Null, |p| text(p.as_str()));
            diff.push(change("plan", from, text(plan.as_str())));
            updated.plan = Some(plan.clone());
        }
        if diff.is_empty() {
            return Ok(record.clone());
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str("SET ");
            expression.push_str(&set.join(", "));
        }
        if !remove.is_empty() {
            expression.push_str(" REMOVE ");
            expression.push_str(&remove.join(", "));
        }
        let update = req
            .update_expression(expression.trim())
            .condition_expression(condition)
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let mut event = AuditEvent::new(Action::Updated, &updated, audit, now)?;
        event.changes = diff;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build());
        for put in self.audit_puts(&[&event])? {
            tx = tx.transact_items(put);
        }
        match tx.send().await.map_err(transaction_error) {
            Ok(_) => Ok(updated),
            Err(StoreError::Conflict | StoreError::Throttled(_)) => {
                match self.get_by_hash(&record.hash).await? {
                    None => Err(StoreError::NotFound),
                    Some(now_stored) if now_stored.status(now) != apikey::KeyStatus::Active => {
                        Err(StoreError::NotActive)
                    }
                    Some(_) => Err(StoreError::Conflict),
                }
            }
            Err(e) => Err(e),
        }
    }
}

fn change(field: &str, from: Value, to: Value) -> Change {
    Change {
        field: field.to_owned(),
        from,
        to,
    }
}

fn scope_set(scopes: ScopeSet) -> AttributeValue {
    AttributeValue::Ss(scopes.iter().map(|x| x.as_str().into()).collect())
}
