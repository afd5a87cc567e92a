//! The routes of `infra/openapi.yaml` (the document the template builds the API from), read
//! from the document itself, and API Gateway's way
//! of matching a request to one: per path segment, a literal beats `{var}`, which beats a
//! greedy `{var+}`; then the method, else the resource's ANY method
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html#api-gateway-proxy-resource>).

use percent_encoding::percent_decode_str;
use serde_yaml::Value;

use crate::proxy::{self, Mappings};

/// Where a matched route sends the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integration {
    /// A Lambda proxy integration, by the template's function logical id.
    Lambda(String),
    /// The podcast backend (`HTTP_PROXY`), with the integration's header mappings.
    HttpProxy(Mappings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `GET`, …, or `ANY`.
    pub method: String,
    pub integration: Integration,
    pub authorized: bool,
    /// Requires a usage plan's API key (security scheme `api_key`,
    /// <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-key-usage-plan-oas.html>).
    pub api_key_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// As in the document, e.g. `/api/v1/auth/api-keys/{id}`.
    pub path: String,
    pub operations: Vec<Operation>,
}

/// A request matched to a resource and operation, with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub resource: &'a Resource,
    pub operation: &'a Operation,
    pub path_parameters: Params,
}

pub const OPENAPI: &str = include_str!("../../../infra/openapi.yaml");

/// The security scheme that makes a method require a usage plan's API key.
pub const USAGE_PLAN_SCHEME: &str = "api_key";

/// `x-amazon-apigateway-api-key-source`: `HEADER` (the default) or `AUTHORIZER`
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html>).
pub fn api_key_source(document: &str) -> Result<String, String> {
    let t: Value = serde_yaml::from_str(document).map_err(|e| format!("openapi: {e}"))?;
    Ok(t["x-amazon-apigateway-api-key-source"]
        .as_str()
        .unwrap_or("HEADER")
        .to_owned())
}

/// Every resource of the API, as API Gateway would import it from the document.
pub fn from_openapi(document: &str) -> Result<Vec<Resource>, String> {
    let t: Value = serde_yaml::from_str(document).map_err(|e| format!("openapi: {e}"))?;
    let paths = t["paths"].as_mapping().ok_or("openapi: no paths")?;
    let mut resources = Vec::new();
    for (path, item) in paths {
        let path = path.as_str().ok_or("openapi: a path is not a string")?;
        let mut operations = Vec::new();
        for (method, op) in item
            .as_mapping()
            .ok_or("openapi: a path has no operations")?
        {
            let method = match method.as_str() {
                Some("x-amazon-apigateway-any-method") => "ANY".to_owned(),
                Some(m) => m.to_uppercase(),
                None => return Err("openapi: a method is not a string".into()),
            };
            let integration = &op["x-amazon-apigateway-integration"];
            let integration = match integration["type"].as_str() {
                Some("aws_proxy") => {
                    let uri = integration["uri"]["Fn::Sub"].as_str().unwrap_or_default();
                    let function = function_of(uri)
                        .ok_or_else(|| format!("openapi: {method} {path}: no function in {uri}"))?;
                    Integration::Lambda(function.to_owned())
                }
                Some("http_proxy") => Integration::HttpProxy(
                    proxy::mappings(&integration["requestParameters"])
                        .map_err(|e| format!("openapi: {method} {path}: {e}"))?,
                ),
                other => return Err(format!("openapi: {method} {path}: integration {other:?}")),
            };
            let requires = |scheme: &str| {
                op["security"]
                    .as_sequence()
                    .is_some_and(|s| s.iter().any(|r| r.get(scheme).is_some()))
            };
            operations.push(Operation {
                method,
                integration,
                authorized: requires("PodkeysAuthorizer"),
                api_key_required: requires(USAGE_PLAN_SCHEME),
            });
        }
        resources.push(Resource {
            path: path.to_owned(),
            operations,
        });
    }
    Ok(resources)
}

/// The logical id of the REQUEST authorizer's function (`PodkeysAuthorizer`).
pub fn authorizer_function(document: &str) -> Result<String, String> {
    let t: Value = serde_yaml::from_str(document).map_err(|e| format!("openapi: {e}"))?;
    let uri = &t["components"]["securitySchemes"]["PodkeysAuthorizer"]["x-amazon-apigateway-authorizer"]
        ["authorizerUri"]["Fn::Sub"];
    uri.as_str()
        .and_then(function_of)
        .map(str::to_owned)
        .ok_or_else(|| "openapi: PodkeysAuthorizer names no function".to_owned())
}

