//! Rate-limit arithmetic (SPEC §10), pure: which counter cells a request falls in, and what
//! the counts say. The counting itself is `keystore`'s (conditional writes).
//!
//! The minute window slides: two fixed one-minute cells aligned to UTC clock minutes, the
//! previous one weighted by the part of it still inside the last 60 s, rounded up
//! (Cloudflare's and Unkey's estimate). The day is a fixed UTC day. Figures follow GitHub:
//! `remaining` counts the current request, the window with fewer remaining is reported, and
//! `reset` is the end of the current minute cell or the next UTC midnight.

use crate::{PlanLimits, Timestamp};

const MINUTE: i64 = 60;
const DAY: i64 = 86_400;

/// Where `now` falls: its minute cell, the previous one, and its UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    now: i64,
}

impl Window {
    pub fn at(now: Timestamp) -> Self {
        Self {
            now: now.epoch_secs(),
        }
    }

    /// Minutes since the epoch: the current cell's number.
    pub fn minute(self) -> i64 {
        self.now.div_euclid(MINUTE)
    }

    /// Days since the epoch: the current day's number.
    pub fn day(self) -> i64 {
        self.now.div_euclid(DAY)
    }

    /// The previous cell's count, weighted by the share of it still inside the last 60 s,
    /// rounded up.
    pub fn weighted_previous(self, previous: u32) -> u32 {
        let inside = MINUTE - self.now.rem_euclid(MINUTE); // 1..=60 seconds
        let weighted = (i64::from(previous) * inside + MINUTE - 1) / MINUTE;
        u32::try_from(weighted).unwrap_or(u32::MAX)
    }

    /// The largest current-cell count (after this request) the minute limit still allows,
    /// given what is known of the previous cell: the bound a conditional write checks.
    pub fn minute_cap(self, per_minute: u32, previous: u32) -> u32 {
        per_minute.saturating_sub(self.weighted_previous(previous))
    }

    fn minute_reset(self) -> i64 {
        (self.minute() + 1) * MINUTE
    }

    fn day_reset(self) -> i64 {
        (self.day() + 1) * DAY
    }
}

/// The counter cells after a request was counted (current cell and day include it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub minute: u32,
    pub previous_minute: u32,
    pub day: u32,
}

/// The figures a client sees (`X-RateLimit-*`, `rate_limit` in `/auth/me`, a 429's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateFigures {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds.
    pub reset: i64,
}

/// What the counts say about the request they include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed(RateFigures),
    /// Over a limit: `figures.remaining` is 0; `retry_after` is the seconds until a request
    /// would be allowed again (at least 1).
    Limited {
        figures: RateFigures,
        retry_after: u32,
    },
}

/// Judges a request already counted in `counts`. `limits` must not be unlimited; an
/// unlimited plan is never counted and has no figures.
pub fn judge(limits: PlanLimits, window: Window, counts: Counts) -> Verdict {
    let minute = limits.requests_per_minute.map(|limit| {
        let used = window
            .weighted_previous(counts.previous_minute)
            .saturating_add(counts.minute);
        (limit, used, window.minute_reset())
    });
    let day = limits
        .requests_per_day
        .map(|limit| (limit, counts.day, window.day_reset()));
    let over = |(limit, used, _): &(u32, u32, i64)| used > limit;
    let minute_over = minute.as_ref().is_some_and(over);
    let day_over = day.as_ref().is_some_and(over);
    if day_over || minute_over {
        let mut retry_after = 0i64;
        if minute_over {
            let before = Counts {
                minute: counts.minute.saturating_sub(1),
                ..counts
            };
            retry_after = retry_after.max(minute_retry(limits, window, before));
        }
        if day_over {
            retry_after = retry_after.max(window.day_reset() - window.now);
        }
        // The day, when it refuses, is the window that matters: its reset is the later one.
        let (limit, _, reset) = if day_over { day } else { minute }.unwrap_or_default();
        return Verdict::Limited {
            figures: RateFigures {
                limit,
                remaining: 0,
                reset,
            },
            retry_after: u32::try_from(retry_after.max(1)).unwrap_or(u32::MAX),
        };
    }
    let figures = [minute, day]
        .into_iter()
        .flatten()
        .map(|(limit, used, reset)| RateFigures {
            limit,
            remaining: limit - used,
            reset,
        })
        .min_by_key(|f| (f.remaining, f.reset));
    Verdict::Allowed(figures.unwrap_or(RateFigures {
        limit: 0,
        remaining: 0,
        reset: window.minute_reset(),
    }))
}

