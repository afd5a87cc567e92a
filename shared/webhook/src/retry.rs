//! When to try a failed delivery again (SPEC §14: first retry within a minute, then backoff
//! for at least an hour, then kept for replay).

use std::time::Duration;

/// The delays between attempts. Attempts count from 1: attempt 1 is the first delivery, sent
/// at once; attempt n ≥ 2 waits [`RetrySchedule::delay_before`]`(n)` after attempt n − 1 failed.
///
/// The standard schedule waits 30 s, 1, 2, 4, 8 min, then 15 min four times: ten attempts over
/// 75.5 minutes (about 68 at the most jitter). The backoff stops doubling at 15 minutes because
/// that is the longest delay SQS gives a message (`DelaySeconds` ≤ 900), so a delivery can
/// re-queue itself for its next attempt without a scheduler; a receiver that is down for an
/// hour still sees one attempt every quarter hour rather than one after a long silence.
/// Jitter only ever shortens a delay (by up to 10 %), so it cannot push one past that limit;
/// it spreads a burst of retries (a receiver back after an outage) over a few seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    jitter_percent: u32,
}

impl RetrySchedule {
    /// Seconds before attempts 2, 3, ….
    pub const STANDARD_DELAYS_SECS: [u64; 9] = [30, 60, 120, 240, 480, 900, 900, 900, 900];
    pub const STANDARD_JITTER_PERCENT: u32 = 10;

    pub fn standard() -> Self {
        Self::new(
            Self::STANDARD_DELAYS_SECS
                .iter()
                .map(|&s| Duration::from_secs(s))
                .collect(),
            Self::STANDARD_JITTER_PERCENT,
        )
    }

    /// A schedule of one's own (a local test that cannot wait minutes); `jitter_percent` is
    /// capped at 100.
    pub fn new(delays: Vec<Duration>, jitter_percent: u32) -> Self {
        Self {
            delays,
            jitter_percent: jitter_percent.min(100),
        }
    }

    /// Attempts in all, the first delivery included; after the last one fails the delivery
    /// is given up and kept for replay.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The delay before `attempt` without jitter: zero for the first (and for 0, read as the
    /// first), `None` past the last: give up and keep the delivery for replay.
    pub fn nominal_delay_before(&self, attempt: u32) -> Option<Duration> {
        match attempt.saturating_sub(1) {
            0 => Some(Duration::ZERO),
            retry => {
                let index = usize::try_from(retry - 1).ok()?;
                self.delays.get(index).copied()
            }
        }
    }

    /// The delay before `attempt`, shortened by a jitter drawn from `random` (any uniformly
    /// random number: `rand::random()` in the notifier, a constant in tests) of at most
    /// `jitter_percent` of it, to the millisecond. `None` past the last attempt.
    pub fn delay_before(&self, attempt: u32, random: u64) -> Option<Duration> {
        let nominal = self.nominal_delay_before(attempt)?;
        let millis = u64::try_from(nominal.as_millis()).unwrap_or(u64::MAX);
        let most = millis.saturating_mul(u64::from(self.jitter_percent)) / 100;
        let jitter = random % most.saturating_add(1);
        Some(Duration::from_millis(millis - jitter))
    }

    /// The time from the first attempt to the last, without jitter.
    pub fn nominal_total(&self) -> Duration {
        self.delays.iter().sum()
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::standard()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3_600);

    #[test]
    fn the_first_delivery_is_immediate_and_the_first_retry_within_a_minute() {
        let s = RetrySchedule::standard();
        for random in [0, 1, 12_345, u64::MAX] {
            assert_eq!(s.delay_before(1, random), Some(Duration::ZERO));
            assert_eq!(s.delay_before(0, random), Some(Duration::ZERO));
            let first_retry = s.delay_before(2, random).expect("a retry");
            assert!(first_retry <= MINUTE, "{first_retry:?}");
        }
    }

    #[test]
    fn the_standard_schedule_backs_off_and_never_shrinks() {
        let s = RetrySchedule::standard();
        let nominal: Vec<Duration> = (1..=s.max_attempts())
            .map(|a| s.nominal_delay_before(a).expect("within the schedule"))
            .collect();
        assert!(nominal.windows(2).all(|w| w[0] <= w[1]), "{nominal:?}");
        assert_eq!(nominal[1], Duration::from_secs(30));
        assert_eq!(nominal[2], 2 * nominal[1]);
        assert!(nominal.iter().all(|d| *d <= Duration::from_secs(900)));
    }

    #[test]
    fn the_standard_schedule_retries_for_more_than_an_hour_then_gives_up() {
        let s = RetrySchedule::standard();
        assert_eq!(s.max_attempts(), 10);
        assert_eq!(s.nominal_total(), Duration::from_secs(4_530));
        assert_eq!(s.delay_before(10, 0), Some(Duration::from_secs(900)));
        assert_eq!(s.delay_before(11, 0), None);
        assert_eq!(s.nominal_delay_before(u32::MAX), None);
    }

    #[test]
    fn jitter_only_shortens_by_at_most_a_tenth_and_is_set_by_the_random_input() {
        let s = RetrySchedule::standard();
        assert_eq!(s.delay_before(2, 0), Some(Duration::from_secs(30)));
        // 30 s = 30,000 ms; at most 3,000 ms off; 3,001 possible jitters.
        assert_eq!(
            s.delay_before(2, 3_000),
            Some(Duration::from_millis(27_000))
        );
        assert_eq!(s.delay_before(2, 3_001), Some(Duration::from_secs(30)));
        assert_eq!(s.delay_before(2, 1_234), s.delay_before(2, 1_234));
    }

    #[test]
    fn a_custom_schedule_is_used_as_given() {
        let s = RetrySchedule::new(
            vec![Duration::from_millis(100), Duration::from_millis(200)],
            0,
        );
        assert_eq!(s.max_attempts(), 3);
        assert_eq!(s.delay_before(2, 77), Some(Duration::from_millis(100)));
        assert_eq!(s.delay_before(3, 77), Some(Duration::from_millis(200)));
        assert_eq!(s.delay_before(4, 77), None);
        assert_eq!(RetrySchedule::new(vec![], 500).max_attempts(), 1);
        assert_eq!(RetrySchedule::default(), RetrySchedule::standard());
    }

    proptest! {
        #[test]
        fn whatever_the_jitter_retries_span_at_least_an_hour(randoms in prop::array::uniform9(any::<u64>())) {
            let s = RetrySchedule::standard();
            let delays: Vec<Duration> = (2..=s.max_attempts())
                .zip(randoms)
                .map(|(attempt, r)| s.delay_before(attempt, r).expect("within the schedule"))
                .collect();
            prop_assert!(delays[0] <= MINUTE);
            prop_assert!(delays.iter().sum::<Duration>() >= HOUR);
            for (attempt, delay) in (2..).zip(&delays) {
                let nominal = s.nominal_delay_before(attempt).expect("within the schedule");
                prop_assert!(*delay <= nominal && *delay * 10 >= nominal * 9);
            }
        }
    }
}
