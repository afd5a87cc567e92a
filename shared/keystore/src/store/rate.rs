//! Rate-limit counters (SPEC §10): one counter item per key, `rate#<key hash>`, beside the
//! key item in the same table.
//!
//! The item holds the day's count `d<epoch day>` and one cell per UTC minute
//! `m<epoch minute>`. A request is counted by one conditional `UpdateItem` that adds 1 to the
//! day and the current cell only while both are under their limits, so concurrent requests
//! can never push a count past its bound (no read-then-write), and a refused request is not
//! counted. Its answer (`ALL_NEW`) carries the three counts the sliding estimate needs; the
//! write removes every name the caller saw in an earlier answer that can no longer matter
//! (minutes before the previous one, earlier days), so the item stays a few attributes long.
//! `purge_at` (the table's TTL) deletes the item of a key left idle for a day.
//!
//! What the caller saw also spares work DynamoDB would do for nothing: `purge_at` is set only
//! by the day's first write it knows of, and the day's bound is left out of the condition
//! while the minute's bound alone keeps the day under its quota (seen in this very minute:
//! the day can grow by at most what is left of the minute's limit).
//!
//! The condition can only bound the current cell by what is known of the previous one (the
//! caller's hint, ≤ the true count). When the counts returned show the estimate over the
//! limit after all, the request is taken back out with a second write (`uncount`) and refused:
//! in that short interval a concurrent request may be refused that would have fitted, never
//! the other way round.

use apikey::{Counts, KeyHash, PlanLimits, Verdict, Window, judge};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::KeyStore;
use crate::error::{StoreError, classify};
use crate::record::{Item, s};
use crate::schema::{PK, PURGE_AT};

/// The counter item's partition key (a key item's is the bare hex hash).
pub fn counter_pk(hash: &KeyHash) -> String {
    format!("rate#{}", hash.to_hex())
}

/// At most this many names the caller saw are removed per write.
const MAX_SEEN_REMOVALS: usize = 16;

/// The counter item as an answer last showed it: attribute name → count. The caller keeps it
/// between requests (≤ 60 s): its previous cell is a lower bound for the write's condition,
/// and its stale names are removed by the next write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterCells(Vec<(String, u32)>);

impl CounterCells {
    fn from_item(item: &Item) -> Self {
        let mut cells: Vec<(String, u32)> = item
            .keys()
            .filter(|k| k.starts_with('m') || k.starts_with('d'))
            .map(|k| (k.clone(), count_of(item, k)))
            .collect();
        cells.sort();
        Self(cells)
    }

    fn get(&self, name: &str) -> u32 {
        self.find(name).unwrap_or(0)
    }

    fn find(&self, name: &str) -> Option<u32> {
        self.0.iter().find_map(|(k, v)| (k == name).then_some(*v))
    }
}

/// A counted (or refused) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub verdict: Verdict,
    /// The counts the verdict was made on (this request included).
    pub counts: Counts,
    /// Whether the request stayed counted (false when refused).
    pub counted: bool,
    /// The counter item as this write's answer showed it.
    pub cells: CounterCells,
}

fn day_attr(day: i64) -> String {
    format!("d{day}")
}

fn minute_attr(minute: i64) -> String {
    format!("m{minute}")
}

fn count_of(item: &Item, name: &str) -> u32 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

