//! Base62 with the alphabet `0-9A-Za-z`: uniform random strings and fixed-width numbers.

use rand::TryRng;
use rand::rngs::SysRng;

use crate::Error;

pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Largest multiple of 62 that fits in a byte: bytes at or above it are rejected so that every
/// character is uniformly distributed (a plain `% 62` would favour the first 8 characters).
const REJECT_FROM: u8 = 248;

pub(crate) fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Appends `n` uniformly random base62 characters drawn from the operating system's CSPRNG.
pub(crate) fn push_random(out: &mut String, n: usize) -> Result<(), Error> {
    let mut pool = [0u8; 64];
    let mut remaining = n;
    while remaining > 0 {
        SysRng
            .try_fill_bytes(&mut pool)
            .map_err(|_| Error::Entropy)?;
        for &b in pool.iter().filter(|&&b| b < REJECT_FROM).take(remaining) {
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
            remaining -= 1;
        }
    }
    // The pool held secret material for a moment; don't leave it on the stack.
    zeroize::Zeroize::zeroize(&mut pool);
    Ok(())
}

/// `value` as exactly `N` base62 digits, most significant first, zero-padded.
pub(crate) fn fixed<const N: usize>(mut value: u64) -> [u8; N] {
    let mut out = [b'0'; N];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_encoding_pads_with_zeros_and_uses_the_alphabet_order() {
        assert_eq!(&fixed::<6>(0), b"000000");
        assert_eq!(&fixed::<6>(61), b"00000z");
        assert_eq!(&fixed::<6>(62), b"000010");
        assert_eq!(&fixed::<6>(u64::from(u32::MAX)), b"4gfFC3");
    }

    #[test]
    fn random_strings_have_the_requested_length_and_only_base62_characters() {
        let mut s = String::new();
        push_random(&mut s, 1000).expect("os rng");
        assert_eq!(s.len(), 1000);
        assert!(s.bytes().all(is_base62));
    }

    #[test]
    fn random_strings_use_the_whole_alphabet() {
        // 62 symbols, 20,000 draws: the chance that a uniform source misses one is ~1e-135.
        let mut s = String::new();
        push_random(&mut s, 20_000).expect("os rng");
        for &c in ALPHABET {
            assert!(s.as_bytes().contains(&c), "{} never drawn", char::from(c));
        }
    }
}