/// `FunctionName` in `…/functions/${FunctionName.Arn}/invocations`.
fn function_of(uri: &str) -> Option<&str> {
    uri.split("functions/${")
        .nth(1)
        .and_then(|rest| rest.split(".Arn}").next())
        .filter(|f| !f.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    // Order is specificity, lowest first.
    Greedy,
    Variable,
    Literal,
}

/// Path parameters, name and decoded value.
pub type Params = Vec<(String, String)>;

/// How `pattern` matches `path`, as per-segment specificity (higher wins), or `None`.
fn score(pattern: &str, path: &str) -> Option<(Vec<Segment>, Params)> {
    let pattern: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut spec = Vec::new();
    let mut params = Vec::new();
    for (i, p) in pattern.iter().enumerate() {
        if let Some(name) = p.strip_prefix('{').and_then(|n| n.strip_suffix("+}")) {
            let rest = path.get(i..)?.join("/");
            if rest.is_empty() {
                return None;
            }
            spec.push(Segment::Greedy);
            params.push((name.to_owned(), rest));
            return Some((spec, params));
        }
        let segment = *path.get(i)?;
        if let Some(name) = p.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            // An empty segment (`/api-keys//x`) still binds the variable: the key-management
            // subtree never falls through to the podcast backend.
            spec.push(Segment::Variable);
            params.push((name.to_owned(), segment.to_owned()));
        } else if *p == segment {
            spec.push(Segment::Literal);
        } else {
            return None;
        }
    }
    (path.len() == pattern.len()).then_some((spec, params))
}

