//! The key-management routes: one table that every function, the 405 `Allow` header and
//! (later) the local gateway and template checks read.

use apikey::{AUDIT_LOG_PATH, KEYS_PATH, ME_PATH, USAGE_PATH};

pub const KEYS: &str = KEYS_PATH;
pub const KEY: &str = "/api/v1/auth/api-keys/{id}";
pub const ROTATE: &str = "/api/v1/auth/api-keys/{id}/rotate";
pub const ME: &str = ME_PATH;
pub const AUDIT_LOG: &str = AUDIT_LOG_PATH;
/// One key's usage by day (SPEC §12).
pub const KEY_USAGE: &str = "/api/v1/auth/api-keys/{id}/usage";
/// An owner's usage by day (SPEC §12).
pub const USAGE: &str = USAGE_PATH;
/// Every other path under the key routes. The API sends it to podkeys (list-keys), which
/// answers 404, so that no key-management path ever reaches the podcast backend and the
/// authorizer can treat the whole subtree as key management.
pub const KEYS_SUBTREE: &str = "/api/v1/auth/api-keys/{id}/{proxy+}";
/// The public keys that verify the assertion (SPEC §15); public, no key needed.
pub const JWKS: &str = "/.well-known/jwks.json";

/// The functions' routes that need no key (SPEC §15: a backend fetches the JWKS unauthenticated).
pub const PUBLIC: &[&str] = &[JWKS];

/// The functions of the stack: the one catalogue of their template logical ids and binaries
/// (the local gateway runs them by binary; the template tests look them up by logical id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Authorizer,
    CreateKey,
    ListKeys,
    RevokeKey,
    Site,
}

impl Function {
    pub const ALL: [Self; 5] = [
        Self::Authorizer,
        Self::CreateKey,
        Self::ListKeys,
        Self::RevokeKey,
        Self::Site,
    ];

    /// The crate and binary (`cargo lambda build`, `BuildProperties.Binary`).
    pub const fn binary(self) -> &'static str {
        match self {
            Self::Authorizer => "authorizer",
            Self::CreateKey => "create-key",
            Self::ListKeys => "list-keys",
            Self::RevokeKey => "revoke-key",
            Self::Site => "site",
        }
    }

    /// The resource's logical id in `infra/template.yaml`.
    pub const fn logical_id(self) -> &'static str {
        match self {
            Self::Authorizer => "AuthorizerFunction",
            Self::CreateKey => "CreateKeyFunction",
            Self::ListKeys => "ListKeysFunction",
            Self::RevokeKey => "RevokeKeyFunction",
            Self::Site => "SiteFunction",
        }
    }

    pub fn from_binary(binary: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.binary() == binary)
    }

    pub fn from_logical_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.logical_id() == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub resource: &'static str,
    pub function: Function,
}

const fn route(method: &'static str, resource: &'static str, function: Function) -> Route {
    Route {
        method,
        resource,
        function,
    }
}

pub const ROUTES: &[Route] = &[
    route("POST", KEYS, Function::CreateKey),
    route("GET", KEYS, Function::ListKeys),
    route("GET", KEY, Function::ListKeys),
    route("DELETE", KEY, Function::RevokeKey),
    route("PATCH", KEY, Function::CreateKey),
    route("POST", ROTATE, Function::CreateKey),
    route("GET", ME, Function::ListKeys),
    route("GET", AUDIT_LOG, Function::ListKeys),
    route("GET", KEY_USAGE, Function::ListKeys),
    route("GET", USAGE, Function::ListKeys),
    route("GET", JWKS, Function::ListKeys),
];

/// The routes one function serves.
pub fn served_by(function: Function) -> Vec<Route> {
    ROUTES
        .iter()
        .filter(|r| r.function == function)
        .copied()
        .collect()
}

/// `Allow` for a known resource, e.g. `GET, POST`.
pub fn allowed_methods(resource: &str) -> Option<String> {
    let methods: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.resource == resource)
        .map(|r| r.method)
        .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}
