//! Method ARNs, and the effect of the one statement an answer carries. (How API Gateway
//! evaluates a policy is the local gateway's business: `tools/local-gateway/src/policy.rs`.)
//!
//! Every answer's policy is exactly one statement for exactly the requested method ARN
//! (SPEC §4). An earlier policy covered every route a key's scopes allowed, for authorizer
//! caching; IAM's `*` also matches `/`, so `{base}*/api/v1/auth/me` granted any verb on any
//! path ending in `/api/v1/auth/me`. Caching is gone, and so is that policy.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