/// The resource and operation API Gateway would pick, or `None` (its 403/404).
pub fn route<'a>(resources: &'a [Resource], method: &str, path: &str) -> Option<Matched<'a>> {
    // API Gateway treats a trailing slash as the same resource.
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    let (resource, params) = resources
        .iter()
        .filter_map(|r| score(&r.path, path).map(|(spec, params)| (r, spec, params)))
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|(r, _, params)| (r, params))?;
    let operation = resource
        .operations
        .iter()
        .find(|o| o.method == method)
        .or_else(|| resource.operations.iter().find(|o| o.method == "ANY"))?;
    // Path parameters arrive URL-decoded.
    let path_parameters = params
        .into_iter()
        .map(|(k, v)| (k, percent_decode_str(&v).decode_utf8_lossy().into_owned()))
        .collect();
    Some(Matched {
        resource,
        operation,
        path_parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources() -> Vec<Resource> {
        from_openapi(OPENAPI).expect("the document parses")
    }

    /// The resource and where it goes: a function's logical id, or `backend`.
    fn target(method: &str, path: &str) -> Option<(String, String)> {
        let r = resources();
        route(&r, method, path).map(|m| {
            let to = match &m.operation.integration {
                Integration::Lambda(f) => f.clone(),
                Integration::HttpProxy(_) => "backend".to_owned(),
            };
            (m.resource.path.clone(), to)
        })
    }

    fn lambda(f: &str) -> String {
        f.to_owned()
    }

    #[test]
    fn requests_reach_the_resource_api_gateway_would_pick() {
        let cases = [
            (
                "POST",
                "/api/v1/auth/api-keys",
                "/api/v1/auth/api-keys",
                lambda("CreateKeyFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/api-keys",
                "/api/v1/auth/api-keys",
                lambda("ListKeysFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/api-keys/",
                "/api/v1/auth/api-keys",
                lambda("ListKeysFunction"),
            ),
            (
                "PUT",
                "/api/v1/auth/api-keys",
                "/api/v1/auth/api-keys",
                lambda("ListKeysFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/api-keys/key_x",
                "/api/v1/auth/api-keys/{id}",
                lambda("ListKeysFunction"),
            ),
            (
                "DELETE",
                "/api/v1/auth/api-keys/key_x",
                "/api/v1/auth/api-keys/{id}",
                lambda("RevokeKeyFunction"),
            ),
            (
                "POST",
                "/api/v1/auth/api-keys/key_x/rotate",
                "/api/v1/auth/api-keys/{id}/rotate",
                lambda("CreateKeyFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/api-keys/key_x/a/b",
                "/api/v1/auth/api-keys/{id}/{proxy+}",
                lambda("ListKeysFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/me",
                "/api/v1/auth/me",
                lambda("ListKeysFunction"),
            ),
            (
                "GET",
                "/api/v1/auth/me/x",
                "/{proxy+}",
                "backend".to_owned(),
            ),
            (
                "GET",
                "/api/v1/podcasts/42",
                "/{proxy+}",
                "backend".to_owned(),
            ),
            ("POST", "/api/data/x", "/{proxy+}", "backend".to_owned()),
        ];
        for (method, path, resource, integration) in cases {
            assert_eq!(
                target(method, path),
                Some((resource.to_owned(), integration)),
                "{method} {path}"
            );
        }
        assert_eq!(target("GET", "/"), None, "nothing serves the root");
        assert_eq!(
            target("GET", "/api/v1/auth/api-keys//x").map(|t| t.1),
            Some(lambda("ListKeysFunction")),
            "an empty segment stays in the key subtree"
        );
    }

    #[test]
    fn the_authorizer_is_the_documents_function() {
        assert_eq!(
            authorizer_function(OPENAPI).as_deref(),
            Ok("AuthorizerFunction")
        );
        let cases = [
            "paths: {}",
            "components: {securitySchemes: {PodkeysAuthorizer: {}}}",
            "{components: {securitySchemes: {PodkeysAuthorizer: {x-amazon-apigateway-authorizer: \
             {authorizerUri: {Fn::Sub: 'arn:lambda:path/functions/${.Arn}/invocations'}}}}}}",
        ];
        for document in cases {
            assert!(authorizer_function(document).is_err(), "{document}");
        }
    }

    #[test]
    fn the_podcast_backend_integration_maps_the_podkeys_headers() {
        let r = resources();
        let m = route(&r, "GET", "/api/v1/podcasts/1").expect("routed");
        let Integration::HttpProxy(mappings) = &m.operation.integration else {
            panic!("not the backend: {:?}", m.operation.integration);
        };
        for name in ["x-podkeys-owner-id", "x-podkeys-key-id", "x-podkeys-scopes"] {
            assert!(mappings.headers.iter().any(|h| h.name == name), "{name}");
        }
        assert!(
            mappings.query.iter().any(|q| q.name == "api_key"),
            "feed keys never reach the backend"
        );
    }

    #[test]
    fn path_parameters_are_decoded() {
        let r = resources();
        let m = route(&r, "GET", "/api/v1/auth/api-keys/key%2Fx").expect("matched");
        assert_eq!(
            m.path_parameters,
            vec![("id".to_owned(), "key/x".to_owned())]
        );
        let m = route(&r, "GET", "/api/v1/podcasts/a%20b/c").expect("matched");
        assert_eq!(
            m.path_parameters,
            vec![("proxy".to_owned(), "api/v1/podcasts/a b/c".to_owned())]
        );
        let m = route(&r, "GET", "/api/v1/podcasts/%FF%2").expect("matched");
        assert_eq!(
            m.path_parameters,
            vec![("proxy".to_owned(), "api/v1/podcasts/\u{FFFD}%2".to_owned())]
        );
    }

    #[test]
    fn every_route_the_functions_serve_is_routed_to_them_behind_the_authorizer() {
        let r = resources();
        for route_ in gateway::routes::ROUTES {
            let path = route_.resource.replace("{id}", "key_abc");
            let m = route(&r, route_.method, &path).expect("routed");
            assert_eq!(m.resource.path, route_.resource);
            assert_eq!(m.operation.method, route_.method);
            let public = gateway::routes::PUBLIC.contains(&route_.resource);
            assert_eq!(m.operation.authorized, !public, "{}", route_.resource);
        }
        // Only the site function's pages and the assertion keys (SPEC §15) are public.
        for res in &r {
            for o in &res.operations {
                let public = o.integration == Integration::Lambda("SiteFunction".into())
                    || res.path == "/.well-known/jwks.json";
                assert_eq!(!o.authorized, public, "{} {}", o.method, res.path);
            }
        }
        let m = route(&r, "GET", "/console/console.js").expect("routed");
        assert_eq!(m.resource.path, "/console/{file}");
        assert!(!m.operation.authorized);
    }
}
