//! The audit log (SPEC §11): one event per change to a key, written in the change's own
//! transaction, so a change and its event exist together or not at all.
//!
//! An event is stored once per audience that may read it: every event under `all` (admins),
//! and under `owner#<id>` for the target key's owner and, when another, the actor's. All of
//! them sit in the `audit_log` index (`audit_part`, `audit_sort`), newest first by
//! `<epoch seconds, 11 digits>#<event id>`, and carry `purge_at` for the retention TTL. An
//! event never holds a key or a key's hash: only ids, names, hints and who asked.

use apikey::{KeyId, OwnerId, Timestamp};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use crate::error::StoreError;
use crate::record::{Item, KeyRecord, n, s};
use crate::schema::{PK, PURGE_AT};

/// The GSI every audit item is in.
pub const AUDIT_INDEX: &str = "audit_log";
pub const AUDIT_PART: &str = "audit_part";
pub const AUDIT_SORT: &str = "audit_sort";

/// The audience partition of every event (admins).
pub const ALL: &str = "all";

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Rotated,
    Revoked,
    Updated,
}

impl Action {
    pub const EVERY: [Action; 4] = [
        Action::Created,
        Action::Rotated,
        Action::Revoked,
        Action::Updated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "key.created",
            Action::Rotated => "key.rotated",
            Action::Revoked => "key.revoked",
            Action::Updated => "key.updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who made a change: a key (through the API), the `apikeys` CLI, or podkeys itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Key { key_id: KeyId, owner_id: OwnerId },
    Cli,
    System,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Key { .. } => "key",
            Actor::Cli => "cli",
            Actor::System => "system",
        }
    }
}

/// Who asked for a change, and from where: the part of an event the store cannot know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Audit {
    pub fn by(actor: Actor) -> Self {
        Self {
            actor,
            request_id: None,
            source_ip: None,
            user_agent: None,
        }
    }

    /// A change made with the `apikeys` CLI.
    pub fn cli() -> Self {
        Self::by(Actor::Cli)
    }

    /// A change podkeys makes itself (and tests' fixtures).
    pub fn system() -> Self {
        Self::by(Actor::System)
    }
}

/// One field's value before or after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Text(String),
    List(Vec<String>),
}

/// `changes: {field: {from, to}}` of a `key.updated` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// The key an event is about, as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub key_id: String,
    pub owner_id: String,
    pub name: String,
    pub hint: String,
}

/// An audit event as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub time: Timestamp,
    /// Microseconds into the second by the system clock when the event was made: orders the
    /// events of one second by when they were written (`time` is whole seconds).
    pub micros: u32,
    pub action: Action,
    pub actor_kind: String,
    pub actor_key_id: Option<String>,
    pub actor_owner_id: Option<String>,
    pub target: Target,
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub changes: Vec<Change>,
    pub correlation_id: Option<String>,
}

/// Event ids: `evt_` and 20 random base62 characters (SPEC §11).
pub fn event_id() -> Result<String, StoreError> {
    // A key id's 20 random characters, under the event prefix.
    let id = KeyId::generate().map_err(|e| StoreError::Unexpected(e.into()))?;
    let random = id.as_str().trim_start_matches("key_");
    Ok(format!("evt_{random}"))
}

/// The event's place within `time`'s second, for the newest-first order: the microseconds of
/// `reading`, the system clock read as the event is made, a little after the request read
/// `time`. When a second boundary passed between the two readings, the event belongs at the
/// end of `time`'s second; the reading's own microseconds would put it before events made
/// earlier in that second. A clock moved forward in tests reads ahead of `reading`; its
/// microseconds are taken as they are.
fn micros_within(time: Timestamp, reading: std::time::Duration) -> u32 {
    if i128::from(reading.as_secs()) > i128::from(time.epoch_secs()) {
        999_999
    } else {
        reading.subsec_micros()
    }
}

