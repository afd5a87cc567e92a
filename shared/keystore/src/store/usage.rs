//! Usage per key and UTC day (SPEC §12): one item per key-day, `usage#<key id>#<date>`, that
//! the authorizer's flushes `ADD` to, read back per key by its keys and per owner through the
//! `audit_log` index (partition `usage#<owner id>`, sort `<date>#<key id>`), which holds
//! the audit events' audiences beside it. `purge_at` removes an item [`USAGE_RETENTION_DAYS`]
//! after its day, so a full 366-day range is always readable.

use std::collections::HashMap;
use std::ops::ControlFlow;

use apikey::{Day, DayRange, KeyId, OwnerId, UsageCounts};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};

use super::{KeyStore, query_each};
use crate::audit::{AUDIT_INDEX, AUDIT_PART, AUDIT_SORT};
use crate::error::{StoreError, classify};
use crate::record::{Item, s};
use crate::schema::{PK, PURGE_AT};

/// Usage items outlive the longest range a query may ask for (366 days) by a margin.
pub const USAGE_RETENTION_DAYS: i64 = 400;

/// The counted attributes, and the item's others.
const ALLOWED: &str = "allowed";
const RATE_LIMITED: &str = "rate_limited";
const DENIED: &str = "denied";
const KEY_ID: &str = "usage_key_id";
const DAY: &str = "usage_day";

/// BatchGetItem reads at most 100 keys per call.
const BATCH: usize = 100;
/// Rounds of unprocessed keys a read retries before it gives up (as unavailable).
const MAX_ROUNDS: usize = 8;

/// Whose requests, and which day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyDay {
    pub key_id: KeyId,
    pub owner_id: OwnerId,
    pub day: Day,
}

/// One key's counts of one day, as an owner's usage reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub key_id: String,
    pub day: Day,
    pub counts: UsageCounts,
}

/// The usage item's partition key.
pub fn usage_pk(key_id: &KeyId, day: Day) -> String {
    format!("usage#{key_id}#{day}")
}

fn owner_part(owner: &OwnerId) -> String {
    format!("usage#{owner}")
}

fn count(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn counts_of(item: &Item) -> UsageCounts {
    let get = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    UsageCounts {
        allowed: get(ALLOWED),
        rate_limited: get(RATE_LIMITED),
        denied: get(DENIED),
    }
}

impl KeyStore {
    /// Adds `counts` to the key-day's item (created by the first add): one `UpdateItem`,
    /// `ADD` only, so concurrent flushes from many containers sum without conflict.
    pub async fn add_usage(&self, key: &KeyDay, counts: UsageCounts) -> Result<(), StoreError> {
        let purge_at = key.day.plus(USAGE_RETENTION_DAYS + 1).start().epoch_secs();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(usage_pk(&key.key_id, key.day)))
            .update_expression(
                "ADD #allowed :allowed, #limited :limited, #denied :denied \
                 SET #key = :key, #day = :day, #part = :part, #sort = :sort, #purge = :purge",
            )
            .expression_attribute_names("#allowed", ALLOWED)
            .expression_attribute_names("#limited", RATE_LIMITED)
            .expression_attribute_names("#denied", DENIED)
            .expression_attribute_names("#key", KEY_ID)
            .expression_attribute_names("#day", DAY)
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":allowed", count(counts.allowed))
            .expression_attribute_values(":limited", count(counts.rate_limited))
            .expression_attribute_values(":denied", count(counts.denied))
            .expression_attribute_values(":key", s(key.key_id.as_str()))
            .expression_attribute_values(":day", s(key.day.to_string()))
            .expression_attribute_values(":part", s(owner_part(&key.owner_id)))
            .expression_attribute_values(":sort", s(format!("{}#{}", key.day, key.key_id)))
            .expression_attribute_values(":purge", AttributeValue::N(purge_at.to_string()))
            .return_values(ReturnValue::None)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One key's counts for every day of `range`, oldest first, zeros for days without an
    /// item: strongly consistent reads of the range's items by key (at most 366, four
    /// `BatchGetItem` calls).
    pub async fn key_usage(
        &self,
        key_id: &KeyId,
        range: DayRange,
    ) -> Result<Vec<UsageCounts>, StoreError> {
        let days: Vec<Day> = range.days().collect();
        let mut found: HashMap<String, UsageCounts> = HashMap::new();
        for chunk in days.chunks(BATCH) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|day| Item::from([(PK.to_owned(), s(usage_pk(key_id, *day)))]))
                .collect();
            for item in self.batch_get(keys).await? {
                if let Some(AttributeValue::S(pk)) = item.get(PK) {
                    found.insert(pk.clone(), counts_of(&item));
                }
            }
        }
        Ok(days
            .iter()
            .map(|day| {
                found
                    .get(&usage_pk(key_id, *day))
                    .copied()
                    .unwrap_or_default()
            })
            .collect())
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Unexpected(e.into()))?,
        );
        for round in 0..MAX_ROUNDS {
            let Some(request) = pending.take() else {
                return Ok(items);
            };
            if round > 0 {
                // Unprocessed keys mean "slow down": back off before asking again.
                let wait = 20u64 << round.min(6);
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(classify)?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
        }
        match pending {
            None => Ok(items),
            Some(_) => Err(StoreError::Unavailable(
                "DynamoDB left usage items unread after retries".into(),
            )),
        }
    }

    /// Every key-day of one owner's keys within `range`, by day then key id, from the index
    /// (eventually consistent, like the owner's key listing).
    pub async fn owner_usage(
        &self,
        owner: &OwnerId,
        range: DayRange,
    ) -> Result<Vec<UsageRow>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(AUDIT_INDEX)
            .key_condition_expression("#part = :part AND #sort BETWEEN :lo AND :hi")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_values(":part", s(owner_part(owner)))
            .expression_attribute_values(":lo", s(format!("{}#", range.from())))
            // `~` sorts after every key id character.
            .expression_attribute_values(":hi", s(format!("{}#~", range.to())));
        let mut rows = Vec::new();
        query_each(query, |item| {
            let text = |name: &str| match item.get(name) {
                Some(AttributeValue::S(v)) => Some(v.as_str()),
                _ => None,
            };
            let (Some(key_id), Some(day)) = (text(KEY_ID), text(DAY).and_then(Day::parse)) else {
                return Err(StoreError::corrupt("a usage item without key id or day"));
            };
            rows.push(UsageRow {
                key_id: key_id.to_owned(),
                day,
                counts: counts_of(item),
            });
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        Ok(rows)
    }
}
