//! Whole-second UTC timestamps, stored as epoch seconds and shown as RFC 3339.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_epoch_secs(secs: i64) -> Self {
        Self(secs)
    }

    pub fn now() -> Self {
        let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock before 1970 is broken; treat it as the epoch rather than panic.
            Err(_) => 0,
        };
        Self(secs)
    }

    pub const fn epoch_secs(self) -> i64 {
        self.0
    }

    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    pub const fn plus_days(self, days: i64) -> Self {
        self.plus_secs(days.saturating_mul(86_400))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl Timestamp {
    /// An RFC 3339 date-time (`2026-12-04T18:00:00Z`, `…T19:00:00.250+01:00`), to the second
    /// (a fraction is dropped). `None` for anything else, an impossible date included.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() < 20 || !b.is_ascii() || !matches!(b[10], b'T' | b't') {
            return None;
        }
        let day = Self::parse_date(&text[..10])?;
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (h, m, sec) = (
            digits(&text[11..13])?,
            digits(&text[14..16])?,
            digits(&text[17..19])?,
        );
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let mut rest = &text[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            rest = &fraction[n..];
        }
        let offset = match rest.as_bytes() {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'+' { o } else { -o }
            }
            _ => return None,
        };
        let secs = day.0 + h * 3600 + m * 60 + sec.min(59) - offset;
        Some(Self(secs))
    }

    /// A calendar date (`2026-12-04`) as its first second, UTC. `None` for anything else.
    pub fn parse_date(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (y, m, d) = (
            digits(&text[..4])?,
            digits(&text[5..7])?,
            digits(&text[8..10])?,
        );
        let m = u32::try_from(m).ok()?;
        let d = u32::try_from(d).ok()?;
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Self(days_from_civil(y, m, d) * 86_400))
    }

    /// `YYYY-MM-DD` of this instant, UTC.
    pub fn date(self) -> String {
        self.to_rfc3339()[..10].to_owned()
    }
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A proleptic Gregorian date to days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formatting_matches_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ];
        for (secs, text) in cases {
            assert_eq!(Timestamp::from_epoch_secs(secs).to_rfc3339(), text);
        }
    }

    #[test]
    fn rfc3339_and_dates_parse_back_and_nonsense_does_not() {
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_799, -1] {
            let t = Timestamp::from_epoch_secs(secs);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        }
        let cases = [
            ("2026-12-04T19:00:00.250+01:00", 1_796_407_200),
            ("2026-12-04t18:00:00z", 1_796_407_200),
            ("2026-12-04T13:30:00-04:30", 1_796_407_200),
        ];
        for (text, secs) in cases {
            assert_eq!(
                Timestamp::parse_rfc3339(text),
                Some(Timestamp::from_epoch_secs(secs)),
                "{text}"
            );
        }
        for bad in [
            "",
            "2026-12-04",
            "2026-12-04T18:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-12-04T24:00:00Z",
            "2026-12-04T18:00:00.Z",
            "2026-12-04T18:00:00+1:00",
            "2026-12-04 18:00:00Z",
            "２０２６-12-04T18:00:00Z",
            "yesterday",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(
            Timestamp::parse_date("2024-02-29"),
            Some(Timestamp::from_epoch_secs(1_709_164_800))
        );
        assert_eq!(
            Timestamp::from_epoch_secs(1_709_200_000).date(),
            "2024-02-29"
        );
        for bad in [
            "2023-02-29",
            "2024-1-01",
            "2024-00-10",
            "2024-12-32",
            "24-12-01",
        ] {
            assert_eq!(Timestamp::parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn adding_days_never_overflows() {
        let t = Timestamp::from_epoch_secs(i64::MAX - 5).plus_days(3650);
        assert_eq!(t.epoch_secs(), i64::MAX);
    }
}
