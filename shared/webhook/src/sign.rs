//! `Podkeys-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
//! (SPEC §14): making it for each delivery attempt, and checking it as a receiver would.
//!
//! The timestamp is inside the signed bytes, so a captured delivery cannot be replayed later
//! with a fresh `t`; a receiver refuses a `t` too far from its own clock. Several `v1=` values
//! are allowed in one header so that a sender can sign with an old and a new secret while the
//! receiver switches over; unknown schemes (`v0=`, a future `v2=`) are ignored, as Stripe's
//! receivers do, so that a new scheme can be added without breaking old receivers.

use hmac::Mac;

use crate::secret::{HmacSha256, Secret};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Podkeys-Signature";
/// The header carrying the envelope's `id`, the same on every redelivery.
pub const EVENT_ID_HEADER: &str = "Podkeys-Event-Id";

/// Why a receiver refuses a delivery. Messages name what was wrong, never the secret, the
/// expected signature or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed Podkeys-Signature header: {0}")]
    Malformed(&'static str),
    #[error("Podkeys-Signature timestamp {t} is more than {tolerance_secs} s from now ({now})")]
    OutsideTolerance {
        t: i64,
        now: i64,
        tolerance_secs: u64,
    },
    #[error("no v1 signature in Podkeys-Signature matches the body")]
    Mismatch,
}

/// The `Podkeys-Signature` value for `body` sent at unix second `t`: `t=<t>,v1=<64 lowercase
/// hex digits>`. Sign each attempt afresh with its own `t`; the body stays the same.
pub fn sign(secret: &Secret, t: i64, body: &[u8]) -> String {
    let tag = mac(secret, t, body).finalize().into_bytes();
    let mut header = format!("t={t},v1=");
    push_hex(&mut header, &tag);
    header
}

/// Checks `header_value` against `body` as a receiver would: the header must carry exactly one
/// `t=` (unix seconds) within `tolerance_secs` of `now` (either side: clocks drift both ways)
/// and at least one `v1=` equal to `HMAC-SHA256(secret, "<t>.<body>")`, compared in constant
/// time. `body` must be the raw bytes received, before any JSON parsing.
///
/// Several `v1=` are accepted so that a sender can sign with an old and a new secret while a
/// receiver switches over; other schemes (`v0=`, a future `v2=`) are ignored so that one can
/// be added without breaking old receivers (Stripe's receivers behave the same way).
pub fn verify(
    secret: &Secret,
    header_value: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: u64,
) -> Result<(), VerifyError> {
    let parsed = parse(header_value)?;
    if now.abs_diff(parsed.t) > tolerance_secs {
        return Err(VerifyError::OutsideTolerance {
            t: parsed.t,
            now,
            tolerance_secs,
        });
    }
    let expected = mac(secret, parsed.t, body);
    // `verify_slice` compares in constant time; stopping at the first match tells an attacker
    // only which of their own candidates was right, nothing about the secret.
    if parsed
        .v1
        .iter()
        .any(|candidate| expected.clone().verify_slice(candidate).is_ok())
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

fn mac(secret: &Secret, t: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = secret.mac();
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

struct Parsed {
    t: i64,
    v1: Vec<[u8; 32]>,
}

fn parse(header_value: &str) -> Result<Parsed, VerifyError> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header_value.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(VerifyError::Malformed("each part must be name=value"))?;
        match name {
            "t" => {
                if t.is_some() {
                    return Err(VerifyError::Malformed("more than one t="));
                }
                t = Some(parse_unix_secs(value)?);
            }
            "v1" => v1.push(
                parse_hex32(value)
                    .ok_or(VerifyError::Malformed("v1= must be 64 hexadecimal digits"))?,
            ),
            _ => {}
        }
    }
    let t = t.ok_or(VerifyError::Malformed("no t="))?;
    if v1.is_empty() {
        return Err(VerifyError::Malformed("no v1="));
    }
    Ok(Parsed { t, v1 })
}

