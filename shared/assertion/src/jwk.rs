//! Public keys as JWK (RFC 7517, OKP keys of RFC 8037) and the key set a backend fetches.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

/// One public key. Unknown members are ignored when reading (a JWKS may carry others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// An Ed25519 public key (32 bytes) as an OKP JWK, without a `kid` yet.
    pub fn ed25519(public: &[u8]) -> Self {
        Self::ed25519_x(B64.encode(public))
    }

    /// The same from the key's base64url `x`, as a key set stores it.
    pub fn ed25519_x(x: String) -> Self {
        Self {
            kty: "OKP".into(),
            crv: Some("Ed25519".into()),
            x: Some(x),
            kid: None,
            alg: Some(crate::ALG.into()),
            use_: Some("sig".into()),
        }
    }

    pub fn with_kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.to_owned());
        self
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in lexicographic
    /// order (for OKP: `crv`, `kty`, `x`; RFC 8037 §2).
    pub fn thumbprint(&self) -> String {
        let canonical = serde_json::json!({
            "crv": self.crv.as_deref().unwrap_or_default(),
            "kty": self.kty,
            "x": self.x.as_deref().unwrap_or_default(),
        });
        B64.encode(digest(&SHA256, canonical.to_string().as_bytes()))
    }

    /// The raw 32-byte public key, if this is an Ed25519 key.
    pub fn ed25519_public(&self) -> Option<Vec<u8>> {
        if self.kty != "OKP" || self.crv.as_deref() != Some("Ed25519") {
            return None;
        }
        let raw = B64.decode(self.x.as_deref()?).ok()?;
        (raw.len() == 32).then_some(raw)
    }
}

/// `{"keys":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}
