//! The key domain, pure: key format and generation, checksum, SHA-256 hash, ids, owner and
//! name strings, scopes and what routes need, status. No I/O beyond the OS random source.

mod base62;
mod bounded;
mod feeds;
mod hash;
mod id;
mod key;
mod plan;
mod rate;
mod scope;
mod status;
mod text;
mod time;
mod usage;

pub use bounded::{GracePeriod, Lifetime, PageLimit};
pub use feeds::{DEFAULT_FEED_PATHS, FeedPaths};
pub use hash::KeyHash;
pub use id::KeyId;
pub use key::{ApiKey, CHECKSUM_LEN, KeyPrefix, KeyRejection, SECRET_LEN};
pub use plan::{PlanLimits, PlanName, Plans};
pub use rate::{Counts, RateFigures, Verdict, Window, judge};
pub use scope::{
    AUDIT_LOG_PATH, KEYS_PATH, ME_PATH, Requirement, Scope, ScopeSet, USAGE_PATH, is_read,
    requirement,
};
pub use status::KeyStatus;
pub use text::{Description, KeyName, OwnerId};
pub use time::Timestamp;
pub use usage::{Day, DayRange, RangeError, UsageCounts, UsageOutcome};

/// Everything that can be wrong with a value of this domain. Messages are written for the API
/// client who sent the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid API key: {0}")]
    Key(#[from] KeyRejection),
    #[error("key prefix must match [a-z][a-z0-9]{{1,9}}")]
    InvalidPrefix,
    #[error("not a key id")]
    InvalidKeyId,
    #[error("not a key hash")]
    InvalidHash,
    #[error("owner_id must be 1-128 characters from A-Z a-z 0-9 . _ - @ + : |")]
    InvalidOwnerId,
    #[error("name {0}")]
    InvalidName(&'static str),
    #[error("description {0}")]
    InvalidDescription(&'static str),
    #[error("unknown scope {0:?}")]
    UnknownScope(String),
    #[error("scopes: {0}")]
    InvalidScopes(&'static str),
    #[error("FEED_PATHS: {0}")]
    InvalidFeedPaths(&'static str),
    #[error("plan names are 1-32 of a-z 0-9 _ -, starting with a letter or digit")]
    InvalidPlanName,
    #[error("unknown plan {0:?}")]
    UnknownPlan(String),
    #[error("status must be one of active, revoked, expired")]
    InvalidStatus,
    #[error("{field} must be a whole number from {min} to {max}")]
    OutOfRange {
        field: &'static str,
        min: i64,
        max: i64,
    },
    #[error("the operating system's random source failed")]
    Entropy,
}
