//! Whole numbers a client or operator sets, each in its own range, parsed once at the edge
//! (API body or query, CLI flag) and carried as a type from there on: a key's lifetime, a
//! rotation's grace period, a listing's page size.

use std::str::FromStr;

use crate::Error;

macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, field: $field:literal, $min:literal ..= $max:literal $(, default: $default:expr)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            pub const MIN: i64 = $min;
            pub const MAX: i64 = $max;
            /// The name clients know the value by (API field, query parameter).
            pub const FIELD: &'static str = $field;

            pub fn new(value: i64) -> Result<Self, Error> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(Self::out_of_range())
                }
            }

            pub const fn get(self) -> i64 {
                self.0
            }

            fn out_of_range() -> Error {
                Error::OutOfRange { field: Self::FIELD, min: Self::MIN, max: Self::MAX }
            }
        }

        $(
            impl $name {
                pub const DEFAULT: Self = Self($default);
            }

            impl Default for $name {
                fn default() -> Self {
                    Self::DEFAULT
                }
            }
        )?

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// ASCII digits only: no sign, no spaces, no exponent.
        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Self::out_of_range());
                }
                s.parse::<i64>().map_err(|_| Self::out_of_range()).and_then(Self::new)
            }
        }
    };
}

bounded! {
    /// Days until a new key expires (SPEC §3 `expires_in_days`); a key without one never does.
    Lifetime, field: "expires_in_days", 1..=3650
}

bounded! {
    /// Seconds an old key keeps working after a rotation (SPEC §3 `grace_period_seconds`).
    GracePeriod, field: "grace_period_seconds", 0..=2_592_000, default: 86_400
}

bounded! {
    /// Keys per page of a listing (SPEC §3 `limit`).
    PageLimit, field: "limit", 1..=100, default: 50
}

impl PageLimit {
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_say_the_range() {
        assert_eq!(Lifetime::new(1).map(Lifetime::get), Ok(1));
        assert_eq!(Lifetime::new(3650).map(Lifetime::get), Ok(3650));
        let e = Lifetime::new(0).expect_err("below");
        assert_eq!(
            e.to_string(),
            "expires_in_days must be a whole number from 1 to 3650"
        );
        assert!(Lifetime::new(3651).is_err());
        assert_eq!(GracePeriod::new(0).map(GracePeriod::get), Ok(0));
        assert!(GracePeriod::new(2_592_001).is_err());
        assert_eq!(
            "101".parse::<PageLimit>().expect_err("above").to_string(),
            "limit must be a whole number from 1 to 100"
        );
    }

    #[test]
    fn text_is_plain_digits_only() {
        assert_eq!("50".parse::<PageLimit>().map(PageLimit::as_usize), Ok(50));
        for bad in [
            "",
            "+5",
            "-1",
            " 5",
            "5 ",
            "1e2",
            "0x10",
            "99999999999999999999",
            "٣",
        ] {
            assert!(bad.parse::<PageLimit>().is_err(), "{bad:?}");
        }
        assert_eq!("0".parse::<GracePeriod>().map(GracePeriod::get), Ok(0));
    }

    #[test]
    fn defaults_are_in_range() {
        assert_eq!(GracePeriod::default().get(), 86_400);
        assert_eq!(PageLimit::default().as_usize(), 50);
    }
}
