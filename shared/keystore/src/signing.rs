//! The assertion signing keys (SPEC §15), in a table of their own: the template grants the
//! authorizer alone the right to read its private seeds, and list-keys (which serves the JWKS)
//! only the `public_keys` attribute, through IAM's `dynamodb:Attributes` condition key
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
//!
//! One item, `pk = "keyset"`: `current` (the kid new assertions are signed with),
//! `public_keys` (kid → `{x, created_at}`: what the JWKS publishes) and `seeds` (kid → the
//! 32-byte Ed25519 seed). The first authorizer that finds no item creates it (conditional put:
//! concurrent cold starts agree on one key); rotation adds a kid and makes it current; a
//! retired kid leaves both maps.

use std::collections::HashMap;

use apikey::Timestamp;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, SseSpecification,
};
use zeroize::Zeroizing;

use crate::error::{StoreError, classify};
use crate::record::{Item, n, s};
use crate::schema::{PK, TableCreation};

const KEYSET: &str = "keyset";
pub const CURRENT: &str = "current";
pub const PUBLIC_KEYS: &str = "public_keys";
const SEEDS: &str = "seeds";
/// In each `public_keys` entry: when the key was made.
const ENTRY_CREATED_AT: &str = "created_at";

/// The signing table of a keys table, where no other name is configured (local and tests).
pub fn default_signing_table(keys_table: &str) -> String {
    format!("{keys_table}-signing")
}

/// A public key as published: kid, base64url `x`, when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub x: String,
    pub created_at: Timestamp,
}

/// The key to sign with: its kid and seed (wiped from memory on drop).
pub struct CurrentKey {
    pub kid: String,
    pub seed: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for CurrentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A freshly generated key offered to the store: used only if the table has none yet.
pub struct Candidate<'a> {
    pub kid: &'a str,
    pub x: &'a str,
    pub seed: &'a [u8],
}

#[derive(Debug, Clone)]
pub struct SigningStore {
    client: Client,
    table: String,
}

