//! The whole router, driven with `oneshot`. Functions run in-process on a store whose
//! DynamoDB is a closed port: whatever these requests get, they got without a table.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use serde_json::Value;
use tower::ServiceExt;

use super::*;

fn offline_state() -> gateway::State {
    let client = keystore::client::local("http://127.0.0.1:9", Default::default());
    let config = gateway::Config::from_lookup(|name| {
        (name == "TABLE_NAME").then(|| "unreachable".to_owned())
    })
    .expect("config");
    gateway::State::new(keystore::KeyStore::new(client, "unreachable"), config)
}

fn router(functions: Functions) -> Router {
    let gateway = LocalGateway::new(functions, "http://127.0.0.1:9/").expect("document");
    Arc::new(gateway).router()
}

async fn send(
    router: Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = router
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status().as_u16();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn unknown_routes_are_the_templates_404() {
    // `/{proxy+}` takes every other path: only the root matches no resource.
    let cases = [("GET", "/"), ("POST", "/"), ("DELETE", "/?q=1")];
    for (method, path) in cases {
        let (status, body) = send(
            router(Functions::InProcess(offline_state())),
            method,
            path,
            &[],
            Body::empty(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_body_over_api_gateways_limit_is_413() {
    let big = Body::from(vec![b'a'; MAX_PAYLOAD + 1]);
    let (status, body) = send(
        router(Functions::InProcess(offline_state())),
        "POST",
        "/api/v1/auth/api-keys",
        &[],
        big,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test]
async fn requests_without_a_usable_key_are_401_without_the_table() {
    let cases: [&[(&str, &str)]; 4] = [
        &[],
        &[("x-api-key", "not-a-key")],
        &[("authorization", "Basic abc")],
        &[("api-key", "pod_short")],
    ];
    for headers in cases {
        let (status, body) = send(
            router(Functions::InProcess(offline_state())),
            "GET",
            "/api/v1/podcasts/1",
            headers,
            Body::empty(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn public_pages_skip_the_authorizer() {
    let (status, body) = send(
        router(Functions::InProcess(offline_state())),
        "GET",
        "/api/openapi.json",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["paths"].is_object(), "{body}");
}

#[tokio::test]
async fn an_unreachable_lambda_endpoint_is_a_500_never_an_allow() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let cases = [
        ("GET", "/api/v1/podcasts/1", "internal_error"),
        ("GET", "/api/openapi.json", "internal_error"),
    ];
    for (method, path, code) in cases {
        let r = router(Functions::Remote(endpoint.clone()));
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            send(r, method, path, &[("x-api-key", "k")], Body::empty()),
        )
        .await
        .expect("answers in time");
        assert_eq!(
            (answer.0, answer.1["error"]["code"].as_str()),
            (500, Some(code)),
            "{path}"
        );
    }
}

#[test]
fn every_function_the_document_names_runs_in_process() {
    let gateway = LocalGateway::new(Functions::InProcess(offline_state()), "http://b")
        .expect("every function is known");
    assert_eq!(gateway.authorizer, "AuthorizerFunction");
    assert!(!gateway.resources().is_empty());
}