fn parse_unix_secs(value: &str) -> Result<i64, VerifyError> {
    const BAD: VerifyError = VerifyError::Malformed("t= must be unix seconds");
    // `i64::from_str` would also take a sign; a signer never writes one.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    value.parse().map_err(|_| BAD)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

fn parse_hex32(value: &str) -> Option<[u8; 32]> {
    let digits = value.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(digit: u8) -> Option<u8> {
    // Case-insensitive on the way in: a receiver should not care how a sender spelt hex.
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "podkeys-test-secret";
    // 2026-12-05T10:00:00Z.
    const T: i64 = 1_796_464_800;
    const BODY: &[u8] = br#"{"id":"whk_0123456789abcdefghij","type":"key.created"}"#;
    // Computed independently, once, with Python's standard library:
    //   python3 -c 'import hmac, hashlib; print(hmac.new(b"podkeys-test-secret",
    //     b"1796464800." + b"{\"id\":\"whk_0123456789abcdefghij\",\"type\":\"key.created\"}",
    //     hashlib.sha256).hexdigest())'
    const KNOWN_V1: &str = "211f61ffcb110e9f68fa81bcfa32145b3e1a4cbec849ca4268e64ba71a629ff4";

    fn secret() -> Secret {
        Secret::new(SECRET).expect("non-blank")
    }

    #[test]
    fn sign_matches_an_independently_computed_vector() {
        assert_eq!(
            sign(&secret(), T, BODY),
            format!("t=1796464800,v1={KNOWN_V1}")
        );
    }

    #[test]
    fn sign_matches_rfc_4231_test_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?". Our message is
        // "<t>.<body>", which cannot spell that data; check the keyed HMAC on its own.
        let mut mac = Secret::new("Jefe").expect("non-blank").mac();
        mac.update(b"what do ya want for nothing?");
        let mut hex = String::new();
        push_hex(&mut hex, &mac.finalize().into_bytes());
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_accepts_the_known_vector() {
        let header = format!("t={T},v1={KNOWN_V1}");
        assert_eq!(verify(&secret(), &header, BODY, T, 300), Ok(()));
    }

    #[test]
    fn verify_accepts_what_sign_makes_within_the_tolerance_either_side() {
        let header = sign(&secret(), T, BODY);
        for now in [T - 300, T - 1, T, T + 1, T + 300] {
            assert_eq!(
                verify(&secret(), &header, BODY, now, 300),
                Ok(()),
                "now {now}"
            );
        }
    }

    #[test]
    fn verify_refuses_a_timestamp_outside_the_tolerance() {
        let header = sign(&secret(), T, BODY);
        for now in [T - 301, T + 301, 0, i64::MAX] {
            assert_eq!(
                verify(&secret(), &header, BODY, now, 300),
                Err(VerifyError::OutsideTolerance {
                    t: T,
                    now,
                    tolerance_secs: 300
                }),
                "now {now}"
            );
        }
    }

    #[test]
    fn verify_refuses_a_changed_body_secret_or_timestamp() {
        let header = sign(&secret(), T, BODY);
        let other = Secret::new("another-secret").expect("non-blank");
        assert_eq!(
            verify(&other, &header, BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
        let mut body = BODY.to_vec();
        body.push(b' ');
        assert_eq!(
            verify(&secret(), &header, &body, T, 300),
            Err(VerifyError::Mismatch)
        );
        // The same signature presented with another t: the timestamp is signed.
        let replayed = header.replace("t=1796464800", "t=1796464801");
        assert_eq!(
            verify(&secret(), &replayed, BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn verify_accepts_any_matching_v1_among_several_and_ignores_other_schemes() {
        let good = sign(&secret(), T, BODY);
        let good_v1 = good.split_once(",v1=").expect("v1 part").1;
        let wrong = "0".repeat(64);
        for header in [
            format!("t={T},v1={wrong},v1={good_v1}"),
            format!("v1={good_v1},t={T}"),
            format!("t={T}, v0=whatever, v1={good_v1}, v2=future"),
            format!("t={T},v1={}", good_v1.to_uppercase()),
        ] {
            assert_eq!(verify(&secret(), &header, BODY, T, 300), Ok(()), "{header}");
        }
        assert_eq!(
            verify(&secret(), &format!("t={T},v1={wrong}"), BODY, T, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn verify_refuses_malformed_headers() {
        let v1 = KNOWN_V1;
        let cases: &[(String, &str)] = &[
            (String::new(), "each part must be name=value"),
            ("garbage".into(), "each part must be name=value"),
            (format!("v1={v1}"), "no t="),
            (format!("t={T}"), "no v1="),
            (format!("t={T},v0={v1}"), "no v1="),
            (format!("t={T},t={T},v1={v1}"), "more than one t="),
            (format!("t=,v1={v1}"), "t= must be unix seconds"),
            (format!("t=+{T},v1={v1}"), "t= must be unix seconds"),
            (format!("t=-{T},v1={v1}"), "t= must be unix seconds"),
            (format!("t=1.5,v1={v1}"), "t= must be unix seconds"),
            (
                format!("t=99999999999999999999,v1={v1}"),
                "t= must be unix seconds",
            ),
            (format!("t={T},v1="), "v1= must be 64 hexadecimal digits"),
            (
                format!("t={T},v1={}", &v1[..63]),
                "v1= must be 64 hexadecimal digits",
            ),
            (
                format!("t={T},v1={v1}0"),
                "v1= must be 64 hexadecimal digits",
            ),
            (
                format!("t={T},v1={}g", &v1[..63]),
                "v1= must be 64 hexadecimal digits",
            ),
            (
                format!("t={T},v1={}é", &v1[..62]),
                "v1= must be 64 hexadecimal digits",
            ),
            (format!("t={T},,v1={v1}"), "each part must be name=value"),
        ];
        for (header, why) in cases {
            assert_eq!(
                verify(&secret(), header, BODY, T, 300),
                Err(VerifyError::Malformed(why)),
                "{header:?}"
            );
        }
    }

    #[test]
    fn errors_never_carry_the_secret_or_the_expected_signature() {
        let header = format!("t={T},v1={}", "0".repeat(64));
        for err in [
            verify(&secret(), &header, BODY, T, 300),
            verify(&secret(), &header, BODY, 0, 300),
            verify(&secret(), "t=x", BODY, T, 300),
        ] {
            let err = err.expect_err("refused");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains(KNOWN_V1), "{shown}");
        }
    }

    #[test]
    fn headers_are_named_as_the_spec_says() {
        assert_eq!(SIGNATURE_HEADER, "Podkeys-Signature");
        assert_eq!(EVENT_ID_HEADER, "Podkeys-Event-Id");
    }
}