impl SigningStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn keyset_key(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([(PK.to_owned(), s(KEYSET))])
    }

    /// The current key, creating the key set from `candidate` when there is none. Reads are
    /// strongly consistent, so a key set created by a concurrent cold start is seen at once.
    pub async fn current_or_create(
        &self,
        candidate: impl FnOnce() -> Option<(String, String, Zeroizing<Vec<u8>>)>,
        now: Timestamp,
    ) -> Result<CurrentKey, StoreError> {
        if let Some(key) = self.current().await? {
            return Ok(key);
        }
        let (kid, x, seed) = candidate().ok_or_else(|| StoreError::corrupt("no signing key"))?;
        let item = Item::from([
            (PK.to_owned(), s(KEYSET)),
            (CURRENT.to_owned(), s(&kid)),
            (
                PUBLIC_KEYS.to_owned(),
                AttributeValue::M(HashMap::from([(kid.clone(), public_value(&x, now))])),
            ),
            (SEEDS.to_owned(), seed_entry(&kid, &seed)),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(CurrentKey { kid, seed }),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => self
                .current()
                .await?
                .ok_or_else(|| StoreError::corrupt("signing key set vanished")),
            Err(e) => Err(classify(e)),
        }
    }

    /// The current key, if the key set exists.
    pub async fn current(&self) -> Result<Option<CurrentKey>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.keyset_key()))
            .consistent_read(true)
            .projection_expression("#c, #s")
            .expression_attribute_names("#c", CURRENT)
            .expression_attribute_names("#s", SEEDS)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let kid = match item.get(CURRENT) {
            Some(AttributeValue::S(kid)) => kid.clone(),
            _ => return Err(StoreError::corrupt("signing key set has no current kid")),
        };
        let seed = match item.get(SEEDS) {
            Some(AttributeValue::M(seeds)) => match seeds.get(&kid) {
                Some(AttributeValue::B(blob)) => Zeroizing::new(blob.as_ref().to_vec()),
                _ => return Err(StoreError::corrupt("the current kid has no seed")),
            },
            _ => return Err(StoreError::corrupt("signing key set has no seeds")),
        };
        Ok(Some(CurrentKey { kid, seed }))
    }

    /// Every published public key, oldest first; empty before the first assertion is signed.
    /// Reads only `public_keys` (the one attribute the JWKS server may read).
    pub async fn public_keys(&self) -> Result<Vec<PublicKey>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.keyset_key()))
            .projection_expression("#p")
            .expression_attribute_names("#p", PUBLIC_KEYS)
            .send()
            .await
            .map_err(classify)?;
        let Some(AttributeValue::M(keys)) = out.item.as_ref().and_then(|i| i.get(PUBLIC_KEYS))
        else {
            return Ok(Vec::new());
        };
        let mut published: Vec<PublicKey> = keys
            .iter()
            .filter_map(|(kid, entry)| {
                let entry = entry.as_m().ok()?;
                Some(PublicKey {
                    kid: kid.clone(),
                    x: entry.get("x")?.as_s().ok()?.clone(),
                    created_at: Timestamp::from_epoch_secs(
                        entry.get(ENTRY_CREATED_AT)?.as_n().ok()?.parse().ok()?,
                    ),
                })
            })
            .collect();
        published.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(published)
    }

    /// Adds a key and makes it current; the previous keys stay published (assertions signed
    /// with them verify until they expire, and warm authorizers keep signing with the key they
    /// loaded until they reload it).
    pub async fn rotate(&self, new: Candidate<'_>, now: Timestamp) -> Result<(), StoreError> {
        let update = self
            .update_kid(new.kid)
            .update_expression("SET #c = :kid, #p.#kid = :pub, #s.#kid = :seed")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":pub", public_value(new.x, now))
            .expression_attribute_values(":seed", AttributeValue::B(Blob::new(new.seed)));
        send_update(update).await
    }

    /// Removes a kid that is not the current one from the published and the private keys.
    /// `Conflict` if it is current, `NotFound` if it is unknown.
    pub async fn retire(&self, kid: &str) -> Result<(), StoreError> {
        let current = self.current().await?.map(|c| c.kid);
        if current.as_deref() == Some(kid) {
            return Err(StoreError::Conflict);
        }
        let update = self
            .update_kid(kid)
            .update_expression("REMOVE #p.#kid, #s.#kid")
            .condition_expression("attribute_exists(#p.#kid) AND #c <> :kid");
        send_update(update).await
    }

    /// An update of the key set about one kid: `#c`, `#p`, `#s` and `#kid` named, `:kid` set.
    fn update_kid(&self, kid: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.keyset_key()))
            .expression_attribute_names("#c", CURRENT)
            .expression_attribute_names("#p", PUBLIC_KEYS)
            .expression_attribute_names("#s", SEEDS)
            .expression_attribute_names("#kid", kid)
            .expression_attribute_values(":kid", s(kid))
    }
}

/// Sends a key-set update; a failed condition (no key set, or no such kid) is `NotFound`.
async fn send_update(update: UpdateItemFluentBuilder) -> Result<(), StoreError> {
    match update.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Err(StoreError::NotFound),
        Err(e) => Err(classify(e)),
    }
}

/// One published key: `{x, created_at}`.
fn public_value(x: &str, now: Timestamp) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("x".to_owned(), s(x)),
        (ENTRY_CREATED_AT.to_owned(), n(now)),
    ]))
}

fn seed_entry(kid: &str, seed: &[u8]) -> AttributeValue {
    AttributeValue::M(HashMap::from([(
        kid.to_owned(),
        AttributeValue::B(Blob::new(seed)),
    )]))
}

/// Creates the signing table (on-demand, encrypted). Idempotent.
pub async fn create_signing_table(
    client: &Client,
    table: &str,
) -> Result<TableCreation, StoreError> {
    let unexpected = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Unexpected(e.into());
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(PK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(unexpected)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(PK)
                .key_type(KeyType::Hash)
                .build()
                .map_err(unexpected)?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .send()
        .await;
    match created {
        Ok(_) => Ok(TableCreation::Created),
        Err(e) if e.code() == Some("ResourceInUseException") => Ok(TableCreation::AlreadyExisted),
        Err(e) => Err(classify(e)),
    }
}
