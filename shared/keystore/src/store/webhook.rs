//! Lifecycle webhooks (SPEC §14), the table's side: the delivery outbox, the expiry index and
//! the notices marked on keys. Everything sits in the `audit_log` index beside the audit
//! events and usage, under partitions of its own, so no new index is needed:
//!
//! - a delivery is `webhook#<event id>` with the signed-to-be body; while it waits it is in
//!   partition `webhook#pending`, sorted by when it is next due (`<epoch seconds, 11 digits>#<id>`),
//!   so "what is due now" is one query; after its last attempt fails it moves to
//!   `webhook#failed` (sorted by when it failed, kept [`FAILED_RETENTION_DAYS`]) for replay;
//!   a delivered one leaves the index and stays a day without its body, a marker that stops
//!   a stream record handled again from sending it twice;
//! - a key with an `expires_at` is in partition `expiry#<UTC day of expires_at>` (its item's own
//!   `audit_part`/`audit_sort`, written with the key), so the daily scan reads one partition
//!   per day and never the table;
//! - a notice sent about a key is marked on the key item (`webhook_notices`, a string set),
//!   in the same transaction that stores its delivery, on the condition that it is not there
//!   yet: a scan run twice, or two at once, stores each notice once.

use std::ops::ControlFlow;

use apikey::{Day, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};

use super::{KeyStore, put_if_new, query_each, transaction_error};
use crate::audit::{AUDIT_INDEX, AUDIT_PART, AUDIT_SORT};
use crate::error::{StoreError, classify};
use crate::record::{Item, KeyRecord, n, s};
use crate::schema::{PK, PURGE_AT, attr};

/// The outbox partitions.
pub const PENDING: &str = "webhook#pending";
pub const FAILED: &str = "webhook#failed";
/// How long a given-up delivery stays for replay.
pub const FAILED_RETENTION_DAYS: i64 = 30;
/// How long a delivered event's marker stays (longer than a stream record can be retried).
pub const DELIVERED_MARKER_DAYS: i64 = 1;
/// The key item's set of notices already stored for delivery.
pub const NOTICES: &str = "webhook_notices";

const BODY: &str = "webhook_body";
const ATTEMPTS: &str = "webhook_attempts";
const CREATED: &str = "webhook_created";
const ERROR: &str = "webhook_error";
const EVENT_ID: &str = "webhook_id";

/// The longest last-error text kept on a delivery (the receiver's status line or the
/// transport error, never the body).
const MAX_ERROR: usize = 300;

/// A delivery's item key.
pub fn delivery_pk(event_id: &str) -> String {
    format!("webhook#{event_id}")
}

/// The expiry-index partition of a day.
pub fn expiry_part(day: Day) -> String {
    format!("expiry#{day}")
}

fn due_sort(at: Timestamp, id: &str) -> String {
    format!("{:011}#{id}", at.epoch_secs().max(0))
}

/// One webhook delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The envelope's `id` (`Podkeys-Event-Id`).
    pub id: String,
    /// The JSON body, exactly as it is signed and sent.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next due (pending), or when it was given up (failed).
    pub at: Timestamp,
    pub created: Timestamp,
    pub failed: bool,
    pub last_error: Option<String>,
}

impl Delivery {
    /// A delivery not yet attempted, first due at `due`.
    pub fn new(id: impl Into<String>, body: impl Into<String>, created: Timestamp) -> Self {
        Self {
            id: id.into(),
            body: body.into(),
            attempts: 0,
            at: created,
            created,
            failed: false,
            last_error: None,
        }
    }

    fn to_item(&self) -> Item {
        let part = if self.failed { FAILED } else { PENDING };
        let mut item = Item::from([
            (PK.to_owned(), s(delivery_pk(&self.id))),
            (EVENT_ID.to_owned(), s(self.id.clone())),
            (BODY.to_owned(), s(self.body.clone())),
            (
                ATTEMPTS.to_owned(),
                AttributeValue::N(self.attempts.to_string()),
            ),
            (CREATED.to_owned(), n(self.created)),
            (AUDIT_PART.to_owned(), s(part)),
            (AUDIT_SORT.to_owned(), s(due_sort(self.at, &self.id))),
        ]);
        if let Some(e) = &self.last_error {
            item.insert(ERROR.to_owned(), s(e.clone()));
        }
        item
    }

