//! Writing the container's usage counts (SPEC §12): what is due rides beside a request's key
//! read, everything left goes on shutdown. One `ADD` per key-day; what could not be written
//! is given back to the tally for the next flush.

use std::time::Duration;

use gateway::State;
use gateway::usage::Flush;

/// How a flush went, for the log and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Key-days written.
    pub written: usize,
    /// Key-days given back to the tally (their write failed or ran out of time).
    pub kept: usize,
}

/// Writes `batch` (one `UpdateItem` per key-day, all at once) within `budget`. A key-day whose
/// write fails is given back; so is one whose write ran out of time, though DynamoDB may
/// have applied it (then it counts twice: README, "Usage per key").
pub(crate) async fn flush(state: &State, batch: Vec<Flush>, budget: Duration) -> Flushed {
    if batch.is_empty() {
        return Flushed::default();
    }
    let writes = batch.into_iter().map(|f| async move {
        let write = state.store.add_usage(&f.key, f.counts);
        match tokio::time::timeout(budget, write).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(key_id = %f.key.key_id, error = %e, "usage not written, kept");
                state.usage.restore(f);
                false
            }
            Err(_) => {
                tracing::warn!(key_id = %f.key.key_id, "usage write ran out of time, kept");
                state.usage.restore(f);
                false
            }
        }
    });
    let results = futures_util::future::join_all(writes).await;
    let written = results.iter().filter(|ok| **ok).count();
    Flushed {
        written,
        kept: results.len() - written,
    }
}

/// Writes every pending count now (on shutdown: Lambda allows about 500 ms after SIGTERM,
/// <https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown>).
pub async fn flush_all(state: &State) -> Flushed {
    let batch = state.usage.drain();
    flush(state, batch, SHUTDOWN_BUDGET).await
}

/// What a shutdown flush may take of the ~500 ms Lambda gives after SIGTERM.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(400);
