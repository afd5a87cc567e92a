//! A key as stored, and its conversion to and from DynamoDB items (here and nowhere else).

use std::collections::HashMap;

use apikey::{
    ApiKey, Description, KeyHash, KeyId, KeyName, KeyPrefix, KeyStatus, OwnerId, PlanName,
    ScopeSet, Timestamp,
};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::StoreError;
use crate::schema::{KIND_KEY, PK, PURGE_AT, attr};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Everything stored about one key. There is no plaintext key here, by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub hash: KeyHash,
    pub id: KeyId,
    pub owner_id: OwnerId,
    pub name: KeyName,
    pub description: Option<Description>,
    /// `pod_Xb3k…`: prefix and first four secret characters.
    pub hint: String,
    pub scopes: ScopeSet,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
    /// The key's plan (SPEC §10). `None` only in an item written before plans existed: the
    /// store fills in its default plan when it reads one.
    pub plan: Option<PlanName>,
}

/// What a caller chooses about a new key; everything else is generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub owner_id: OwnerId,
    pub name: KeyName,
    pub description: Option<Description>,
    pub scopes: ScopeSet,
    pub expires_at: Option<Timestamp>,
    /// `None`: the store's default plan.
    pub plan: Option<PlanName>,
}

impl KeyRecord {
    /// A fresh key and the record that describes it. The plaintext leaves only in the first
    /// half of the pair; the record holds its hash and hint.
    pub fn issue(
        prefix: &KeyPrefix,
        new: NewKey,
        now: Timestamp,
    ) -> Result<(ApiKey, KeyRecord), apikey::Error> {
        let key = ApiKey::generate(prefix)?;
        let record = KeyRecord {
            hash: key.hash(),
            id: KeyId::generate()?,
            owner_id: new.owner_id,
            name: new.name,
            description: new.description,
            hint: key.hint(),
            scopes: new.scopes,
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
            rotated_from: None,
            rotated_to: None,
            plan: new.plan,
        };
        Ok((key, record))
    }

    /// What a rotation issues in place of this key: the same name, description, scopes, owner
    /// and plan, and the same lifetime counted from `now`.
    pub fn successor(&self, now: Timestamp) -> NewKey {
        let lifetime = self
            .expires_at
            .map(|e| e.epoch_secs().saturating_sub(self.created_at.epoch_secs()));
        NewKey {
            owner_id: self.owner_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            scopes: self.scopes,
            expires_at: lifetime.map(|secs| now.plus_secs(secs)),
            plan: self.plan.clone(),
        }
    }

    pub fn status(&self, now: Timestamp) -> KeyStatus {
        KeyStatus::derive(self.revoked_at, self.expires_at, now)
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(t: Timestamp) -> AttributeValue {
    AttributeValue::N(t.epoch_secs().to_string())
}

pub(crate) fn id_pk(id: &KeyId) -> String {
    format!("id#{id}")
}

impl KeyRecord {
    /// The key item, with the TTL set when an expiry is known.
    pub(crate) fn to_item(&self, retention_secs: i64) -> Item {
        let mut item = Item::from([
            (PK.into(), s(self.hash.to_hex())),
            (attr::KIND.into(), s(KIND_KEY)),
            (attr::KEY_ID.into(), s(self.id.as_str())),
            (attr::OWNER_ID.into(), s(self.owner_id.as_str())),
            (attr::NAME.into(), s(self.name.as_str())),
            (attr::HINT.into(), s(self.hint.as_str())),
            (
                attr::SCOPES.into(),
                AttributeValue::Ss(self.scopes.iter().map(|x| x.as_str().into()).collect()),
            ),
            (attr::CREATED_AT.into(), n(self.created_at)),
        ]);
        let mut put = |k: &str, v: Option<AttributeValue>| {
            if let Some(v) = v {
                item.insert(k.into(), v);
            }
        };
        put(
            attr::DESCRIPTION,
            self.description.as_ref().map(|d| s(d.as_str())),
        );
        put(attr::EXPIRES_AT, self.expires_at.map(n));
        put(attr::REVOKED_AT, self.revoked_at.map(n));
        put(attr::LAST_USED_AT, self.last_used_at.map(n));
        put(
            attr::ROTATED_FROM,
            self.rotated_from.as_ref().map(|i| s(i.as_str())),
        );
        put(
            attr::ROTATED_TO,
            self.rotated_to.as_ref().map(|i| s(i.as_str())),
        );
        put(attr::PLAN, self.plan.as_ref().map(|p| s(p.as_str())));
        put(PURGE_AT, self.purge_at(retention_secs).map(n));
        // The expiry index (SPEC §14): the daily scan finds the key by its expiry day.
        if let Some(index) = crate::store::webhook::expiry_index_attrs(self) {
            item.extend(index);
        }
        item
    }

    /// The id → hash lookup item; it expires with the key.
    pub(crate) fn to_id_item(&self, retention_secs: i64) -> Item {
        let mut item = Item::from([
            (PK.into(), s(id_pk(&self.id))),
            (attr::KEY_HASH.into(), s(self.hash.to_hex())),
        ]);
        if let Some(purge) = self.purge_at(retention_secs) {
            item.insert(PURGE_AT.into(), n(purge));
        }
        item
    }

    /// When DynamoDB may delete the key: `retention` after it stopped working.
    pub(crate) fn purge_at(&self, retention_secs: i64) -> Option<Timestamp> {
        let stopped = match (self.revoked_at, self.expires_at) {
            (Some(r), Some(e)) => Some(r.min(e)),
            (r, e) => r.or(e),
        };
        stopped.map(|t| t.plus_secs(retention_secs))
    }
}

fn get_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v)),
        Some(_) => Err(StoreError::corrupt(format!("{name} is not a string"))),
    }
}

