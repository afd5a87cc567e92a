//! The assertion signer an authorizer keeps between invocations (SPEC §15): the current signing
//! key, read from the signing table (and created there by the first container that finds
//! none), re-read every `RELOAD_SECS` so that a rotation reaches warm containers too.

use std::sync::{Arc, Mutex};

use apikey::Timestamp;
use assertion::{Claims, SigningKey};
use keystore::StoreError;
use keystore::signing::{CurrentKey, SigningStore};
use zeroize::Zeroizing;

/// How long a container signs with the key it loaded before reading the key set again.
pub const RELOAD_SECS: i64 = 300;
/// Assertions live this long (SPEC §15: at most 5 minutes).
pub const LIFETIME_SECS: i64 = 300;

#[derive(Debug)]
pub struct Signer {
    store: SigningStore,
    cached: Mutex<Option<(Timestamp, Arc<SigningKey>)>>,
}

impl Signer {
    pub fn new(store: SigningStore) -> Self {
        Self {
            store,
            cached: Mutex::new(None),
        }
    }

    pub fn store(&self) -> &SigningStore {
        &self.store
    }

    fn cached(&self, now: Timestamp) -> Option<Arc<SigningKey>> {
        let guard = self.cached.lock().ok()?;
        let (loaded, key) = guard.as_ref()?;
        (now.epoch_secs() - loaded.epoch_secs() < RELOAD_SECS).then(|| key.clone())
    }

    /// The key to sign with at `now`: the cached one, or one read (or created) in the table.
    /// Without an await on the cached path, so joining it with the key lookup costs nothing.
    pub async fn key(&self, now: Timestamp) -> Result<Arc<SigningKey>, StoreError> {
        if let Some(key) = self.cached(now) {
            return Ok(key);
        }
        let current = self.store.current_or_create(fresh_candidate, now).await?;
        let key = Arc::new(signing_key(&current)?);
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some((now, key.clone()));
        }
        Ok(key)
    }
}

fn signing_key(current: &CurrentKey) -> Result<SigningKey, StoreError> {
    let key = SigningKey::from_seed(&current.seed)
        .map_err(|e| StoreError::Corrupt(format!("signing key {}: {e}", current.kid)))?;
    if key.kid() != current.kid {
        return Err(StoreError::Corrupt(format!(
            "signing key {} does not match its seed",
            current.kid
        )));
    }
    Ok(key)
}

/// A new key for a table that has none: kid, public `x`, seed.
pub fn fresh_candidate() -> Option<(String, String, Zeroizing<Vec<u8>>)> {
    let (seed, key) = SigningKey::generate().ok()?;
    let x = key.public_jwk().x?;
    Some((key.kid().to_owned(), x, Zeroizing::new(seed.to_vec())))
}

/// What the assertion says about a caller, before `iat`/`exp` are stamped on.
#[derive(Debug, Clone)]
pub struct Identity<'a> {
    pub issuer: String,
    pub audience: &'a str,
    pub owner_id: &'a str,
    pub key_id: &'a str,
    pub scopes: Vec<String>,
    pub admin: bool,
    pub plan: Option<String>,
    pub request_id: Option<&'a str>,
}

/// The signed assertion for `who` at `now`.
pub fn assert(key: &SigningKey, who: Identity<'_>, now: Timestamp) -> String {
    key.sign(&Claims {
        iss: who.issuer,
        aud: who.audience.to_owned(),
        sub: who.owner_id.to_owned(),
        key_id: who.key_id.to_owned(),
        scopes: who.scopes,
        admin: who.admin,
        plan: who.plan,
        iat: now.epoch_secs(),
        exp: now.epoch_secs() + LIFETIME_SECS,
        jti: who.request_id.map(str::to_owned),
    })
}

/// `iss`: the API's base URL, where `/.well-known/jwks.json` is found. `ASSERTION_ISSUER` when
/// set (a custom domain with a base path); else from the request: `https://{domain}/{stage}`
/// on the default execute-api domain, whose paths start with the stage
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html),
/// `https://{domain}` on a custom domain, `http://{domain}` on loopback (the local gateway).
pub fn issuer(configured: Option<&str>, domain: Option<&str>, stage: Option<&str>) -> String {
    if let Some(iss) = configured {
        return iss.trim_end_matches('/').to_owned();
    }
    let domain = domain.unwrap_or("localhost");
    let local = format!("http://{domain}");
    if crate::is_loopback_url(&local) {
        return local;
    }
    match stage {
        Some(stage) if domain.contains(".execute-api.") => format!("https://{domain}/{stage}"),
        _ => format!("https://{domain}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_the_base_url_a_client_calls() {
        let cases = [
            (
                None,
                Some("abc123.execute-api.eu-west-1.amazonaws.com"),
                Some("prod"),
                "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
            ),
            (
                None,
                Some("api.podcasts.example"),
                Some("prod"),
                "https://api.podcasts.example",
            ),
            (
                None,
                Some("127.0.0.1:3000"),
                Some("local"),
                "http://127.0.0.1:3000",
            ),
            (None, Some("localhost"), None, "http://localhost"),
            (None, Some("[::1]:3000"), Some("local"), "http://[::1]:3000"),
            (
                Some("https://api.example/v2/"),
                Some("x.execute-api.r.amazonaws.com"),
                Some("p"),
                "https://api.example/v2",
            ),
        ];
        for (configured, domain, stage, expected) in cases {
            assert_eq!(issuer(configured, domain, stage), expected);
        }
    }
}
