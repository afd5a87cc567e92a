//! The template's HTTP API front door (`HttpApi`, SPEC §17) as API Gateway runs it, no
//! further than AWS documents it: the `AWS::ApiGatewayV2::Route`s and their integrations
//! read from `infra/template.yaml`, the REQUEST authorizer with payload format 2.0 and simple
//! responses, the 2.0 events, HTTP API parameter mapping to the backend, and API Gateway's
//! own `{"message": …}` errors (HTTP APIs have no gateway responses to customise:
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html>).
//!
//! Route selection: "the route with the most-specific match … 1. Full match for a route and
//! method. 2. Match for a route and method with a greedy path variable (`{proxy+}`)"
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html>);
//! `ANY` matches the methods a path does not define. For the template's routes that is what
//! `routes::route` picks, so the two front doors share it.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};
use serde_yaml::Value as Yaml;

use crate::proxy::{HeaderMapping, Mappings, QueryMapping, Source};
use crate::routes::{Integration, Operation, Resource};

/// What the template's HTTP API is: its routes (grouped by path, as resources) and the
/// authorizer function's logical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApi {
    pub resources: Vec<Resource>,
    pub authorizer: String,
}

/// The logical id in `Fn::Sub: …functions/${Logical.Arn}…` or `Fn::GetAtt: [Logical, Arn]`.
fn function_ref(v: &Yaml) -> Option<String> {
    if let Some(sub) = v["Fn::Sub"].as_str() {
        let rest = sub.split("functions/${").nth(1)?;
        return rest
            .split(".Arn}")
            .next()
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
    }
    let getatt = v["Fn::GetAtt"].as_sequence()?;
    match (getatt.first()?.as_str(), getatt.get(1)?.as_str()) {
        (Some(id), Some("Arn")) => Some(id.to_owned()),
        _ => None,
    }
}

/// Reads the HTTP API from the template. Anything this gateway does not emulate (another
/// payload format, policy answers, an integration type other than Lambda and HTTP proxy) is
/// refused at startup rather than run differently.
pub fn from_template(template: &str) -> Result<HttpApi, String> {
    let t: Yaml = serde_yaml::from_str(template).map_err(|e| format!("template: {e}"))?;
    let resources = t["Resources"]
        .as_mapping()
        .ok_or("template: no Resources")?;
    let of_type = |ty: &'static str| {
        resources
            .iter()
            .filter(move |(_, r)| r["Type"].as_str() == Some(ty))
            .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
    };
    let mut authorizers = of_type("AWS::ApiGatewayV2::Authorizer");
    let (auth_id, auth) = authorizers
        .next()
        .ok_or("template: no HTTP API authorizer")?;
    let p = &auth["Properties"];
    if p["AuthorizerPayloadFormatVersion"].as_str() != Some("2.0")
        || p["EnableSimpleResponses"].as_bool() != Some(true)
    {
        return Err(format!(
            "template: {auth_id}: only payload format 2.0 with simple responses is emulated"
        ));
    }
    if p["IdentitySource"]
        .as_sequence()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(format!(
            "template: {auth_id}: identity sources are not emulated"
        ));
    }
    let authorizer = function_ref(&p["AuthorizerUri"])
        .ok_or_else(|| format!("template: {auth_id}: AuthorizerUri names no function"))?;

    let mut integrations = BTreeMap::new();
    for (id, r) in of_type("AWS::ApiGatewayV2::Integration") {
        let p = &r["Properties"];
        let integration = match p["IntegrationType"].as_str() {
            Some("AWS_PROXY") => {
                if p["PayloadFormatVersion"].as_str() != Some("2.0") {
                    return Err(format!(
                        "template: {id}: only payload format 2.0 is emulated"
                    ));
                }
                let f = function_ref(&p["IntegrationUri"])
                    .ok_or_else(|| format!("template: {id}: IntegrationUri names no function"))?;
                Integration::Lambda(f)
            }
            Some("HTTP_PROXY") => Integration::HttpProxy(
                mappings(&p["RequestParameters"]).map_err(|e| format!("template: {id}: {e}"))?,
            ),
            other => return Err(format!("template: {id}: integration type {other:?}")),
        };
        integrations.insert(id.to_owned(), integration);
    }

    let mut by_path: BTreeMap<String, Vec<Operation>> = BTreeMap::new();
    for (id, r) in of_type("AWS::ApiGatewayV2::Route") {
        let p = &r["Properties"];
        let key = p["RouteKey"]
            .as_str()
            .ok_or_else(|| format!("template: {id}: no RouteKey"))?;
        let (method, path) = key
            .split_once(' ')
            .ok_or_else(|| format!("template: {id}: route key {key:?} is not `METHOD /path`"))?;
        let target = p["Target"]["Fn::Sub"]
            .as_str()
            .and_then(|t| t.strip_prefix("integrations/${"))
            .and_then(|t| t.strip_suffix('}'))
            .ok_or_else(|| format!("template: {id}: Target is not integrations/${{…}}"))?;
        let integration = integrations
            .get(target)
            .cloned()
            .ok_or_else(|| format!("template: {id}: no integration {target}"))?;
        let authorized = match p["AuthorizationType"].as_str() {
            Some("CUSTOM") => true,
            Some("NONE") | None => false,
            Some(other) => return Err(format!("template: {id}: authorization {other}")),
        };
        by_path.entry(path.to_owned()).or_default().push(Operation {
            method: method.to_owned(),
            integration,
            authorized,
            // HTTP APIs have no usage plans.
            api_key_required: false,
        });
    }
    if by_path.is_empty() {
        return Err("template: the HTTP API has no routes".into());
    }
    Ok(HttpApi {
        resources: by_path
            .into_iter()
            .map(|(path, operations)| Resource { path, operations })
            .collect(),
        authorizer,
    })
}

