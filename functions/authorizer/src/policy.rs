//! The IAM policy an Allow returns, and how API Gateway evaluates one.
//!
//! The policy covers every method ARN the key's scopes allow, not just the one requested, so
//! that an operator who turns on authorizer caching gets correct decisions for the other
//! routes too. "Every GET except the key routes" is an Allow on `GET/*` plus explicit Denies
//! for the key routes the key may not use: in IAM, an explicit Deny always wins.

use apikey::{KEYS_PATH, ME_PATH, Scope, ScopeSet};

/// The verbs API Gateway puts in a method ARN.
const READS: [&str; 2] = ["GET", "HEAD"];
const WRITES: [&str; 5] = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    pub resources: Vec<String>,
}

/// A method ARN: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodArn<'a> {
    /// Everything up to and including `{stage}/`.
    pub base: &'a str,
    pub verb: &'a str,
    /// The request path with its leading `/`.
    pub path: String,
}

impl<'a> MethodArn<'a> {
    pub fn parse(arn: &'a str) -> Option<Self> {
        // Five colons separate the fixed fields; the last field holds api/stage/verb/path.
        let mut colons = arn.match_indices(':');
        let (fifth, _) = colons.nth(4)?;
        if !arn.starts_with("arn:") || !arn[..fifth].contains(":execute-api:") {
            return None;
        }
        let rest = &arn[fifth + 1..];
        let mut parts = rest.splitn(4, '/');
        let (api, stage, verb) = (parts.next()?, parts.next()?, parts.next()?);
        let path = parts.next().unwrap_or("");
        if api.is_empty() || stage.is_empty() || verb.is_empty() {
            return None;
        }
        let base_len = fifth + 1 + api.len() + 1 + stage.len() + 1;
        Some(Self {
            base: &arn[..base_len],
            verb,
            path: format!("/{path}"),
        })
    }
}

/// Every method ARN of this API stage the scopes allow, as Allow and Deny statements.
pub fn for_scopes(base: &str, scopes: ScopeSet) -> Vec<Statement> {
    let arn = |verb: &str, path: &str| format!("{base}{verb}/{}", path.trim_start_matches('/'));
    let keys_routes = |verbs: &[&str]| -> Vec<String> {
        verbs
            .iter()
            .flat_map(|v| [arn(v, KEYS_PATH), arn(v, &format!("{KEYS_PATH}/*"))])
            .collect()
    };
    let everything =
        |verbs: &[&str]| -> Vec<String> { verbs.iter().map(|v| arn(v, "*")).collect() };

    // Any active key may ask who it is.
    let mut allow = vec![arn("*", ME_PATH)];
    let mut deny = Vec::new();
    for (verbs, podcasts, keys) in [
        (&READS[..], Scope::PodcastsRead, Scope::KeysRead),
        (&WRITES[..], Scope::PodcastsWrite, Scope::KeysWrite),
    ] {
        match (scopes.allows(podcasts), scopes.allows(keys)) {
            (true, true) => allow.extend(everything(verbs)),
            (true, false) => {
                allow.extend(everything(verbs));
                deny.extend(keys_routes(verbs));
            }
            (false, true) => allow.extend(keys_routes(verbs)),
            (false, false) => {}
        }
    }
    let mut statements = vec![Statement {
        effect: Effect::Allow,
        resources: allow,
    }];
    if !deny.is_empty() {
        statements.push(Statement {
            effect: Effect::Deny,
            resources: deny,
        });
    }
    statements
}

/// A Deny of exactly one method ARN (how a revoked, expired or under-scoped key is refused).
pub fn deny_one(method_arn: &str) -> Vec<Statement> {
    vec![Statement {
        effect: Effect::Deny,
        resources: vec![method_arn.to_owned()],
    }]
}

/// API Gateway's evaluation: allowed if some Allow matches and no Deny does.
pub fn allows(statements: &[Statement], method_arn: &str) -> bool {
    let matches = |effect| {
        statements
            .iter()
            .filter(|s| s.effect == effect)
            .flat_map(|s| &s.resources)
            .any(|pattern| glob(pattern.as_bytes(), method_arn.as_bytes()))
    };
    matches(Effect::Allow) && !matches(Effect::Deny)
}

