//! Expiry notices (SPEC §14): which notice a key is due now, and which expiry days a scan must
//! read to find every key that is due one.

use apikey::{Day, Timestamp};

use crate::envelope::EventType;

/// The expiring-notice windows, days before `expires_at`, least imminent first.
pub const NOTICE_DAYS: [u32; 3] = [30, 7, 1];

/// How many days before today a scan also reads, for `key.expired`. A scan that runs every day
/// meets each expired key within 24 hours of its expiry, so the key's expiry day is today or
/// yesterday: 1 would do. 2 lets the next run make up for one failed or skipped daily run, for
/// one more (usually empty) query; a key missed for longer gets no `key.expired` (its expiring
/// notices were sent, and its status says expired in every read).
pub const EXPIRED_LOOKBACK_DAYS: i64 = 2;

/// A notice about a key's expiry. `days` is one of [`NOTICE_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    Expiring { days: u32 },
    Expired,
}

impl Notice {
    /// `key.expiring` N days before, for N in [`NOTICE_DAYS`]; `None` for any other N.
    pub fn expiring(days: u32) -> Option<Self> {
        NOTICE_DAYS
            .contains(&days)
            .then_some(Self::Expiring { days })
    }

    pub fn event_type(self) -> EventType {
        match self {
            Self::Expiring { .. } => EventType::Expiring,
            Self::Expired => EventType::Expired,
        }
    }

    /// When this notice's window opens for a key expiring at `expires_at`.
    pub fn window_start(self, expires_at: Timestamp) -> Timestamp {
        expires_at.plus_days(-i64::from(self.days_left()))
    }

    /// Days before expiry the notice is about: smaller is more imminent; `Expired` is 0.
    fn days_left(self) -> u32 {
        match self {
            Self::Expiring { days } => days,
            Self::Expired => 0,
        }
    }
}

/// The notice a key expiring at `expires_at` is due at `now`, given the notices already sent
/// for it; `None` when none is.
///
/// A key with an `expires_at` has three nested windows, `[expires_at − N days, expires_at)` for
/// N = 30, 7 and 1, and is expired from `expires_at` on. A scan at `now` sends the notice of the
/// most imminent window `now` is in (or `key.expired`), unless that notice or a more imminent
/// one was sent already. So a key seen in every window gets 30, 7, 1, expired in that order,
/// once each; a key first seen inside the 7-day window gets 7, 1, expired; one created a day
/// before it expires gets only 1 and expired; one first seen after it expired gets only
/// expired. Nothing is sent retroactively, and nothing less imminent after something more so.
///
/// Revoked keys get no notices: the scan skips them (status wins over the clock, as in
/// [`apikey::KeyStatus::derive`]); that needs the key record, so it is the caller's check.
pub fn due_notice(
    expires_at: Timestamp,
    now: Timestamp,
    already_sent: &[Notice],
) -> Option<Notice> {
    let due = if now >= expires_at {
        Notice::Expired
    } else {
        NOTICE_DAYS
            .iter()
            .rev()
            .map(|&days| Notice::Expiring { days })
            .find(|notice| notice.window_start(expires_at) <= now)?
    };
    // The same notice twice, or a less imminent one after a more imminent one (possible only
    // if `expires_at` moved later, which nothing does), would only confuse the reader.
    let superseded = already_sent
        .iter()
        .any(|sent| sent.days_left() <= due.days_left());
    (!superseded).then_some(due)
}

/// The partition of the expiry index a key expiring at `expires_at` lives in: its UTC day.
pub fn expiry_day(expires_at: Timestamp) -> Day {
    Day::of(expires_at)
}