/// An HTTP_PROXY integration's `RequestParameters`
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html>):
/// `overwrite:header.NAME` from `$context.authorizer.KEY` or a static value,
/// `remove:header.NAME`, `remove:querystring.NAME`.
pub fn mappings(parameters: &Yaml) -> Result<Mappings, String> {
    let Some(parameters) = parameters.as_mapping() else {
        return Ok(Mappings::default());
    };
    let mut out = Mappings::default();
    for (target, source) in parameters {
        let (Some(target), Some(source)) = (target.as_str(), source.as_str()) else {
            return Err("RequestParameters: a mapping is not a string".into());
        };
        let header = |name: &str| {
            HeaderName::try_from(name).map_err(|e| format!("RequestParameters: {name}: {e}"))
        };
        if let Some(name) = target.strip_prefix("overwrite:header.") {
            let source = match source.strip_prefix("$context.authorizer.") {
                Some(key) => Source::Authorizer(key.to_owned()),
                None if !source.contains('$') => Source::Static(source.to_owned()),
                None => {
                    return Err(format!(
                        "RequestParameters: {target}: {source} is not emulated"
                    ));
                }
            };
            out.headers.push(HeaderMapping {
                name: header(name)?,
                source,
            });
        } else if let Some(name) = target.strip_prefix("remove:header.") {
            out.headers.push(HeaderMapping {
                name: header(name)?,
                source: Source::Removed,
            });
        } else if let Some(name) = target.strip_prefix("remove:querystring.") {
            out.query.push(QueryMapping {
                name: name.to_owned(),
                value: None,
            });
        } else {
            return Err(format!("RequestParameters: {target} is not emulated"));
        }
    }
    Ok(out)
}

/// API Gateway's own answer on an HTTP API: `{"message": …}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let mut resp = Response::new(Body::from(json!({ "message": message }).to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// No route matches: "{"message":"Not Found"}" (http-api-develop-routes.html).
pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// The authorizer could not be invoked or answered in an invalid format: "clients receive a
/// `500 Internal Server Error`" (http-api-lambda-authorizer.html); this gateway answers every
/// integration failure the same way.
pub fn internal_error() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

/// `isAuthorized: false`. The HTTP API guide names no status or body for it; this is the
/// answer HTTP APIs give (403, `Forbidden`), and podkeys' tests of the HTTP front door assert
/// only that such a request is refused and reaches nothing behind the gateway.
pub fn forbidden() -> Response {
    error(StatusCode::FORBIDDEN, "Forbidden")
}

