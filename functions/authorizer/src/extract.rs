//! Finding the presented key in a request's headers, or in its `api_key` query parameter
//! (feed keys only, SPEC §16).

use std::collections::HashMap;

use serde::Deserialize;

/// The parts of API Gateway's REQUEST authorizer event that we read. Headers are kept as plain
/// strings: `aws_lambda_events`' `HeaderMap` refuses the whole event when one header value is
/// not visible ASCII (`User-Agent: Café/1.0`), which would turn a valid request into a 500.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerEvent {
    #[serde(default)]
    pub method_arn: Option<String>,
    #[serde(default)]
    pub http_method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub headers: Option<HashMap<String, Option<String>>>,
    #[serde(default)]
    pub multi_value_headers: Option<HashMap<String, Option<Vec<Option<String>>>>>,
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, Option<String>>>,
    #[serde(default)]
    pub multi_value_query_string_parameters: Option<HashMap<String, Option<Vec<Option<String>>>>>,
    #[serde(default)]
    pub request_context: Option<EventContext>,
    /// `2.0` on an HTTP API with payload format 2.0; absent (or `1.0`) on a REST API.
    #[serde(default)]
    pub version: Option<String>,
    /// HTTP API (2.0): `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}`.
    #[serde(default)]
    pub route_arn: Option<String>,
    /// HTTP API (2.0): the request's path as the client sent it.
    #[serde(default)]
    pub raw_path: Option<String>,
    /// HTTP API (2.0): the route that matched, e.g. `ANY /{proxy+}`.
    #[serde(default)]
    pub route_key: Option<String>,
}

/// The HTTP API's route to the podcast backend (`infra/template.yaml`).
pub const BACKEND_ROUTE_KEY: &str = "ANY /{proxy+}";

impl AuthorizerEvent {
    /// Whether API Gateway sent payload format 2.0 (an HTTP API), which is answered with a
    /// simple response instead of a policy.
    pub fn is_v2(&self) -> bool {
        self.version.as_deref() == Some("2.0")
    }

    /// A 2.0 event in the terms the decision reads (`methodArn`, `httpMethod`, `path`): the
    /// method ARN is the route ARN's `{api}/{stage}/` followed by the request's method and
    /// path, so the requested path (not the route's pattern) decides scopes and feed paths,
    /// as on a REST API. Headers and query parameters need nothing: 2.0 sends them as one
    /// map each, duplicates joined with commas
    /// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>),
    /// so a repeated key header reads as one malformed key and is refused.
    pub fn from_v2(mut self) -> Self {
        let http = self.request_context.as_ref().and_then(|c| c.http.as_ref());
        let method = http.and_then(|h| h.method.clone());
        let path = self
            .raw_path
            .clone()
            .or_else(|| http.and_then(|h| h.path.clone()));
        let base = self.route_arn.as_deref().and_then(|arn| {
            let parsed = crate::policy::MethodArn::parse(arn)?;
            Some(parsed.base.to_owned())
        });
        if let (Some(base), Some(method), Some(path)) = (base, &method, &path) {
            if path.starts_with('/') {
                self.method_arn = Some(format!("{base}{method}{path}"));
            }
        }
        self.http_method = method;
        self.path = path;
        // The `$default` stage is served from the base of the API's URL
        // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html):
        // no stage in the issuer.
        if let Some(context) = self.request_context.as_mut() {
            if context.stage.as_deref() == Some("$default") {
                context.stage = None;
            }
        }
        self
    }
}

/// HTTP API (2.0) `requestContext.http`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpDescription {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventContext {
    #[serde(default)]
    pub request_id: Option<String>,
    /// The host the client called (the API's own or a custom domain): the assertion's `iss`.
    #[serde(default)]
    pub domain_name: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    /// HTTP API (2.0) only.
    #[serde(default)]
    pub http: Option<HttpDescription>,
}

/// What the headers say about the key.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    None,
    One(&'a str),
    /// Two different keys (a confused or malicious client): refused without a lookup.
    Conflicting,
}

/// The key from `X-API-Key`, `Api-Key` or `Authorization: Bearer` (names case-insensitive,
/// scheme case-insensitive), across `headers` and `multiValueHeaders`. The same key sent in
/// several places is one key (AudioPod's SDK sends two); different values conflict.
pub fn presented_key(event: &AuthorizerEvent) -> Presented<'_> {
    let singles = event
        .headers
        .iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.as_str(), value.as_deref()?)));
    let multis = event
        .multi_value_headers
        .iter()
        .flatten()
        .flat_map(|(name, values)| {
            values
                .iter()
                .flatten()
                .flatten()
                .map(move |v| (name.as_str(), v.as_str()))
        });
    one_key(
        singles
            .chain(multis)
            .filter_map(|(name, value)| key_in_header(name, value)),
    )
}

/// Whether `Authorization: Bearer …` carries a key (in either header map).
pub fn key_in_authorization(event: &AuthorizerEvent) -> bool {
    let singles = event
        .headers
        .iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.as_str(), value.as_deref()?)));
    let multis = event
        .multi_value_headers
        .iter()
        .flatten()
        .flat_map(|(name, values)| {
            values
                .iter()
                .flatten()
                .flatten()
                .map(move |v| (name.as_str(), v.as_str()))
        });
    singles.chain(multis).any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization") && key_in_header(name, value).is_some()
    })
}

/// The same key any number of times is one key; two different ones conflict.
fn one_key<'a>(candidates: impl Iterator<Item = &'a str>) -> Presented<'a> {
    let mut found: Option<&str> = None;
    for candidate in candidates {
        match found {
            Some(existing) if existing != candidate => return Presented::Conflicting,
            _ => found = Some(candidate),
        }
    }
    found.map_or(Presented::None, Presented::One)
}

