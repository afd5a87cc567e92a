//! The API key: `<prefix>_<secret><checksum>`, generated, parsed and redacted.

use std::fmt;

use zeroize::Zeroizing;

use crate::Error;
use crate::base62;
use crate::hash::KeyHash;

/// Base62 characters of secret: 62^43 > 2^256, so the secret carries 256 bits.
pub const SECRET_LEN: usize = 43;
/// Base62 characters of CRC32 checksum: 62^6 > 2^32.
pub const CHECKSUM_LEN: usize = 6;
/// Secret characters shown in a key's hint.
const HINT_CHARS: usize = 4;

/// A deployment's key prefix (`KEY_PREFIX`): `[a-z][a-z0-9]{1,9}`, default `pod`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub const DEFAULT: &'static str = "pod";

    pub fn parse(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        let well_formed = (2..=10).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if well_formed {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::InvalidPrefix)
        }
    }

    /// Length of every key with this prefix.
    pub fn key_len(&self) -> usize {
        self.0.len() + 1 + SECRET_LEN + CHECKSUM_LEN
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPrefix({})", self.0)
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a presented string is not a key of this deployment. Checked cheapest first, so that
/// garbage is turned away before anything is hashed or looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    #[error("no key was given")]
    Empty,
    #[error("the key has the wrong length")]
    WrongLength,
    #[error("the key does not start with this deployment's prefix")]
    WrongPrefix,
    #[error("the key contains a character that is not base62")]
    InvalidCharacter,
    #[error("the key's checksum does not match (typo or truncated key?)")]
    BadChecksum,
}

/// A well-formed API key. The plaintext is reachable only through [`ApiKey::expose_secret`];
/// `Debug` shows the hint, and the memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    text: Zeroizing<String>,
    prefix_len: usize,
}

impl ApiKey {
    /// A new key with 256 bits from the operating system's CSPRNG.
    pub fn generate(prefix: &KeyPrefix) -> Result<Self, Error> {
        let mut text = Zeroizing::new(String::with_capacity(prefix.key_len()));
        text.push_str(prefix.as_str());
        text.push('_');
        base62::push_random(&mut text, SECRET_LEN)?;
        let sum = checksum(text.as_bytes());
        // Base62 digits are ASCII, so pushing them as chars is exact.
        text.extend(sum.iter().map(|&b| char::from(b)));
        Ok(Self {
            text,
            prefix_len: prefix.as_str().len(),
        })
    }

    /// Accepts exactly the strings [`ApiKey::generate`] can produce for `prefix`.
    pub fn parse(prefix: &KeyPrefix, s: &str) -> Result<Self, KeyRejection> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(KeyRejection::Empty);
        }
        if b.len() != prefix.key_len() {
            return Err(KeyRejection::WrongLength);
        }
        let p = prefix.as_str().len();
        if !b.starts_with(prefix.as_str().as_bytes()) || b[p] != b'_' {
            return Err(KeyRejection::WrongPrefix);
        }
        if !b[p + 1..].iter().all(|&c| base62::is_base62(c)) {
            return Err(KeyRejection::InvalidCharacter);
        }
        let (body, sum) = b.split_at(b.len() - CHECKSUM_LEN);
        if checksum(body) != sum {
            return Err(KeyRejection::BadChecksum);
        }
        Ok(Self {
            text: Zeroizing::new(s.to_owned()),
            prefix_len: p,
        })
    }

    /// The plaintext key. Call only to hand it to its owner once, or to hash it.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    pub fn prefix(&self) -> &str {
        &self.text[..self.prefix_len]
    }

    /// Prefix and the first four secret characters, e.g. `pod_Xb3k…`: enough for a person to
    /// tell keys apart, far too little to guess one.
    pub fn hint(&self) -> String {
        let end = self.prefix_len + 1 + HINT_CHARS;
        format!("{}…", &self.text[..end])
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash::of(self.text.as_bytes())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.hint())
    }
}

/// CRC32 of everything before the checksum (`<prefix>_<secret>`), as 6 base62 digits.
fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    base62::fixed::<CHECKSUM_LEN>(u64::from(crc32fast::hash(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> KeyPrefix {
        KeyPrefix::default()
    }

    fn key() -> ApiKey {
        ApiKey::generate(&pod()).expect("os rng")
    }

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = key();
        let s = k.expose_secret();
        assert_eq!(s.len(), 3 + 1 + 43 + 6);
        assert!(s.starts_with("pod_"));
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(k.prefix(), "pod");
    }

    #[test]
    fn generated_keys_parse_back_to_the_same_key() {
        let k = key();
        assert_eq!(ApiKey::parse(&pod(), k.expose_secret()), Ok(k));
    }

    #[test]
    fn two_generated_keys_differ() {
        assert_ne!(key().expose_secret(), key().expose_secret());
    }

    #[test]
    fn the_hint_is_the_prefix_and_four_secret_characters() {
        let k = key();
        let hint = k.hint();
        assert_eq!(hint, format!("{}…", &k.expose_secret()[..8]));
    }

    #[test]
    fn debug_shows_the_hint_and_never_the_secret() {
        let k = key();
        let shown = format!("{k:?} {k:#?}");
        assert!(shown.contains(&k.hint()));
        assert!(!shown.contains(&k.expose_secret()[8..]));
    }

    #[test]
    fn a_custom_prefix_is_used_and_enforced() {
        let ap = KeyPrefix::parse("ap").expect("valid prefix");
        let k = ApiKey::generate(&ap).expect("os rng");
        assert!(k.expose_secret().starts_with("ap_"));
        assert!(ApiKey::parse(&ap, k.expose_secret()).is_ok());
        assert_eq!(
            ApiKey::parse(&pod(), k.expose_secret()),
            Err(KeyRejection::WrongLength)
        );
    }

    #[test]
    fn prefixes_follow_the_documented_pattern() {
        for ok in ["pod", "ap", "a1", "abcdefghij", "x9y8"] {
            assert!(KeyPrefix::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "1ab", "Pod", "po_d", "abcdefghijk", "pöd", "po d"] {
            assert_eq!(KeyPrefix::parse(bad), Err(Error::InvalidPrefix), "{bad}");
        }
    }
}
