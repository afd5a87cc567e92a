//! Every bad request gets the exact status and error code, and writes nothing.

use serde_json::json;

use crate::helpers::{App, Event};

#[tokio::test]
async fn each_bad_request_gets_the_right_status_and_code_and_writes_nothing() {
    let app = App::new("bad").await;
    let user = app.seed("alice", &["*"]).await;
    let admin = app.seed("admin-1", &["admin"]).await;
    let create = |body: &str| Event::fixture("create-key.json").body(Some(body)).by(&user);
    let list = |q: &[(&str, &str)]| Event::list(q).by(&user);
    let long_name = "n".repeat(101);
    let long_desc = "d".repeat(501);
    let huge = format!(
        r#"{{"name":"x","description":"{}"}}"#,
        "d".repeat(17 * 1024)
    );
    let deep = format!("{}{}", "{\"a\":".repeat(200), "}".repeat(200));
    let eleven: Vec<&str> = vec!["keys:read"; 11];
    let cases: Vec<(&str, Event, u16, &str)> = vec![
        (
            "malformed JSON",
            create("{\"name\":"),
            400,
            "invalid_request",
        ),
        (
            "not JSON at all (form encoding)",
            create("name=staging&scopes=*"),
            400,
            "invalid_request",
        ),
        ("JSON array body", create("[1,2]"), 400, "invalid_request"),
        (
            "JSON string body",
            create("\"name\""),
            400,
            "invalid_request",
        ),
        (
            "empty body",
            Event::fixture("create-key.json").body(None).by(&user),
            400,
            "invalid_request",
        ),
        (
            "trailing garbage",
            create(r#"{"name":"x"} {}"#),
            400,
            "invalid_request",
        ),
        (
            "missing name",
            create(r#"{"scopes":["*"]}"#),
            400,
            "invalid_request",
        ),
        (
            "name is a number",
            create(r#"{"name":42}"#),
            400,
            "invalid_request",
        ),
        (
            "name null",
            create(r#"{"name":null}"#),
            400,
            "invalid_request",
        ),
        (
            "empty name",
            create(r#"{"name":""}"#),
            400,
            "invalid_request",
        ),
        (
            "blank name",
            create(r#"{"name":"   "}"#),
            400,
            "invalid_request",
        ),
        (
            "name too long",
            create(&json!({"name": long_name}).to_string()),
            400,
            "invalid_request",
        ),
        (
            "control char in name",
            create(r#"{"name":"a\u0007b"}"#),
            400,
            "invalid_request",
        ),
        (
            "newline in name",
            create(r#"{"name":"a\nb"}"#),
            400,
            "invalid_request",
        ),
        (
            "description too long",
            create(&json!({"name":"x","description": long_desc}).to_string()),
            400,
            "invalid_request",
        ),
        (
            "unknown scope",
            create(r#"{"name":"x","scopes":["keys:delete"]}"#),
            400,
            "invalid_request",
        ),
        (
            "no scopes",
            create(r#"{"name":"x","scopes":[]}"#),
            400,
            "invalid_request",
        ),
        (
            "eleven scopes",
            create(&json!({"name":"x","scopes": eleven}).to_string()),
            400,
            "invalid_request",
        ),
        (
            "scopes as a string",
            create(r#"{"name":"x","scopes":"*"}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days 0",
            create(r#"{"name":"x","expires_in_days":0}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days -1",
            create(r#"{"name":"x","expires_in_days":-1}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days 3651",
            create(r#"{"name":"x","expires_in_days":3651}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days as a string",
            create(r#"{"name":"x","expires_in_days":"7"}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days 1e9",
            create(r#"{"name":"x","expires_in_days":1e9}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days 2.5",
            create(r#"{"name":"x","expires_in_days":2.5}"#),
            400,
            "invalid_request",
        ),
        (
            "expires_in_days past u64",
            create(r#"{"name":"x","expires_in_days":99999999999999999999999}"#),
            400,
            "invalid_request",
        ),
        (
            "unknown field",
            create(r#"{"name":"x","admin":true}"#),
            400,
            "invalid_request",
        ),
        (
            "duplicate field",
            create(r#"{"name":"x","name":"y"}"#),
            400,
            "invalid_request",
        ),
        ("deeply nested JSON", create(&deep), 400, "invalid_request"),
        (
            "invalid owner_id from an admin",
            Event::create(json!({"name":"x","owner_id":"has space"})).by(&admin),
            400,
            "invalid_request",
        ),
        (
            "owner_id from a non-admin",
            create(r#"{"name":"x","owner_id":"bob"}"#),
            403,
            "forbidden",
        ),
        ("body over 16 KiB", create(&huge), 413, "payload_too_large"),
        ("limit 0", list(&[("limit", "0")]), 400, "invalid_request"),
        (
            "limit 101",
            list(&[("limit", "101")]),
            400,
            "invalid_request",
        ),
        (
            "limit not a number",
            list(&[("limit", "ten")]),
            400,
            "invalid_request",
        ),
        (
            "limit with sign",
            list(&[("limit", "+5")]),
            400,
            "invalid_request",
        ),
        (
            "unknown status",
            list(&[("status", "deleted")]),
            400,
            "invalid_request",
        ),
        (
            "status twice",
            list(&[("status", "active"), ("status", "revoked")]),
            400,
            "invalid_request",
        ),
        (
            "forged cursor",
            list(&[("cursor", "bm90LWEtY3Vyc29y")]),
            400,
            "invalid_request",
        ),
        (
            "unknown query parameter",
            list(&[("page", "2")]),
            400,
            "invalid_request",
        ),
        (
            "owner_id filter from a non-admin",
            list(&[("owner_id", "bob")]),
            403,
            "forbidden",
        ),
        (
            "malformed id on get",
            Event::get("nope").by(&user),
            404,
            "not_found",
        ),
        (
            "unknown id on get",
            Event::get("key_00000000000000000000").by(&user),
            404,
            "not_found",
        ),
        (
            "id with %2F decoded",
            Event::get("key_0000000000/000000000").by(&user),
            404,
            "not_found",
        ),
        (
            "malformed id on revoke",
            Event::revoke("key_").by(&user),
            404,
            "not_found",
        ),
        (
            "unknown id on revoke",
            Event::revoke("key_zzzzzzzzzzzzzzzzzzzz").by(&user),
            404,
            "not_found",
        ),
        (
            "PUT on the collection",
            list(&[]).method("PUT"),
            405,
            "method_not_allowed",
        ),
        (
            "PUT on a key",
            Event::get(user.id.as_str()).method("PUT").by(&user),
            405,
            "method_not_allowed",
        ),
        (
            "PATCH on a key without a body",
            Event::get(user.id.as_str()).method("PATCH").by(&user),
            400,
            "invalid_request",
        ),
        (
            "unknown resource",
            list(&[]).resource("/api/v1/auth/other"),
            404,
            "not_found",
        ),
        (
            "no authorizer context",
            Event::create(json!({"name":"x"})).authorizer(json!({})),
            401,
            "unauthorized",
        ),
        (
            "admin flag contradicting scopes",
            Event::create(json!({"name":"x"})).authorizer(json!({
            "owner_id":"alice","key_id":user.id.as_str(),"scopes":"*","admin":"true"})),
            401,
            "unauthorized",
        ),
        (
            "malformed scopes in context",
            Event::list(&[]).authorizer(json!({
            "owner_id":"alice","key_id":user.id.as_str(),"scopes":"root","admin":"false"})),
            401,
            "unauthorized",
        ),
    ];
    assert!(cases.len() >= 25);
    let before = app.items().await;
    for (what, event, status, code) in cases {
        let resp = app.call(&event).await;
        assert_eq!(
            (resp.status, resp.code()),
            (status, code),
            "{what}: {}",
            resp.text
        );
        assert!(
            resp.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(app.items().await, before, "{what} wrote to the table");
    }
}

#[tokio::test]
async fn error_messages_name_the_offending_field() {
    let app = App::new("messages").await;
    let user = app.seed("alice", &["*"]).await;
    let cases = [
        (r#"{"name":"x","expires_in_days":"7"}"#, "expires_in_days"),
        (r#"{"name":"x","colour":"red"}"#, "colour"),
        (r#"{"name":"x","scopes":["keys:delete"]}"#, "keys:delete"),
        (r#"{"name":""}"#, "name"),
        (r#"{"name":"x","scopes":[1]}"#, "scopes"),
    ];
    for (body, field) in cases {
        let resp = app
            .call(&Event::fixture("create-key.json").body(Some(body)).by(&user))
            .await;
        let message = resp.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn a_wrong_method_says_which_methods_the_resource_allows() {
    let app = App::new("allow").await;
    let user = app.seed("alice", &["*"]).await;
    let resp = app.call(&Event::list(&[]).method("PUT").by(&user)).await;
    assert_eq!(resp.header("allow"), Some("POST, GET"));
}