fn key_in_header<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let value = value.trim_matches([' ', '\t']);
    if name.eq_ignore_ascii_case("x-api-key") || name.eq_ignore_ascii_case("api-key") {
        Some(value)
    } else if name.eq_ignore_ascii_case("authorization") {
        // Only the Bearer scheme carries our key; Basic and others belong to someone else.
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim_start_matches(' '))
    } else {
        None
    }
}

/// The query parameter a podcast app's feed URL carries its key in (Pinepods' name).
pub const QUERY_KEY_PARAMETER: &str = "api_key";

/// The key in `?api_key=`, across `queryStringParameters` and
/// `multiValueQueryStringParameters` (names are case-sensitive in a query string). The same
/// value twice is one key; different values conflict.
pub fn query_key(event: &AuthorizerEvent) -> Presented<'_> {
    let singles = event
        .query_string_parameters
        .iter()
        .flatten()
        .filter(|(name, _)| name.as_str() == QUERY_KEY_PARAMETER)
        .filter_map(|(_, value)| value.as_deref());
    let multis = event
        .multi_value_query_string_parameters
        .iter()
        .flatten()
        .filter(|(name, _)| name.as_str() == QUERY_KEY_PARAMETER)
        .flat_map(|(_, values)| values.iter().flatten().flatten().map(String::as_str));
    one_key(singles.chain(multis))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Singles = Option<HashMap<String, Option<String>>>;
    type Multis = Option<HashMap<String, Option<Vec<Option<String>>>>>;

    /// The single- and multi-value maps API Gateway sends (for headers or the query string).
    fn maps(single: &[(&str, &str)], multi: &[(&str, &[&str])]) -> (Singles, Multis) {
        let singles = single
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect();
        let multis = multi
            .iter()
            .map(|(k, vs)| {
                let vs = vs.iter().map(|v| Some((*v).to_owned())).collect();
                ((*k).to_owned(), Some(vs))
            })
            .collect();
        (Some(singles), Some(multis))
    }

    fn event(headers: &[(&str, &str)], multi: &[(&str, &[&str])]) -> AuthorizerEvent {
        let (headers, multi_value_headers) = maps(headers, multi);
        AuthorizerEvent {
            headers,
            multi_value_headers,
            ..AuthorizerEvent::default()
        }
    }

    #[test]
    fn each_of_the_three_headers_carries_a_key_whatever_the_case() {
        for (name, value) in [
            ("X-API-Key", "k"),
            ("x-api-key", "k"),
            ("Api-Key", "k"),
            ("API-KEY", "k"),
            ("Authorization", "Bearer k"),
            ("authorization", "bearer k"),
            ("AUTHORIZATION", "BEARER   k"),
        ] {
            assert_eq!(
                presented_key(&event(&[(name, value)], &[])),
                Presented::One("k"),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn the_same_key_twice_is_one_key_and_different_keys_conflict() {
        let same = event(
            &[("X-API-Key", "k"), ("Authorization", "Bearer k")],
            &[("x-api-key", &["k"])],
        );
        assert_eq!(presented_key(&same), Presented::One("k"));
        let different = event(&[("X-API-Key", "k1"), ("Authorization", "Bearer k2")], &[]);
        assert_eq!(presented_key(&different), Presented::Conflicting);
        let repeated = event(&[], &[("X-API-Key", &["k1", "k2"])]);
        assert_eq!(presented_key(&repeated), Presented::Conflicting);
    }

    #[test]
    fn other_schemes_and_headers_carry_no_key() {
        for (name, value) in [
            ("Authorization", "Basic dXNlcjpwYXNz"),
            ("Authorization", "Bearerk"),
            ("Cookie", "key=k"),
            ("X-Api-Keys", "k"),
        ] {
            assert_eq!(
                presented_key(&event(&[(name, value)], &[])),
                Presented::None,
                "{name}"
            );
        }
        assert_eq!(presented_key(&AuthorizerEvent::default()), Presented::None);
    }

    #[test]
    fn an_empty_bearer_token_is_presented_as_empty_and_rejected_later() {
        assert_eq!(
            presented_key(&event(&[("Authorization", "Bearer ")], &[])),
            Presented::One("")
        );
        assert_eq!(
            presented_key(&event(&[("Authorization", "Bearer")], &[])),
            Presented::One("")
        );
    }

    fn with_query(single: &[(&str, &str)], multi: &[(&str, &[&str])]) -> AuthorizerEvent {
        let (query_string_parameters, multi_value_query_string_parameters) = maps(single, multi);
        AuthorizerEvent {
            query_string_parameters,
            multi_value_query_string_parameters,
            ..AuthorizerEvent::default()
        }
    }

    #[test]
    fn the_query_key_is_api_key_exactly_and_two_values_conflict() {
        let one = with_query(&[("api_key", "k")], &[("api_key", &["k"])]);
        assert_eq!(query_key(&one), Presented::One("k"));
        let two = with_query(&[("api_key", "k")], &[("api_key", &["k", "j"])]);
        assert_eq!(query_key(&two), Presented::Conflicting);
        for other in ["API_KEY", "apikey", "key"] {
            assert_eq!(
                query_key(&with_query(&[(other, "k")], &[])),
                Presented::None
            );
        }
        assert_eq!(query_key(&AuthorizerEvent::default()), Presented::None);
        // The header extraction never looks at the query string.
        assert_eq!(presented_key(&one), Presented::None);
    }
}