impl KeyStore {
    /// Counts one request of the key `hash` against `limits` (not unlimited) in `window`.
    /// `seen` is the item as an earlier answer showed it (empty when none): its previous
    /// cell is a lower bound that only saves a take-back, its stale names are removed.
    pub async fn count(
        &self,
        hash: &KeyHash,
        limits: PlanLimits,
        window: Window,
        seen: &CounterCells,
    ) -> Result<Tally, StoreError> {
        let (minute, day) = (window.minute(), window.day());
        let (today, current, previous) =
            (day_attr(day), minute_attr(minute), minute_attr(minute - 1));
        let live = [&today, &current, &previous];
        let previous_hint = seen.get(&previous);
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(counter_pk(hash)))
            .expression_attribute_names("#d", today.clone())
            .expression_attribute_names("#m", current.clone())
            .expression_attribute_values(":one", num(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut update = "ADD #d :one, #m :one".to_owned();
        // The day's first write (as far as the caller knows) sets the TTL for the day after.
        if seen.find(&today).is_none() {
            update.push_str(" SET #purge = :purge");
            req = req
                .expression_attribute_names("#purge", PURGE_AT)
                .expression_attribute_values(":purge", num((day + 2) * 86_400));
        }
        let stale: Vec<&String> = seen
            .0
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !live.contains(k))
            .take(MAX_SEEN_REMOVALS)
            .collect();
        for (i, attr) in stale.into_iter().enumerate() {
            let name = format!("#o{i}");
            update.push_str(if i == 0 { " REMOVE " } else { ", " });
            update.push_str(&name);
            req = req.expression_attribute_names(name, attr.clone());
        }
        let mut conditions = Vec::new();
        if let Some(per_day) = limits.requests_per_day {
            // Seen in this minute, the day can reach at most its count then plus what the
            // minute's limit left: within the quota, the minute's bound is the day's too.
            let bounded_by_minute = match (limits.requests_per_minute, seen.find(&current)) {
                (Some(per_minute), Some(seen_minute)) => {
                    let most = u64::from(seen.get(&today)) + u64::from(per_minute)
                        - u64::from(seen_minute.min(per_minute));
                    most <= u64::from(per_day)
                }
                _ => false,
            };
            if !bounded_by_minute {
                conditions.push("(attribute_not_exists(#d) OR #d < :dlim)");
                req = req.expression_attribute_values(":dlim", num(i64::from(per_day)));
            }
        }
        if let Some(per_minute) = limits.requests_per_minute {
            conditions.push("(attribute_not_exists(#m) OR #m < :mcap)");
            let cap = window.minute_cap(per_minute, previous_hint);
            req = req.expression_attribute_values(":mcap", num(i64::from(cap)));
        }
        if !conditions.is_empty() {
            req = req.condition_expression(conditions.join(" AND "));
        }
        let counts_in = |item: &Item, extra: u32| Counts {
            minute: count_of(item, &current).saturating_add(extra),
            previous_minute: count_of(item, &previous),
            day: count_of(item, &today).saturating_add(extra),
        };
        match req.update_expression(update).send().await {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let counts = counts_in(&item, 0);
                let cells = CounterCells::from_item(&item);
                let verdict = judge(limits, window, counts);
                let counted = matches!(verdict, Verdict::Allowed(_));
                if !counted {
                    self.uncount(hash, window).await?;
                }
                Ok(Tally {
                    verdict,
                    counts,
                    counted,
                    cells,
                })
            }
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                let old = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(f)) => {
                        f.item().cloned().unwrap_or_default()
                    }
                    _ => Item::default(),
                };
                // Over a limit: the counts as they would have been with this request.
                let counts = counts_in(&old, 1);
                let verdict = match judge(limits, window, counts) {
                    limited @ Verdict::Limited { .. } => limited,
                    // The hint's bound is never below the true one, so this is not expected;
                    // refuse with the minute's figures rather than allow past a failed bound.
                    Verdict::Allowed(figures) => Verdict::Limited {
                        figures: apikey::RateFigures {
                            remaining: 0,
                            ..figures
                        },
                        retry_after: 1,
                    },
                };
                Ok(Tally {
                    verdict,
                    counts,
                    counted: false,
                    cells: CounterCells::from_item(&old),
                })
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Takes one counted request back out of `window`'s cells (a request counted but then
    /// refused, by the estimate or by the key's own check). Never creates the item.
    pub async fn uncount(&self, hash: &KeyHash, window: Window) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(counter_pk(hash)))
            .update_expression("ADD #d :minus, #m :minus")
            .condition_expression("attribute_exists(#m)")
            .expression_attribute_names("#d", day_attr(window.day()))
            .expression_attribute_names("#m", minute_attr(window.minute()))
            .expression_attribute_values(":minus", num(-1))
            .return_values(ReturnValue::None)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}
