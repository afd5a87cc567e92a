//! Private feed URLs (SPEC §16), end to end through the local gateway: a key holding exactly
//! `feeds:read` may ride in `?api_key=` on a GET or HEAD of a feed path, nothing else may, the
//! backend never sees it, and no log line holds it.

use serde_json::json;

use crate::e2e::{key_of, stack};
use crate::reliability::captured_logs;

const FEED: &str = "/api/v1/feeds/42";

#[tokio::test]
async fn a_feed_key_works_in_a_feed_url_and_nowhere_else() {
    let logs = captured_logs();
    let s = stack("feeds").await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;
    let (star, _) = s.app.seed_key("listener", &["*"]).await;

    let created = s
        .create(
            &star,
            json!({"name": "AntennaPod", "scopes": ["feeds:read"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["scopes"], json!(["feeds:read"]));
    let feed_key = key_of(&created);
    let id = created.body["id"].as_str().expect("id").to_owned();

    // In the URL, on a feed path: the backend answers, and sees the marker, never the key.
    let fetched = s
        .send(
            "GET",
            &format!("{FEED}?api_key={feed_key}&page=2"),
            &[],
            None,
        )
        .await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.body["path"], FEED);
    assert_eq!(fetched.body["query"], "page=2&api_key=redacted");
    assert!(!fetched.text.contains(&feed_key[8..]), "{}", fetched.text);
    assert_eq!(fetched.body["verified_assertion"]["key_id"], id.as_str());
    let audio = s
        .send(
            "GET",
            &format!("/api/v1/episodes/7/audio?api_key={feed_key}"),
            &[],
            None,
        )
        .await;
    assert_eq!(audio.status, 200, "{}", audio.text);

    // HEAD works too (players probe audio with it).
    let head = s
        .raw(&format!("HEAD {FEED}?api_key={feed_key} HTTP/1.1"), b"")
        .await;
    assert_eq!(head.status, 200, "{}", head.head);

    // Another method or another path: as if no key were sent.
    for (method, path) in [
        ("POST", FEED.to_owned()),
        ("DELETE", FEED.to_owned()),
        ("GET", "/api/v1/podcasts/1".to_owned()),
        ("GET", "/api/v1/feeds/42/episodes".to_owned()),
        ("GET", "/api/v1/auth/me".to_owned()),
    ] {
        s.send(method, &format!("{path}?api_key={feed_key}"), &[], None)
            .await
            .error(401, "unauthorized");
    }
    // A valid key that is not a feed key is refused in a URL, even on a feed path.
    for key in [&star, &admin] {
        s.send("GET", &format!("{FEED}?api_key={key}"), &[], None)
            .await
            .error(401, "unauthorized");
    }
    // A key in a header and another in the URL: refused.
    s.send(
        "GET",
        &format!("{FEED}?api_key={feed_key}"),
        &[("X-API-Key", &star)],
        None,
    )
    .await
    .error(401, "unauthorized");

    // In a header, the feed key reads feeds and says who it is, and nothing else.
    assert_eq!(s.get(FEED, &feed_key).await.status, 200);
    let me = s.get("/api/v1/auth/me", &feed_key).await;
    assert_eq!(me.status, 200, "{}", me.text);
    s.get("/api/v1/podcasts/1", &feed_key)
        .await
        .error(403, "insufficient_scope");
    s.get("/api/v1/auth/api-keys", &feed_key)
        .await
        .error(403, "insufficient_scope");
    // podcasts:read reads feed paths too (SPEC §16), in a header.
    let (reader, _) = s.app.seed_key("listener", &["podcasts:read"]).await;
    assert_eq!(s.get(FEED, &reader).await.status, 200);

    // Revoked: the feed URL stops working on the very next request.
    let revoked = s
        .send(
            "DELETE",
            &format!("/api/v1/auth/api-keys/{id}"),
            &[("X-API-Key", &star)],
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    s.send("GET", &format!("{FEED}?api_key={feed_key}"), &[], None)
        .await
        .error(403, "key_revoked");

    let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(
        text.contains("query_key_not_feed_only"),
        "refusals are logged by reason"
    );
    for key in [&feed_key, &star, &admin] {
        assert!(!text.contains(&key[8..]), "a key reached the logs");
    }
}
