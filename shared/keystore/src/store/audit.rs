//! Reading the audit log (SPEC §11): one audience's events, newest first, filtered and paged.

use std::ops::ControlFlow;

use apikey::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{KeyStore, query_each};
use crate::audit::{AUDIT_INDEX, AUDIT_PART, AUDIT_SORT, Action, AuditEvent};
use crate::error::StoreError;
use crate::record::{Item, s};
use crate::schema::PK;

/// Which events, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// The audience: `audit::ALL` or `audit::owner_part(owner)`.
    pub part: String,
    /// Events whose target or actor is this key.
    pub key_id: Option<String>,
    pub action: Option<Action>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// Every event of the audience `part`, newest first, 50 to a page.
    pub fn of(part: impl Into<String>) -> Self {
        Self {
            part: part.into(),
            key_id: None,
            action: None,
            since: None,
            until: None,
            limit: 50,
            cursor: None,
        }
    }
}

/// A page of events and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<String>,
}

const CURSOR_VERSION: &str = "a1";

/// The position after an item, bound to its audience: a cursor is refused for any other.
fn encode(part: &str, item: &Item) -> Option<String> {
    let text = |k: &str| match item.get(k) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    };
    let plain = format!(
        "{CURSOR_VERSION}\n{part}\n{}\n{}",
        text(AUDIT_SORT)?,
        text(PK)?
    );
    Some(URL_SAFE_NO_PAD.encode(plain))
}

fn decode(cursor: &str, part: &str) -> Result<Item, StoreError> {
    let invalid = || StoreError::InvalidCursor;
    if cursor.len() > 512 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let fields: Vec<&str> = text.split('\n').collect();
    match fields.as_slice() {
        [CURSOR_VERSION, p, sort, pk] if *p == part && pk.starts_with("audit#") => {
            let mut item = Item::new();
            item.insert(AUDIT_PART.into(), s(part));
            item.insert(AUDIT_SORT.into(), s(*sort));
            item.insert(PK.into(), s(*pk));
            Ok(item)
        }
        _ => Err(invalid()),
    }
}

impl KeyStore {
    /// One audience's events, newest first, at most `query.limit`, with the next page's
    /// cursor when there may be more.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let lo = query.since.map_or(0, |t| t.epoch_secs().max(0));
        let hi = query
            .until
            .map_or(99_999_999_999, |t| t.epoch_secs().max(0));
        let start = match &query.cursor {
            Some(c) => Some(decode(c, &query.part)?),
            None => None,
        };
        let mut filters = Vec::new();
        if query.key_id.is_some() {
            filters.push("(target_key_id = :key OR actor_key_id = :key)");
        }
        if query.action.is_some() {
            filters.push("#action = :action");
        }
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(AUDIT_INDEX)
            .scan_index_forward(false)
            .key_condition_expression("#part = :part AND #sort BETWEEN :lo AND :hi")
            .expression_attribute_names("#part", AUDIT_PART)
            .expression_attribute_names("#sort", AUDIT_SORT)
            .expression_attribute_values(":part", s(query.part.as_str()))
            .expression_attribute_values(":lo", s(format!("{lo:011}")))
            // `~` sorts after the `.micros#id` that follows the second.
            .expression_attribute_values(":hi", s(format!("{hi:011}~")))
            .limit(i32::try_from(query.limit + 1).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        if let Some(key) = &query.key_id {
            req = req.expression_attribute_values(":key", s(key.as_str()));
        }
        if let Some(action) = query.action {
            req = req
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action.as_str()));
        }
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        let mut events = Vec::new();
        let mut last_returned: Option<Item> = None;
        let mut next = None;
        query_each(req, |item| {
            if events.len() == query.limit {
                // One more exists: the page ends at the last one returned.
                next = last_returned.as_ref().and_then(|l| encode(&query.part, l));
                return Ok(ControlFlow::Break(()));
            }
            events.push(AuditEvent::from_item(item)?);
            last_returned = Some(item.clone());
            Ok(ControlFlow::Continue(()))
        })
        .await?;
        Ok(AuditPage { events, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_audience() {
        let mut item = Item::new();
        item.insert(AUDIT_SORT.into(), s("01796410800#evt_x"));
        item.insert(PK.into(), s("audit#evt_x#1"));
        let cursor = encode("owner#alice", &item).expect("a cursor");
        let back = decode(&cursor, "owner#alice").expect("decodes");
        assert_eq!(back.get(PK), item.get(PK));
        assert_eq!(back.get(AUDIT_PART), Some(&s("owner#alice")));
        assert!(decode(&cursor, "owner#bob").is_err());
        assert!(decode(&cursor, "all").is_err());
        for bad in ["", "!!!", "YTEKYWxsCngKeQ"] {
            assert!(decode(bad, "all").is_err(), "{bad}");
        }
    }
}
