//! The identity assertion (SPEC §15): what podkeys tells the podcast backend about the caller,
//! signed so that the backend can check it came from podkeys and nobody else.
//!
//! A compact JWT (RFC 7519) signed with Ed25519 (`alg: EdDSA`, RFC 8037), `kid` in the header;
//! the public keys are published as a JWKS (RFC 7517) at `/.well-known/jwks.json`. Pure: no I/O.
//! Where the private seed is kept and how it is rotated is the store's and the authorizer's
//! business; this crate signs with a seed it is given and verifies against a key set.

mod jwk;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use jwk::{Jwk, Jwks};

/// The longest an assertion may live (SPEC §15: `exp` ≤ 5 minutes after `iat`).
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated between podkeys and a verifying backend.
pub const LEEWAY_SECS: i64 = 60;
/// The JOSE algorithm name for Ed25519 (RFC 8037 §3.1).
pub const ALG: &str = "EdDSA";

/// Length of an Ed25519 private seed.
pub const SEED_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("an Ed25519 seed is 32 bytes (got {0})")]
    SeedLength(usize),
    #[error("the operating system's random source failed")]
    Random,
}

/// The claims of one assertion. `sub` is the key's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub key_id: String,
    pub scopes: Vec<String>,
    pub admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// The API Gateway request id, so a backend can tie its logs to podkeys'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// An Ed25519 signing key with its key id (the RFC 7638 thumbprint of its public JWK).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    kid: String,
    /// `{"alg":"EdDSA","kid":…,"typ":"JWT"}`, base64url: the same for every token.
    header: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key a 32-byte seed determines.
    pub fn from_seed(seed: &[u8]) -> Result<Self, KeyError> {
        if seed.len() != SEED_LEN {
            return Err(KeyError::SeedLength(seed.len()));
        }
        let pair =
            Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| KeyError::SeedLength(0))?;
        let public = Jwk::ed25519(pair.public_key().as_ref());
        let kid = public.thumbprint();
        let header =
            B64.encode(serde_json::json!({"alg": ALG, "kid": kid, "typ": "JWT"}).to_string());
        Ok(Self { pair, kid, header })
    }

    /// A fresh seed from the OS CSPRNG (wiped from memory when dropped) and its key.
    pub fn generate() -> Result<(Zeroizing<[u8; SEED_LEN]>, Self), KeyError> {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        aws_lc_rs::rand::fill(seed.as_mut()).map_err(|_| KeyError::Random)?;
        let key = Self::from_seed(seed.as_ref())?;
        Ok((seed, key))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in the JWKS.
    pub fn public_jwk(&self) -> Jwk {
        Jwk::ed25519(self.pair.public_key().as_ref()).with_kid(&self.kid)
    }

    /// The compact JWT `header.payload.signature` for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        // Claims hold only strings, numbers and booleans: serializing cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&self.header);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let signature = self.pair.sign(token.as_bytes());
        token.push('.');
        B64.encode_string(signature.as_ref(), &mut token);
        token
    }
}

/// Why an assertion was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a compact JWT (three base64url parts)")]
    Malformed,
    #[error("algorithm {0:?} is not EdDSA")]
    Algorithm(String),
    #[error("no published key has kid {0:?}")]
    UnknownKid(String),
    #[error("the signature does not verify")]
    Signature,
    #[error("the audience is not {0:?}")]
    Audience(String),
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion is issued in the future or lives longer than 5 minutes")]
    Lifetime,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Checks `token` as a backend should: EdDSA only, a `kid` in `jwks`, a valid signature, the
/// expected audience, and `iat`/`exp` around `now` (epoch seconds, with `LEEWAY_SECS`).
pub fn verify(token: &str, jwks: &Jwks, audience: &str, now: i64) -> Result<Claims, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let decode = |part: &str| B64.decode(part).map_err(|_| VerifyError::Malformed);
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| VerifyError::Malformed)?;
    if header.alg != ALG {
        return Err(VerifyError::Algorithm(header.alg));
    }
    let kid = header.kid.unwrap_or_default();
    let public = jwks
        .find(&kid)
        .and_then(Jwk::ed25519_public)
        .ok_or_else(|| VerifyError::UnknownKid(kid.clone()))?;
    let signed = &token[..token.len() - signature.len() - 1];
    UnparsedPublicKey::new(&ED25519, &public)
        .verify(signed.as_bytes(), &decode(signature)?)
        .map_err(|_| VerifyError::Signature)?;
    let claims: Claims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| VerifyError::Malformed)?;
    if claims.aud != audience {
        return Err(VerifyError::Audience(audience.to_owned()));
    }
    if claims.exp + LEEWAY_SECS <= now {
        return Err(VerifyError::Expired);
    }
    if claims.iat > now + LEEWAY_SECS || claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(VerifyError::Lifetime);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
