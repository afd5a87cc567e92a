use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn std::error::Error + Send + Sync>;

/// What a table operation can fail with. SDK errors stay attached as `source` for the logs;
/// messages never contain a key.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such key")]
    NotFound,
    #[error("an item with this key already exists")]
    Conflict,
    #[error("the key is revoked or expired")]
    NotActive,
    #[error("the key was rotated before")]
    AlreadyRotated,
    #[error("the list cursor is not valid for this listing")]
    InvalidCursor,
    #[error("DynamoDB is throttling requests")]
    Throttled(#[source] Source),
    #[error("DynamoDB is unavailable or timed out")]
    Unavailable(#[source] Source),
    #[error("the table does not exist")]
    TableNotFound(#[source] Source),
    #[error("a stored item is malformed: {0}")]
    Corrupt(String),
    #[error("unexpected DynamoDB error")]
    Unexpected(#[source] Source),
}

impl StoreError {
    /// Whether the same call may succeed later (for a 503 with `Retry-After`, or a retry).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled(_) | Self::Unavailable(_))
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt(what.into())
    }
}

/// Error codes DynamoDB uses for "slow down": retrying later is the right answer.
const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Sorts an SDK failure into the variants callers act on. `ConditionalCheckFailedException`
/// becomes `Conflict`; operations that expect it look for it before calling this.
pub(crate) fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(err.into())
        }
        SdkError::ServiceError(_) => match err.code().unwrap_or_default() {
            "ResourceNotFoundException" => StoreError::TableNotFound(err.into()),
            "ConditionalCheckFailedException" => StoreError::Conflict,
            code if THROTTLING.contains(&code) => StoreError::Throttled(err.into()),
            "InternalServerError" | "ServiceUnavailable" => StoreError::Unavailable(err.into()),
            _ => StoreError::Unexpected(err.into()),
        },
        _ => StoreError::Unexpected(err.into()),
    }
}
