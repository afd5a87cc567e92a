//! Usage per key and UTC day (SPEC §12), pure: the day, the three counts, and the date range
//! a usage query may ask for.

use std::fmt;

use crate::Timestamp;

const DAY_SECS: i64 = 86_400;

/// A UTC calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    pub fn of(t: Timestamp) -> Self {
        Self(t.epoch_secs().div_euclid(DAY_SECS))
    }

    /// `YYYY-MM-DD`; `None` for anything else, an impossible date included.
    pub fn parse(text: &str) -> Option<Self> {
        Timestamp::parse_date(text).map(Self::of)
    }

    pub const fn from_epoch_days(days: i64) -> Self {
        Self(days)
    }

    pub const fn epoch_days(self) -> i64 {
        self.0
    }

    pub const fn plus(self, days: i64) -> Self {
        Self(self.0.saturating_add(days))
    }

    /// The day's first second.
    pub const fn start(self) -> Timestamp {
        Timestamp::from_epoch_secs(self.0.saturating_mul(DAY_SECS))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.start().date())
    }
}

/// How a request the authorizer looked up ended (SPEC §12). Requests without a known key
/// (none, malformed, unknown) belong to no key and are not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageOutcome {
    Allowed,
    RateLimited,
    /// Revoked, expired, or a route needing a scope the key lacks.
    Denied,
}

/// One key's (or owner's) requests of a day, or of a range, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts {
    pub allowed: u64,
    pub rate_limited: u64,
    pub denied: u64,
}

impl UsageCounts {
    pub fn one(outcome: UsageOutcome) -> Self {
        let mut counts = Self::default();
        counts.record(outcome);
        counts
    }

    pub fn record(&mut self, outcome: UsageOutcome) {
        let cell = match outcome {
            UsageOutcome::Allowed => &mut self.allowed,
            UsageOutcome::RateLimited => &mut self.rate_limited,
            UsageOutcome::Denied => &mut self.denied,
        };
        *cell = cell.saturating_add(1);
    }

    pub fn add(&mut self, other: Self) {
        self.allowed = self.allowed.saturating_add(other.allowed);
        self.rate_limited = self.rate_limited.saturating_add(other.rate_limited);
        self.denied = self.denied.saturating_add(other.denied);
    }

    pub fn is_zero(self) -> bool {
        self == Self::default()
    }
}

/// The days a usage query covers, both ends included: at most [`DayRange::MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    from: Day,
    to: Day,
}

/// Why a requested range is refused; messages are for the API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("{0} must be a date, YYYY-MM-DD")]
    NotADate(&'static str),
    #[error("from must not be after to")]
    Reversed,
    #[error("a range covers at most 366 days")]
    TooLong,
}

impl DayRange {
    pub const MAX_DAYS: i64 = 366;
    /// Without `from`, a range ends this many days back (today included).
    pub const DEFAULT_DAYS: i64 = 30;

    /// From the query's `from` and `to`: `to` defaults to `today`, `from` to 29 days before
    /// `to`.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: Day) -> Result<Self, RangeError> {
        let day = |text: Option<&str>, field| match text {
            None => Ok(None),
            Some(t) => Day::parse(t).map(Some).ok_or(RangeError::NotADate(field)),
        };
        let to = day(to, "to")?.unwrap_or(today);
        let from = day(from, "from")?.unwrap_or(to.plus(1 - Self::DEFAULT_DAYS));
        Self::new(from, to)
    }

    pub fn new(from: Day, to: Day) -> Result<Self, RangeError> {
        if from > to {
            return Err(RangeError::Reversed);
        }
        if to.0 - from.0 >= Self::MAX_DAYS {
            return Err(RangeError::TooLong);
        }
        Ok(Self { from, to })
    }

    pub fn from(self) -> Day {
        self.from
    }

    pub fn to(self) -> Day {
        self.to
    }

    /// Every day of the range, oldest first.
    pub fn days(self) -> impl Iterator<Item = Day> {
        (self.from.0..=self.to.0).map(Day)
    }

    /// How many days the range covers (1 to [`DayRange::MAX_DAYS`]).
    pub fn day_count(self) -> usize {
        usize::try_from(self.to.0 - self.from.0 + 1).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).expect("a date")
    }

    #[test]
    fn days_print_and_parse_as_calendar_dates() {
        let d = day("2026-12-05");
        assert_eq!(d.to_string(), "2026-12-05");
        assert_eq!(d.plus(27).to_string(), "2027-01-01");
        assert_eq!(Day::of(Timestamp::from_epoch_secs(86_399)), Day(0));
        assert_eq!(Day::of(Timestamp::from_epoch_secs(-1)), Day(-1));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-12-05",
            "2026-12-5",
            "",
            "2026-12-05T",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_add_by_outcome() {
        let mut c = UsageCounts::one(UsageOutcome::Allowed);
        c.record(UsageOutcome::Denied);
        c.add(UsageCounts {
            allowed: 2,
            rate_limited: 3,
            denied: 0,
        });
        assert_eq!(
            c,
            UsageCounts {
                allowed: 3,
                rate_limited: 3,
                denied: 1
            }
        );
        assert!(!c.is_zero());
        assert!(UsageCounts::default().is_zero());
    }

    #[test]
    fn ranges_default_to_the_last_thirty_days_and_hold_at_most_366() {
        let today = day("2026-12-05");
        let r = DayRange::parse(None, None, today).expect("default");
        assert_eq!(
            (r.from(), r.to(), r.day_count()),
            (day("2026-11-06"), today, 30)
        );
        let r = DayRange::parse(None, Some("2026-01-31"), today).expect("to only");
        assert_eq!(r.from(), day("2026-01-02"));
        let r = DayRange::parse(Some("2026-12-01"), None, today).expect("from only");
        assert_eq!(r.days().count(), 5);
        let r = DayRange::parse(Some("2024-01-01"), Some("2024-12-31"), today).expect("leap year");
        assert_eq!(r.day_count(), 366);
        let same = DayRange::parse(Some("2026-12-05"), Some("2026-12-05"), today);
        assert_eq!(same.map(DayRange::day_count), Ok(1));

        let year = DayRange::parse(Some("2025-01-01"), Some("2026-01-01"), today);
        assert_eq!(
            year.map(DayRange::day_count),
            Ok(366),
            "366 days is the most"
        );

        let refused = |from, to| DayRange::parse(from, to, today).err();
        assert_eq!(
            refused(Some("2025-01-01"), Some("2026-01-02")),
            Some(RangeError::TooLong)
        );
        assert_eq!(
            refused(Some("2026-12-06"), Some("2026-12-05")),
            Some(RangeError::Reversed)
        );
        assert_eq!(
            refused(Some("2026-12-06"), None),
            Some(RangeError::Reversed)
        );
        assert_eq!(
            refused(Some("yesterday"), None),
            Some(RangeError::NotADate("from"))
        );
        assert_eq!(
            refused(None, Some("2026-12-05T00:00:00Z")),
            Some(RangeError::NotADate("to"))
        );
    }
}