/// Seconds until one more request fits the minute window, given the counts without it: the
/// current cell becomes the previous one at the next minute and then fades out, so this is
/// at most two minutes.
fn minute_retry(limits: PlanLimits, window: Window, before: Counts) -> i64 {
    let Some(limit) = limits.requests_per_minute else {
        return 0;
    };
    for wait in 1..=2 * MINUTE {
        let later = Window {
            now: window.now + wait,
        };
        let (current, previous) = match later.minute() - window.minute() {
            0 => (before.minute, before.previous_minute),
            1 => (0, before.minute),
            _ => (0, 0),
        };
        if later.weighted_previous(previous).saturating_add(current) < limit {
            return wait;
        }
    }
    2 * MINUTE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Window {
        Window::at(Timestamp::from_epoch_secs(secs))
    }

    fn per_minute(n: u32) -> PlanLimits {
        PlanLimits {
            requests_per_minute: Some(n),
            requests_per_day: None,
        }
    }

    // 2026-12-04T10:00:00Z
    const T: i64 = 1_796_378_400;

    #[test]
    fn cells_are_utc_minutes_and_days() {
        let w = at(T + 59);
        assert_eq!(w.minute(), T / 60);
        assert_eq!(at(T + 60).minute(), T / 60 + 1);
        assert_eq!(w.day(), T / 86_400);
        assert_eq!(w.minute_reset(), T + 60);
        assert_eq!(w.day_reset(), (T / 86_400 + 1) * 86_400);
    }

    #[test]
    fn the_previous_cell_fades_out_over_the_minute_rounded_up() {
        assert_eq!(at(T).weighted_previous(10), 10);
        assert_eq!(at(T + 30).weighted_previous(10), 5);
        assert_eq!(at(T + 31).weighted_previous(10), 5); // 29/60 of 10 = 4.83 → 5
        assert_eq!(at(T + 59).weighted_previous(10), 1);
        assert_eq!(at(T + 59).weighted_previous(0), 0);
        assert_eq!(at(T + 30).minute_cap(20, 10), 15);
        assert_eq!(at(T).minute_cap(5, 9), 0);
    }

    #[test]
    fn remaining_counts_the_current_request() {
        let counts = Counts {
            minute: 1,
            previous_minute: 0,
            day: 1,
        };
        let Verdict::Allowed(f) = judge(per_minute(5), at(T + 10), counts) else {
            panic!("allowed");
        };
        assert_eq!((f.limit, f.remaining, f.reset), (5, 4, T + 60));
    }

    #[test]
    fn the_window_with_fewer_remaining_is_reported() {
        let both = PlanLimits {
            requests_per_minute: Some(100),
            requests_per_day: Some(10),
        };
        let counts = Counts {
            minute: 4,
            previous_minute: 0,
            day: 8,
        };
        let Verdict::Allowed(f) = judge(both, at(T), counts) else {
            panic!("allowed");
        };
        assert_eq!((f.limit, f.remaining), (10, 2));
        assert_eq!(f.reset, (T / 86_400 + 1) * 86_400);
    }

    #[test]
    fn over_the_minute_limit_is_refused_until_the_estimate_drops() {
        // 5 in the current cell already; the 6th at :10 is refused. The cell becomes the
        // previous one at the next minute, weighted 5 × 59/60 → 5 at :01, 4 at :13 …
        let counts = Counts {
            minute: 6,
            previous_minute: 0,
            day: 6,
        };
        let Verdict::Limited {
            figures,
            retry_after,
        } = judge(per_minute(5), at(T + 10), counts)
        else {
            panic!("limited");
        };
        assert_eq!(
            (figures.limit, figures.remaining, figures.reset),
            (5, 0, T + 60)
        );
        // At T+60+w the estimate is ceil(5 × (60-w)/60); it is < 5 from w = 12 on.
        assert_eq!(retry_after, 50 + 12);
    }

    #[test]
    fn the_previous_minute_counts_in_the_estimate() {
        let counts = Counts {
            minute: 3,
            previous_minute: 10,
            day: 13,
        };
        // At :30 the previous cell weighs 5: 5 + 3 = 8 ≤ 10 allowed, remaining 2.
        let Verdict::Allowed(f) = judge(per_minute(10), at(T + 30), counts) else {
            panic!("allowed");
        };
        assert_eq!(f.remaining, 2);
        // At :00 it weighs 10: 13 > 10 refused.
        assert!(matches!(
            judge(per_minute(10), at(T), counts),
            Verdict::Limited { .. }
        ));
    }

    #[test]
    fn over_the_day_quota_waits_for_midnight() {
        let daily = PlanLimits {
            requests_per_minute: Some(100),
            requests_per_day: Some(3),
        };
        let counts = Counts {
            minute: 1,
            previous_minute: 0,
            day: 4,
        };
        let midnight = (T / 86_400 + 1) * 86_400;
        let Verdict::Limited {
            figures,
            retry_after,
        } = judge(daily, at(T), counts)
        else {
            panic!("limited");
        };
        assert_eq!((figures.limit, figures.reset), (3, midnight));
        assert_eq!(i64::from(retry_after), midnight - T);
    }
}
