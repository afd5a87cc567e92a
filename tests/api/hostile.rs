//! Hostile input over raw HTTP at the local gateway (SPEC §8): each case gets the exact status
//! and error code, and the table changes only when a case is meant to create a key.

use crate::e2e::stack;

/// One raw request: request line and header lines (no Host / Content-Length), body, and the
/// expected status and error code (`None` for a success body).
struct Case {
    what: &'static str,
    head: String,
    body: Vec<u8>,
    status: u16,
    code: Option<&'static str>,
}

fn case(
    what: &'static str,
    head: String,
    body: &[u8],
    status: u16,
    code: Option<&'static str>,
) -> Case {
    Case {
        what,
        head,
        body: body.to_vec(),
        status,
        code,
    }
}

#[tokio::test]
async fn forty_hostile_requests_get_exact_answers_and_write_nothing() {
    let s = stack("hostile").await;
    let (key, rec) = s.app.seed_key("alice", &["*"]).await;
    let (reader, _) = s.app.seed_key("alice", &["keys:read"]).await;
    let (other, _) = s.app.seed_key("bob", &["*"]).await;
    let id = rec.id.as_str();
    let me = |headers: &str| {
        if headers.is_empty() {
            "GET /api/v1/auth/me HTTP/1.1".to_owned()
        } else {
            format!("GET /api/v1/auth/me HTTP/1.1\r\n{headers}")
        }
    };
    let post =
        |headers: &str| format!("POST /api/v1/auth/api-keys HTTP/1.1\r\nX-API-Key: {key}{headers}");
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nX-API-Key: {key}");
    let mut lower = key.clone();
    lower.make_ascii_lowercase();
    let lookalike = key.replacen("pod_", "p\u{043e}d_", 1); // Cyrillic о
    let nested = format!("{}{}", "[".repeat(300), "]".repeat(300));
    let cases = vec![
        case("no key", me(""), b"", 401, Some("unauthorized")),
        case(
            "empty X-API-Key",
            me("X-API-Key: "),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "empty bearer",
            me("Authorization: Bearer "),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "bearer without token",
            me("Authorization: Bearer"),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "basic auth only",
            me("Authorization: Basic YWxpY2U6cHc="),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "mixed-case bearer",
            me(&format!("Authorization: bEaReR {key}")),
            b"",
            200,
            None,
        ),
        case(
            "bearer with two spaces",
            me(&format!("Authorization: Bearer  {key}")),
            b"",
            200,
            None,
        ),
        case(
            "bearer with a tab",
            me(&format!("Authorization: Bearer\t{key}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "lowercase header name",
            me(&format!("x-api-key: {key}")),
            b"",
            200,
            None,
        ),
        case(
            "Pinepods Api-Key",
            me(&format!("API-KEY: {key}")),
            b"",
            200,
            None,
        ),
        case(
            "duplicate header, same key",
            me(&format!("X-API-Key: {key}\r\nX-API-Key: {key}")),
            b"",
            200,
            None,
        ),
        case(
            "duplicate header, two keys",
            me(&format!("X-API-Key: {key}\r\nX-API-Key: {other}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "bearer and api-key differ",
            me(&format!("Authorization: Bearer {key}\r\nApi-Key: {other}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "lowercased key",
            me(&format!("X-API-Key: {lower}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "unicode look-alike prefix",
            me(&format!("X-API-Key: {lookalike}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "key plus a character",
            me(&format!("X-API-Key: {key}x")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "10 KB key",
            me(&format!("X-API-Key: {}", "k".repeat(10_240))),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "huge unrelated header",
            me(&format!(
                "X-API-Key: {key}\r\nX-Junk: {}",
                "j".repeat(16_000)
            )),
            b"",
            200,
            None,
        ),
        case(
            "key in the query string",
            format!("GET /api/v1/auth/me?api_key={key} HTTP/1.1"),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "key in a cookie",
            me(&format!("Cookie: api_key={key}")),
            b"",
            401,
            Some("unauthorized"),
        ),
        case(
            "NUL in the JSON name",
            post(""),
            b"{\"name\":\"a\\u0000b\"}",
            400,
            Some("invalid_request"),
        ),
        case(
            "raw NUL byte in the body",
            post(""),
            b"{\"name\":\"a\0b\"}",
            400,
            Some("invalid_request"),
        ),
        case(
            "invalid UTF-8 body",
            post(""),
            b"{\"name\":\"\xff\xfe\"}",
            400,
            Some("invalid_request"),
        ),
        case(
            "duplicate JSON keys",
            post(""),
            br#"{"name":"a","name":"b"}"#,
            400,
            Some("invalid_request"),
        ),
        case(
            "deeply nested JSON",
            post(""),
            nested.as_bytes(),
            400,
            Some("invalid_request"),
        ),
        case(
            "JSON null body",
            post(""),
            b"null",
            400,
            Some("invalid_request"),
        ),
        case(
            "17 KB body",
            post(""),
            format!(r#"{{"name":"{}"}}"#, "x".repeat(17_000)).as_bytes(),
            413,
            Some("payload_too_large"),
        ),
        case(
            "text/plain JSON body creates",
            post("\r\nContent-Type: text/plain"),
            br#"{"name":"plain"}"#,
            201,
            None,
        ),
        case(
            "form content type, JSON body",
            post("\r\nContent-Type: application/x-www-form-urlencoded"),
            br#"{"name":"form"}"#,
            201,
            None,
        ),
        case(
            "expires_in_days as a string",
            post(""),
            br#"{"name":"x","expires_in_days":"7"}"#,
            400,
            Some("invalid_request"),
        ),
        case(
            "scopes escalate to admin",
            post(""),
            br#"{"name":"x","scopes":["admin"]}"#,
            403,
            Some("forbidden"),
        ),
        case(
            "%2F inside an id",
            get("/api/v1/auth/api-keys/key_0000000000%2F000000000"),
            b"",
            404,
            Some("not_found"),
        ),
        case(
            "encoded but unknown id",
            get("/api/v1/auth/api-keys/%6Bey_00000000000000000000"),
            b"",
            404,
            Some("not_found"),
        ),
        case(
            "upper-case id",
            get(&format!("/api/v1/auth/api-keys/{}", id.to_uppercase())),
            b"",
            404,
            Some("not_found"),
        ),
        case(
            "empty segment in the key subtree",
            get("/api/v1/auth/api-keys//x"),
            b"",
            404,
            Some("not_found"),
        ),
        case(
            "deeper key path",
            get(&format!("/api/v1/auth/api-keys/{id}/x/y")),
            b"",
            404,
            Some("not_found"),
        ),
        case(
            "trailing slash on the collection",
            get("/api/v1/auth/api-keys/"),
            b"",
            200,
            None,
        ),
        case(
            "limit in scientific notation",
            get("/api/v1/auth/api-keys?limit=1e2"),
            b"",
            400,
            Some("invalid_request"),
        ),
        case(
            "percent-encoded limit",
            get("/api/v1/auth/api-keys?limit=%31%30"),
            b"",
            200,
            None,
        ),
        case(
            "status in capitals",
            get("/api/v1/auth/api-keys?status=ACTIVE"),
            b"",
            400,
            Some("invalid_request"),
        ),
        case(
            "NUL in the cursor",
            get("/api/v1/auth/api-keys?cursor=%00"),
            b"",
            400,
            Some("invalid_request"),
        ),
        case(
            "DELETE on the collection",
            format!("DELETE /api/v1/auth/api-keys HTTP/1.1\r\nX-API-Key: {key}"),
            b"",
            405,
            Some("method_not_allowed"),
        ),
        case(
            "PATCH on me",
            format!("PATCH /api/v1/auth/me HTTP/1.1\r\nX-API-Key: {key}"),
            b"",
            405,
            Some("method_not_allowed"),
        ),
        case(
            "keys:read key on the podcasts",
            format!("GET /api/v1/podcasts/1 HTTP/1.1\r\nX-API-Key: {reader}"),
            b"",
            403,
            Some("insufficient_scope"),
        ),
        case(
            "keys:read key revoking",
            format!("DELETE /api/v1/auth/api-keys/{id} HTTP/1.1\r\nX-API-Key: {reader}"),
            b"",
            403,
            Some("insufficient_scope"),
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        let before = s.app.items().await;
        let reply = s.raw(&c.head, &c.body).await;
        assert_eq!(reply.status, c.status, "{}: {}", c.what, reply.text);
        match c.code {
            Some(code) => reply.error(c.status, code),
            None => assert!(
                reply.body.is_object() || reply.body.is_array(),
                "{}: {}",
                c.what,
                reply.text
            ),
        }
        let delta = s.app.items().await - before;
        assert_eq!(
            delta,
            if c.status == 201 { 2 } else { 0 },
            "{} changed the table",
            c.what
        );
    }
    println!("hostile cases tried: {}", cases.len());
}