fn req_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    get_s(item, name)?.ok_or_else(|| StoreError::corrupt(format!("{name} is missing")))
}

fn get_t(item: &Item, name: &str) -> Result<Option<Timestamp>, StoreError> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse::<i64>()
            .map(|secs| Some(Timestamp::from_epoch_secs(secs)))
            .map_err(|_| StoreError::corrupt(format!("{name} is not whole seconds"))),
        Some(_) => Err(StoreError::corrupt(format!("{name} is not a number"))),
    }
}

fn bad(name: &str) -> impl FnOnce(apikey::Error) -> StoreError + '_ {
    move |e| StoreError::corrupt(format!("{name}: {e}"))
}

impl TryFrom<&Item> for KeyRecord {
    type Error = StoreError;

    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let scopes = match item.get(attr::SCOPES) {
            Some(AttributeValue::Ss(names)) => {
                ScopeSet::parse(names.iter().map(String::as_str)).map_err(bad(attr::SCOPES))?
            }
            _ => return Err(StoreError::corrupt("scopes is not a string set")),
        };
        let opt_id = |name| -> Result<Option<KeyId>, StoreError> {
            get_s(item, name)?
                .map(|v| KeyId::parse(v).map_err(bad(name)))
                .transpose()
        };
        Ok(Self {
            hash: KeyHash::parse_hex(req_s(item, PK)?).map_err(bad(PK))?,
            id: KeyId::parse(req_s(item, attr::KEY_ID)?).map_err(bad(attr::KEY_ID))?,
            owner_id: OwnerId::parse(req_s(item, attr::OWNER_ID)?).map_err(bad(attr::OWNER_ID))?,
            name: KeyName::parse(req_s(item, attr::NAME)?).map_err(bad(attr::NAME))?,
            description: get_s(item, attr::DESCRIPTION)?
                .map(|d| Description::parse(d).map_err(bad(attr::DESCRIPTION)))
                .transpose()?,
            hint: req_s(item, attr::HINT)?.to_owned(),
            scopes,
            created_at: get_t(item, attr::CREATED_AT)?
                .ok_or_else(|| StoreError::corrupt("created_at is missing"))?,
            expires_at: get_t(item, attr::EXPIRES_AT)?,
            revoked_at: get_t(item, attr::REVOKED_AT)?,
            last_used_at: get_t(item, attr::LAST_USED_AT)?,
            rotated_from: opt_id(attr::ROTATED_FROM)?,
            rotated_to: opt_id(attr::ROTATED_TO)?,
            plan: get_s(item, attr::PLAN)?
                .map(|p| PlanName::parse(p).map_err(bad(attr::PLAN)))
                .transpose()?,
        })
    }
}

/// The hash an id item points at.
pub(crate) fn hash_of_id_item(item: &Item) -> Result<KeyHash, StoreError> {
    KeyHash::parse_hex(req_s(item, attr::KEY_HASH)?).map_err(bad(attr::KEY_HASH))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> KeyRecord {
        let key = ApiKey::generate(&KeyPrefix::default()).expect("os rng");
        KeyRecord {
            hash: key.hash(),
            id: KeyId::generate().expect("os rng"),
            owner_id: OwnerId::parse("alice").expect("valid"),
            name: KeyName::parse("laptop").expect("valid"),
            description: Some(Description::parse("sync").expect("valid")),
            hint: key.hint(),
            scopes: ScopeSet::parse(["keys:read", "podcasts:read"]).expect("valid"),
            created_at: Timestamp::from_epoch_secs(1_700_000_000),
            expires_at: Some(Timestamp::from_epoch_secs(1_800_000_000)),
            revoked_at: None,
            last_used_at: None,
            rotated_from: None,
            rotated_to: Some(KeyId::generate().expect("os rng")),
            plan: Some(PlanName::parse("pro").expect("valid")),
        }
    }

    #[test]
    fn records_round_trip_through_items() {
        let r = record();
        let item = r.to_item(86_400);
        assert_eq!(KeyRecord::try_from(&item).expect("valid item"), r);
        assert_eq!(
            item.get(PURGE_AT),
            Some(&n(Timestamp::from_epoch_secs(1_800_086_400)))
        );
    }

    #[test]
    fn keys_that_never_stop_working_are_never_purged() {
        let mut r = record();
        r.expires_at = None;
        assert_eq!(r.purge_at(60), None);
        assert!(!r.to_item(60).contains_key(PURGE_AT));
        r.revoked_at = Some(Timestamp::from_epoch_secs(10));
        assert_eq!(r.purge_at(60), Some(Timestamp::from_epoch_secs(70)));
    }

    #[test]
    fn malformed_items_are_reported_as_corrupt_not_panics() {
        let good = record().to_item(0);
        let breakages: Vec<(&str, AttributeValue)> = vec![
            (PK, s("not-a-hash")),
            (attr::KEY_ID, s("nope")),
            (attr::OWNER_ID, s("has space")),
            (attr::SCOPES, AttributeValue::Ss(vec!["root".into()])),
            (attr::SCOPES, s("*")),
            (attr::CREATED_AT, AttributeValue::N("1.5".into())),
            (attr::EXPIRES_AT, s("tomorrow")),
            (attr::NAME, AttributeValue::Bool(true)),
        ];
        for (attr, value) in breakages {
            let mut item = good.clone();
            item.insert(attr.into(), value);
            assert!(
                matches!(KeyRecord::try_from(&item), Err(StoreError::Corrupt(_))),
                "{attr}"
            );
        }
        let mut item = good;
        item.remove(attr::CREATED_AT);
        assert!(matches!(
            KeyRecord::try_from(&item),
            Err(StoreError::Corrupt(_))
        ));
    }
}