impl AuditEvent {
    /// The event of `action` on `target` (as it stands after the change), by `audit`'s actor.
    pub fn new(
        action: Action,
        target: &KeyRecord,
        audit: &Audit,
        time: Timestamp,
    ) -> Result<Self, StoreError> {
        let (actor_key_id, actor_owner_id) = match &audit.actor {
            Actor::Key { key_id, owner_id } => (
                Some(key_id.as_str().to_owned()),
                Some(owner_id.as_str().to_owned()),
            ),
            Actor::Cli | Actor::System => (None, None),
        };
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |reading| micros_within(time, reading));
        Ok(Self {
            id: event_id()?,
            time,
            micros,
            action,
            actor_kind: audit.actor.kind().to_owned(),
            actor_key_id,
            actor_owner_id,
            target: Target {
                key_id: target.id.as_str().to_owned(),
                owner_id: target.owner_id.as_str().to_owned(),
                name: target.name.as_str().to_owned(),
                hint: target.hint.clone(),
            },
            request_id: audit.request_id.clone(),
            source_ip: audit.source_ip.clone(),
            user_agent: audit.user_agent.clone(),
            changes: Vec::new(),
            correlation_id: None,
        })
    }

    /// The audiences that may read this event: admins (`all`), the target key's owner, and
    /// the actor's owner when another.
    fn parts(&self) -> Vec<String> {
        let mut parts = vec![ALL.to_owned(), owner_part(&self.target.owner_id)];
        if let Some(actor) = &self.actor_owner_id {
            let part = owner_part(actor);
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        parts
    }

    /// `<epoch seconds, 11 digits>.<micros, 6 digits>#<id>`: newest first when read backwards.
    fn sort_key(&self) -> String {
        format!(
            "{:011}.{:06}#{}",
            self.time.epoch_secs().max(0),
            self.micros,
            self.id
        )
    }

    /// The transaction items that store this event, one per audience, each written only if
    /// new (an event is never overwritten).
    pub(crate) fn puts(
        &self,
        table: &str,
        retention_secs: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        self.parts()
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let mut item = self.to_item();
                item.insert(PK.into(), s(format!("audit#{}#{i}", self.id)));
                item.insert(AUDIT_PART.into(), s(part));
                item.insert(AUDIT_SORT.into(), s(self.sort_key()));
                item.insert(PURGE_AT.into(), n(self.time.plus_secs(retention_secs)));
                crate::store::put_if_new(table, item)
            })
            .collect()
    }

    fn to_item(&self) -> Item {
        let mut item = Item::new();
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                item.insert(k.to_owned(), s(v.clone()));
            }
        };
        put("evt_id", Some(&self.id));
        put("action", Some(&self.action.as_str().to_owned()));
        put("actor_type", Some(&self.actor_kind));
        put("actor_key_id", self.actor_key_id.as_ref());
        put("actor_owner_id", self.actor_owner_id.as_ref());
        put("target_key_id", Some(&self.target.key_id));
        put("target_owner_id", Some(&self.target.owner_id));
        put("target_name", Some(&self.target.name));
        put("target_hint", Some(&self.target.hint));
        put("request_id", self.request_id.as_ref());
        put("source_ip", self.source_ip.as_ref());
        put("user_agent", self.user_agent.as_ref());
        put("correlation_id", self.correlation_id.as_ref());
        item.insert("evt_time".into(), n(self.time));
        if !self.changes.is_empty() {
            let changes = self
                .changes
                .iter()
                .map(|c| {
                    let mut m = Item::new();
                    m.insert("from".into(), value_attr(&c.from));
                    m.insert("to".into(), value_attr(&c.to));
                    (c.field.clone(), AttributeValue::M(m))
                })
                .collect();
            item.insert("changes".into(), AttributeValue::M(changes));
        }
        item
    }

    /// An event from one of its items.
    pub(crate) fn from_item(item: &Item) -> Result<Self, StoreError> {
        let text = |k: &str| match item.get(k) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        let need =
            |k: &str| text(k).ok_or_else(|| StoreError::corrupt("audit item misses a field"));
        let time = match item.get("evt_time") {
            Some(AttributeValue::N(v)) => v
                .parse::<i64>()
                .map(Timestamp::from_epoch_secs)
                .map_err(|_| StoreError::corrupt("audit item: evt_time is not a number"))?,
            _ => return Err(StoreError::corrupt("audit item without evt_time")),
        };
        let action = Action::parse(&need("action")?)
            .ok_or_else(|| StoreError::corrupt("audit item: unknown action"))?;
        let mut changes = Vec::new();
        if let Some(AttributeValue::M(m)) = item.get("changes") {
            for (field, change) in m {
                if let AttributeValue::M(c) = change {
                    changes.push(Change {
                        field: field.clone(),
                        from: c.get("from").map_or(Value::Null, attr_value),
                        to: c.get("to").map_or(Value::Null, attr_value),
                    });
                }
            }
            changes.sort_by(|a, b| a.field.cmp(&b.field));
        }
        let micros = match item.get(AUDIT_SORT) {
            Some(AttributeValue::S(sort)) => sort
                .get(12..18)
                .and_then(|m| m.parse().ok())
                .unwrap_or_default(),
            _ => 0,
        };
        Ok(Self {
            id: need("evt_id")?,
            time,
            micros,
            action,
            actor_kind: need("actor_type")?,
            actor_key_id: text("actor_key_id"),
            actor_owner_id: text("actor_owner_id"),
            target: Target {
                key_id: need("target_key_id")?,
                owner_id: need("target_owner_id")?,
                name: need("target_name")?,
                hint: need("target_hint")?,
            },
            request_id: text("request_id"),
            source_ip: text("source_ip"),
            user_agent: text("user_agent"),
            changes,
            correlation_id: text("correlation_id"),
        })
    }
}

/// The audience partition of one owner's events.
pub fn owner_part(owner: &str) -> String {
    format!("owner#{owner}")
}

fn value_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Text(t) => s(t.clone()),
        Value::List(l) => AttributeValue::L(l.iter().map(|x| s(x.clone())).collect()),
    }
}

fn attr_value(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::S(t) => Value::Text(t.clone()),
        AttributeValue::L(l) => Value::List(
            l.iter()
                .filter_map(|x| match x {
                    AttributeValue::S(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_event_made_after_its_requests_second_ended_sorts_last_in_that_second() {
        let time = Timestamp::from_epoch_secs(1_700_000_010);
        // Made half way through the second its request read.
        let earlier = micros_within(time, Duration::from_micros(1_700_000_010_500_000));
        assert_eq!(earlier, 500_000);
        // A later request read the same second, but its event was made 3 ms into the next:
        // it must still sort after the earlier one (it took 3_000 before the fix).
        let later = micros_within(time, Duration::from_micros(1_700_000_011_003_000));
        assert!(later > earlier, "{later} <= {earlier}");
        assert_eq!(later, 999_999);
        // A clock moved ahead of the system clock (tests): the reading's microseconds.
        let ahead = Timestamp::from_epoch_secs(1_700_003_610);
        let reading = Duration::from_micros(1_700_000_010_250_000);
        assert_eq!(micros_within(ahead, reading), 250_000);
    }
}
