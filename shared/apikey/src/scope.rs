//! Scopes, what `*` and `admin` cover, escalation checks, and which scope a route needs.

use std::fmt;
use std::str::FromStr;

use crate::{Error, FeedPaths};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every non-admin scope.
    All,
    KeysRead,
    KeysWrite,
    PodcastsRead,
    PodcastsWrite,
    /// GET/HEAD on the feed paths only (SPEC §16); the one scope a key may hold to be sent
    /// in a URL's `api_key` query parameter.
    FeedsRead,
    /// Manage every owner's keys. Implies every other scope.
    Admin,
}

impl Scope {
    pub const EVERY: [Scope; 7] = [
        Scope::All,
        Scope::KeysRead,
        Scope::KeysWrite,
        Scope::PodcastsRead,
        Scope::PodcastsWrite,
        Scope::FeedsRead,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "*",
            Self::KeysRead => "keys:read",
            Self::KeysWrite => "keys:write",
            Self::PodcastsRead => "podcasts:read",
            Self::PodcastsWrite => "podcasts:write",
            Self::FeedsRead => "feeds:read",
            Self::Admin => "admin",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Self::All => 1,
            Self::KeysRead => 1 << 1,
            Self::KeysWrite => 1 << 2,
            Self::PodcastsRead => 1 << 3,
            Self::PodcastsWrite => 1 << 4,
            Self::Admin => 1 << 5,
            Self::FeedsRead => 1 << 6,
        }
    }
}

const NON_ADMIN: u8 = Scope::KeysRead.bit()
    | Scope::KeysWrite.bit()
    | Scope::PodcastsRead.bit()
    | Scope::PodcastsWrite.bit()
    | Scope::FeedsRead.bit();

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Scope::EVERY
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| Error::UnknownScope(s.chars().take(64).collect()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes a key holds, as granted (`*` stays `*`; it is expanded only when checking).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const MAX_ENTRIES: usize = 10;

    /// What a create request means by omitting `scopes`.
    pub fn default_for_new_keys() -> Self {
        Self(Scope::All.bit())
    }

    /// 1–10 known scope names; duplicates collapse.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let mut bits = 0;
        let mut count = 0;
        for name in names {
            count += 1;
            if count > Self::MAX_ENTRIES {
                return Err(Error::InvalidScopes("at most 10 scopes may be given"));
            }
            bits |= name.parse::<Scope>()?.bit();
        }
        if count == 0 {
            return Err(Error::InvalidScopes("at least one scope is required"));
        }
        Ok(Self(bits))
    }

    /// Space-separated, as in an OAuth `scope` string or the authorizer context.
    pub fn parse_spaced(s: &str) -> Result<Self, Error> {
        Self::parse(s.split(' ').filter(|part| !part.is_empty()))
    }

    pub fn from_scopes(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// The scopes as granted, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::EVERY
            .into_iter()
            .filter(move |s| self.0 & s.bit() != 0)
    }

    pub fn is_admin(self) -> bool {
        self.0 & Scope::Admin.bit() != 0
    }

    /// Exactly `feeds:read` and nothing else: the only keys a URL may carry (SPEC §16).
    pub fn is_feed_only(self) -> bool {
        self.0 == Scope::FeedsRead.bit()
    }

    /// The concrete scopes this set grants once `*` and `admin` are expanded.
    fn effective(self) -> u8 {
        let mut bits = self.0;
        if bits & (Scope::All.bit() | Scope::Admin.bit()) != 0 {
            bits |= NON_ADMIN;
        }
        if bits & NON_ADMIN == NON_ADMIN {
            bits |= Scope::All.bit();
        }
        bits
    }

    pub fn allows(self, scope: Scope) -> bool {
        self.effective() & scope.bit() != 0
    }

    /// Whether a key holding `self` may create a key holding `requested`: every requested
    /// scope must be one `self` grants, so nobody can mint a key stronger than their own.
    pub fn may_grant(self, requested: ScopeSet) -> bool {
        let mine = self.effective();
        requested.0 & !mine == 0
    }

    pub fn to_spaced(self) -> String {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        names.join(" ")
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Scope::as_str))
            .finish()
    }
}

/// What a route asks of the calling key, beyond being active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Any active key (`GET /auth/me`).
    ActiveKey,
    Scope(Scope),
    /// A read of a feed path: `feeds:read` or `podcasts:read` (SPEC §16).
    FeedRead,
}

impl Requirement {
    pub fn is_met_by(self, scopes: ScopeSet) -> bool {
        match self {
            Self::ActiveKey => true,
            Self::Scope(s) => scopes.allows(s),
            Self::FeedRead => scopes.allows(Scope::FeedsRead) || scopes.allows(Scope::PodcastsRead),
        }
    }

    /// The scope to name in a refusal.
    pub fn named_scope(self) -> Option<Scope> {
        match self {
            Self::ActiveKey => None,
            Self::Scope(s) => Some(s),
            Self::FeedRead => Some(Scope::FeedsRead),
        }
    }
}

pub const KEYS_PATH: &str = "/api/v1/auth/api-keys";
pub const ME_PATH: &str = "/api/v1/auth/me";
/// The audit log (SPEC §11): read with `keys:read`, like the keys it is about.
pub const AUDIT_LOG_PATH: &str = "/api/v1/auth/audit-log";
/// An owner's usage (SPEC §12): read with `keys:read`, like each key's.
pub const USAGE_PATH: &str = "/api/v1/auth/usage";

/// The requirement of a request, by method and path (SPEC §3). Anything that is not a key
/// route is the podcast backend: reads need `podcasts:read` (or `feeds:read` on a feed path,
/// SPEC §16), everything else `podcasts:write`.
///
/// Where a path is ambiguous the answer requires more, never less: `me` is exactly
/// `/api/v1/auth/me` (`/api/v1/auth/me/x` is routed to the backend, so it is a podcast route),
/// and the whole `/api/v1/auth/api-keys/…` subtree is key management, which the API routes to
/// podkeys (unknown paths there are answered 404 by podkeys, never by the backend).
pub fn requirement(method: &str, path: &str, feeds: &FeedPaths) -> Requirement {
    let reads = is_read(method);
    let keys_subtree = path == AUDIT_LOG_PATH
        || path == USAGE_PATH
        || path
            .strip_prefix(KEYS_PATH)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if path == ME_PATH {
        Requirement::ActiveKey
    } else if keys_subtree {
        Requirement::Scope(if reads {
            Scope::KeysRead
        } else {
            Scope::KeysWrite
        })
    } else if reads && feeds.matches(path) {
        Requirement::FeedRead
    } else {
        Requirement::Scope(if reads {
            Scope::PodcastsRead
        } else {
            Scope::PodcastsWrite
        })
    }
}

/// GET or HEAD.
pub fn is_read(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

#[cfg(test)]
#[path = "scope_tests.rs"]
mod tests;
