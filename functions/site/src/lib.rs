//! The public pages, no key needed: the OpenAPI document, the API reference rendered by a
//! vendored Swagger UI, and the key-management console. Every file is embedded at build time
//! (build.rs); nothing is loaded from a third party at run time, and every page carries a
//! Content-Security-Policy that allows only this origin.

use std::convert::Infallible;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

/// The public form of infra/openapi.yaml, without `servers` (added per request).
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

const DOCS_HTML: &str = include_str!("../assets/docs.html");
const DOCS_JS: &str = include_str!("../assets/docs.js");
const SWAGGER_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/swagger-ui-bundle.js"));
const SWAGGER_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/swagger-ui.css"));
const CONSOLE_HTML: &str = include_str!("../assets/console.html");
const CONSOLE_JS: &str = include_str!("../assets/console.js");
const CONSOLE_CSS: &str = include_str!("../assets/console.css");

/// The console: scripts and styles from this origin only, no inline script or style, API
/// calls to this origin only.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";
/// Swagger UI sets inline `style` attributes; its scripts still come from this origin only.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; \
     font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";

/// What a request asks for, by path (without the stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    OpenApi,
    Docs,
    Console,
    File {
        content_type: &'static str,
        text: &'static str,
    },
}

/// The pages' files: path, content type, text. infra/openapi.yaml lists the same names in
/// each page's `{file}` enum (a test keeps the two equal).
const FILES: [(&str, &str, &str); 5] = [
    ("/api/docs/swagger-ui-bundle.js", JS, SWAGGER_JS),
    ("/api/docs/swagger-ui.css", CSS, SWAGGER_CSS),
    ("/api/docs/docs.js", JS, DOCS_JS),
    ("/console/console.js", JS, CONSOLE_JS),
    ("/console/console.css", CSS, CONSOLE_CSS),
];

fn page(path: &str) -> Option<Page> {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    match path {
        "/api/openapi.json" => Some(Page::OpenApi),
        "/api/docs" => Some(Page::Docs),
        "/console" => Some(Page::Console),
        _ => FILES
            .iter()
            .find(|(p, _, _)| *p == path)
            .map(|&(_, content_type, text)| Page::File { content_type, text }),
    }
}

/// Where the API is mounted, as seen by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `https://host` (scheme from `X-Forwarded-Proto`, as API Gateway sets it).
    pub origin: String,
    /// The stage or base-path prefix (`/prod`, or empty on a custom domain or locally).
    pub base: String,
}

impl Origin {
    fn of(req: &Request) -> Self {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let proto = match header("x-forwarded-proto") {
            Some("http") => "http",
            _ => "https",
        };
        let host = header("host").unwrap_or("localhost");
        let path = req.raw_http_path();
        let full = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx.path.clone(),
            _ => None,
        };
        let base = full
            .as_deref()
            .and_then(|full| full.strip_suffix(path))
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        Self {
            origin: format!("{proto}://{host}"),
            base,
        }
    }
}

pub async fn handler(req: Request) -> Result<Response<Body>, Infallible> {
    let request_id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    let origin = Origin::of(&req);
    let path = req.raw_http_path();
    Ok(respond(
        req.method().as_str(),
        path,
        &origin,
        request_id.as_deref(),
    ))
}

/// The response to `method path`, for a client that reached the API at `origin`.
pub fn respond(
    method: &str,
    path: &str,
    origin: &Origin,
    request_id: Option<&str>,
) -> Response<Body> {
    let Some(page) = page(path) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such page",
            request_id,
        );
    };
    if method != "GET" && method != "HEAD" {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET and HEAD are allowed here",
            request_id,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let base = attribute(&origin.base);
    let (content_type, body, csp, cache) = match page {
        Page::OpenApi => {
            let url = format!("{}{}", origin.origin, origin.base);
            let body = openapi_with_server(&url);
            (JSON, body, CONSOLE_CSP, "no-cache")
        }
        Page::Docs => (
            HTML,
            DOCS_HTML.replace("{{BASE}}", &base),
            DOCS_CSP,
            "no-cache",
        ),
        Page::Console => (
            HTML,
            CONSOLE_HTML.replace("{{BASE}}", &base),
            CONSOLE_CSP,
            "no-store",
        ),
        Page::File { content_type, text } => (
            content_type,
            text.to_owned(),
            CONSOLE_CSP,
            "public, max-age=300",
        ),
    };
    let body = if method == "HEAD" {
        String::new()
    } else {
        body
    };
    let mut r = Response::new(Body::Text(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    security_headers(h);
    r
}

/// The document with `servers` naming `url`: a JSON object whose first member is `servers`.
pub fn openapi_with_server(url: &str) -> String {
    let servers = serde_json::json!([{ "url": url }]);
    match OPENAPI_JSON.strip_prefix('{') {
        Some(rest) => format!("{{\"servers\":{servers},{rest}"),
        None => OPENAPI_JSON.to_owned(),
    }
}

fn security_headers(h: &mut lambda_http::http::HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The API's error body (SPEC §3), for the few errors a page can have.
fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: Option<&str>,
) -> Response<Body> {
    let mut inner = serde_json::json!({ "code": code, "message": message });
    if let Some(id) = request_id {
        inner["request_id"] = serde_json::Value::from(id);
    }
    let body = serde_json::json!({ "error": inner }).to_string();
    let mut r = Response::new(Body::Text(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    security_headers(h);
    r
}

/// `s` safe inside a double-quoted HTML attribute.
fn attribute(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
            assert_eq!(body["error"]["code"], "not_found");
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
            assert_eq!(body["error"]["code"], "method_not_allowed");
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
}
