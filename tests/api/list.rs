use std::collections::HashSet;

use apikey::Timestamp;
use serde_json::{Value, json};

use crate::helpers::{App, Event, next_cursor};

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a JSON array")
        .iter()
        .map(|k| k["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn users_see_only_their_own_keys_newest_first() {
    let app = App::new("listown").await;
    let t = Timestamp::now();
    let alice_old = app.seed_at("alice", &["*"], t.plus_secs(-20)).await;
    let _bob = app.seed_at("bob", &["*"], t.plus_secs(-10)).await;
    let alice_new = app.seed_at("alice", &["keys:read"], t).await;
    let resp = app.call(&Event::list(&[]).by(&alice_new)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        ids(&resp.body),
        vec![alice_new.id.to_string(), alice_old.id.to_string()]
    );
    assert!(
        resp.body
            .as_array()
            .expect("array")
            .iter()
            .all(|k| k["owner_id"] == "alice")
    );
    assert!(resp.header("link").is_none());
}

#[tokio::test]
async fn admins_see_every_owners_keys_with_the_owner_or_filter_by_owner() {
    let app = App::new("listadmin").await;
    let t = Timestamp::now();
    app.seed_at("alice", &["*"], t.plus_secs(-3)).await;
    app.seed_at("carol", &["*"], t.plus_secs(-2)).await;
    let admin = app.seed_at("admin-1", &["admin"], t.plus_secs(-1)).await;
    let all = app.call(&Event::list(&[]).by(&admin)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let owners: Vec<&str> = all
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|k| k["owner_id"].as_str().expect("owner"))
        .collect();
    assert_eq!(owners, ["admin-1", "carol", "alice"]);

    let carol = app
        .call(&Event::fixture("list-keys-admin.json").by(&admin))
        .await;
    assert_eq!(carol.status, 200, "{}", carol.text);
    assert_eq!(carol.body.as_array().expect("array").len(), 1);
    assert_eq!(carol.body[0]["owner_id"], "carol");
}

#[tokio::test]
async fn a_user_may_name_themselves_but_nobody_else_as_owner() {
    let app = App::new("listowner").await;
    let alice = app.seed("alice", &["keys:read"]).await;
    app.seed("bob", &["*"]).await;
    let own = app
        .call(&Event::list(&[("owner_id", "alice")]).by(&alice))
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(ids(&own.body), vec![alice.id.to_string()]);
    let other = app
        .call(&Event::list(&[("owner_id", "bob")]).by(&alice))
        .await;
    other.assert_error(403, "forbidden");
    assert!(!other.text.contains("bob's key"));
}

#[tokio::test]
async fn pages_follow_the_link_header_through_every_key_once() {
    let app = App::new("listpages").await;
    let t = Timestamp::now();
    let mut created = Vec::new();
    for i in 0..11 {
        created.push(
            app.seed_at("alice", &["*"], t.plus_secs(i - 20))
                .await
                .id
                .to_string(),
        );
    }
    created.reverse();
    let caller = app
        .seed_at("alice", &["keys:read"], t.plus_secs(-100))
        .await;
    created.push(caller.id.to_string());

    let (mut seen, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut query = vec![("limit", "4")];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let resp = app.call(&Event::list(&query).by(&caller)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        pages += 1;
        seen.extend(ids(&resp.body));
        if let Some(link) = resp.header("link") {
            assert!(
                link.starts_with("</prod/api/v1/auth/api-keys?limit=4&cursor="),
                "{link}"
            );
        }
        match next_cursor(&resp) {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3, "12 keys in pages of 4");
    assert_eq!(seen, created);
}

#[tokio::test]
async fn the_status_filter_returns_only_keys_in_that_state() {
    let app = App::new("liststatus").await;
    let caller = app.seed("alice", &["*"]).await;
    let doomed = app.seed("alice", &["*"]).await;
    app.call(&Event::revoke(doomed.id.as_str()).by(&caller))
        .await;
    for (status, want) in [("active", &caller), ("revoked", &doomed)] {
        let resp = app
            .call(&Event::list(&[("status", status)]).by(&caller))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(ids(&resp.body), vec![want.id.to_string()], "{status}");
        assert_eq!(resp.body[0]["status"], status);
    }
    let expired = app
        .call(&Event::list(&[("status", "expired")]).by(&caller))
        .await;
    assert_eq!(expired.body, json!([]));
}

#[tokio::test]
async fn one_key_is_visible_to_its_owner_and_admins_and_404_to_everyone_else() {
    let app = App::new("getone").await;
    let alice = app.seed("alice", &["*"]).await;
    let bob = app.seed("bob", &["*"]).await;
    let admin = app.seed("admin-1", &["admin"]).await;
    let own = app.call(&Event::get(alice.id.as_str()).by(&alice)).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body["id"], alice.id.as_str());
    assert_eq!(own.body["hint"], alice.hint.as_str());
    let by_admin = app.call(&Event::get(alice.id.as_str()).by(&admin)).await;
    assert_eq!(by_admin.status, 200);
    assert_eq!(by_admin.body["owner_id"], "alice");
    let by_bob = app.call(&Event::get(alice.id.as_str()).by(&bob)).await;
    by_bob.assert_error(404, "not_found");
    assert!(!by_bob.text.contains("alice"));
}

#[tokio::test]
async fn me_describes_the_calling_key_whatever_its_scopes() {
    let app = App::new("me").await;
    let caller = app.seed("alice", &["podcasts:read"]).await;
    let resp = app.call(&Event::me().by(&caller)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["owner_id"], "alice");
    assert_eq!(resp.body["admin"], false);
    assert_eq!(resp.body["scopes"], json!(["podcasts:read"]));
    assert_eq!(resp.body["key"]["id"], caller.id.as_str());

    let admin = app.seed("root", &["admin"]).await;
    let resp = app.call(&Event::me().by(&admin)).await;
    assert_eq!(resp.body["admin"], true);
}

#[tokio::test]
async fn keys_listed_by_many_callers_never_show_a_plaintext_key() {
    // App::call asserts on every response that no issued key appears outside create's 201.
    let app = App::new("noleak").await;
    let admin = app.seed("admin-1", &["admin"]).await;
    let mut ids = HashSet::new();
    for i in 0..5 {
        let resp = app
            .call(&Event::create(json!({"name": format!("k{i}")})).by(&admin))
            .await;
        ids.insert(resp.body["id"].as_str().expect("id").to_owned());
    }
    let all = app.call(&Event::list(&[]).by(&admin)).await;
    assert_eq!(all.status, 200);
    for id in &ids {
        assert_eq!(app.call(&Event::get(id).by(&admin)).await.status, 200);
        assert_eq!(app.call(&Event::revoke(id).by(&admin)).await.status, 200);
    }
    assert_eq!(app.call(&Event::me().by(&admin)).await.status, 200);
}

/// An HTTP API's payload-format-2.0 event (SPEC §17): the route from `routeKey`, the caller
/// from `requestContext.authorizer.lambda`, the request id from `requestContext.requestId`.
#[tokio::test]
async fn the_functions_read_an_http_api_event_and_its_lambda_context() {
    let app = App::new("mev2").await;
    let (_, record) = app.seed_key("alice", &["podcasts:read"]).await;
    let mut event = Event::fixture("me-v2.json");
    let context = &mut event.0["requestContext"]["authorizer"]["lambda"];
    context["owner_id"] = json!("alice");
    context["key_id"] = json!(record.id.as_str());
    let me = app.call(&event).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["owner_id"], "alice");
    assert_eq!(me.body["key"]["id"], record.id.as_str());
    assert_eq!(me.body["plan"], "free");
    // The fixture as shipped names a key that does not exist: refused, with the 2.0 request id.
    let unknown = app.call(&Event::fixture("me-v2.json")).await;
    assert_eq!(unknown.status, 401, "{}", unknown.body);
    assert_eq!(unknown.body["error"]["request_id"], "JKJaXmPLvHcESHC=");
}
