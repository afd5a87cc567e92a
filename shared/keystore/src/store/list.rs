//! Listing keys newest first (one owner's, or everyone's for admins) and counting an owner's
//! active keys: the two reads that go through an index.
//!
//! DynamoDB semantics this code depends on:
//! - A `Query` reads up to `Limit` items or 1 MB, whichever comes first, and applies the
//!   `FilterExpression` after reading: `Limit` counts items evaluated, not items returned, and
//!   a filtered read costs as much as an unfiltered one.
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html>,
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html>
//! - `ScannedCount` is the number of items evaluated before the filter, `Count` the number
//!   kept after it (and all that `Select=COUNT` returns). Same page.
//! - `LastEvaluatedKey` is where a `Query` stopped; passed back as `ExclusiveStartKey` it
//!   continues right after that item. A present `LastEvaluatedKey` does not promise more items.
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html>
//! - Reads from a global secondary index are always eventually consistent.
//!   <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html>

use apikey::{KeyStatus, OwnerId, Timestamp};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::Select;

use super::KeyStore;
use crate::cursor::{self, Listing};
use crate::error::{StoreError, classify};
use crate::record::{Item, KeyRecord, n, s};
use crate::schema::{BY_CREATED, BY_OWNER, KIND_KEY};

/// Largest page a listing returns.
pub const MAX_PAGE: usize = 100;

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// At most the `limit` asked for. A status-filtered page may hold fewer, even none, while
    /// more keys follow (see [`KeyStore::list`]).
    pub keys: Vec<KeyRecord>,
    /// Present when more keys may follow; pass it back to get them. Absent only at the end.
    pub next_cursor: Option<String>,
}

/// What one read cost DynamoDB: `Query` calls made, and items evaluated (the sum of their
/// `ScannedCount`, before any filter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCost {
    pub queries: usize,
    pub evaluated: usize,
}

impl ReadCost {
    fn add(&mut self, out: &QueryOutput) {
        self.queries += 1;
        self.evaluated += usize::try_from(out.scanned_count).unwrap_or(0);
    }
}

impl KeyStore {
    /// Most items one status-filtered listing page lets DynamoDB evaluate (20 full pages).
    pub const FILTERED_PAGE_EVALUATES: usize = 2_000;
    /// Most `Query` calls one status-filtered listing page makes. Each reads at most 1 MB;
    /// with key items of ~300 bytes (at most ~3 KB) the item budget is usually reached in one.
    pub const FILTERED_PAGE_QUERIES: usize = 4;