    fn from_item(item: &Item) -> Result<Self, StoreError> {
        let text = |k: &str| match item.get(k) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        let number = |k: &str| match item.get(k) {
            Some(AttributeValue::N(v)) => v.parse::<i64>().ok(),
            _ => None,
        };
        let missing = || StoreError::corrupt("webhook delivery item misses a field");
        let sort = text(AUDIT_SORT).ok_or_else(missing)?;
        let at = sort
            .get(..11)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| StoreError::corrupt("webhook delivery: bad sort key"))?;
        Ok(Self {
            id: text(EVENT_ID).ok_or_else(missing)?,
            body: text(BODY).ok_or_else(missing)?,
            attempts: number(ATTEMPTS)
                .and_then(|a| u32::try_from(a).ok())
                .ok_or_else(missing)?,
            at: Timestamp::from_epoch_secs(at),
            created: Timestamp::from_epoch_secs(number(CREATED).ok_or_else(missing)?),
            failed: text(AUDIT_PART).as_deref() == Some(FAILED),
            last_error: text(ERROR),
        })
    }
}

/// What the expiry index holds for a key item: its day's partition and `<expires_at>#<id>`.
pub(crate) fn expiry_index_attrs(record: &KeyRecord) -> Option<[(String, AttributeValue); 2]> {
    let expires = record.expires_at?;
    Some([
        (AUDIT_PART.to_owned(), s(expiry_part(Day::of(expires)))),
        (
            AUDIT_SORT.to_owned(),
            s(due_sort(expires, record.id.as_str())),
        ),
    ])
}

fn trimmed(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error[..end].to_owned()
}

impl KeyStore {
    /// Stores a delivery unless one with its id exists (a stream record seen again, a notice
    /// stored by a racing scan): `true` when this call stored it. `lease_until` is when it is
    /// first due for the retry schedule: the caller attempts it at once and, if it dies
    /// before recording the outcome, the schedule picks it up after that.
    pub async fn enqueue_delivery(
        &self,
        delivery: &Delivery,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut stored = delivery.clone();
        stored.at = lease_until;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(stored.to_item()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match put.map_err(classify) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Pending deliveries due at `now`, oldest due first, at most `limit`.
    pub async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let hi = format!("{:011}~", now.epoch_secs().max(0));
        self.outbox(PENDING, None, Some(hi), true, limit).await
    }

    /// Given-up deliveries, most recently given up first, at most `limit`.
    pub async fn failed_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.outbox(FAILED, None, None, false, limit).await
    }

