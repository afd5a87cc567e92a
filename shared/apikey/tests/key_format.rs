//! The key format from the outside: malformed strings, round trips, the checksum's reach.

use apikey::{ApiKey, KeyPrefix, KeyRejection};
use proptest::prelude::*;

fn pod() -> KeyPrefix {
    KeyPrefix::default()
}

fn valid() -> String {
    ApiKey::generate(&pod())
        .expect("os rng")
        .expose_secret()
        .to_owned()
}

/// Replaces the character at `i` (ASCII keys only) with `c`.
fn with_char(key: &str, i: usize, c: char) -> String {
    let mut s = key.to_owned();
    s.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
    s
}

#[test]
fn malformed_keys_are_rejected_with_the_specific_reason() {
    use KeyRejection::*;
    let k = valid();
    let n = k.len();
    let body = &k[4..];
    let cases: Vec<(&str, String, KeyRejection)> = vec![
        ("empty", String::new(), Empty),
        ("prefix only", "pod_".into(), WrongLength),
        ("one char short", k[..n - 1].into(), WrongLength),
        ("one char long", format!("{k}a"), WrongLength),
        ("10 KB of garbage", "a".repeat(10 * 1024), WrongLength),
        ("leading space", format!(" {}", &k[..n - 1]), WrongPrefix),
        (
            "trailing newline",
            format!("{}\n", &k[..n - 1]),
            InvalidCharacter,
        ),
        ("uppercase prefix", format!("POD_{body}"), WrongPrefix),
        ("other prefix", format!("pdo_{body}"), WrongPrefix),
        ("missing underscore", format!("pod-{body}"), WrongPrefix),
        ("github token shape", format!("ghp_{body}"), WrongPrefix),
        ("space inside", with_char(&k, 20, ' '), InvalidCharacter),
        (
            "underscore inside",
            with_char(&k, 20, '_'),
            InvalidCharacter,
        ),
        ("dash inside", with_char(&k, 30, '-'), InvalidCharacter),
        ("nul byte", with_char(&k, 10, '\0'), InvalidCharacter),
        ("base64 plus", with_char(&k, 10, '+'), InvalidCharacter),
        (
            "non-ascii, same bytes",
            format!("{}é", &k[..n - 2]),
            InvalidCharacter,
        ),
        ("emoji", format!("{}🔑", &k[..n - 4]), InvalidCharacter),
        (
            "checksum swapped",
            format!("{}{}", &k[..n - 6], "000000"),
            BadChecksum,
        ),
        (
            "secret char changed",
            with_char(&k, 10, if &k[10..11] == "a" { 'b' } else { 'a' }),
            BadChecksum,
        ),
        ("two chars transposed", transpose(&k, 12), BadChecksum),
        (
            "bearer scheme kept",
            format!("Bearer {}", &k[..n - 7]),
            WrongPrefix,
        ),
        ("lowercased key", k.to_lowercase(), BadChecksum),
    ];
    assert!(cases.len() >= 20);
    for (what, input, want) in cases {
        assert_eq!(ApiKey::parse(&pod(), &input), Err(want), "{what}");
    }
}

/// Swaps characters `i` and `i+1`, making sure they differ first.
fn transpose(key: &str, mut i: usize) -> String {
    let b = key.as_bytes();
    while b[i] == b[i + 1] {
        i += 1;
    }
    let mut v = b.to_vec();
    v.swap(i, i + 1);
    String::from_utf8(v).expect("ascii")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in ".{0,128}") {
        let _ = ApiKey::parse(&pod(), &s);
    }

    /// Near misses of the right shape but the wrong length are refused as such (the one length
    /// that is right is left to the checksum cases, where a random tail could match).
    #[test]
    fn near_keys_of_the_wrong_length_are_rejected(s in "pod_[0-9A-Za-z]{40,52}") {
        prop_assume!(s.len() != valid().len());
        prop_assert_eq!(ApiKey::parse(&pod(), &s), Err(KeyRejection::WrongLength));
    }

    /// A real key cut short or run on is refused, however little is missing or added.
    #[test]
    fn a_real_key_cut_short_or_run_on_is_rejected(cut in 1usize..20, tail in "[0-9A-Za-z]{1,8}") {
        let k = valid();
        prop_assert_eq!(ApiKey::parse(&pod(), &k[..k.len() - cut]), Err(KeyRejection::WrongLength));
        prop_assert_eq!(ApiKey::parse(&pod(), &format!("{k}{tail}")), Err(KeyRejection::WrongLength));
    }

    #[test]
    fn generated_keys_round_trip_for_any_valid_prefix(prefix in "[a-z][a-z0-9]{1,9}") {
        let prefix = KeyPrefix::parse(&prefix).expect("matches the prefix pattern");
        let key = ApiKey::generate(&prefix).expect("os rng");
        let parsed = ApiKey::parse(&prefix, key.expose_secret());
        prop_assert_eq!(parsed.as_ref(), Ok(&key));
        prop_assert_eq!(parsed.map(|k| k.hash()), Ok(key.hash()));
    }

    /// Every single-character substitution in the secret or checksum is caught: CRC32 detects
    /// all errors confined to a 32-bit burst, and one base62 character spans under 6 bits.
    #[test]
    fn any_single_character_change_is_rejected(pos in 4usize..53, replacement in "[0-9A-Za-z]") {
        let k = valid();
        let c = replacement.chars().next().expect("one char");
        prop_assume!(k.as_bytes()[pos] != c as u8);
        let changed = with_char(&k, pos, c);
        prop_assert_eq!(ApiKey::parse(&pod(), &changed), Err(KeyRejection::BadChecksum));
    }

    #[test]
    fn keys_with_any_other_prefix_are_rejected(prefix in "[a-z][a-z0-9]{1,9}") {
        prop_assume!(prefix != "pod");
        let other = KeyPrefix::parse(&prefix).expect("valid prefix");
        let key = ApiKey::generate(&other).expect("os rng");
        prop_assert!(ApiKey::parse(&pod(), key.expose_secret()).is_err());
    }
}
