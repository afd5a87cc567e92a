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
    let keys_subtree = path
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
mod tests {
    use super::*;

    fn set(names: &[&str]) -> ScopeSet {
        ScopeSet::parse(names.iter().copied()).expect("valid scopes")
    }

    #[test]
    fn every_scope_name_round_trips() {
        for s in Scope::EVERY {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
    }

    #[test]
    fn unknown_scopes_are_rejected_by_name() {
        assert_eq!(
            ScopeSet::parse(["keys:read", "keys:delete"]),
            Err(Error::UnknownScope("keys:delete".into()))
        );
        assert!(ScopeSet::parse(["Admin"]).is_err());
        assert!(ScopeSet::parse(["keys:read "]).is_err());
    }

    #[test]
    fn scope_lists_must_have_one_to_ten_entries() {
        assert!(ScopeSet::parse([]).is_err());
        assert!(ScopeSet::parse(["keys:read"; 10]).is_ok());
        assert!(ScopeSet::parse(["keys:read"; 11]).is_err());
    }

    #[test]
    fn star_covers_every_scope_but_admin() {
        let star = set(&["*"]);
        for s in [
            Scope::KeysRead,
            Scope::KeysWrite,
            Scope::PodcastsRead,
            Scope::PodcastsWrite,
            Scope::FeedsRead,
        ] {
            assert!(star.allows(s));
        }
        assert!(!star.allows(Scope::Admin));
        assert!(!star.is_admin());
    }

    #[test]
    fn feed_paths_need_feeds_read_or_podcasts_read_for_reads_only() {
        let feeds = FeedPaths::default();
        let feed = requirement("GET", "/api/v1/feeds/42", &feeds);
        assert_eq!(feed, Requirement::FeedRead);
        assert_eq!(
            requirement("HEAD", "/api/v1/episodes/7/audio", &feeds),
            feed
        );
        assert_eq!(
            requirement("POST", "/api/v1/feeds/42", &feeds),
            Requirement::Scope(Scope::PodcastsWrite)
        );
        assert_eq!(
            requirement("GET", "/api/v1/podcasts/1", &feeds),
            Requirement::Scope(Scope::PodcastsRead)
        );
        assert!(feed.is_met_by(set(&["feeds:read"])));
        assert!(feed.is_met_by(set(&["podcasts:read"])));
        assert!(feed.is_met_by(set(&["*"])));
        assert!(!feed.is_met_by(set(&["keys:read"])));
        let podcasts = requirement("GET", "/api/v1/podcasts/1", &feeds);
        assert!(!podcasts.is_met_by(set(&["feeds:read"])));
        assert!(set(&["feeds:read"]).is_feed_only());
        assert!(!set(&["feeds:read", "keys:read"]).is_feed_only());
        assert!(!set(&["*"]).is_feed_only());
    }

    #[test]
    fn admin_implies_every_scope() {
        let admin = set(&["admin"]);
        for s in Scope::EVERY {
            assert!(admin.allows(s), "{s}");
        }
    }

    #[test]
    fn a_key_may_grant_only_what_it_holds() {
        let cases: &[(&[&str], &[&str], bool)] = &[
            (&["*"], &["keys:read"], true),
            (&["*"], &["*"], true),
            (&["*"], &["admin"], false),
            (&["keys:write"], &["keys:write"], true),
            (&["keys:write"], &["keys:read"], false),
            (&["keys:write"], &["*"], false),
            (
                &[
                    "keys:read",
                    "keys:write",
                    "podcasts:read",
                    "podcasts:write",
                    "feeds:read",
                ],
                &["*"],
                true,
            ),
            (
                &["keys:read", "keys:write", "podcasts:read", "podcasts:write"],
                &["*"],
                false,
            ),
            (&["*"], &["feeds:read"], true),
            (&["feeds:read"], &["podcasts:read"], false),
            (
                &["keys:write", "podcasts:read"],
                &["podcasts:read", "keys:write"],
                true,
            ),
            (&["admin"], &["admin", "*"], true),
        ];
        for &(mine, wanted, ok) in cases {
            assert_eq!(
                set(mine).may_grant(set(wanted)),
                ok,
                "{mine:?} → {wanted:?}"
            );
        }
    }

    #[test]
    fn spaced_form_round_trips() {
        let s = set(&["podcasts:read", "keys:read"]);
        assert_eq!(s.to_spaced(), "keys:read podcasts:read");
        assert_eq!(ScopeSet::parse_spaced(&s.to_spaced()), Ok(s));
    }

    #[test]
    fn routes_map_to_the_scopes_in_the_spec() {
        use Requirement::{ActiveKey, Scope as Needs};
        let cases = [
            ("POST", "/api/v1/auth/api-keys", Needs(Scope::KeysWrite)),
            ("GET", "/api/v1/auth/api-keys", Needs(Scope::KeysRead)),
            ("GET", "/api/v1/auth/api-keys/", Needs(Scope::KeysRead)),
            ("GET", "/api/v1/auth/api-keys/key_x", Needs(Scope::KeysRead)),
            (
                "DELETE",
                "/api/v1/auth/api-keys/key_x",
                Needs(Scope::KeysWrite),
            ),
            (
                "POST",
                "/api/v1/auth/api-keys/key_x/rotate",
                Needs(Scope::KeysWrite),
            ),
            ("GET", "/api/v1/auth/me", ActiveKey),
            ("GET", "/api/v1/podcasts/1", Needs(Scope::PodcastsRead)),
            ("HEAD", "/api/data/x", Needs(Scope::PodcastsRead)),
            ("POST", "/api/v1/podcasts", Needs(Scope::PodcastsWrite)),
            (
                "DELETE",
                "/api/v1/auth/api-keysX",
                Needs(Scope::PodcastsWrite),
            ),
            ("GET", "/api/v1/auth/mex", Needs(Scope::PodcastsRead)),
            ("GET", "/api/v1/auth/me/", Needs(Scope::PodcastsRead)),
            (
                "GET",
                "/api/v1/auth/me/anything",
                Needs(Scope::PodcastsRead),
            ),
            ("POST", "/api/v1/auth/me/x", Needs(Scope::PodcastsWrite)),
            ("GET", "/api/v1/auth/api-keys/a/b/c", Needs(Scope::KeysRead)),
            ("OPTIONS", "/api/v1/podcasts", Needs(Scope::PodcastsWrite)),
        ];
        for (method, path, want) in cases {
            assert_eq!(
                requirement(method, path, &FeedPaths::none()),
                want,
                "{method} {path}"
            );
        }
    }
}
