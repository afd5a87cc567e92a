//! The authorizer's usage counts not yet written (SPEC §12): per key and UTC day, by outcome,
//! kept in the container and handed out for writing once a key-day has waited the flush
//! interval, so each key-day costs at most one write per interval per container however
//! many requests it counts.
//!
//! The tally decides nothing and writes nothing itself: the authorizer takes what is due
//! ([`UsageTally::due`]) and writes it beside a request's key read, takes everything on
//! shutdown ([`UsageTally::drain`]), and gives back what could not be written
//! ([`UsageTally::restore`]) for the next flush.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use apikey::{UsageCounts, UsageOutcome};
use keystore::KeyDay;

/// One key-day's counts, handed out for writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush {
    pub key: KeyDay,
    pub counts: UsageCounts,
    /// When the oldest of these counts was taken (kept when given back).
    since: Instant,
}

#[derive(Debug)]
struct Pending {
    counts: UsageCounts,
    since: Instant,
}

/// Per container.
#[derive(Debug, Default)]
pub struct UsageTally {
    pending: Mutex<Waiting>,
}

/// The waiting key-days, and when the oldest of them started waiting: so a request finds
/// nothing due without walking them all (the decision's hot path asks on every request).
#[derive(Debug, Default)]
struct Waiting {
    entries: HashMap<KeyDay, Pending>,
    /// No entry has waited since before this (exact after every walk, a lower bound between).
    oldest: Option<Instant>,
}

impl Waiting {
    fn waited_since(&mut self, since: Instant) {
        self.oldest = Some(self.oldest.map_or(since, |o| o.min(since)));
    }
}

impl UsageTally {
    /// At most this many key-days ride along one request, so a container that counted many
    /// keys spreads their writes over the next requests instead of stalling one.
    pub const MAX_PER_FLUSH: usize = 16;
    /// Beyond this many pending key-days every one of them is due, whatever its age, so
    /// memory stays bounded.
    pub const MAX_PENDING: usize = 10_000;

    /// Counts one request of `key`'s day.
    pub fn record(&self, key: KeyDay, outcome: UsageOutcome, now: Instant) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        match pending.entries.entry(key) {
            Entry::Occupied(mut e) => e.get_mut().counts.record(outcome),
            Entry::Vacant(e) => {
                e.insert(Pending {
                    counts: UsageCounts::one(outcome),
                    since: now,
                });
                pending.waited_since(now);
            }
        }
    }

    /// The key-days (at most [`Self::MAX_PER_FLUSH`]) whose counts have waited `interval`,
    /// taken out of the tally.
    pub fn due(&self, now: Instant, interval: Duration) -> Vec<Flush> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let crowded = pending.entries.len() > Self::MAX_PENDING;
        let none_due = pending
            .oldest
            .is_none_or(|o| now.saturating_duration_since(o) < interval);
        if none_due && !crowded {
            return Vec::new();
        }
        let due: Vec<KeyDay> = pending
            .entries
            .iter()
            .filter(|(_, p)| crowded || now.saturating_duration_since(p.since) >= interval)
            .map(|(k, _)| k.clone())
            .take(Self::MAX_PER_FLUSH)
            .collect();
        let taken = due
            .into_iter()
            .filter_map(|key| {
                let p = pending.entries.remove(&key)?;
                Some(Flush {
                    key,
                    counts: p.counts,
                    since: p.since,
                })
            })
            .collect();
        pending.oldest = pending.entries.values().map(|p| p.since).min();
        taken
    }

    /// Everything pending, taken out (for the shutdown flush).
    pub fn drain(&self) -> Vec<Flush> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        pending.oldest = None;
        pending
            .entries
            .drain()
            .map(|(key, p)| Flush {
                key,
                counts: p.counts,
                since: p.since,
            })
            .collect()
    }

    /// Gives back counts that were not written: added to what was counted since, due as soon
    /// as they were before.
    pub fn restore(&self, flush: Flush) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let since = flush.since;
        let entry = pending.entries.entry(flush.key).or_insert(Pending {
            counts: UsageCounts::default(),
            since,
        });
        entry.counts.add(flush.counts);
        entry.since = entry.since.min(since);
        pending.waited_since(since);
    }

    /// How many key-days are waiting.
    pub fn len(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apikey::{Day, KeyId, OwnerId};

    fn key(n: u32, day: i64) -> KeyDay {
        KeyDay {
            key_id: KeyId::parse(&format!("key_{n:0>20}")).expect("a key id"),
            owner_id: OwnerId::parse("alice").expect("an owner"),
            day: Day::from_epoch_days(day),
        }
    }

    const TEN: Duration = Duration::from_secs(10);

    #[test]
    fn counts_are_due_once_they_have_waited_the_interval() {
        let tally = UsageTally::default();
        let t0 = Instant::now();
        tally.record(key(1, 1), UsageOutcome::Allowed, t0);
        tally.record(
            key(1, 1),
            UsageOutcome::Allowed,
            t0 + Duration::from_secs(5),
        );
        tally.record(key(1, 1), UsageOutcome::Denied, t0 + Duration::from_secs(6));
        tally.record(
            key(1, 2),
            UsageOutcome::RateLimited,
            t0 + Duration::from_secs(7),
        );
        assert!(tally.due(t0 + Duration::from_secs(9), TEN).is_empty());
        let due = tally.due(t0 + TEN, TEN);
        assert_eq!(due.len(), 1);
        assert_eq!((&due[0].key, due[0].counts.allowed), (&key(1, 1), 2));
        assert_eq!(due[0].counts.denied, 1);
        // Taken out: not due again, and the other day waits its own interval.
        assert!(tally.due(t0 + TEN, TEN).is_empty());
        assert_eq!(tally.len(), 1);
        let later = tally.due(t0 + Duration::from_secs(17), TEN);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].counts.rate_limited, 1);
        assert!(tally.is_empty());
    }

    #[test]
    fn given_back_counts_add_to_new_ones_and_stay_due() {
        let tally = UsageTally::default();
        let t0 = Instant::now();
        tally.record(key(1, 1), UsageOutcome::Allowed, t0);
        let failed = tally.due(t0 + TEN, TEN);
        tally.record(
            key(1, 1),
            UsageOutcome::Allowed,
            t0 + Duration::from_secs(11),
        );
        for f in failed {
            tally.restore(f);
        }
        let again = tally.due(t0 + Duration::from_secs(12), TEN);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].counts.allowed, 2);
    }

    #[test]
    fn one_flush_takes_a_bounded_share_and_drain_takes_everything() {
        let tally = UsageTally::default();
        let t0 = Instant::now();
        for n in 0..40 {
            tally.record(key(n, 1), UsageOutcome::Allowed, t0);
        }
        assert_eq!(tally.due(t0 + TEN, TEN).len(), UsageTally::MAX_PER_FLUSH);
        let rest = tally.drain();
        assert_eq!(rest.len(), 40 - UsageTally::MAX_PER_FLUSH);
        assert!(tally.is_empty());
    }
}
