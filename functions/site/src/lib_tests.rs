//! The site's unit tests.
use super::*;

fn local() -> Origin {
    Origin {
        origin: "http://127.0.0.1:3000".into(),
        base: String::new(),
    }
}

fn text(r: &Response<Body>) -> &str {
    match r.body() {
        Body::Text(t) => t,
        _ => "",
    }
}

fn header<'a>(r: &'a Response<Body>, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// events/openapi-document.json (a REST proxy event on stage `prod`), for `method path`.
fn event(method: &str, path: &str) -> Request {
    let mut event: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/openapi-document.json"))
            .expect("the fixture is JSON");
    event["resource"] = path.into();
    event["path"] = path.into();
    event["httpMethod"] = method.into();
    event["requestContext"]["path"] = format!("/prod{path}").into();
    event["requestContext"]["resourcePath"] = path.into();
    event["requestContext"]["httpMethod"] = method.into();
    lambda_http::request::from_str(&event.to_string()).expect("a REST proxy event")
}

#[tokio::test]
async fn the_document_names_the_url_it_was_fetched_from() {
    let r = handler(event("GET", "/api/openapi.json"))
        .await
        .expect("infallible");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), JSON);
    let doc: serde_json::Value = serde_json::from_str(text(&r)).expect("JSON");
    assert_eq!(
        doc["servers"][0]["url"],
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    );
    assert_eq!(doc["openapi"], "3.0.1");
    assert!(doc["paths"]["/api/v1/auth/api-keys"]["post"].is_object());
}

#[test]
fn locally_the_server_is_the_local_gateway() {
    let r = respond("GET", "/api/openapi.json", &local(), None);
    let doc: serde_json::Value = serde_json::from_str(text(&r)).expect("JSON");
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:3000");
}

#[test]
fn a_quote_in_the_url_cannot_break_the_document() {
    let doc: serde_json::Value =
        serde_json::from_str(&openapi_with_server("http://h\"},{\"x\":1")).expect("JSON");
    assert_eq!(doc["servers"][0]["url"], "http://h\"},{\"x\":1");
    assert!(doc.get("x").is_none());
}

#[tokio::test]
async fn pages_link_their_files_under_the_stage() {
    let r = handler(event("GET", "/console")).await.expect("infallible");
    assert_eq!(r.status(), StatusCode::OK);
    let html = text(&r);
    assert!(html.contains(r#"<script src="/prod/console/console.js"></script>"#));
    assert!(html.contains(r#"href="/prod/console/console.css""#));
    assert!(!html.contains("{{BASE}}"));
    let r = handler(event("GET", "/api/docs"))
        .await
        .expect("infallible");
    assert!(text(&r).contains(r#"data-spec="/prod/api/openapi.json""#));
}

#[test]
fn every_page_has_a_strict_policy_and_no_inline_script() {
    for (path, csp) in [("/console", CONSOLE_CSP), ("/api/docs", DOCS_CSP)] {
        let r = respond("GET", path, &local(), None);
        assert_eq!(header(&r, "content-type"), HTML);
        assert_eq!(header(&r, "content-security-policy"), csp);
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert_eq!(header(&r, "x-frame-options"), "DENY");
        let html = text(&r);
        for script in html.split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("src="),
                "{path}: inline script"
            );
            assert!(script.contains("></script>"), "{path}");
        }
        assert!(!html.contains("style="), "{path}: inline style");
        let handler = html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!handler, "{path}: inline event handler");
    }
    assert!(!CONSOLE_CSP.contains("unsafe"));
    for csp in [CONSOLE_CSP, DOCS_CSP] {
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("default-src 'none'"));
    }
}

#[test]
fn files_have_their_types_and_unknown_ones_are_404_json() {
    for (path, ty) in [
        ("/api/docs/swagger-ui-bundle.js", JS),
        ("/api/docs/swagger-ui.css", CSS),
        ("/api/docs/docs.js", JS),
        ("/console/console.js", JS),
        ("/console/console.css", CSS),
    ] {
        let r = respond("GET", path, &local(), None);
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "content-type"), ty, "{path}");
        assert!(text(&r).len() > 100, "{path}");
    }
    for path in [
        "/console/../Cargo.toml",
        "/api/docs/index.html",
        "/console/x.js",
    ] {
        let r = respond("GET", path, &local(), Some("req-9"));
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = serde_json::from_str(text(&r)).expect("JSON");
        assert_eq!(body["error"]["code"], Code::NotFound.as_str());
        assert_eq!(body["error"]["request_id"], "req-9");
    }
}

/// The document lists each page's files (the `file` enum Schemathesis and Swagger UI
/// use): exactly the files this function serves.
#[test]
fn the_document_lists_exactly_the_files_served() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("JSON");
    let mut listed = Vec::new();
    for page in ["/api/docs", "/console"] {
        let item = &doc["paths"][format!("{page}/{{file}}")]["get"];
        let names = item["parameters"][0]["schema"]["enum"]
            .as_array()
            .expect("a file enum");
        for name in names {
            listed.push(format!("{page}/{}", name.as_str().expect("a name")));
        }
    }
    let served: Vec<String> = FILES.iter().map(|(p, _, _)| (*p).to_owned()).collect();
    assert_eq!(listed, served);
}

#[test]
fn only_get_and_head_are_allowed() {
    let head = respond("HEAD", "/api/openapi.json", &local(), None);
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(text(&head), "");
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = respond(method, "/console", &local(), None);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&r, "allow"), "GET, HEAD");
        let body: serde_json::Value = serde_json::from_str(text(&r)).expect("JSON");
        assert_eq!(body["error"]["code"], Code::MethodNotAllowed.as_str());
    }
}

#[test]
fn a_hostile_base_path_is_escaped_in_attributes() {
    let origin = Origin {
        origin: "https://h".into(),
        base: "/a\"><script>x</script>".into(),
    };
    let html = text(&respond("GET", "/console", &origin, None)).to_owned();
    assert!(!html.contains("<script>x"));
    assert!(html.contains("/a&quot;&gt;&lt;script&gt;"));
}