/// The expiry days a scan at `now` must read to find every key due a notice, oldest first:
/// [`EXPIRED_LOOKBACK_DAYS`] days before today (keys that expired since the last run, for
/// `key.expired`), today, and every day up to and including the day of `now` + 30 days (the
/// widest window: a key expiring later than that is due nothing yet). Keys on the edge days
/// that are not due yet are filtered out by [`due_notice`]; reading whole days is what an
/// index keyed by day allows, and costs one query per day.
pub fn days_to_scan(now: Timestamp) -> Vec<Day> {
    let first = Day::of(now).plus(-EXPIRED_LOOKBACK_DAYS);
    let widest = NOTICE_DAYS.iter().copied().max().unwrap_or_default();
    let last = Day::of(now.plus_days(i64::from(widest)));
    (first.epoch_days()..=last.epoch_days())
        .map(Day::from_epoch_days)
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY: i64 = 86_400;
    const HOUR: i64 = 3_600;
    // 2026-12-05T10:00:00Z.
    const EXP: Timestamp = Timestamp::from_epoch_secs(1_796_464_800);

    fn expiring(days: u32) -> Notice {
        Notice::Expiring { days }
    }

    fn at(offset_secs: i64) -> Timestamp {
        EXP.plus_secs(offset_secs)
    }

    #[test]
    fn each_window_opens_at_its_first_second_and_closes_at_expiry() {
        let cases = [
            (-31 * DAY, None),
            (-30 * DAY - 1, None),
            (-30 * DAY, Some(expiring(30))),
            (-7 * DAY - 1, Some(expiring(30))),
            (-7 * DAY, Some(expiring(7))),
            (-DAY - 1, Some(expiring(7))),
            (-DAY, Some(expiring(1))),
            (-1, Some(expiring(1))),
            (0, Some(Notice::Expired)),
            (365 * DAY, Some(Notice::Expired)),
        ];
        for (offset, want) in cases {
            assert_eq!(due_notice(EXP, at(offset), &[]), want, "offset {offset}");
        }
    }

    #[test]
    fn a_sent_notice_is_not_due_again() {
        let cases = [
            (-20 * DAY, vec![expiring(30)], None),
            (-5 * DAY, vec![expiring(30)], Some(expiring(7))),
            (-5 * DAY, vec![expiring(30), expiring(7)], None),
            (-HOUR, vec![expiring(30), expiring(7)], Some(expiring(1))),
            (-HOUR, vec![expiring(1)], None),
            (
                HOUR,
                vec![expiring(30), expiring(7), expiring(1)],
                Some(Notice::Expired),
            ),
            (HOUR, vec![Notice::Expired], None),
        ];
        for (offset, sent, want) in cases {
            assert_eq!(
                due_notice(EXP, at(offset), &sent),
                want,
                "{offset} {sent:?}"
            );
        }
    }

    #[test]
    fn a_key_created_one_day_before_expiry_gets_only_the_one_day_notice() {
        let created = at(-DAY + 60);
        assert_eq!(due_notice(EXP, created, &[]), Some(expiring(1)));
        assert_eq!(due_notice(EXP, created, &[expiring(1)]), None);
    }

    #[test]
    fn a_key_first_seen_after_expiry_gets_only_expired() {
        assert_eq!(due_notice(EXP, at(3 * HOUR), &[]), Some(Notice::Expired));
    }

    #[test]
    fn a_less_imminent_notice_never_follows_a_more_imminent_one() {
        // Only if expires_at moved later, which nothing does; then silence beats going back.
        assert_eq!(due_notice(EXP, at(-20 * DAY), &[expiring(7)]), None);
        assert_eq!(due_notice(EXP, at(-5 * DAY), &[expiring(1)]), None);
        assert_eq!(due_notice(EXP, at(-HOUR), &[Notice::Expired]), None);
    }

    #[test]
    fn only_the_spec_windows_make_expiring_notices() {
        assert_eq!(Notice::expiring(30), Some(expiring(30)));
        assert_eq!(Notice::expiring(7), Some(expiring(7)));
        assert_eq!(Notice::expiring(1), Some(expiring(1)));
        for days in [0, 2, 14, 31] {
            assert_eq!(Notice::expiring(days), None, "{days}");
        }
        assert_eq!(expiring(7).event_type(), EventType::Expiring);
        assert_eq!(Notice::Expired.event_type(), EventType::Expired);
    }

    #[test]
    fn expiry_day_is_the_utc_day_of_expiry() {
        assert_eq!(expiry_day(EXP).to_string(), "2026-12-05");
        let midnight = Day::of(EXP).start();
        assert_eq!(expiry_day(midnight), Day::of(EXP));
        assert_eq!(expiry_day(midnight.plus_secs(-1)), Day::of(EXP).plus(-1));
    }

    #[test]
    fn days_to_scan_spans_two_days_back_to_thirty_days_ahead() {
        let days = days_to_scan(EXP);
        assert_eq!(days.len(), 33);
        assert_eq!(
            days.first().map(ToString::to_string).as_deref(),
            Some("2026-12-03")
        );
        assert_eq!(
            days.last().map(ToString::to_string).as_deref(),
            Some("2027-01-04")
        );
        assert!(days.windows(2).all(|w| w[1] == w[0].plus(1)));
    }

    #[test]
    fn a_key_expiring_just_before_midnight_is_found_after_one_missed_daily_run() {
        // Expires at 23:59:59; the midnight run after it failed; the next one, 24 hours later
        // and two days on, still reads the expiry day.
        let expires_at = Day::of(EXP).start().plus_secs(DAY - 1);
        let next_run = Day::of(EXP).plus(2).start();
        assert!(days_to_scan(next_run).contains(&expiry_day(expires_at)));
        assert_eq!(
            due_notice(expires_at, next_run, &[expiring(1)]),
            Some(Notice::Expired)
        );
    }

    /// Scan times every `step` seconds on a grid offset by `phase`, from the key's creation to
    /// three days past its expiry.
    fn scan_times(
        created: Timestamp,
        expires_at: Timestamp,
        step: i64,
        phase: i64,
    ) -> Vec<Timestamp> {
        let c = created.epoch_secs();
        let first = c - c.rem_euclid(step) + phase;
        let first = if first < c { first + step } else { first };
        let end = expires_at.plus_days(3);
        (0..)
            .map(|k| Timestamp::from_epoch_secs(first + k * step))
            .take_while(|&s| s <= end)
            .collect()
    }

    /// Runs the scan as deployed at each of those times: reading only the days of
    /// `days_to_scan`, sending what `due_notice` says, and remembering it.
    fn simulate(
        created: Timestamp,
        expires_at: Timestamp,
        step: i64,
        phase: i64,
    ) -> Vec<(Notice, Timestamp)> {
        let mut sent: Vec<(Notice, Timestamp)> = Vec::new();
        for now in scan_times(created, expires_at, step, phase) {
            if days_to_scan(now).contains(&expiry_day(expires_at)) {
                let already: Vec<Notice> = sent.iter().map(|(n, _)| *n).collect();
                if let Some(notice) = due_notice(expires_at, now, &already) {
                    sent.push((notice, now));
                }
            }
        }
        sent
    }

    /// What the rule promises, worked out from the scan times alone: the N-day notice goes out
    /// iff some scan falls in the part of its window before the next more imminent window opens.
    fn expected(created: Timestamp, expires_at: Timestamp, step: i64, phase: i64) -> Vec<Notice> {
        let scans: Vec<i64> = scan_times(created, expires_at, step, phase)
            .into_iter()
            .map(Timestamp::epoch_secs)
            .collect();
        let bands = [
            (expiring(30), -30 * DAY, -7 * DAY),
            (expiring(7), -7 * DAY, -DAY),
            (expiring(1), -DAY, 0),
        ];
        let e = expires_at.epoch_secs();
        let mut want: Vec<Notice> = bands
            .into_iter()
            .filter(|&(_, from, to)| scans.iter().any(|&s| e + from <= s && s < e + to))
            .map(|(n, _, _)| n)
            .collect();
        want.push(Notice::Expired);
        want
    }

    fn check(created: Timestamp, expires_at: Timestamp, step: i64, phase: i64) {
        let sent = simulate(created, expires_at, step, phase);
        let notices: Vec<Notice> = sent.iter().map(|(n, _)| *n).collect();
        // Exactly what the rule promises, each once, most imminent last.
        assert_eq!(notices, expected(created, expires_at, step, phase));
        assert!(
            notices
                .windows(2)
                .all(|w| w[0].days_left() > w[1].days_left())
        );
        for (notice, when) in &sent {
            // Sent inside its window, and it was the most imminent window at the time.
            assert!(
                notice.window_start(expires_at) <= *when,
                "{notice:?} at {when:?}"
            );
            match notice {
                Notice::Expiring { days } => {
                    assert!(*when < expires_at);
                    for more in NOTICE_DAYS.iter().filter(|d| *d < days) {
                        assert!(expiring(*more).window_start(expires_at) > *when);
                    }
                }
                Notice::Expired => assert!(*when >= expires_at),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn a_daily_scan_sends_each_notice_at_most_once_most_imminent_first(
            expires in 1_700_000_000i64..2_000_000_000,
            lifetime in 1i64..(45 * DAY),
            phase in 0i64..DAY,
        ) {
            let expires_at = Timestamp::from_epoch_secs(expires);
            check(expires_at.plus_secs(-lifetime), expires_at, DAY, phase);
        }

        #[test]
        fn a_daily_scan_sends_all_four_notices_to_a_key_that_lives_long_enough(
            expires in 1_700_000_000i64..2_000_000_000,
            lifetime in (31 * DAY)..(400 * DAY),
            phase in 0i64..DAY,
        ) {
            let expires_at = Timestamp::from_epoch_secs(expires);
            let sent = simulate(expires_at.plus_secs(-lifetime), expires_at, DAY, phase);
            let notices: Vec<Notice> = sent.iter().map(|(n, _)| *n).collect();
            prop_assert_eq!(notices, vec![expiring(30), expiring(7), expiring(1), Notice::Expired]);
        }

        #[test]
        fn a_daily_scan_gives_a_key_created_inside_a_window_only_the_most_imminent_notices(
            expires in 1_700_000_000i64..2_000_000_000,
            lifetime in 1i64..DAY,
            phase in 0i64..DAY,
        ) {
            let expires_at = Timestamp::from_epoch_secs(expires);
            let sent = simulate(expires_at.plus_secs(-lifetime), expires_at, DAY, phase);
            let notices: Vec<Notice> = sent.iter().map(|(n, _)| *n).collect();
            // Created less than a day before expiry: at most the 1-day notice, then expired.
            prop_assert!(
                notices == vec![expiring(1), Notice::Expired] || notices == vec![Notice::Expired],
                "{:?}", notices
            );
        }
    }

    proptest! {
        // An hourly scan over up to 43 days is up to ~1,000 scans a case.
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn an_hourly_scan_sends_each_notice_at_most_once_most_imminent_first(
            expires in 1_700_000_000i64..2_000_000_000,
            lifetime in 1i64..(40 * DAY),
            phase in 0i64..HOUR,
        ) {
            let expires_at = Timestamp::from_epoch_secs(expires);
            check(expires_at.plus_secs(-lifetime), expires_at, HOUR, phase);
        }
    }
}
