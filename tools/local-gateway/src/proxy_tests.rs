use super::*;
use hyper::body::Bytes;
use serde_json::json;

/// The mapping the template gives the podcast backend (SPEC §3, §15).
const PODCAST_MAPPING: &str = r#"
integration.request.path.proxy: method.request.path.proxy
integration.request.header.X-Podkeys-Owner-Id: context.authorizer.owner_id
integration.request.header.X-Podkeys-Key-Id: context.authorizer.key_id
integration.request.header.X-Podkeys-Scopes: context.authorizer.scopes
integration.request.header.X-Podkeys-Assertion: context.authorizer.assertion
integration.request.header.X-API-Key: "'redacted'"
integration.request.header.Api-Key: "'redacted'"
integration.request.header.Authorization: "'redacted'"
integration.request.querystring.api_key: "'redacted'"
"#;

fn parse(yaml: &str) -> Result<Mappings, String> {
    mappings(&serde_yaml::from_str(yaml).map_err(|e| e.to_string())?)
}

fn podcast_mappings() -> Vec<HeaderMapping> {
    parse(PODCAST_MAPPING)
        .expect("the podcast mapping parses")
        .headers
}

#[test]
fn a_mapped_query_parameter_replaces_every_value_the_client_sent() {
    let query = parse(PODCAST_MAPPING).expect("parses").query;
    let cases = [
        ("", "api_key=redacted"),
        ("api_key=pod_secret", "api_key=redacted"),
        (
            "a=1&api_key=pod_x&b=2&api%5Fkey=pod_y",
            "a=1&b=2&api_key=redacted",
        ),
        ("page=2&q=a+b", "page=2&q=a+b&api_key=redacted"),
        ("API_KEY=keep", "API_KEY=keep&api_key=redacted"),
    ];
    for (client, backend) in cases {
        assert_eq!(integration_query(client, &query), backend, "{client}");
    }
    assert!(parse("integration.request.querystring.x: method.request.querystring.x").is_err());
}

fn context() -> Map<String, Value> {
    let c = json!({
        "owner_id": "alice",
        "key_id": "key_real",
        "scopes": "podcasts:read",
        "assertion": "eyJ.real.jwt",
        "admin": false,
    });
    c.as_object().cloned().unwrap_or_default()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    map
}

