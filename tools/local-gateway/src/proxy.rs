//! The podcast backend behind the `HTTP_PROXY` integration. API Gateway passes the client's
//! method, path, query, headers and body through
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/setup-http-integrations.html>),
//! except for the integration request headers and query parameters the document maps
//! (`x-amazon-apigateway-integration.requestParameters`): those are set from their source,
//! a static value in single quotes or `context.authorizer.*`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration-requestParameters.html>,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-parameter-mapping.html>),
//! so whatever the client sent under a mapped name (in any letter case: HTTP header names
//! are case-insensitive, RFC 9110 §5.1) never reaches the backend.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use http_body_util::{BodyExt, Full};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::events::Incoming;
use crate::invoke::{HttpClient, INTEGRATION_TIMEOUT};
use crate::responses::{Kind, context_string};

/// One `integration.request.header.NAME` mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMapping {
    pub name: HeaderName,
    pub source: Source,
}

/// Where a mapped header's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `'value'`.
    Static(String),
    /// `context.authorizer.KEY`.
    Authorizer(String),
    /// `method.request.header.NAME`.
    MethodHeader(HeaderName),
    /// HTTP APIs' `remove:header.NAME`: the client's header is dropped, nothing replaces it.
    Removed,
}

/// One `integration.request.querystring.NAME` mapping to a static value: whatever the client
/// sent under that name is replaced by the value (the template uses it to keep feed keys,
/// `?api_key=`, from the backend, SPEC §16). `None` is an HTTP API's `remove:querystring`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMapping {
    pub name: String,
    pub value: Option<String>,
}

/// An integration's `requestParameters`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mappings {
    pub headers: Vec<HeaderMapping>,
    pub query: Vec<QueryMapping>,
}

/// The mappings of an integration's `requestParameters`. Mappings this gateway does not
/// emulate are refused at startup rather than ignored.
pub fn mappings(parameters: &serde_yaml::Value) -> Result<Mappings, String> {
    let Some(parameters) = parameters.as_mapping() else {
        return Ok(Mappings::default());
    };
    let mut mappings = Mappings::default();
    for (target, source) in parameters {
        let (Some(target), Some(source)) = (target.as_str(), source.as_str()) else {
            return Err("requestParameters: a mapping is not a string".into());
        };
        if target == "integration.request.path.proxy" && source == "method.request.path.proxy" {
            continue; // the `{proxy}` of the backend URL: see `forward`
        }
        if let Some(name) = target.strip_prefix("integration.request.querystring.") {
            let value = source
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .ok_or_else(|| format!("requestParameters: {target}: only static values"))?;
            mappings.query.push(QueryMapping {
                name: name.to_owned(),
                value: Some(value.to_owned()),
            });
            continue;
        }
        let name = target
            .strip_prefix("integration.request.header.")
            .and_then(|n| HeaderName::try_from(n).ok())
            .ok_or_else(|| format!("requestParameters: {target} is not emulated"))?;
        let source = if let Some(v) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            Source::Static(v.to_owned())
        } else if let Some(key) = source.strip_prefix("context.authorizer.") {
            Source::Authorizer(key.to_owned())
        } else if let Some(h) = source.strip_prefix("method.request.header.") {
            Source::MethodHeader(
                HeaderName::try_from(h).map_err(|e| format!("requestParameters: {h}: {e}"))?,
            )
        } else {
            return Err(format!(
                "requestParameters: {target}: {source} is not emulated"
            ));
        };
        mappings.headers.push(HeaderMapping { name, source });
    }
    Ok(mappings)
}

/// The query string the backend receives: the client's pairs in order, less every mapped
/// name (compared decoded, as API Gateway hands parameters over), then each mapping.
pub fn integration_query(client: &str, mappings: &[QueryMapping]) -> String {
    let mapped = |pair: &str| {
        let name = pair.split('=').next().unwrap_or("");
        let name = percent_encoding::percent_decode_str(&name.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        mappings.iter().any(|m| m.name == name)
    };
    let mut pairs: Vec<String> = client
        .split('&')
        .filter(|p| !p.is_empty() && !mapped(p))
        .map(str::to_owned)
        .collect();
    for m in mappings {
        if let Some(value) = &m.value {
            pairs.push(format!(
                "{}={}",
                utf8_percent_encode(&m.name, UNRESERVED),
                utf8_percent_encode(value, UNRESERVED)
            ));
        }
    }
    pairs.join("&")
}

/// The headers the backend receives: the client's, less hop-by-hop ones and every mapped
/// name, then each mapping. A mapping with no value (no such context key or header) leaves
/// the header out: AWS does not document that case, and leaving it out never passes on
/// what the client sent.
pub fn integration_headers(
    client: &HeaderMap,
    mappings: &[HeaderMapping],
    context: &Map<String, Value>,
) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in client {
        let hop = matches!(
            name.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding"
        );
        if !hop && !mappings.iter().any(|m| m.name == name) {
            out.append(name, value.clone());
        }
    }
    for m in mappings {
        let value = match &m.source {
            Source::Static(v) => HeaderValue::from_str(v).ok(),
            Source::Authorizer(key) => context
                .get(key)
                .and_then(|v| HeaderValue::from_str(&context_string(v)).ok()),
            Source::MethodHeader(h) => client.get(h).cloned(),
            Source::Removed => None,
        };
        if let Some(value) = value {
            out.insert(m.name.clone(), value);
        }
    }
    out
}

/// Everything but RFC 3986's unreserved characters is encoded in a query name or value.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters a path segment may carry unencoded (RFC 3986 `pchar`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The decoded `{proxy}` path parameter, encoded again for the backend URL.
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| utf8_percent_encode(seg, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends the request to the backend (`{backend}/{proxy}`) and its answer back, or the
/// gateway response type of the failure.
pub async fn forward(
    client: &HttpClient,
    backend: &str,
    incoming: &Incoming<'_>,
    proxy_path: &str,
    mappings: &Mappings,
    context: &Map<String, Value>,
) -> Result<Response, Kind> {
    let mut uri = format!("{backend}/{}", encode_path(proxy_path));
    let query = integration_query(incoming.query, &mappings.query);
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }
    let req = hyper::Request::builder()
        .method(incoming.method)
        .uri(&uri)
        .body(Full::new(incoming.body.clone()));
    let Ok(mut req) = req else {
        return Err(Kind::Default5xx);
    };
    *req.headers_mut() = integration_headers(incoming.headers, &mappings.headers, context);
    match tokio::time::timeout(INTEGRATION_TIMEOUT, client.request(req)).await {
        Err(_) => Err(Kind::IntegrationTimeout),
        Ok(Err(e)) => {
            tracing::warn!(request_id = incoming.request_id, error = %e, "backend unreachable");
            Err(Kind::IntegrationFailure)
        }
        Ok(Ok(resp)) => {
            let (parts, body) = resp.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let mut out = Response::new(Body::from(bytes));
            *out.status_mut() = parts.status;
            for (name, value) in &parts.headers {
                if !matches!(name.as_str(), "connection" | "transfer-encoding") {
                    out.headers_mut().append(name, value.clone());
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
