//! The DynamoDB table of podkeys, and the only code that speaks to it: the schema, item
//! conversions, and every operation the functions and tools perform. Keys are stored by the
//! SHA-256 of the key string; an `id#<key id>` item maps public ids to hashes so that id
//! lookups are strongly consistent (no index in the way).

pub mod audit;
pub mod client;
mod cursor;
mod error;
mod image;
mod record;
pub mod schema;
pub mod signing;
mod store;
#[cfg(feature = "streams")]
pub mod streams;

pub use audit::{Action, Actor, Audit, AuditEvent};
pub use aws_sdk_dynamodb::Client;
pub use aws_sdk_dynamodb::types::AttributeValue;
/// For the bench's bare baselines, which build the same requests without the store.
pub use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
pub use cursor::Listing;
pub use error::StoreError;
pub use image::{audit_event_from_image, item_from_image};
pub use record::{KeyRecord, NewKey};
pub use schema::{Stream, TableCreation, create_table, create_table_with};
pub use store::CounterCells;
#[cfg(feature = "test-util")]
pub use store::UsageWrites;
pub use store::{
    Access, AuditPage, AuditQuery, KeyChanges, KeyDay, KeyStore, MAX_PAGE, Page, Rotation, Tally,
    USAGE_RETENTION_DAYS, UsageRow, counter_pk, usage_pk,
};
pub use store::{
    Delivery, FAILED, FAILED_RETENTION_DAYS, NOTICES, PENDING, delivery_pk, expiry_part,
};
