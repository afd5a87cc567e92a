//! SHA-256 of a full key string: the only form in which a key is ever stored.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::Error;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    pub(crate) fn of(key: &[u8]) -> Self {
        Self(Sha256::digest(key).into())
    }

    /// Parses the stored form: 64 lowercase hex characters.
    pub fn parse_hex(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(Error::InvalidHash);
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Self(out))
    }

    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

fn nibble(c: u8) -> Result<u8, Error> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(Error::InvalidHash),
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", self.to_hex())
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_plain_sha256_of_the_key_string() {
        // Known answer: SHA-256("abc").
        assert_eq!(
            KeyHash::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_anything_else() {
        let h = KeyHash::of(b"pod_x");
        assert_eq!(KeyHash::parse_hex(&h.to_hex()), Ok(h));
        let upper = h.to_hex().to_uppercase();
        for bad in ["", "00", &upper, &"g".repeat(64), &"0".repeat(65)] {
            assert_eq!(KeyHash::parse_hex(bad), Err(Error::InvalidHash), "{bad}");
        }
    }
}
