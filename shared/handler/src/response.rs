//! JSON responses and the key object every route returns.

use std::collections::BTreeMap;

use apikey::{DayRange, KeyId, OwnerId, Scope, Timestamp, UsageCounts};
use keystore::AuditEvent;
use keystore::audit::Value as Field;
use keystore::{KeyRecord, UsageRow};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A JSON response that no cache keeps (key material and key state must never be cached).
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => json_text(status, text),
        // Our bodies are plain structs; this is unreachable, but a panic is not an answer.
        Err(_) => json_text(
            StatusCode::INTERNAL_SERVER_ERROR,
            outcome::INTERNAL_ERROR_BODY.to_owned(),
        ),
    }
}

/// A JSON text already serialized, with the same headers as [`json`].
pub(crate) fn json_text(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The key object of SPEC §3. Timestamps are RFC 3339 UTC or `null`.
#[derive(Debug, Serialize)]
pub struct KeyObject<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub hint: &'a str,
    pub scopes: Vec<&'static str>,
    pub status: &'static str,
    pub owner_id: &'a str,
    /// The key's plan (SPEC §10).
    pub plan: Option<&'a str>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub rotated_from: Option<&'a str>,
    pub rotated_to: Option<&'a str>,
}

impl<'a> KeyObject<'a> {
    pub fn new(r: &'a KeyRecord, now: Timestamp) -> Self {
        let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
        Self {
            id: r.id.as_str(),
            name: r.name.as_str(),
            description: r.description.as_ref().map(|d| d.as_str()),
            hint: &r.hint,
            scopes: r.scopes.iter().map(Scope::as_str).collect(),
            status: r.status(now).as_str(),
            owner_id: r.owner_id.as_str(),
            plan: r.plan.as_ref().map(|p| p.as_str()),
            created_at: r.created_at.to_rfc3339(),
            expires_at: time(r.expires_at),
            last_used_at: time(r.last_used_at),
            revoked_at: time(r.revoked_at),
            rotated_from: r.rotated_from.as_ref().map(|i| i.as_str()),
            rotated_to: r.rotated_to.as_ref().map(|i| i.as_str()),
        }
    }
}

/// The body of a 201 that issues a key: the key object plus `key`, the plaintext, in this
/// response and nowhere else, ever. After a rotation `rotated_from` is the old key's whole
/// object (its `id` is the id a plain key object would show there), so the member appears once.
pub fn created_body(
    record: &KeyRecord,
    key: &str,
    rotated_from: Option<&KeyRecord>,
    now: Timestamp,
) -> Result<serde_json::Value, serde_json::Error> {
    let mut body = serde_json::to_value(KeyObject::new(record, now))?;
    body["key"] = serde_json::Value::from(key);
    if let Some(old) = rotated_from {
        body["rotated_from"] = serde_json::to_value(KeyObject::new(old, now))?;
    }
    Ok(body)
}

/// An event as SPEC §11 shows it.
pub fn audit_event(e: &AuditEvent) -> Value {
    let field = |v: &Field| match v {
        Field::Null => Value::Null,
        Field::Text(t) => json!(t),
        Field::List(l) => json!(l),
    };
    let changes = (!e.changes.is_empty()).then(|| {
        let map: Map<String, Value> = e
            .changes
            .iter()
            .map(|c| {
                (
                    c.field.clone(),
                    json!({"from": field(&c.from), "to": field(&c.to)}),
                )
            })
            .collect();
        Value::Object(map)
    });
    json!({
        "id": e.id,
        "time": e.time.to_rfc3339(),
        "action": e.action.as_str(),
        "actor": {
            "type": e.actor_kind,
            "key_id": e.actor_key_id,
            "owner_id": e.actor_owner_id,
        },
        "target": {
            "key_id": e.target.key_id,
            "owner_id": e.target.owner_id,
            "name": e.target.name,
            "hint": e.target.hint,
        },
        "request_id": e.request_id,
        "source_ip": e.source_ip,
        "user_agent": e.user_agent,
        "changes": changes,
        "correlation_id": e.correlation_id,
    })
}

fn counts(c: UsageCounts) -> Value {
    json!({"allowed": c.allowed, "rate_limited": c.rate_limited, "denied": c.denied})
}

/// The range's days (oldest first) and total, as both reads show them.
fn days_and_total(range: DayRange, per_day: &[UsageCounts]) -> (Vec<Value>, Value) {
    let mut total = UsageCounts::default();
    let days = range
        .days()
        .zip(per_day)
        .map(|(day, c)| {
            total.add(*c);
            let mut v = counts(*c);
            v["date"] = json!(day.to_string());
            v
        })
        .collect();
    (days, counts(total))
}

/// One key's usage as SPEC §12 shows it: every day of `range` (`per_day`, oldest first) and
/// the total.
pub fn key_usage(key_id: &KeyId, range: DayRange, per_day: &[UsageCounts]) -> Value {
    let (days, total) = days_and_total(range, per_day);
    json!({
        "key_id": key_id.as_str(),
        "from": range.from().to_string(),
        "to": range.to().to_string(),
        "days": days,
        "total": total,
    })
}

/// An owner's usage as SPEC §12 shows it: every day of `range` summed over the owner's keys,
/// the total, and each key's total (keys without requests in the range absent).
pub fn owner_usage(owner: &OwnerId, range: DayRange, rows: &[UsageRow]) -> Value {
    let (per_day, per_key) = fold(range, rows);
    let (days, total) = days_and_total(range, &per_day);
    let keys: Vec<Value> = per_key
        .into_iter()
        .map(|(key_id, c)| json!({"key_id": key_id, "total": counts(c)}))
        .collect();
    json!({
        "owner_id": owner.as_str(),
        "from": range.from().to_string(),
        "to": range.to().to_string(),
        "days": days,
        "total": total,
        "keys": keys,
    })
}

/// An owner's key-days summed per day of the range and per key (by id).
fn fold(range: DayRange, rows: &[UsageRow]) -> (Vec<UsageCounts>, BTreeMap<&str, UsageCounts>) {
    let mut per_day = vec![UsageCounts::default(); range.day_count()];
    let mut per_key: BTreeMap<&str, UsageCounts> = BTreeMap::new();
    let first = range.from().epoch_days();
    for row in rows {
        let slot = usize::try_from(row.day.epoch_days() - first)
            .ok()
            .and_then(|i| per_day.get_mut(i));
        if let Some(day) = slot {
            day.add(row.counts);
            per_key.entry(&row.key_id).or_default().add(row.counts);
        }
    }
    (per_day, per_key)
}
