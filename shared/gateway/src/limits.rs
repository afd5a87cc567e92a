//! What this container last learned of a key on a limited plan (SPEC §10): its limits and
//! its counter item as the last write showed it, for at most [`LimitCache::TTL`]. Keys on
//! unlimited plans are not kept: there is no count to start early.
//!
//! The authorizer uses it only to start the counter write beside the key read instead of
//! after it. It never decides anything: the key is read on every request, and when the plan
//! read differs from the one cached, the early count is taken back and the request is
//! counted (or not) under the plan read. So a plan change applies to the very next request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use apikey::{KeyHash, PlanLimits};
use keystore::CounterCells;

/// One key's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub limits: PlanLimits,
    pub cells: CounterCells,
}

#[derive(Debug)]
struct Entry {
    limits: Limits,
    stored: Instant,
}

/// Per container, bounded in age and in size.
#[derive(Debug, Default)]
pub struct LimitCache {
    entries: Mutex<HashMap<KeyHash, Entry>>,
}

impl LimitCache {
    /// SPEC §10: a plan may be cached for at most 60 s.
    pub const TTL: Duration = Duration::from_secs(60);
    /// Beyond this many keys the expired entries go, then, if still full, all of them.
    pub const MAX_ENTRIES: usize = 10_000;

    pub fn get(&self, hash: &KeyHash, now: Instant) -> Option<Limits> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|e| now.saturating_duration_since(e.stored) < Self::TTL)
            .map(|e| e.limits.clone())
    }

    pub fn put(&self, hash: KeyHash, limits: Limits, now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(&hash) {
            entries.retain(|_, e| now.saturating_duration_since(e.stored) < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            hash,
            Entry {
                limits,
                stored: now,
            },
        );
    }

    pub fn evict(&self, hash: &KeyHash) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(hash);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: usize) -> KeyHash {
        KeyHash::parse_hex(&format!("{n:064x}")).expect("64 hex digits")
    }

    fn limited(rpm: u32) -> Limits {
        Limits {
            limits: PlanLimits {
                requests_per_minute: Some(rpm),
                requests_per_day: None,
            },
            cells: CounterCells::default(),
        }
    }

    #[test]
    fn entries_last_at_most_the_ttl() {
        let cache = LimitCache::default();
        let t0 = Instant::now();
        cache.put(hash(1), limited(5), t0);
        assert_eq!(
            cache.get(&hash(1), t0 + Duration::from_secs(59)),
            Some(limited(5))
        );
        assert_eq!(cache.get(&hash(1), t0 + LimitCache::TTL), None);
        assert_eq!(cache.get(&hash(2), t0), None);
        cache.evict(&hash(1));
        assert_eq!(cache.get(&hash(1), t0), None);
    }

    #[test]
    fn the_cache_never_grows_past_its_bound() {
        let cache = LimitCache::default();
        let t0 = Instant::now();
        for i in 0..=LimitCache::MAX_ENTRIES {
            cache.put(hash(i), limited(5), t0);
        }
        assert!(cache.len() <= LimitCache::MAX_ENTRIES, "{}", cache.len());
        assert!(!cache.is_empty());
    }
}