/// What a simple response says.
#[derive(Debug, Clone, PartialEq)]
pub enum Simple {
    Authorized(Map<String, Value>),
    Refused(Map<String, Value>),
}

/// `{"isAuthorized": bool, "context": {…}}`; anything else is an invalid answer (500).
pub fn parse_simple(v: &Value) -> Result<Simple, String> {
    let authorized = v["isAuthorized"]
        .as_bool()
        .ok_or("authorizer answer has no boolean isAuthorized")?;
    let context = match &v["context"] {
        Value::Null => Map::new(),
        Value::Object(c) => c.clone(),
        _ => return Err("authorizer answer's context is not an object".into()),
    };
    Ok(match authorized {
        true => Simple::Authorized(context),
        false => Simple::Refused(context),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::TEMPLATE;
    use crate::routes::{self, OPENAPI};

    /// (METHOD, path, where it goes, authorized) for every route of a front door.
    fn table(resources: &[Resource]) -> Vec<(String, String, String, bool)> {
        let mut rows: Vec<_> = resources
            .iter()
            .flat_map(|r| {
                r.operations.iter().map(|o| {
                    let to = match &o.integration {
                        Integration::Lambda(f) => f.clone(),
                        Integration::HttpProxy(_) => "backend".to_owned(),
                    };
                    (o.method.clone(), r.path.clone(), to, o.authorized)
                })
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn the_http_api_has_the_rest_apis_routes_one_for_one() {
        let http = from_template(TEMPLATE).expect("the template's HTTP API");
        let rest = routes::from_openapi(OPENAPI).expect("the document");
        assert_eq!(table(&http.resources), table(&rest));
        assert_eq!(
            http.authorizer,
            routes::authorizer_function(OPENAPI).expect("authorizer")
        );
    }

    #[test]
    fn the_backend_gets_the_same_identity_headers_and_no_key_header() {
        let http = from_template(TEMPLATE).expect("the template's HTTP API");
        let rest = routes::from_openapi(OPENAPI).expect("the document");
        let backend = |resources: &[Resource]| {
            resources
                .iter()
                .flat_map(|r| &r.operations)
                .find_map(|o| match &o.integration {
                    Integration::HttpProxy(m) => Some(m.clone()),
                    Integration::Lambda(_) => None,
                })
                .expect("a backend route")
        };
        let (http, rest) = (backend(&http.resources), backend(&rest));
        let from_context = |m: &Mappings| {
            let mut v: Vec<(String, String)> = m
                .headers
                .iter()
                .filter_map(|h| match &h.source {
                    Source::Authorizer(k) => Some((h.name.to_string(), k.clone())),
                    _ => None,
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(from_context(&http), from_context(&rest));
        for name in ["x-api-key", "api-key"] {
            assert!(
                http.headers
                    .iter()
                    .any(|h| h.name == name && h.source == Source::Removed),
                "{name} is removed"
            );
        }
        assert!(
            http.query
                .iter()
                .any(|q| q.name == "api_key" && q.value.is_none()),
            "?api_key= is removed"
        );
    }

    #[test]
    fn mappings_this_gateway_cannot_emulate_are_refused() {
        for bad in [
            "{'append:header.x': '$context.requestId'}",
            "{'overwrite:header.x': '$request.header.y'}",
            "{'overwrite:path': '/x'}",
        ] {
            let v: Yaml = serde_yaml::from_str(bad).expect("yaml");
            assert!(mappings(&v).is_err(), "{bad}");
        }
    }

    #[test]
    fn simple_responses_are_read_strictly() {
        assert_eq!(
            parse_simple(&json!({"isAuthorized": true, "context": {"a": 1}})),
            Ok(Simple::Authorized(
                json!({"a": 1}).as_object().cloned().unwrap_or_default()
            ))
        );
        assert_eq!(
            parse_simple(&json!({"isAuthorized": false})),
            Ok(Simple::Refused(Map::new()))
        );
        for bad in [
            json!({}),
            json!({"isAuthorized": "true"}),
            json!({"isAuthorized": true, "context": []}),
            json!({"principalId": "x", "policyDocument": {}}),
        ] {
            assert!(parse_simple(&bad).is_err(), "{bad}");
        }
    }
}
