//! How API Gateway evaluates the IAM policy a Lambda authorizer returns: a request is allowed
//! when some `Allow` statement's resource matches its method ARN and no `Deny` statement's
//! does ("an explicit deny always overrides an allow":
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html>).
//! Resources match with IAM's wildcards, `*` and `?`
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>),
//! against `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html>).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement of the policy, reduced to what the evaluation reads (its `Action` was
/// checked to cover `execute-api:Invoke` when it was parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    pub resources: Vec<String>,
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
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&want) if want == b'?' || want == c => {
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
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/";

    fn statement(effect: Effect, resources: &[&str]) -> Statement {
        Statement {
            effect,
            resources: resources.iter().map(|r| format!("{BASE}{r}")).collect(),
        }
    }

    #[test]
    fn glob_follows_iam_wildcards() {
        let cases: [(&str, &str, bool); 10] = [
            ("a*", "a/b/c", true),
            ("a*c", "abc", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*", "", true),
            ("GET/x", "GET/xy", false),
            ("GET/x/*", "GET/x/", true),
            ("GET/x/*", "GET/x", false),
            ("*/x/*", "GET/x/y/z", true),
            ("", "a", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                glob(pattern.as_bytes(), text.as_bytes()),
                expected,
                "{pattern:?} against {text:?}"
            );
        }
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let policy = [
            statement(Effect::Allow, &["GET/*"]),
            statement(
                Effect::Deny,
                &["GET/api/v1/auth/api-keys", "GET/api/v1/auth/api-keys/*"],
            ),
        ];
        let cases = [
            ("GET/api/v1/podcasts", true),
            ("GET/api/v1/auth/api-keys", false),
            ("GET/api/v1/auth/api-keys/key_x", false),
            ("GET/api/v1/auth/me", true),
            ("POST/api/v1/podcasts", false),
        ];
        for (arn, expected) in cases {
            assert_eq!(allows(&policy, &format!("{BASE}{arn}")), expected, "{arn}");
        }
    }

    #[test]
    fn nothing_is_allowed_without_an_allow() {
        let cases: [&[Statement]; 3] = [
            &[],
            &[statement(Effect::Deny, &["GET/x"])],
            &[statement(Effect::Allow, &[])],
        ];
        for policy in cases {
            assert!(!allows(policy, &format!("{BASE}GET/x")), "{policy:?}");
        }
    }

    #[test]
    fn a_policy_never_reaches_another_stage_or_api() {
        let policy = [statement(Effect::Allow, &["*"])];
        for other in [
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/x",
            "arn:aws:execute-api:eu-west-1:123456789012:zzz999/prod/GET/x",
        ] {
            assert!(!allows(&policy, other), "{other}");
        }
    }
}
