//! Scope and route-requirement tests.

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
        ("GET", "/api/v1/auth/audit-log", Needs(Scope::KeysRead)),
        ("POST", "/api/v1/auth/audit-log", Needs(Scope::KeysWrite)),
        ("GET", "/api/v1/auth/audit-logs", Needs(Scope::PodcastsRead)),
        ("GET", "/api/v1/auth/usage", Needs(Scope::KeysRead)),
        ("POST", "/api/v1/auth/usage", Needs(Scope::KeysWrite)),
        ("GET", "/api/v1/auth/usages", Needs(Scope::PodcastsRead)),
        (
            "GET",
            "/api/v1/auth/api-keys/key_x/usage",
            Needs(Scope::KeysRead),
        ),
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
