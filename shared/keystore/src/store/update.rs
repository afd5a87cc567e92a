//! Changing a key's name, description, scopes or plan (SPEC §3 `PATCH`): one conditional
//! `UpdateItem` on the key item, only while the key is active.

use apikey::{Description, KeyName, PlanName, ScopeSet, Timestamp};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::KeyStore;
use crate::error::{StoreError, classify};
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
    /// Applies `changes` to the key `record` describes and returns the key as now stored.
    /// Conditional on the key still existing, being unrevoked and unexpired at `now`, and
    /// still holding the scopes `record` shows (a concurrent change fails this one, `Conflict`,
    /// rather than narrowing from a stale set); a revoked or expired key is `NotActive`.
    pub async fn update(
        &self,
        record: &KeyRecord,
        changes: &KeyChanges,
        now: Timestamp,
    ) -> Result<KeyRecord, StoreError> {
        let mut set = Vec::new();
        let mut remove = Vec::new();
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(record.hash.to_hex()))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#scopes", attr::SCOPES)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":seen", scope_set(record.scopes));
        if let Some(name) = &changes.name {
            set.push("#name = :name");
            req = req
                .expression_attribute_names("#name", attr::NAME)
                .expression_attribute_values(":name", s(name.as_str()));
        }
        match &changes.description {
            None => {}
            Some(None) => remove.push(attr::DESCRIPTION),
            Some(Some(d)) => {
                set.push("description = :description");
                req = req.expression_attribute_values(":description", s(d.as_str()));
            }
        }
        if let Some(scopes) = changes.scopes {
            set.push("#scopes = :scopes");
            req = req.expression_attribute_values(":scopes", scope_set(scopes));
        }
        if let Some(plan) = &changes.plan {
            set.push("#plan = :plan");
            req = req
                .expression_attribute_names("#plan", attr::PLAN)
                .expression_attribute_values(":plan", s(plan.as_str()));
        }
        if set.is_empty() && remove.is_empty() {
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
        let result = req
            .update_expression(expression.trim())
            .condition_expression(
                "attribute_exists(#pk) AND attribute_not_exists(revoked_at) \
                 AND (attribute_not_exists(expires_at) OR expires_at > :now) \
                 AND #scopes = :seen",
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .as_ref()
                .ok_or_else(|| StoreError::corrupt("UpdateItem returned no attributes"))
                .and_then(|item| self.record(item)),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                match self.get_by_hash(&record.hash).await? {
                    None => Err(StoreError::NotFound),
                    Some(now_stored) if now_stored.status(now) != apikey::KeyStatus::Active => {
                        Err(StoreError::NotActive)
                    }
                    Some(_) => Err(StoreError::Conflict),
                }
            }
            Err(e) => Err(classify(e)),
        }
    }
}

fn scope_set(scopes: ScopeSet) -> AttributeValue {
    AttributeValue::Ss(scopes.iter().map(|x| x.as_str().into()).collect())
}
