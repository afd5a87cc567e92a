//! Public key ids: `key_` + 20 random base62 characters, unrelated to the secret.

use std::fmt;

use crate::Error;
use crate::base62;

const ID_PREFIX: &str = "key_";
const ID_RANDOM: usize = 20;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn generate() -> Result<Self, Error> {
        let mut s = String::with_capacity(ID_PREFIX.len() + ID_RANDOM);
        s.push_str(ID_PREFIX);
        base62::push_random(&mut s, ID_RANDOM)?;
        Ok(Self(s))
    }

    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.strip_prefix(ID_PREFIX) {
            Some(rest) if rest.len() == ID_RANDOM && rest.bytes().all(base62::is_base62) => {
                Ok(Self(s.to_owned()))
            }
            _ => Err(Error::InvalidKeyId),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = KeyId::generate().expect("os rng");
        let b = KeyId::generate().expect("os rng");
        assert_ne!(a, b);
        assert_eq!(KeyId::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.as_str().len(), 24);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "key_",
            "key_abc",
            "KEY_aaaaaaaaaaaaaaaaaaaa",
            "key_aaaaaaaaaaaaaaaaaaa!",
            "key_aaaaaaaaaaaaaaaaaaaaa",
            "key_aaaaaaaaaa/aaaaaaaaa",
            "key_aaaaaaaaaaaaaaaaaaaé",
        ] {
            assert_eq!(KeyId::parse(bad), Err(Error::InvalidKeyId), "{bad}");
        }
    }
}
