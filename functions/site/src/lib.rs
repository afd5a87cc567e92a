//! The public pages, no key needed: the OpenAPI document, the API reference rendered by a
//! vendored Swagger UI, and the key-management console. Every file is embedded at build time
//! (build.rs); nothing is loaded from a third party at run time, and every page carries a
//! Content-Security-Policy that allows only this origin.

mod deployment;

use std::convert::Infallible;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use outcome::Code;

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
        // An HTTP API's `$default` stage has no prefix: its raw path is the whole path.
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
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
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
        return error(Code::NotFound, "no such page", request_id);
    };
    if method != "GET" && method != "HEAD" {
        let mut r = error(
            Code::MethodNotAllowed,
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
            CONSOLE_HTML
                .replace("{{BASE}}", &base)
                .replace("{{FEED_EXAMPLE}}", &attribute(deployment::feed_example())),
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
    let document = deployment::document();
    match document.strip_prefix('{') {
        Some(rest) => format!("{{\"servers\":{servers},{rest}"),
        None => document.to_owned(),
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
fn error(code: Code, message: &str, request_id: Option<&str>) -> Response<Body> {
    let body = outcome::error_body(code, message, request_id);
    let mut r = Response::new(Body::Text(body));
    *r.status_mut() =
        StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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
#[path = "lib_tests.rs"]
mod tests;