    /// A page of keys, newest first, optionally only those with `status` at `now`.
    ///
    /// Without `status`, pages are full: `limit` keys whenever that many remain.
    ///
    /// With `status`, DynamoDB reads first and filters after, so the matching keys may be few
    /// and far between (3 revoked keys among 100,000). Searching until the page is full would
    /// take time proportional to the whole listing, past any Lambda timeout. So a filtered
    /// page reads in large `Query` pages and stops once DynamoDB has evaluated
    /// [`Self::FILTERED_PAGE_EVALUATES`] items or after [`Self::FILTERED_PAGE_QUERIES`]
    /// calls, whichever comes first. It then returns the matches found so far, which may be
    /// fewer than `limit` or none, with a `next_cursor` that continues right after the last
    /// key evaluated. A short or empty page therefore does not mean the end: only a missing
    /// `next_cursor` does. Every key is evaluated by exactly one page, so following cursors
    /// neither skips nor repeats a key. Cursors are opaque and bound to `listing`.
    pub async fn list(
        &self,
        listing: &Listing,
        status: Option<KeyStatus>,
        limit: usize,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<Page, StoreError> {
        let (page, _) = self
            .list_costed(listing, status, limit, cursor, now)
            .await?;
        Ok(page)
    }

    /// [`Self::list`], and what the page cost DynamoDB. For tests that bound the work.
    #[cfg(feature = "test-util")]
    pub async fn list_with_cost(
        &self,
        listing: &Listing,
        status: Option<KeyStatus>,
        limit: usize,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<(Page, ReadCost), StoreError> {
        self.list_costed(listing, status, limit, cursor, now).await
    }

    async fn list_costed(
        &self,
        listing: &Listing,
        status: Option<KeyStatus>,
        limit: usize,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<(Page, ReadCost), StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut start = cursor.map(|c| cursor::decode(c, listing)).transpose()?;
        let mut keys = Vec::with_capacity(limit + 1);
        let mut cost = ReadCost::default();
        // One more than asked tells whether a next page exists without an empty last page.
        let want = limit + 1;
        loop {
            let read = match status {
                // Unfiltered, every item read is kept: read just what the page needs.
                None => want - keys.len(),
                // Filtered, `Limit` counts items evaluated: read the rest of the budget.
                Some(_) => Self::FILTERED_PAGE_EVALUATES.saturating_sub(cost.evaluated),
            };
            let out = self
                .listing_query(listing, status, read, start.take(), now)
                .send()
                .await
                .map_err(classify)?;
            cost.add(&out);
            for item in out.items() {
                keys.push(self.record(item)?);
            }
            let Some(last) = out.last_evaluated_key else {
                break; // the end of the listing
            };
            if keys.len() >= want {
                break; // a full page, and proof that more follow
            }
            if status.is_some()
                && (cost.evaluated >= Self::FILTERED_PAGE_EVALUATES
                    || cost.queries >= Self::FILTERED_PAGE_QUERIES)
            {
                // Out of budget with room left: every key up to `last` was evaluated and the
                // matching ones are in `keys`, so the next page starts right after `last`.
                let next_cursor = Some(cursor::encode_evaluated(listing, &last)?);
                return Ok((Page { keys, next_cursor }, cost));
            }
            start = Some(last);
        }
        let next_cursor = if keys.len() > limit {
            // Keys after the last one kept were read but not returned: start after it.
            keys.truncate(limit);
            keys.last().map(|last| cursor::encode(listing, last))
        } else {
            None
        };
        Ok((Page { keys, next_cursor }, cost))
    }

    /// One `Query` of `listing`, newest first, reading at most `read` items.
    fn listing_query(
        &self,
        listing: &Listing,
        status: Option<KeyStatus>,
        read: usize,
        start: Option<Item>,
        now: Timestamp,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            .limit(i32::try_from(read.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
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
        query
    }

    /// How many active keys (not revoked, not expired at `now`) `owner` holds, counting no
    /// further than `cap`: returns `min(count, cap)`. For `MAX_ACTIVE_KEYS_PER_OWNER`.
    ///
    /// Reads the `by_owner` index with `Select=COUNT` and the active filter, newest first
    /// (where active keys usually are), in 1 MB pages, and stops as soon as `cap` is reached;
    /// only an owner with fewer than `cap` active keys costs a read of all their keys.
    ///
    /// The index is eventually consistent: a key created a moment ago may not be counted
    /// yet, and one revoked a moment ago may still be. Creates racing each other for one
    /// owner can therefore pass the limit by the number in flight.
    pub async fn count_active(
        &self,
        owner: &OwnerId,
        now: Timestamp,
        cap: usize,
    ) -> Result<usize, StoreError> {
        let (count, _) = self.count_active_costed(owner, now, cap).await?;
        Ok(count)
    }

    /// [`Self::count_active`], and what it cost DynamoDB. For tests that bound the work.
    #[cfg(feature = "test-util")]
    pub async fn count_active_with_cost(
        &self,
        owner: &OwnerId,
        now: Timestamp,
        cap: usize,
    ) -> Result<(usize, ReadCost), StoreError> {
        self.count_active_costed(owner, now, cap).await
    }

    async fn count_active_costed(
        &self,
        owner: &OwnerId,
        now: Timestamp,
        cap: usize,
    ) -> Result<(usize, ReadCost), StoreError> {
        let (mut count, mut cost, mut start) = (0, ReadCost::default(), None);
        while count < cap {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(BY_OWNER)
                .scan_index_forward(false)
                .key_condition_expression("owner_id = :part")
                .filter_expression(status_filter(KeyStatus::Active))
                .expression_attribute_values(":part", s(owner.as_str()))
                .expression_attribute_values(":now", n(now))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            cost.add(&out);
            count += usize::try_from(out.count).unwrap_or(0);
            match out.last_evaluated_key {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok((count.min(cap), cost))
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
