//! The public pages through the local gateway: no key needed, nothing else opened up.

use serde_json::Value;

use crate::e2e::stack;

#[tokio::test]
async fn the_document_is_public_and_names_the_gateway_as_its_server() {
    let s = stack("sitedoc").await;
    let r = s.send("GET", "/api/openapi.json", &[], None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["servers"][0]["url"], Value::from(s.base()));
    assert_eq!(r.body["openapi"], "3.0.1");
    // The public form: no deployment detail, and the client's three ways to send a key.
    assert!(!r.text.contains("x-amazon-apigateway"));
    assert!(!r.text.contains("Fn::Sub"));
    let schemes = r.body["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    let mut names: Vec<&str> = schemes.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["ApiKey", "ApiKeyHeader", "Bearer"]);
    // A key sent along changes nothing, even a malformed one: the authorizer is not asked.
    let with_garbage = s
        .send(
            "GET",
            "/api/openapi.json",
            &[("X-API-Key", "garbage")],
            None,
        )
        .await;
    assert_eq!(with_garbage.status, 200);
}

#[tokio::test]
async fn pages_are_public_but_everything_else_still_needs_a_key() {
    let s = stack("sitepages").await;
    for (path, ty) in [
        ("/api/docs", "text/html; charset=utf-8"),
        ("/console", "text/html; charset=utf-8"),
        ("/console/console.js", "text/javascript; charset=utf-8"),
        (
            "/api/docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let r = s.raw(&format!("GET {path} HTTP/1.1"), b"").await;
        assert_eq!(r.status, 200, "{path}");
        let head = r.head.to_ascii_lowercase();
        assert!(
            head.contains(&format!("content-type: {ty}")),
            "{path}: {head}"
        );
        assert!(
            head.contains("content-security-policy: default-src 'none'"),
            "{path}"
        );
    }
    // Unknown files of a page: 404 from the site function, not the podcast backend.
    let r = s.raw("GET /console/secrets.txt HTTP/1.1", b"").await;
    r.error(404, "not_found");
    // Other methods: 405 with Allow.
    let r = s.raw("POST /console HTTP/1.1", b"{}").await;
    r.error(405, "method_not_allowed");
    assert!(r.head.to_ascii_lowercase().contains("allow: get, head"));
    // Neighbours of the public pages are not public.
    for path in [
        "/api/v1/auth/me",
        "/api/openapi.yaml",
        "/consoles",
        "/api/v1/podcasts",
    ] {
        let r = s.raw(&format!("GET {path} HTTP/1.1"), b"").await;
        r.error(401, "unauthorized");
    }
}
