//! Counting an allowed request against its key's plan (SPEC §10).
//!
//! A key whose plan this container already knows to be limited is counted beside the key
//! read ([`start`]), so the counter write costs no round trip of its own; the plan read then
//! settles it ([`settle`]): same limits, the early count stands; other limits, it is taken
//! back and the request counted under the plan read. A request refused for another reason
//! is taken back out ([`take_back`]). Keys on unlimited plans cost no write at all.

use std::time::Instant;

use apikey::{KeyHash, PlanLimits, Window};
use gateway::State;
use gateway::limits::Limits;
use keystore::{CounterCells, StoreError, Tally};

/// What the container knew before the read, and the count started on it (if limited).
pub(crate) struct Early {
    known: Option<Limits>,
    tally: Option<Result<Tally, StoreError>>,
}

/// The count to run beside the key read, if this container knows the plan is limited.
pub(crate) async fn start(state: &State, hash: &KeyHash, window: Window) -> Early {
    let known = state.limits.get(hash, Instant::now());
    let tally = match known.as_ref().filter(|k| !k.limits.is_unlimited()) {
        Some(k) => Some(state.store.count(hash, k.limits, window, &k.cells).await),
        None => None,
    };
    Early { known, tally }
}

/// The verdict under `actual` (the plan read), `None` for an unlimited plan. A counter that
/// cannot be written fails the decision (closed), except for a key that needs none.
pub(crate) async fn settle(
    state: &State,
    hash: &KeyHash,
    window: Window,
    early: Early,
    actual: PlanLimits,
) -> Result<Option<Tally>, StoreError> {
    let Early { known, tally } = early;
    let (known_limits, mut cells) = match known {
        Some(k) => (Some(k.limits), k.cells),
        None => (None, CounterCells::default()),
    };
    match tally {
        Some(Ok(tally)) if known_limits == Some(actual) => {
            remember(state, hash, actual, tally.cells.clone());
            return Ok(Some(tally));
        }
        Some(Ok(tally)) => {
            // The plan changed under the cache: this count was made on the old limits.
            if tally.counted {
                state.store.uncount(hash, window).await?;
            }
            cells = tally.cells;
        }
        Some(Err(e)) if !actual.is_unlimited() => return Err(e),
        Some(Err(_)) | None => {}
    }
    if actual.is_unlimited() {
        // Nothing to count beside the next read: a limited plan this container remembered
        // is forgotten, and an unlimited one is never stored.
        if known_limits.is_some() {
            state.limits.evict(hash);
        }
        return Ok(None);
    }
    let tally = state.store.count(hash, actual, window, &cells).await?;
    remember(state, hash, actual, tally.cells.clone());
    Ok(Some(tally))
}

/// A request refused before its count mattered (unknown key, denied): an early count is
/// taken back, and the container forgets the key so its next refusal costs no write.
pub(crate) async fn take_back(state: &State, hash: &KeyHash, window: Window, early: Early) {
    state.limits.evict(hash);
    if let Some(Ok(tally)) = early.tally
        && tally.counted
        && let Err(e) = state.store.uncount(hash, window).await
    {
        tracing::warn!(error = %e, "a refused request's count was not taken back");
    }
}

fn remember(state: &State, hash: &KeyHash, limits: PlanLimits, cells: CounterCells) {
    state
        .limits
        .put(*hash, Limits { limits, cells }, Instant::now());
}
