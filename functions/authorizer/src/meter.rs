//! Counting an allowed request against its key's plan (SPEC §10).
//!
//! A key whose plan this container already knows to be limited is counted beside the key
//! read ([`start`]), so the counter write costs no round trip of its own; the plan read then
//! settles it ([`settle`]): same limits, the early count stands; other limits, it is taken
//! back and the request counted under the plan read. A request refused for another reason
//! is taken back out ([`take_back`]). Keys on unlimited plans cost no write at all.

use std::time::Instant;

use apikey::{KeyHash, PlanLimits, Verdict, Window};
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
    let mut cells = known.as_ref().map(|k| k.cells.clone()).unwrap_or_default();
    let known_limits = known.map(|k| k.limits);
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
        remember(state, hash, actual, CounterCells::default());
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

/// `limit`, `remaining`, `reset` of an allowed request, `None` on an unlimited plan.
pub(crate) fn figures(tally: Option<&Tally>) -> Option<apikey::RateFigures> {
    match tally.map(|t| t.verdict) {
        Some(Verdict::Allowed(f)) => Some(f),
        Some(Verdict::Limited { figures, .. }) => Some(figures),
        None => None,
    }
}
