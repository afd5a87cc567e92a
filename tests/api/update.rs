//! `PATCH /api/v1/auth/api-keys/{id}` (SPEC §3, §10): narrowing only for non-admins, plans for
//! admins only, nothing written on any refusal, and the change in force at once.

use serde_json::{Value, json};

use crate::helpers::{App, Event};

#[tokio::test]
async fn owners_rename_and_narrow_admins_also_change_plans() {
    let app = App::new("update").await;
    let admin = app.seed("root", &["admin"]).await;
    let ann = app.seed("ann", &["*"]).await;
    let made = app
        .call(
            &Event::create(json!({"name": "phone", "description": "old", "scopes": ["podcasts:read", "keys:read"]}))
                .by(&ann),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["id"].as_str().expect("id").to_owned();

    let renamed = app
        .call(
            &Event::patch(
                &id,
                r#"{"name":"old phone","description":null,"scopes":["podcasts:read"]}"#,
            )
            .by(&ann),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "old phone");
    assert_eq!(renamed.body["description"], Value::Null);
    assert_eq!(renamed.body["scopes"], json!(["podcasts:read"]));
    assert_eq!(renamed.body["plan"], "free");
    let seen = app.call(&Event::get(&id).by(&ann)).await;
    assert_eq!(seen.body, renamed.body, "the change is stored");

    let pro = app
        .call(&Event::patch(&id, r#"{"plan":"pro"}"#).by(&admin))
        .await;
    assert_eq!((pro.status, &pro.body["plan"]), (200, &json!("pro")));
    // An admin may also widen.
    let wide = app
        .call(&Event::patch(&id, r#"{"scopes":["podcasts:read","podcasts:write"]}"#).by(&admin))
        .await;
    assert_eq!(wide.status, 200, "{}", wide.text);
}

#[tokio::test]
async fn refused_changes_write_nothing() {
    let app = App::new("updatebad").await;
    let admin = app.seed("root", &["admin"]).await;
    let ann = app
        .seed("ann", &["keys:read", "keys:write", "podcasts:read"])
        .await;
    let bob = app.seed("bob", &["*"]).await;
    let made = app
        .call(&Event::create(json!({"name": "k", "scopes": ["podcasts:read"]})).by(&ann))
        .await;
    let id = made.body["id"].as_str().expect("id").to_owned();
    let cases: [(&keystore::KeyRecord, &str, u16, &str); 10] = [
        (
            &ann,
            r#"{"scopes":["podcasts:read","podcasts:write"]}"#,
            403,
            "forbidden",
        ),
        (&ann, r#"{"scopes":["*"]}"#, 403, "forbidden"),
        (&ann, r#"{"plan":"pro"}"#, 403, "forbidden"),
        (&ann, r#"{"plan":"gold"}"#, 400, "invalid_request"),
        (&admin, r#"{"plan":"gold"}"#, 400, "invalid_request"),
        (&ann, r#"{"nickname":"x"}"#, 400, "invalid_request"),
        (&ann, r#"{}"#, 400, "invalid_request"),
        (&ann, r#"{"name":""}"#, 400, "invalid_request"),
        (&ann, r#"{"scopes":["root"]}"#, 400, "invalid_request"),
        (&bob, r#"{"name":"mine now"}"#, 404, "not_found"),
    ];
    let before = app.call(&Event::get(&id).by(&admin)).await.body;
    for (caller, body, status, code) in cases {
        let r = app.call(&Event::patch(&id, body).by(caller)).await;
        assert_eq!(
            (r.status, r.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            r.text
        );
    }
    let after = app.call(&Event::get(&id).by(&admin)).await.body;
    assert_eq!(before, after, "nothing was written");

    // A revoked key cannot be changed.
    let revoked = app.call(&Event::revoke(&id).by(&ann)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let r = app
        .call(&Event::patch(&id, r#"{"name":"again"}"#).by(&ann))
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (409, Some("key_not_active")),
        "{}",
        r.text
    );
    assert_eq!(
        app.call(&Event::get(&id).by(&admin)).await.body["name"],
        "k"
    );
}