    async fn outbox(
        &self,
        part: &str,
        lo: Option<String>,
        hi: Option<String>,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(AUDIT_INDEX)
            .scan_index_forward(forward)
            .key_condition_expression("#part = :part AND #sort BETWEEN :lo AND :hi")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_values(":part", s(part))
            .expression_attribute_values(":lo", s(lo.unwrap_or_else(|| "0".into())))
            .expression_attribute_values(":hi", s(hi.unwrap_or_else(|| "~".into())))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        query_each(query, |item| {
            found.push(Delivery::from_item(item)?);
            Ok(if found.len() == limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })
        .await?;
        Ok(found)
    }

    /// Takes a due delivery for one attempt: moves its due time to `lease_until` if nobody
    /// else moved it since it was read. `false`: another worker has it.
    pub async fn claim_delivery(
        &self,
        delivery: &Delivery,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(delivery_pk(&delivery.id)))
            .update_expression("SET #sort = :new")
            .condition_expression("#part = :pending AND #sort = :old AND #attempts = :attempts")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":old", s(due_sort(delivery.at, &delivery.id)))
            .expression_attribute_values(":new", s(due_sort(lease_until, &delivery.id)))
            .expression_attribute_values(
                ":attempts",
                AttributeValue::N(delivery.attempts.to_string()),
            )
            .return_values(ReturnValue::None)
            .send()
            .await;
        match claimed.map_err(classify) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// A delivered event: its delivery leaves the outbox but stays a day as a marker (no
    /// body, out of the index), so a stream record handled again does not send it again.
    pub async fn delivery_done(&self, event_id: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(delivery_pk(event_id)))
            .update_expression("REMOVE #part, #sort, #body SET #purge = :purge")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_names("#body", BODY)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(
                ":purge",
                n(Timestamp::now().plus_days(DELIVERED_MARKER_DAYS)),
            )
            .send()
            .await
            .map_err(classify)
            .map(|_| ())
            .or_else(|e| match e {
                StoreError::Conflict => Ok(()),
                e => Err(e),
            })
    }

    /// A failed attempt: `attempts` made so far; due again at `next` or, with `None`, given
    /// up at `now` and kept [`FAILED_RETENTION_DAYS`] for replay.
    pub async fn delivery_failed(
        &self,
        event_id: &str,
        attempts: u32,
        next: Option<Timestamp>,
        now: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        let (part, at) = match next {
            Some(at) => (PENDING, at),
            None => (FAILED, now),
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(delivery_pk(event_id)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#error", ERROR)
            .expression_attribute_values(":part", s(part))
            .expression_attribute_values(":sort", s(due_sort(at, event_id)))
            .expression_attribute_values(":attempts", AttributeValue::N(attempts.to_string()))
            .expression_attribute_values(":error", s(trimmed(error)));
        update = if next.is_some() {
            update.update_expression(
                "SET #part = :part, #sort = :sort, #attempts = :attempts, #error = :error",
            )
        } else {
            update
                .update_expression(
                    "SET #part = :part, #sort = :sort, #attempts = :attempts, #error = :error, \
                     #purge = :purge",
                )
                .expression_attribute_names("#purge", PURGE_AT)
                .expression_attribute_values(":purge", n(now.plus_days(FAILED_RETENTION_DAYS)))
        };
        match update.send().await.map_err(classify) {
            // Delivered by an overlapping attempt meanwhile: nothing left to record.
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Puts a given-up delivery back in line as a fresh one, due at `lease_until` (the caller
    /// attempts it at once); returns it, or `None` when no given-up delivery has that id.
    pub async fn replay_delivery(
        &self,
        event_id: &str,
        lease_until: Timestamp,
    ) -> Result<Option<Delivery>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(delivery_pk(event_id)))
            .update_expression(
                "SET #part = :pending, #sort = :sort, #attempts = :zero REMOVE #purge",
            )
            .condition_expression("#part = :failed")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#purge", PURGE_AT)
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":failed", s(FAILED))
            .expression_attribute_values(":sort", s(due_sort(lease_until, event_id)))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out.map_err(classify) {
            Ok(out) => out.attributes.as_ref().map(Delivery::from_item).transpose(),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The keys whose `expires_at` falls on `day`, each with the notices already marked on it.
    pub async fn keys_expiring_on(
        &self,
        day: Day,
    ) -> Result<Vec<(KeyRecord, Vec<String>)>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(AUDIT_INDEX)
            .key_condition_expression("#part = :part")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_values(":part", s(expiry_part(day)));
        let mut keys = Vec::new();
        query_each(query, |item| {
            let notices = match item.get(NOTICES) {
                Some(AttributeValue::Ss(set)) => set.clone(),
                _ => Vec::new(),
            };
            keys.push((self.record(item)?, notices));
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        Ok(keys)
    }

    /// Marks `notice` on the key and stores its delivery, both or neither, only if the key is
    /// there, not revoked and not marked with `notice` yet: `true` when this call did it.
    /// Racing scans: one transaction wins, the other's condition fails (`false`); a clash
    /// between the two in flight is retried a few times, as DynamoDB asks.
    pub async fn mark_notice(
        &self,
        record: &KeyRecord,
        notice: &str,
        delivery: &Delivery,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(record.hash.to_hex()))
            .update_expression("ADD #notices :set")
            .condition_expression(
                "attribute_exists(#pk) AND attribute_not_exists(#revoked) \
                 AND NOT contains(#notices, :notice)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#revoked", attr::REVOKED_AT)
            .expression_attribute_names("#notices", NOTICES)
            .expression_attribute_values(":set", AttributeValue::Ss(vec![notice.to_owned()]))
            .expression_attribute_values(":notice", s(notice))
            .build()
            .map_err(|e| StoreError::Unexpected(e.into()))?;
        let mut stored = delivery.clone();
        stored.at = lease_until;
        let items = [
            TransactWriteItem::builder().update(update).build(),
            put_if_new(&self.table, stored.to_item())?,
        ];
        let mut wait = std::time::Duration::from_millis(25);
        for round in 0..4 {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.to_vec()))
                .send()
                .await
                .map_err(transaction_error);
            match sent {
                Ok(_) => return Ok(true),
                Err(StoreError::Conflict) => return Ok(false),
                Err(StoreError::Throttled(_)) if round < 3 => {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}
