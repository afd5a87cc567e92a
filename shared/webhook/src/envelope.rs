//! What is POSTed (SPEC §14): `{"id","type","created","data"}`, and the ids that make
//! redeliveries recognisable.

use std::fmt;

use apikey::{KeyId, Timestamp};
use serde_json::{Value, json};

use crate::notice::Notice;

/// Why an audit event cannot be made into an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not an audit event id (evt_ and 20 base62 characters)")]
    NotAnAuditEventId,
    #[error("audit event without a string {0:?}")]
    MissingField(&'static str),
    #[error("audit action {0:?} is not a lifecycle event type")]
    NotALifecycleAction(String),
    #[error("audit event time is not an RFC 3339 date-time")]
    BadTime,
}

/// The `type` of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Created,
    Rotated,
    Revoked,
    Updated,
    Expiring,
    Expired,
}

impl EventType {
    pub const EVERY: [EventType; 6] = [
        EventType::Created,
        EventType::Rotated,
        EventType::Revoked,
        EventType::Updated,
        EventType::Expiring,
        EventType::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "key.created",
            EventType::Rotated => "key.rotated",
            EventType::Revoked => "key.revoked",
            EventType::Updated => "key.updated",
            EventType::Expiring => "key.expiring",
            EventType::Expired => "key.expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|t| t.as_str() == s)
    }

    /// The types that are audit events (SPEC §11), whose `data` is the event.
    pub fn is_lifecycle(self) -> bool {
        !matches!(self, EventType::Expiring | EventType::Expired)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery's id: the body's `id` and the `Podkeys-Event-Id` header.
///
/// Ids are a pure function of what the delivery is about, never random, so every redelivery,
/// and a second scan racing the first, produces the same id:
/// - lifecycle events (`key.created`, `key.rotated`, `key.revoked`, `key.updated`):
///   `whk_` + the 20 random characters of the audit event's `evt_` id. The audit event id is
///   already unique and stable, and `data.id` still carries it; `whk_` keeps every delivery id
///   in one namespace, whether or not an audit event stands behind it, and the mapping can be
///   reversed (`whk_X` ↔ `evt_X`) to find the event in the audit log.
/// - `key.expiring`: `whk_` + key id + `_expiring_` + days, e.g.
///   `whk_key_0123456789abcdefghij_expiring_7`; `key.expired`: `whk_` + key id + `_expired`.
///   One of each per key can ever be due (expiry never moves later), so the key and the window
///   are enough, and the id doubles as the key of the scan's conditional "sent" mark.
///
/// The forms cannot collide: a lifecycle id is exactly `whk_` + 20 base62 characters; a notice
/// id is longer and has underscores after `whk_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

const ID_PREFIX: &str = "whk_";
const AUDIT_PREFIX: &str = "evt_";
const AUDIT_RANDOM: usize = 20;

impl EventId {
    /// The id of the delivery of audit event `evt_id` (`evt_X` → `whk_X`).
    pub fn for_audit_event(evt_id: &str) -> Result<Self, EnvelopeError> {
        match evt_id.strip_prefix(AUDIT_PREFIX) {
            Some(random)
                if random.len() == AUDIT_RANDOM
                    && random.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Ok(Self(format!("{ID_PREFIX}{random}")))
            }
            _ => Err(EnvelopeError::NotAnAuditEventId),
        }
    }

    /// The id of `notice` about key `key_id`.
    pub fn for_notice(key_id: &KeyId, notice: Notice) -> Self {
        Self(match notice {
            Notice::Expiring { days } => format!("{ID_PREFIX}{key_id}_expiring_{days}"),
            Notice::Expired => format!("{ID_PREFIX}{key_id}_expired"),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One delivery's body. Build it once, keep its [`Envelope::body`] with the pending delivery,
/// and send those same bytes on every attempt; only the signature's `t` changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    id: EventId,
    event_type: EventType,
    created: Timestamp,
    data: Value,
}

impl Envelope {
    /// `created` is when the thing happened: the audit event's time, or the scan's `now` for
    /// a notice.
    pub fn new(id: EventId, event_type: EventType, created: Timestamp, data: Value) -> Self {
        Self {
            id,
            event_type,
            created,
            data,
        }
    }

    /// The delivery of an audit event, given as SPEC §11 shows it (`id`, `time`, `action`,
    /// …); the event is the `data`, unchanged.
    pub fn for_audit_event(event: Value) -> Result<Self, EnvelopeError> {
        let text = |field: &'static str| {
            event
                .get(field)
                .and_then(Value::as_str)
                .ok_or(EnvelopeError::MissingField(field))
        };
        let id = EventId::for_audit_event(text("id")?)?;
        let action = text("action")?;
        let event_type = EventType::parse(action)
            .filter(|t| t.is_lifecycle())
            .ok_or_else(|| EnvelopeError::NotALifecycleAction(action.to_owned()))?;
        let created = Timestamp::parse_rfc3339(text("time")?).ok_or(EnvelopeError::BadTime)?;
        Ok(Self::new(id, event_type, created, event))
    }

    /// The delivery of `notice` about key `key_id`, whose key object (SPEC §3, as `GET` shows
    /// it) is the `data`; `now` is the scan's time.
    pub fn for_notice(key_id: &KeyId, notice: Notice, key_object: Value, now: Timestamp) -> Self {
        Self::new(
            EventId::for_notice(key_id, notice),
            notice.event_type(),
            now,
            key_object,
        )
    }

    pub fn id(&self) -> &EventId {
        &self.id
    }

    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    pub fn created(&self) -> Timestamp {
        self.created
    }

    pub fn data(&self) -> &Value {
        &self.data
    }

    /// `{"id","type","created","data"}`, in that order.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.as_str(),
            "type": self.event_type.as_str(),
            "created": self.created.to_rfc3339(),
            "data": self.data,
        })
    }