/// IAM resource matching: `*` is any run of characters (slashes included), `?` any one.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use apikey::{Requirement, requirement};

    const BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/";

    #[test]
    fn method_arns_split_into_base_verb_and_path() {
        let arn = format!("{BASE}GET/api/v1/auth/api-keys/key_x");
        let m = MethodArn::parse(&arn).expect("valid");
        assert_eq!(
            (m.base, m.verb, m.path.as_str()),
            (BASE, "GET", "/api/v1/auth/api-keys/key_x")
        );
        let root = MethodArn::parse("arn:aws:execute-api:r:1:api/st/DELETE/").expect("valid");
        assert_eq!(root.path, "/");
        for bad in [
            "",
            "arn:aws:s3:::bucket/x",
            "arn:aws:execute-api:r:1:api",
            "nonsense",
        ] {
            assert_eq!(MethodArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn glob_follows_iam_wildcards() {
        assert!(glob(b"a*", b"a/b/c"));
        assert!(glob(b"a*c", b"abc"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"ac"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"GET/x", b"GET/xy"));
        assert!(glob(b"GET/x/*", b"GET/x/"));
        assert!(!glob(b"GET/x/*", b"GET/x"));
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let scopes = ScopeSet::parse(["podcasts:read"]).expect("valid");
        let policy = for_scopes(BASE, scopes);
        assert!(allows(&policy, &format!("{BASE}GET/api/v1/podcasts")));
        assert!(!allows(&policy, &format!("{BASE}GET/api/v1/auth/api-keys")));
        assert!(!allows(
            &policy,
            &format!("{BASE}GET/api/v1/auth/api-keys/key_x")
        ));
        assert!(allows(&policy, &format!("{BASE}GET/api/v1/auth/me")));
        assert!(!allows(&policy, &format!("{BASE}POST/api/v1/podcasts")));
    }

    #[test]
    fn a_policy_never_reaches_another_stage_or_api() {
        let policy = for_scopes(BASE, ScopeSet::parse(["admin"]).expect("valid"));
        assert!(!allows(
            &policy,
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/x"
        ));
        assert!(!allows(
            &policy,
            "arn:aws:execute-api:eu-west-1:123456789012:zzz999/prod/GET/x"
        ));
    }

    /// Every set of scopes a key can hold (all non-empty subsets of the six).
    fn every_scope_set() -> impl Iterator<Item = ScopeSet> {
        (1u32..1 << Scope::EVERY.len()).map(|mask| {
            ScopeSet::from_scopes(
                Scope::EVERY
                    .into_iter()
                    .enumerate()
                    .filter(move |(i, _)| mask & (1 << i) != 0)
                    .map(|(_, s)| s),
            )
        })
    }

    /// The cached policy and the per-request decision never disagree: for every scope set,
    /// verb and kind of path, the policy allows the route exactly when its requirement is met.
    /// Exhaustive rather than sampled: the space is small.
    #[test]
    fn the_policy_allows_exactly_what_the_scopes_allow() {
        let verbs = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        let paths = [
            "/api/v1/auth/api-keys",
            "/api/v1/auth/api-keys/",
            "/api/v1/auth/api-keys/key_abc",
            "/api/v1/auth/api-keys/key_abc/rotate",
            "/api/v1/auth/api-keys/a/b/c",
            "/api/v1/auth/api-keysX",
            "/api/v1/auth/me",
            "/api/v1/auth/me/",
            "/api/v1/auth/me/x",
            "/api/v1/auth/mex",
            "/api/v1/podcasts/42/episodes",
            "/api/data/get_stats",
            "/api/v1/api-wallet/balance",
            "/",
        ];
        let mut checked = 0;
        for scopes in every_scope_set() {
            let policy = for_scopes(BASE, scopes);
            for verb in verbs {
                for path in paths {
                    let arn = format!("{BASE}{verb}{path}");
                    let expected = match requirement(verb, path) {
                        Requirement::ActiveKey => true,
                        Requirement::Scope(s) => scopes.allows(s),
                    };
                    assert_eq!(allows(&policy, &arn), expected, "{arn} {scopes:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 63 * 7 * 14);
    }
}
