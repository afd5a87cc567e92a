//! The two events API Gateway builds from a request: the REQUEST authorizer's input
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html>)
//! and the Lambda proxy integration's input, with the authorizer's context in
//! `requestContext.authorizer`
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format>).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::responses::context_string;
use crate::routes::Matched;

pub const ACCOUNT: &str = "123456789012";
pub const API_ID: &str = "local";
pub const STAGE: &str = "local";
pub const REGION: &str = "us-east-1";

/// The parts of one HTTP request that events are built from.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string, without `?` (empty when there is none).
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub request_id: &'a str,
}

impl Incoming<'_> {
    /// The method ARN the authorizer's policy is evaluated against.
    pub fn method_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{}{}",
            self.method, self.path
        )
    }

    pub fn authorizer_event(&self, matched: &Matched<'_>) -> Value {
        let mut event = self.common_event(matched);
        event.insert("type".into(), json!("REQUEST"));
        event.insert("methodArn".into(), json!(self.method_arn()));
        event.insert("stageVariables".into(), json!({}));
        Value::Object(event)
    }

    /// `context` is the authorizer's; its values reach the function as strings.
    pub fn proxy_event(&self, matched: &Matched<'_>, context: &Map<String, Value>) -> Value {
        let mut event = self.common_event(matched);
        let authorizer: Map<String, Value> = context
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(context_string(v))))
            .collect();
        if let Some(Value::Object(ctx)) = event.get_mut("requestContext") {
            ctx.insert("authorizer".into(), Value::Object(authorizer));
        }
        let (body, base64) = match std::str::from_utf8(self.body) {
            Ok("") => (Value::Null, false),
            Ok(text) => (Value::String(text.to_owned()), false),
            Err(_) => (Value::String(STANDARD.encode(self.body)), true),
        };
        event.insert("stageVariables".into(), Value::Null);
        event.insert("body".into(), body);
        event.insert("isBase64Encoded".into(), json!(base64));
        Value::Object(event)
    }

    /// `headers` (last value wins) and `multiValueHeaders`.
    fn header_maps(&self) -> (Value, Value) {
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (name, value) in self.headers {
            if name == "x-forwarded-proto" {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            single.insert(name.as_str().to_owned(), Value::String(value.clone()));
            multi
                .entry(name.as_str().to_owned())
                .or_default()
                .push(Value::String(value));
        }
        // API Gateway sets it from the connection, whatever the client sent.
        single.insert("X-Forwarded-Proto".into(), json!("http"));
        multi.insert("X-Forwarded-Proto".into(), vec![json!("http")]);
        (Value::Object(single), json!(multi))
    }

    fn query_maps(&self) -> (Value, Value) {
        if self.query.is_empty() {
            return (Value::Null, Value::Null);
        }
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode_query(k), decode_query(v));
            single.insert(k.clone(), Value::String(v.clone()));
            multi.entry(k).or_default().push(Value::String(v));
        }
        (Value::Object(single), json!(multi))
    }

    fn request_context(&self, matched: &Matched<'_>) -> Value {
        let user_agent = self
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The host the client called, as API Gateway reports it (`$context.domainName`,
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference):
        // the assertion's issuer is built from it.
        let domain = self
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        json!({
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": domain,
            "httpMethod": self.method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": user_agent},
            "path": self.path,
            "protocol": "HTTP/1.1",
            "requestId": self.request_id,
            "requestTimeEpoch": epoch_millis(),
            "resourceId": "local",
            "resourcePath": matched.resource.path,
            "stage": STAGE,
        })
    }

    /// The fields API Gateway puts in both events.
    fn common_event(&self, matched: &Matched<'_>) -> Map<String, Value> {
        let (headers, multi_headers) = self.header_maps();
        let (query, multi_query) = self.query_maps();
        let path_parameters = if matched.path_parameters.is_empty() {
            Value::Null
        } else {
            Value::Object(
                matched
                    .path_parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
        };
        let mut event = Map::new();
        for (k, v) in [
            ("resource", json!(matched.resource.path)),
            ("path", json!(self.path)),
            ("httpMethod", json!(self.method)),
            ("headers", headers),
            ("multiValueHeaders", multi_headers),
            ("queryStringParameters", query),
            ("multiValueQueryStringParameters", multi_query),
            ("pathParameters", path_parameters),
            ("requestContext", self.request_context(matched)),
        ] {
            event.insert(k.to_owned(), v);
        }
        event
    }
}

