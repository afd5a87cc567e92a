//! The table's shape, defined once. `infra/template.yaml` mirrors `create_table`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, SseSpecification, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};

use aws_sdk_dynamodb::error::BuildError;

use crate::audit::{AUDIT_INDEX, AUDIT_PART, AUDIT_SORT};
use crate::error::{StoreError, classify};

/// Partition key: the key's SHA-256 in hex for key items, `id#<key id>` for id items.
pub const PK: &str = "pk";
/// GSI listing one owner's keys newest first.
pub const BY_OWNER: &str = "by_owner";
/// GSI listing every owner's keys newest first, for admins. Key items carry `kind = "key"`,
/// so this index is one partition; key creation rates sit far below its write limit.
pub const BY_CREATED: &str = "all_by_created";
pub const KIND_KEY: &str = "key";
/// TTL attribute: revoked and expired keys are deleted this long after they stopped working.
pub const PURGE_AT: &str = "purge_at";

/// The key item's attribute names (and the id item's `key_hash`), defined once. Condition and
/// update expressions spell a few of them in their text; the store tests run every expression
/// against DynamoDB Local, so a name changed here alone fails them.
pub mod attr {
    pub const KIND: &str = "kind";
    pub const KEY_ID: &str = "key_id";
    pub const OWNER_ID: &str = "owner_id";
    pub const NAME: &str = "name";
    pub const DESCRIPTION: &str = "description";
    pub const HINT: &str = "hint";
    pub const SCOPES: &str = "scopes";
    pub const CREATED_AT: &str = "created_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const REVOKED_AT: &str = "revoked_at";
    pub const LAST_USED_AT: &str = "last_used_at";
    pub const ROTATED_FROM: &str = "rotated_from";
    pub const ROTATED_TO: &str = "rotated_to";
    pub const PLAN: &str = "plan";
    /// On an id item: the hash of the key it names.
    pub const KEY_HASH: &str = "key_hash";

    /// Every name above, with the partition key and the TTL attribute.
    pub const ALL: [&str; 17] = [
        super::PK,
        super::PURGE_AT,
        KIND,
        KEY_ID,
        OWNER_ID,
        NAME,
        DESCRIPTION,
        HINT,
        SCOPES,
        CREATED_AT,
        EXPIRES_AT,
        REVOKED_AT,
        LAST_USED_AT,
        ROTATED_FROM,
        ROTATED_TO,
        PLAN,
        KEY_HASH,
    ];
}

/// What `create_table` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableCreation {
    Created,
    AlreadyExisted,
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
}

fn attr(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
}

fn index(name: &str, partition: &str) -> Result<GlobalSecondaryIndex, BuildError> {
    index_on(name, partition, attr::CREATED_AT)
}

fn index_on(name: &str, partition: &str, sort: &str) -> Result<GlobalSecondaryIndex, BuildError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(partition, KeyType::Hash)?)
        .key_schema(key(sort, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
}

fn unexpected(e: BuildError) -> StoreError {
    StoreError::Unexpected(e.into())
}

/// Whether a new table writes a stream of its items' new images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// As deployed: the notifier reads new audit items off it (SPEC §14).
    NewImages,
    /// No stream. For tables nothing reads a stream from (most tests, the benchmarks):
    /// DynamoDB Local writes a stream record beside every write, which doubled the time of
    /// the API suite on two cores and left a 500-create storm past its timeouts.
    Off,
}

/// Creates the table as deployed (on-demand, encrypted, its three indexes, a new-image
/// stream) and turns on TTL. Idempotent: an existing table of that name is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<TableCreation, StoreError> {
    create_table_with(client, table, Stream::NewImages).await
}

/// [`create_table`] with the stream `stream`.
pub async fn create_table_with(
    client: &Client,
    table: &str,
    stream: Stream,
) -> Result<TableCreation, StoreError> {
    // The notifier reads new audit items off the stream (SPEC §14); new images are all it
    // needs. The template's table says the same.
    let stream = match stream {
        Stream::NewImages => Some(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(unexpected)?,
        ),
        Stream::Off => None,
    };
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr(PK, ScalarAttributeType::S).map_err(unexpected)?)
        .attribute_definitions(attr("owner_id", ScalarAttributeType::S).map_err(unexpected)?)
        .attribute_definitions(attr("kind", ScalarAttributeType::S).map_err(unexpected)?)
        .attribute_definitions(attr("created_at", ScalarAttributeType::N).map_err(unexpected)?)
        .attribute_definitions(attr(AUDIT_PART, ScalarAttributeType::S).map_err(unexpected)?)
        .attribute_definitions(attr(AUDIT_SORT, ScalarAttributeType::S).map_err(unexpected)?)
        .key_schema(key(PK, KeyType::Hash).map_err(unexpected)?)
        .global_secondary_indexes(index(BY_OWNER, "owner_id").map_err(unexpected)?)
        .global_secondary_indexes(index(BY_CREATED, "kind").map_err(unexpected)?)
        .global_secondary_indexes(
            index_on(AUDIT_INDEX, AUDIT_PART, AUDIT_SORT).map_err(unexpected)?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(SseSpecification::builder().enabled(true).build())
        .set_stream_specification(stream)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {
            return Ok(TableCreation::AlreadyExisted);
        }
        Err(e) => return Err(classify(e)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(PURGE_AT)
                .enabled(true)
                .build()
                .map_err(unexpected)?,
        )
        .send()
        .await
        .map_err(classify)?;
    Ok(TableCreation::Created)
}

#[cfg(test)]
mod attr_tests {
    #[test]
    fn attribute_names_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for name in super::attr::ALL {
            assert!(seen.insert(name), "{name} twice");
        }
    }
}
