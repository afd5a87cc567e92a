//! A key's status, derived at read time from its timestamps and never stored.

use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    /// Revocation wins over expiry; a key is expired from the second `expires_at` names.
    pub fn derive(
        revoked_at: Option<Timestamp>,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        match (revoked_at, expires_at) {
            (Some(_), _) => Self::Revoked,
            (None, Some(exp)) if now >= exp => Self::Expired,
            _ => Self::Active,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for KeyStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            "expired" => Ok(Self::Expired),
            _ => Err(Error::InvalidStatus),
        }
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_epoch_secs(1_000);

    #[test]
    fn status_follows_revocation_then_expiry() {
        let t = Timestamp::from_epoch_secs;
        let cases = [
            (None, None, KeyStatus::Active),
            (None, Some(t(1_001)), KeyStatus::Active),
            (None, Some(t(1_000)), KeyStatus::Expired),
            (None, Some(t(999)), KeyStatus::Expired),
            (Some(t(900)), None, KeyStatus::Revoked),
            (Some(t(900)), Some(t(950)), KeyStatus::Revoked),
            (Some(t(900)), Some(t(5_000)), KeyStatus::Revoked),
        ];
        for (revoked, expires, want) in cases {
            assert_eq!(KeyStatus::derive(revoked, expires, NOW), want);
        }
    }

    #[test]
    fn status_names_round_trip_and_unknown_names_are_rejected() {
        for s in [KeyStatus::Active, KeyStatus::Revoked, KeyStatus::Expired] {
            assert_eq!(s.as_str().parse::<KeyStatus>(), Ok(s));
        }
        for bad in ["", "Active", "deleted", "active "] {
            assert_eq!(bad.parse::<KeyStatus>(), Err(Error::InvalidStatus));
        }
    }
}