/// The 2.0 events of an HTTP API: the REQUEST authorizer's
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>)
/// and the Lambda integration's, with the authorizer's context in
/// `requestContext.authorizer.lambda`
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>).
/// Header names are lowercased; "duplicate headers are combined with commas", as are
/// duplicate query strings; cookies move to `cookies`. The `$default` stage adds no prefix
/// to paths.
impl Incoming<'_> {
    /// `{api}/$default/{METHOD}{path}`: the authorizer reads only `{api}/{stage}/` from it.
    pub fn route_arn(&self) -> String {
        format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/$default/{}{}",
            self.method, self.path
        )
    }

    pub fn authorizer_event_v2(&self, matched: &Matched<'_>) -> Value {
        let mut event = self.common_event_v2(matched, None);
        event.insert("type".into(), json!("REQUEST"));
        event.insert("routeArn".into(), json!(self.route_arn()));
        Value::Object(event)
    }

    /// `context` is the authorizer's, passed on as it answered it.
    pub fn proxy_event_v2(&self, matched: &Matched<'_>, context: &Map<String, Value>) -> Value {
        let mut event = self.common_event_v2(matched, Some(context));
        let (body, base64) = match std::str::from_utf8(self.body) {
            Ok("") => (Value::Null, false),
            Ok(text) => (Value::String(text.to_owned()), false),
            Err(_) => (Value::String(STANDARD.encode(self.body)), true),
        };
        event.insert("body".into(), body);
        event.insert("isBase64Encoded".into(), json!(base64));
        Value::Object(event)
    }

    fn common_event_v2(
        &self,
        matched: &Matched<'_>,
        authorizer: Option<&Map<String, Value>>,
    ) -> Map<String, Value> {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        let mut cookies = Vec::new();
        for (name, value) in self.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == "cookie" {
                cookies.extend(value.split("; ").map(|c| json!(c)));
                continue;
            }
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push(',');
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        headers.insert("x-forwarded-proto".into(), "http".into());
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        for pair in self.query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode_query(v);
            query
                .entry(decode_query(k))
                .and_modify(|existing| {
                    existing.push(',');
                    existing.push_str(&v);
                })
                .or_insert(v);
        }
        let route_key = format!("{} {}", matched.operation.method, matched.resource.path);
        let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
        let domain = headers
            .get("host")
            .filter(|h| !h.is_empty())
            .cloned()
            .unwrap_or_else(|| "localhost".into());
        let mut context = json!({
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or_default(),
            "http": {
                "method": self.method,
                "path": self.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": self.request_id,
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": epoch_millis(),
        });
        if let (Some(c), Some(authorizer)) = (context.as_object_mut(), authorizer) {
            c.insert("authorizer".into(), json!({ "lambda": authorizer }));
        }
        let mut event = Map::new();
        event.insert("version".into(), json!("2.0"));
        event.insert("routeKey".into(), json!(route_key));
        event.insert("rawPath".into(), json!(self.path));
        event.insert("rawQueryString".into(), json!(self.query));
        if !cookies.is_empty() {
            event.insert("cookies".into(), Value::Array(cookies));
        }
        event.insert("headers".into(), json!(headers));
        if !query.is_empty() {
            event.insert("queryStringParameters".into(), json!(query));
        }
        if !matched.path_parameters.is_empty() {
            let params: Map<String, Value> = matched
                .path_parameters
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            event.insert("pathParameters".into(), Value::Object(params));
        }
        event.insert("requestContext".into(), context);
        event
    }
}

