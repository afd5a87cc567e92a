//! Where every handler gets "now": the system clock in production; in tests the system clock
//! plus an offset the test moves forward, so time-driven behaviour (grace periods, expiry,
//! `last_used_at` intervals) is tested by setting the time instead of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use apikey::Timestamp;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to the system clock; `None` in production (nothing to add, nothing shared).
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { offset: None }
    }

    /// The system clock, movable forward with [`Clock::advance`]. Clones share the offset, so
    /// a test moves the time of every function (and the local gateway) it handed a state to.
    pub fn adjustable() -> Self {
        Self {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        match &self.offset {
            None => now,
            Some(offset) => now.plus_secs(offset.load(Ordering::Relaxed)),
        }
    }

    /// Moves an adjustable clock forward; a system clock cannot be moved (no effect).
    pub fn advance(&self, secs: i64) {
        if let Some(offset) = &self.offset {
            offset.fetch_add(secs, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_for_every_clone_and_the_system_clock_does_not() {
        let clock = Clock::adjustable();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(3_600);
        assert!(clone.now().epoch_secs() - before.epoch_secs() >= 3_600);
        let system = Clock::system();
        system.advance(3_600);
        assert!(system.now().epoch_secs() - Timestamp::now().epoch_secs() < 5);
    }
}
