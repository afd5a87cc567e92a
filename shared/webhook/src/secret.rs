//! The signing secret, wrapped so it cannot be logged by accident.

use std::fmt;

use hmac::KeyInit;

use crate::config::ConfigError;

pub(crate) type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The HMAC key shared with the receiver (`WEBHOOK_SECRET`). `Debug` prints `Secret(…)` and
/// there is no `Display`, so neither a log line nor an error message can carry it; it is used
/// only through [`crate::sign`] and [`crate::verify`]. What is kept is the HMAC keyed with it,
/// ready to clone for each message, not the text.
///
/// The value is used exactly as given (no trimming): the receiver signs with the same bytes,
/// and silently dropping a character on one side only would fail every delivery.
#[derive(Clone)]
pub struct Secret(HmacSha256);

impl Secret {
    /// A secret from a non-blank string; an empty or whitespace-only one is refused.
    pub fn new(value: impl Into<String>) -> Result<Self, ConfigError> {
        let value = value.into();
        if value.trim().is_empty() {
            return Err(ConfigError::BlankSecret);
        }
        // HMAC takes a key of any length (a long one is hashed first), so this never fails.
        HmacSha256::new_from_slice(value.as_bytes())
            .map(Self)
            .map_err(|_| ConfigError::BlankSecret)
    }

    /// A fresh MAC keyed with the secret, to feed one message.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.0.clone()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::new("s3cr3t-value").expect("non-blank");
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(format!("{secret:?}"), "Secret(…)");
    }

    #[test]
    fn empty_and_blank_secrets_are_refused() {
        for bad in ["", " ", "\t\n", "   \r\n "] {
            assert_eq!(
                Secret::new(bad).err(),
                Some(ConfigError::BlankSecret),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_secret_is_used_exactly_as_given() {
        let padded = Secret::new(" padded ").expect("non-blank");
        let trimmed = Secret::new("padded").expect("non-blank");
        assert_ne!(
            crate::sign(&padded, 0, b"body"),
            crate::sign(&trimmed, 0, b"body")
        );
    }
}