fn values(map: &HeaderMap, name: &str) -> Vec<String> {
    map.get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

#[test]
fn mappings_read_static_values_context_and_method_headers() {
    let got = parse(
        "integration.request.header.A: \"'x y'\"\nintegration.request.header.B: \"''\"\n\
         integration.request.header.C: context.authorizer.owner_id\n\
         integration.request.header.D: method.request.header.X-Trace",
    )
    .expect("parses");
    let source = |n: &str| {
        got.headers
            .iter()
            .find(|m| m.name == n)
            .map(|m| m.source.clone())
    };
    assert_eq!(source("a"), Some(Source::Static("x y".into())));
    assert_eq!(source("b"), Some(Source::Static(String::new())));
    assert_eq!(source("c"), Some(Source::Authorizer("owner_id".into())));
    assert_eq!(
        source("d"),
        Some(Source::MethodHeader(HeaderName::from_static("x-trace")))
    );
    assert_eq!(parse("~").expect("none"), Mappings::default());
}

#[test]
fn mappings_this_gateway_does_not_emulate_are_refused() {
    let cases = [
        "integration.request.querystring.q: method.request.querystring.q",
        "integration.request.path.id: method.request.path.id",
        "integration.request.header.A: stageVariables.x",
        "integration.request.header.A: context.requestId",
        "integration.request.header.A: unquoted",
        "integration.request.header.A: 3",
        "integration.request.header.Bad Name: \"'x'\"",
    ];
    for yaml in cases {
        assert!(parse(yaml).is_err(), "{yaml}");
    }
}

#[test]
fn forged_podkeys_headers_are_replaced_by_the_authorizers_values() {
    let cases: [&[(&str, &str)]; 5] = [
        &[("x-podkeys-owner-id", "victim")],
        &[("X-PODKEYS-SCOPES", "* admin")],
        &[("X-Podkeys-Key-Id", "key_a"), ("x-podkeys-key-id", "key_b")],
        &[("x-podkeys-assertion", "forged.jwt.here")],
        &[
            ("X-Podkeys-Owner-Id", "victim"),
            ("X-Podkeys-Owner-Id", "alice"),
        ],
    ];
    for forged in cases {
        let out = integration_headers(&headers(forged), &podcast_mappings(), &context());
        for (name, real) in [
            ("x-podkeys-owner-id", "alice"),
            ("x-podkeys-key-id", "key_real"),
            ("x-podkeys-scopes", "podcasts:read"),
            ("x-podkeys-assertion", "eyJ.real.jwt"),
        ] {
            assert_eq!(values(&out, name), [real], "{forged:?}: {name}");
        }
    }
}

#[test]
fn the_callers_key_headers_reach_the_backend_redacted() {
    let key = "pod_4TbqY0secretsecretsecretsecretsecretsecret123456";
    let cases: [&[(&str, &str)]; 4] = [
        &[("x-api-key", key)],
        &[("Api-Key", key), ("api-key", key)],
        &[("authorization", &format!("Bearer {key}"))],
        &[],
    ];
    for sent in cases {
        let out = integration_headers(&headers(sent), &podcast_mappings(), &context());
        for name in ["x-api-key", "api-key", "authorization"] {
            assert_eq!(values(&out, name), ["redacted"], "{sent:?}: {name}");
        }
        assert!(
            !out.values()
                .any(|v| String::from_utf8_lossy(v.as_bytes()).contains(key)),
            "{sent:?}"
        );
    }
}

#[test]
fn a_mapping_without_a_value_leaves_the_header_out() {
    let mut context = context();
    context.remove("assertion");
    let out = integration_headers(
        &headers(&[("x-podkeys-assertion", "forged")]),
        &podcast_mappings(),
        &context,
    );
    assert_eq!(values(&out, "x-podkeys-assertion"), Vec::<String>::new());
}

#[test]
fn other_headers_pass_with_every_value_and_hop_by_hop_ones_do_not() {
    let sent = headers(&[
        ("accept", "a"),
        ("x-trace", "1"),
        ("x-trace", "2"),
        ("host", "gateway"),
        ("connection", "keep-alive"),
        ("content-length", "3"),
        ("transfer-encoding", "chunked"),
    ]);
    let out = integration_headers(&sent, &podcast_mappings(), &context());
    assert_eq!(values(&out, "accept"), ["a"]);
    assert_eq!(values(&out, "x-trace"), ["1", "2"]);
    for hop in ["host", "connection", "content-length", "transfer-encoding"] {
        assert!(values(&out, hop).is_empty(), "{hop}");
    }
}

#[test]
fn proxy_paths_are_encoded_again_segment_by_segment() {
    let cases = [
        ("api/v1/podcasts/42", "api/v1/podcasts/42"),
        ("a b/c", "a%20b/c"),
        ("key/x", "key/x"),
        ("é?#%", "%C3%A9%3F%23%25"),
        ("a:b@c!$&'()*+,;=-._~", "a:b@c!$&'()*+,;=-._~"),
        ("", ""),
    ];
    for (decoded, encoded) in cases {
        assert_eq!(encode_path(decoded), encoded, "{decoded}");
    }
}

#[tokio::test]
async fn an_unreachable_backend_is_an_integration_failure() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let backend = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let (h, body) = (HeaderMap::new(), Bytes::new());
    let incoming = Incoming {
        method: "GET",
        path: "/api/v1/podcasts/1",
        query: "",
        headers: &h,
        body: &body,
        request_id: "req-1",
    };
    let resp = forward(
        &client,
        &backend,
        &incoming,
        "api/v1/podcasts/1",
        &Mappings::default(),
        &context(),
    )
    .await;
    assert_eq!(resp.err(), Some(Kind::IntegrationFailure));
}

#[test]
fn a_removed_query_parameter_is_dropped_and_not_replaced() {
    let removed = [QueryMapping {
        name: "api_key".into(),
        value: None,
    }];
    assert_eq!(
        integration_query("a=1&api_key=k&b=2&api%5Fkey=j", &removed),
        "a=1&b=2"
    );
}