/// A query string key or value as API Gateway hands it over: `+` is a space, `%XX` decoded.
fn decode_query(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn epoch_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::{self, OPENAPI};
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).expect("value"));
        }
        map
    }

    /// Builds both events for one request to `path`.
    fn events(method: &str, path: &str, query: &str, h: &HeaderMap, body: &[u8]) -> (Value, Value) {
        let resources = routes::from_openapi(OPENAPI).expect("document");
        let matched = routes::route(&resources, method, path).expect("routed");
        let body = Bytes::copy_from_slice(body);
        let incoming = Incoming {
            method,
            path,
            query,
            headers: h,
            body: &body,
            request_id: "req-1",
        };
        let context = json!({"owner_id": "alice", "admin": false, "n": 2});
        let context = context.as_object().cloned().unwrap_or_default();
        (
            incoming.authorizer_event(&matched),
            incoming.proxy_event(&matched, &context),
        )
    }

    #[test]
    fn the_authorizer_event_names_the_method_arn_resource_and_parameters() {
        let h = headers(&[("x-api-key", "k")]);
        let (auth, _) = events("DELETE", "/api/v1/auth/api-keys/key%2Fx", "", &h, b"");
        assert_eq!(auth["type"], "REQUEST");
        assert_eq!(
            auth["methodArn"],
            "arn:aws:execute-api:us-east-1:123456789012:local/local/DELETE/api/v1/auth/api-keys/key%2Fx"
        );
        assert_eq!(auth["resource"], "/api/v1/auth/api-keys/{id}");
        assert_eq!(auth["pathParameters"], json!({"id": "key/x"}));
        assert_eq!(auth["headers"]["x-api-key"], "k");
        assert_eq!(auth["queryStringParameters"], Value::Null);
        assert_eq!(
            auth["requestContext"]["resourcePath"],
            "/api/v1/auth/api-keys/{id}"
        );
        assert_eq!(auth["requestContext"]["requestId"], "req-1");
    }

    #[test]
    fn repeated_headers_keep_every_value_and_the_last_wins_in_headers() {
        let h = headers(&[("api-key", "a"), ("api-key", "b")]);
        let (auth, proxy) = events("GET", "/api/v1/auth/me", "", &h, b"");
        for event in [auth, proxy] {
            assert_eq!(event["headers"]["api-key"], "b");
            assert_eq!(event["multiValueHeaders"]["api-key"], json!(["a", "b"]));
        }
    }

    #[test]
    fn x_forwarded_proto_is_the_gateways_whatever_the_client_sent() {
        let h = headers(&[("x-forwarded-proto", "https")]);
        let (auth, _) = events("GET", "/api/v1/auth/me", "", &h, b"");
        assert_eq!(auth["headers"]["X-Forwarded-Proto"], "http");
        assert_eq!(auth["headers"].get("x-forwarded-proto"), None);
        assert_eq!(
            auth["multiValueHeaders"]["X-Forwarded-Proto"],
            json!(["http"])
        );
    }

    #[test]
    fn query_strings_are_decoded_and_repeats_kept() {
        let cases = [
            ("a=1&a=2", json!({"a": "2"}), json!({"a": ["1", "2"]})),
            ("q=a+b%2Bc", json!({"q": "a b+c"}), json!({"q": ["a b+c"]})),
            (
                "flag&&x=",
                json!({"flag": "", "x": ""}),
                json!({"flag": [""], "x": [""]}),
            ),
            (
                "bad=%FF",
                json!({"bad": "\u{FFFD}"}),
                json!({"bad": ["\u{FFFD}"]}),
            ),
        ];
        for (query, single, multi) in cases {
            let (auth, _) = events(
                "GET",
                "/api/v1/auth/api-keys",
                query,
                &HeaderMap::new(),
                b"",
            );
            assert_eq!(auth["queryStringParameters"], single, "{query}");
            assert_eq!(auth["multiValueQueryStringParameters"], multi, "{query}");
        }
    }

    #[test]
    fn the_proxy_event_carries_the_context_as_strings_and_the_body() {
        let cases: [(&[u8], Value, bool); 3] = [
            (b"", Value::Null, false),
            (b"{\"a\":1}", json!("{\"a\":1}"), false),
            (b"\xff\x00", json!("/wA="), true),
        ];
        for (body, expected, base64) in cases {
            let (_, proxy) = events("POST", "/api/v1/auth/api-keys", "", &HeaderMap::new(), body);
            assert_eq!(proxy["body"], expected);
            assert_eq!(proxy["isBase64Encoded"], base64);
            assert_eq!(
                proxy["requestContext"]["authorizer"],
                json!({"owner_id": "alice", "admin": "false", "n": "2"})
            );
            assert_eq!(proxy.get("methodArn"), None);
        }
    }
}
