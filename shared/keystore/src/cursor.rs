//! Opaque list cursors. A cursor names a position in a listing (the last key a page returned,
//! or the last key a status-filtered page evaluated) and the listing it belongs to; it is
//! refused for any other listing, so editing one cannot reach another owner's keys.

use apikey::{KeyHash, OwnerId, Timestamp};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::StoreError;
use crate::record::{Item, KeyRecord, n, s};
use crate::schema::{KIND_KEY, PK, attr};

/// Which keys a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Owner(OwnerId),
    /// Every owner's keys (admins only).
    All,
}

const VERSION: &str = "1";
/// Longest cursor we will decode; real ones are under 300 characters.
const MAX_LEN: usize = 512;

/// The position just after `last`, a key the page returned.
pub(crate) fn encode(listing: &Listing, last: &KeyRecord) -> String {
    encode_at(listing, last.created_at, &last.hash)
}

/// The position just after the item DynamoDB evaluated last (`LastEvaluatedKey` of a query on
/// either index: the index keys plus the table's `pk`), whether or not the filter kept it.
pub(crate) fn encode_evaluated(listing: &Listing, last: &Item) -> Result<String, StoreError> {
    let created = match last.get(attr::CREATED_AT) {
        Some(AttributeValue::N(v)) => v
            .parse::<i64>()
            .map(Timestamp::from_epoch_secs)
            .map_err(|_| StoreError::corrupt("LastEvaluatedKey: created_at is not a number"))?,
        _ => return Err(StoreError::corrupt("LastEvaluatedKey without created_at")),
    };
    let hash = match last.get(PK) {
        Some(AttributeValue::S(v)) => KeyHash::parse_hex(v)
            .map_err(|_| StoreError::corrupt("LastEvaluatedKey: pk is not a key hash"))?,
        _ => return Err(StoreError::corrupt("LastEvaluatedKey without pk")),
    };
    Ok(encode_at(listing, created, &hash))
}

fn encode_at(listing: &Listing, created: Timestamp, hash: &KeyHash) -> String {
    let (created, hash) = (created.epoch_secs(), hash.to_hex());
    // Owner ids cannot contain spaces, so space-separated fields parse back unambiguously.
    let plain = match listing {
        Listing::Owner(owner) => format!("{VERSION} o {created} {hash} {owner}"),
        Listing::All => format!("{VERSION} a {created} {hash}"),
    };
    URL_SAFE_NO_PAD.encode(plain)
}

/// The `ExclusiveStartKey` a cursor stands for, if it was issued for `listing`.
pub(crate) fn decode(cursor: &str, listing: &Listing) -> Result<Item, StoreError> {
    if cursor.len() > MAX_LEN {
        return Err(StoreError::InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let plain = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    let fields: Vec<&str> = plain.split(' ').collect();
    let (created, hash) = match (fields.as_slice(), listing) {
        ([VERSION, "o", created, hash, owner], Listing::Owner(want)) if *owner == want.as_str() => {
            (created, hash)
        }
        ([VERSION, "a", created, hash], Listing::All) => (created, hash),
        _ => return Err(StoreError::InvalidCursor),
    };
    let created = created
        .parse::<i64>()
        .map(Timestamp::from_epoch_secs)
        .map_err(|_| StoreError::InvalidCursor)?;
    let hash = KeyHash::parse_hex(hash).map_err(|_| StoreError::InvalidCursor)?;
    let mut key = Item::from([
        (PK.to_owned(), s(hash.to_hex())),
        (attr::CREATED_AT.to_owned(), n(created)),
    ]);
    match listing {
        Listing::Owner(owner) => key.insert(attr::OWNER_ID.into(), s(owner.as_str())),
        Listing::All => key.insert(attr::KIND.into(), s(KIND_KEY)),
    };
    Ok(key)
}