    /// The raw body to sign and POST (compact JSON, UTF-8).
    pub fn body(&self) -> String {
        self.to_json().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVT: &str = "evt_0123456789abcdefABCD";

    fn key_id() -> KeyId {
        KeyId::parse("key_0123456789abcdefghij").expect("valid key id")
    }

    fn audit_event(action: &str) -> Value {
        json!({
            "id": EVT,
            "time": "2026-12-05T10:00:00Z",
            "action": action,
            "actor": {"type": "cli", "key_id": null, "owner_id": null},
            "target": {"key_id": "key_0123456789abcdefghij", "owner_id": "u1", "name": "n", "hint": "pod_Xb3k"},
            "request_id": null,
            "source_ip": null,
            "user_agent": null,
            "changes": null,
            "correlation_id": null,
        })
    }

    #[test]
    fn event_types_round_trip_and_split_into_lifecycle_and_notices() {
        for t in EventType::EVERY {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        let lifecycle: Vec<&str> = EventType::EVERY
            .into_iter()
            .filter(|t| t.is_lifecycle())
            .map(EventType::as_str)
            .collect();
        assert_eq!(
            lifecycle,
            ["key.created", "key.rotated", "key.revoked", "key.updated"]
        );
        assert_eq!(EventType::parse("key.deleted"), None);
        assert_eq!(EventType::parse("KEY.CREATED"), None);
    }

    #[test]
    fn a_lifecycle_id_is_whk_and_the_audit_events_random_part() {
        let id = EventId::for_audit_event(EVT).expect("valid");
        assert_eq!(id.as_str(), "whk_0123456789abcdefABCD");
        assert_eq!(id, EventId::for_audit_event(EVT).expect("valid"));
    }

    #[test]
    fn a_malformed_audit_event_id_is_refused() {
        for bad in [
            "",
            "evt_",
            "evt_0123456789abcdefABC",
            "evt_0123456789abcdefABCDE",
            "EVT_0123456789abcdefABCD",
            "key_0123456789abcdefABCD",
            "evt_0123456789abcdefAB-D",
            "evt_0123456789abcdefABCé",
        ] {
            assert_eq!(
                EventId::for_audit_event(bad),
                Err(EnvelopeError::NotAnAuditEventId),
                "{bad}"
            );
        }
    }

    #[test]
    fn notice_ids_are_derived_from_the_key_and_the_window_alone() {
        let key = key_id();
        let cases = [
            (
                Notice::Expiring { days: 30 },
                "whk_key_0123456789abcdefghij_expiring_30",
            ),
            (
                Notice::Expiring { days: 7 },
                "whk_key_0123456789abcdefghij_expiring_7",
            ),
            (
                Notice::Expiring { days: 1 },
                "whk_key_0123456789abcdefghij_expiring_1",
            ),
            (Notice::Expired, "whk_key_0123456789abcdefghij_expired"),
        ];
        for (notice, want) in cases {
            // Two scans racing each other make the same id, whenever they run.
            assert_eq!(EventId::for_notice(&key, notice).as_str(), want);
            let a =
                Envelope::for_notice(&key, notice, json!({}), Timestamp::from_epoch_secs(1_000));
            let b =
                Envelope::for_notice(&key, notice, json!({}), Timestamp::from_epoch_secs(2_000));
            assert_eq!(a.id(), b.id());
        }
        let other = KeyId::parse("key_0123456789abcdefghiJ").expect("valid key id");
        assert_ne!(
            EventId::for_notice(&key, Notice::Expired),
            EventId::for_notice(&other, Notice::Expired)
        );
    }

    #[test]
    fn lifecycle_and_notice_ids_cannot_collide() {
        let lifecycle = EventId::for_audit_event(EVT).expect("valid");
        assert_eq!(lifecycle.as_str().len(), 24);
        assert!(!lifecycle.as_str()[4..].contains('_'));
        for notice in [Notice::Expiring { days: 1 }, Notice::Expired] {
            let id = EventId::for_notice(&key_id(), notice);
            assert!(id.as_str().len() > 24 && id.as_str()[4..].contains('_'));
        }
    }

    #[test]
    fn the_body_is_id_type_created_data_in_that_order() {
        let envelope = Envelope::new(
            EventId::for_audit_event(EVT).expect("valid"),
            EventType::Revoked,
            Timestamp::from_epoch_secs(1_796_464_800),
            json!({"k": [1, 2]}),
        );
        assert_eq!(
            envelope.body(),
            r#"{"id":"whk_0123456789abcdefABCD","type":"key.revoked","created":"2026-12-05T10:00:00Z","data":{"k":[1,2]}}"#
        );
    }

    #[test]
    fn an_audit_event_becomes_its_own_data_under_its_type_and_time() {
        for action in ["key.created", "key.rotated", "key.revoked", "key.updated"] {
            let event = audit_event(action);
            let envelope = Envelope::for_audit_event(event.clone()).expect("valid");
            assert_eq!(envelope.id().as_str(), "whk_0123456789abcdefABCD");
            assert_eq!(envelope.event_type().as_str(), action);
            assert_eq!(
                envelope.created(),
                Timestamp::from_epoch_secs(1_796_464_800)
            );
            assert_eq!(envelope.data(), &event);
            let body: Value = serde_json::from_str(&envelope.body()).expect("json");
            assert_eq!(body["data"], event);
            assert_eq!(body["created"], "2026-12-05T10:00:00Z");
        }
    }

    #[test]
    fn a_malformed_audit_event_is_refused() {
        let with = |field: &str, value: Value| {
            let mut event = audit_event("key.created");
            event[field] = value;
            event
        };
        let cases = [
            (json!(null), EnvelopeError::MissingField("id")),
            (with("id", json!(7)), EnvelopeError::MissingField("id")),
            (
                with("id", json!("evt_short")),
                EnvelopeError::NotAnAuditEventId,
            ),
            (
                with("action", Value::Null),
                EnvelopeError::MissingField("action"),
            ),
            (
                with("action", json!("key.expired")),
                EnvelopeError::NotALifecycleAction("key.expired".into()),
            ),
            (
                with("action", json!("key.deleted")),
                EnvelopeError::NotALifecycleAction("key.deleted".into()),
            ),
            (with("time", json!(1)), EnvelopeError::MissingField("time")),
            (
                with("time", json!("2026-13-05T10:00:00Z")),
                EnvelopeError::BadTime,
            ),
        ];
        for (event, want) in cases {
            assert_eq!(
                Envelope::for_audit_event(event.clone()),
                Err(want),
                "{event}"
            );
        }
    }

    #[test]
    fn a_notice_carries_the_key_object_and_the_scan_time() {
        let key_object = json!({"id": "key_0123456789abcdefghij", "status": "active"});
        let now = Timestamp::from_epoch_secs(1_796_464_800);
        let envelope = Envelope::for_notice(
            &key_id(),
            Notice::Expiring { days: 7 },
            key_object.clone(),
            now,
        );
        assert_eq!(envelope.event_type(), EventType::Expiring);
        assert_eq!(envelope.data(), &key_object);
        assert_eq!(
            envelope.body(),
            r#"{"id":"whk_key_0123456789abcdefghij_expiring_7","type":"key.expiring","created":"2026-12-05T10:00:00Z","data":{"id":"key_0123456789abcdefghij","status":"active"}}"#
        );
    }
}
