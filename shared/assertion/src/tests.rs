use super::*;

/// RFC 8037 Appendix A.1–A.3: the example Ed25519 key and its thumbprint.
const RFC_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

fn rfc_key() -> SigningKey {
    let seed = B64.decode(RFC_SEED).expect("test vector");
    SigningKey::from_seed(&seed).expect("32 bytes")
}

fn claims(now: i64) -> Claims {
    Claims {
        iss: "https://api.example.com/prod".into(),
        aud: "podcast-backend".into(),
        sub: "alice".into(),
        key_id: "key_abcdefghijklmnopqrst".into(),
        scopes: vec!["podcasts:read".into()],
        admin: false,
        plan: None,
        iat: now,
        exp: now + MAX_LIFETIME_SECS,
        jti: Some("req-1".into()),
    }
}

fn jwks_of(key: &SigningKey) -> Jwks {
    Jwks {
        keys: vec![key.public_jwk()],
    }
}

const NOW: i64 = 1_800_000_000;

#[test]
fn the_rfc_8037_example_key_has_the_published_public_key_and_thumbprint() {
    let key = rfc_key();
    assert_eq!(key.public_jwk().x.as_deref(), Some(RFC_X));
    assert_eq!(key.kid(), RFC_THUMBPRINT);
}

#[test]
fn a_signed_assertion_verifies_and_returns_its_claims() {
    let key = rfc_key();
    let token = key.sign(&claims(NOW));
    let verified = verify(&token, &jwks_of(&key), "podcast-backend", NOW + 10).expect("valid");
    assert_eq!(verified, claims(NOW));
}

#[test]
fn the_header_names_the_algorithm_and_the_kid() {
    let key = rfc_key();
    let token = key.sign(&claims(NOW));
    let header = token.split('.').next().expect("three parts");
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(header).expect("base64url")).expect("json");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], RFC_THUMBPRINT);
}

#[test]
fn generated_keys_differ_and_round_trip_through_their_seed() {
    let (seed_a, a) = SigningKey::generate().expect("random");
    let (_, b) = SigningKey::generate().expect("random");
    assert_ne!(a.kid(), b.kid());
    let again = SigningKey::from_seed(seed_a.as_ref()).expect("32 bytes");
    assert_eq!(again.kid(), a.kid());
    assert!(format!("{a:?}").contains(a.kid()));
    assert!(SigningKey::from_seed(&[0u8; 31]).is_err());
}

#[test]
fn assertions_that_must_not_be_believed_are_refused_with_the_reason() {
    let key = rfc_key();
    let jwks = jwks_of(&key);
    let good = key.sign(&claims(NOW));
    let (other, _) = (SigningKey::generate().expect("random").1, ());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();

    let forged_payload = {
        let mut c = claims(NOW);
        c.sub = "victim".into();
        c.admin = true;
        let p = B64.encode(serde_json::to_vec(&c).expect("json"));
        format!("{}.{p}.{}", parts[0], parts[2])
    };
    let alg_none = {
        let h = B64.encode(br#"{"alg":"none","kid":"x"}"#);
        format!("{h}.{}.", parts[1])
    };
    let alg_hs256 = {
        let h = B64.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid()));
        format!("{h}.{}.{}", parts[1], parts[2])
    };
    let expired = key.sign(&claims(NOW - MAX_LIFETIME_SECS - LEEWAY_SECS - 1));
    let future = key.sign(&claims(NOW + LEEWAY_SECS + 5));
    let long_lived = key.sign(&Claims {
        exp: NOW + 3600,
        ..claims(NOW)
    });
    let wrong_audience = key.sign(&Claims {
        aud: "someone-else".into(),
        ..claims(NOW)
    });
    parts[2] = "AAAA".into();
    let bad_signature = parts.join(".");

    let cases: Vec<(&str, String, VerifyError)> = vec![
        ("two parts", "a.b".into(), VerifyError::Malformed),
        ("four parts", format!("{good}.x"), VerifyError::Malformed),
        ("not base64", "!!.??.**".into(), VerifyError::Malformed),
        ("forged payload", forged_payload, VerifyError::Signature),
        ("bad signature", bad_signature, VerifyError::Signature),
        ("alg none", alg_none, VerifyError::Algorithm("none".into())),
        (
            "alg HS256",
            alg_hs256,
            VerifyError::Algorithm("HS256".into()),
        ),
        (
            "another key",
            other.sign(&claims(NOW)),
            VerifyError::UnknownKid(other.kid().into()),
        ),
        ("expired", expired, VerifyError::Expired),
        ("issued in the future", future, VerifyError::Lifetime),
        ("lives an hour", long_lived, VerifyError::Lifetime),
        (
            "wrong audience",
            wrong_audience,
            VerifyError::Audience("podcast-backend".into()),
        ),
    ];
    for (case, token, expected) in cases {
        assert_eq!(
            verify(&token, &jwks, "podcast-backend", NOW),
            Err(expected),
            "{case}"
        );
    }
}

#[test]
fn a_key_set_serializes_as_a_jwks_and_reads_back() {
    let key = rfc_key();
    let text = serde_json::to_string(&jwks_of(&key)).expect("json");
    assert_eq!(
        text,
        format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC_X}","kid":"{RFC_THUMBPRINT}","alg":"EdDSA","use":"sig"}}]}}"#
        )
    );
    let back = Jwks::from_json(&text).expect("valid");
    assert_eq!(back.find(RFC_THUMBPRINT), Some(&key.public_jwk()));
    assert_eq!(back.find("nope"), None);
}

proptest::proptest! {
    /// No string that is not a token this key signed verifies.
    #[test]
    fn garbage_never_verifies(s in ".{0,300}") {
        let key = rfc_key();
        proptest::prop_assert!(verify(&s, &jwks_of(&key), "podcast-backend", NOW).is_err());
    }
}
