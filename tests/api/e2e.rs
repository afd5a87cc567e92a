//! End to end over real HTTP: the local API Gateway (the template's routes, the authorizer,
//! gateway responses) in front of the functions and an echo podcast backend, on free ports.

use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use local_gateway::{Api, Functions, LocalGateway, echo};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::App;

pub(crate) struct Stack {
    pub(crate) app: App,
    /// The front door the local gateway plays (SPEC §17).
    pub(crate) api: Api,
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) text: String,
    /// The status line and headers, as received (raw requests), or the headers alone, one
    /// `name: value` per line.
    pub(crate) head: String,
    pub(crate) api: Api,
}

impl Reply {
    /// A response header's value (names are case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

impl Reply {
    /// Refused by the authorizer: the REST API's gateway response with podkeys' code, or on
    /// an HTTP API, which has no gateway responses and no usage plans, API Gateway's own 403.
    #[track_caller]
    pub(crate) fn refused(&self, status: u16, code: &str) {
        match self.api {
            Api::Rest => self.error(status, code),
            Api::Http => assert_eq!(
                (self.status, &self.body),
                (403, &json!({"message": "Forbidden"})),
                "refused ({status} {code} on REST): {}",
                self.text
            ),
        }
    }

    #[track_caller]
    pub(crate) fn error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.body["error"]["code"].as_str()),
            (status, Some(code)),
            "{}",
            self.text
        );
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(
            self.body["error"]["request_id"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

pub(crate) async fn stack(label: &str) -> Stack {
    stack_on(App::new(label).await, |g| g).await
}

/// A stack on a table with the deployed table's stream (the webhook tests).
pub(crate) async fn streaming_stack(label: &str) -> Stack {
    stack_on(App::streaming(label).await, |g| g).await
}

/// A stack whose gateway is the template's `api` front door.
pub(crate) async fn stack_for(label: &str, api: Api) -> Stack {
    stack_with(App::new(label).await, api, |g| g).await
}

/// A stack on `app`, its local gateway as `configure` leaves it.
pub(crate) async fn stack_on(
    app: App,
    configure: impl FnOnce(LocalGateway) -> LocalGateway,
) -> Stack {
    stack_with(app, Api::Rest, configure).await
}

async fn stack_with(
    app: App,
    api: Api,
    configure: impl FnOnce(LocalGateway) -> LocalGateway,
) -> Stack {
    // The gateway's address first: the echo backend verifies assertions with its JWKS.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let echo_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let backend = format!("http://{}", echo_listener.local_addr().expect("addr"));
    let gateway_url = base.clone();
    tokio::spawn(async move { echo::serve_for(echo_listener, &gateway_url).await });
    let gateway = LocalGateway::for_api(api, Functions::InProcess(app.state.clone()), &backend)
        .expect("template");
    tokio::spawn(Arc::new(configure(gateway)).serve(listener));
    Stack {
        app,
        api,
        base,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

impl Stack {
    /// `http://127.0.0.1:port`, where the local gateway serves.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Sends raw bytes as one HTTP/1.1 request (anything a hostile client could put on the
    /// wire) and reads the whole answer.
    pub(crate) async fn raw(&self, head: &str, body: &[u8]) -> Reply {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut request = format!(
            "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        stream.write_all(&request).await.expect("write");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("read");
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (head, body_text) = text
            .split_once("\r\n\r\n")
            .map(|(h, b)| (h.to_owned(), b.to_owned()))
            .unwrap_or_default();
        let body = serde_json::from_str(&body_text).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            text: body_text,
            head,
            api: self.api,
        }
    }

    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        if path.contains("/api/v1/auth/api-keys") && method == "GET" {
            testkit::settle(&self.app.state.store).await;
        }
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
            .expect("request");
        let resp = self.client.request(req).await.expect("the gateway answers");
        let status = resp.status().as_u16();
        let head: String = resp
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}\r\n", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "{method} {path}: {text}"
        );
        Reply {
            status,
            body,
            text,
            head,
            api: self.api,
        }
    }

    pub(crate) async fn get(&self, path: &str, key: &str) -> Reply {
        self.send("GET", path, &[("X-API-Key", key)], None).await
    }

    pub(crate) async fn create(&self, key: &str, body: Value) -> Reply {
        let body = body.to_string();
        self.send(
            "POST",
            "/api/v1/auth/api-keys",
            &[("X-API-Key", key), ("Content-Type", "application/json")],
            Some(&body),
        )
        .await
    }
}

pub(crate) fn key_of(r: &Reply) -> String {
    r.body["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no key in {}", r.text))
        .to_owned()
}

/// Each end-to-end flow runs through both front doors of the template (SPEC §17): the REST
/// API and the HTTP API.
macro_rules! on_both_front_doors {
    ($($flow:ident),* $(,)?) => {$(
        mod $flow {
            use super::*;

            #[tokio::test]
            async fn rest() {
                super::$flow(Api::Rest).await;
            }

            #[tokio::test]
            async fn http() {
                super::$flow(Api::Http).await;
            }
        }
    )*};
}

on_both_front_doors!(
    a_client_creates_lists_uses_and_revokes_keys_over_http,
    pinepods_api_key_header_and_audiopod_double_headers_work,
    missing_garbage_and_unknown_keys_get_401_json,
    the_backend_gets_identity_headers_and_never_the_key,
    forged_podkeys_headers_change_nothing_the_backend_sees,
    podcast_routes_follow_scopes,
    owners_are_isolated_and_admins_see_everyone_with_owners,
    rotation_over_http_the_new_key_works_and_the_old_one_expires,
    wrong_methods_and_oversized_bodies_get_api_errors,
    usage_is_counted_and_read_back,
);

/// SPEC §12 on both front doors: the authorizer counts, the usage routes read it back.
async fn usage_is_counted_and_read_back(api: Api) {
    let s = stack_for("e2eusage", api).await;
    let (key, record) = s
        .app
        .seed_key("alice", &["podcasts:read", "keys:read"])
        .await;
    for _ in 0..3 {
        assert_eq!(s.get("/api/v1/podcasts/1", &key).await.status, 200);
    }
    s.send("DELETE", "/api/v1/podcasts/1", &[("X-API-Key", &key)], None)
        .await
        .refused(403, "insufficient_scope");
    let flushed = authorizer::flush_all(&s.app.state).await;
    assert_eq!((flushed.written, flushed.kept), (1, 0));
    let r = s
        .get(&format!("/api/v1/auth/api-keys/{}/usage", record.id), &key)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["total"],
        json!({"allowed": 3, "rate_limited": 0, "denied": 1}),
        "{}",
        r.text
    );
    let r = s.get("/api/v1/auth/usage", &key).await;
    assert_eq!(
        (r.status, &r.body["owner_id"]),
        (200, &json!("alice")),
        "{}",
        r.text
    );
}

async fn a_client_creates_lists_uses_and_revokes_keys_over_http(api: Api) {
    let s = stack_for("e2eflow", api).await;
    let (admin, _) = s.app.seed_key("admin", &["*", "admin"]).await;

    let created = s
        .create(
            &admin,
            json!({"name": "staging", "scopes": ["*"], "expires_in_days": 90}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let staging = key_of(&created);

    // Authorization: Bearer with a description.
    // Within the staging key's own 90 days: a key cannot mint one that outlives it.
    let body = json!({"name": "phone", "description": "AntennaPod on my phone", "scopes": ["podcasts:read"], "expires_in_days": 30}).to_string();
    let bearer = s
        .send(
            "POST",
            "/api/v1/auth/api-keys",
            &[("Authorization", &format!("Bearer {staging}"))],
            Some(&body),
        )
        .await;
    assert_eq!(bearer.status, 201, "{}", bearer.text);
    assert_eq!(bearer.body["description"], "AntennaPod on my phone");
    let phone = key_of(&bearer);

    // curl -d: form content type, JSON body.
    let curl = s
        .send(
            "POST",
            "/api/v1/auth/api-keys",
            &[
                ("X-API-Key", &staging),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(r#"{"name":"curl","scopes":["keys:read"],"expires_in_days":7}"#),
        )
        .await;
    assert_eq!(curl.status, 201, "{}", curl.text);

    let listed = s.get("/api/v1/auth/api-keys?status=active", &staging).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.body.as_array().expect("a JSON array");
    assert!(
        items
            .iter()
            .all(|k| k["id"].is_string() && k["name"].is_string() && k["status"] == "active")
    );
    let names: Vec<&str> = items.iter().filter_map(|k| k["name"].as_str()).collect();
    assert!(
        names.contains(&"phone") && names.contains(&"curl"),
        "{names:?}"
    );

    // The phone key reads podcasts but manages nothing.
    assert_eq!(s.get("/api/v1/podcasts/42", &phone).await.status, 200);
    s.get("/api/v1/auth/api-keys", &phone)
        .await
        .refused(403, "insufficient_scope");
    let me = s.get("/api/v1/auth/me", &phone).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["scopes"], json!(["podcasts:read"]));
    assert_eq!(
        me.body["plan"], "free",
        "/auth/me names the plan (SPEC §10)"
    );

    // Revoke: the very next request with that key is refused.
    let id = bearer.body["id"].as_str().expect("id");
    let revoked = s
        .send(
            "DELETE",
            &format!("/api/v1/auth/api-keys/{id}"),
            &[("X-API-Key", &staging)],
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    s.get("/api/v1/podcasts/42", &phone)
        .await
        .refused(403, "key_revoked");
}

async fn pinepods_api_key_header_and_audiopod_double_headers_work(api: Api) {
    let s = stack_for("e2eheaders", api).await;
    let (key, _) = s.app.seed_key("alice", &["*"]).await;
    let pinepods = s
        .send("GET", "/api/data/get_stats", &[("Api-Key", &key)], None)
        .await;
    assert_eq!(pinepods.status, 200, "{}", pinepods.text);
    let audiopod = s
        .send(
            "GET",
            "/api/v1/api-wallet/balance",
            &[
                ("Authorization", &format!("Bearer {key}")),
                ("X-API-Key", &key),
            ],
            None,
        )
        .await;
    match api {
        Api::Rest => assert_eq!(audiopod.status, 200, "{}", audiopod.text),
        // HTTP APIs cannot remove `Authorization` before the backend (a reserved header), so
        // a key in it is refused on the podcast routes there; on podkeys' own routes it works.
        Api::Http => {
            audiopod.refused(401, "unauthorized");
            let me = s
                .send(
                    "GET",
                    "/api/v1/auth/me",
                    &[
                        ("Authorization", &format!("Bearer {key}")),
                        ("X-API-Key", &key),
                    ],
                    None,
                )
                .await;
            assert_eq!(me.status, 200, "{}", me.text);
        }
    }
    let (other, _) = s.app.seed_key("alice", &["*"]).await;
    s.send(
        "GET",
        "/api/v1/podcasts",
        &[
            ("Authorization", &format!("Bearer {key}")),
            ("X-API-Key", &other),
        ],
        None,
    )
    .await
    .refused(401, "unauthorized");
}

async fn missing_garbage_and_unknown_keys_get_401_json(api: Api) {
    let s = stack_for("e2e401", api).await;
    s.send("GET", "/api/v1/auth/me", &[], None)
        .await
        .refused(401, "unauthorized");
    s.get("/api/v1/auth/me", "garbage")
        .await
        .refused(401, "unauthorized");
    s.get("/api/v1/podcasts/1", crate::helpers::FIXTURE_KEY)
        .await
        .refused(401, "unauthorized");
    s.send(
        "GET",
        "/api/v1/podcasts/1",
        &[("Authorization", "Bearer")],
        None,
    )
    .await
    .refused(401, "unauthorized");
    s.send(
        "GET",
        "/api/v1/podcasts/1",
        &[("Authorization", "bearer ")],
        None,
    )
    .await
    .refused(401, "unauthorized");
}

async fn the_backend_gets_identity_headers_and_never_the_key(api: Api) {
    let s = stack_for("e2ebackend", api).await;
    let (key, record) = s
        .app
        .seed_key("alice", &["podcasts:read", "podcasts:write"])
        .await;
    let reply = s
        .send(
            "POST",
            "/api/v1/podcasts/42/episodes?sort=new",
            &[("X-API-Key", &key)],
            Some("{}"),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let echoed = &reply.body;
    assert_eq!(echoed["backend"], "podkeys echo");
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/api/v1/podcasts/42/episodes");
    // The mapping that keeps feed keys from the backend (SPEC §16): a REST API can only
    // overwrite `api_key` (always set, to a marker); an HTTP API removes it.
    let query = match api {
        Api::Rest => "sort=new&api_key=redacted",
        Api::Http => "sort=new",
    };
    assert_eq!(echoed["query"], query);
    assert_eq!(echoed["headers"]["x-podkeys-owner-id"], "alice");
    assert_eq!(echoed["headers"]["x-podkeys-key-id"], record.id.as_str());
    assert_eq!(
        echoed["headers"]["x-podkeys-scopes"],
        "podcasts:read podcasts:write"
    );
    assert!(
        !reply.text.contains(&key),
        "the key reached the backend: {}",
        reply.text
    );
    let key_header = match api {
        Api::Rest => json!("redacted"),
        Api::Http => Value::Null,
    };
    assert_eq!(echoed["headers"]["x-api-key"], key_header);
    // The echo backend verified the assertion against the gateway's JWKS, as a backend should.
    let claims = &echoed["verified_assertion"];
    assert_eq!(claims["sub"], "alice", "{}", reply.text);
    assert_eq!(claims["key_id"], record.id.as_str());
    assert_eq!(claims["scopes"], json!(["podcasts:read", "podcasts:write"]));
    assert_eq!(claims["aud"], "podcast-backend");
    assert_eq!(claims["iss"], s.base());
}

/// SPEC §15: what a client sends under podkeys' header names, in any letter case, never
/// reaches the backend; the assertion still names the real caller.
async fn forged_podkeys_headers_change_nothing_the_backend_sees(api: Api) {
    let s = stack_for("e2eforged", api).await;
    let (key, record) = s.app.seed_key("alice", &["podcasts:read"]).await;
    let reply = s
        .send(
            "GET",
            "/api/v1/podcasts/42",
            &[
                ("X-API-Key", &key),
                ("x-podkeys-owner-id", "victim"),
                ("X-PODKEYS-SCOPES", "* admin"),
                ("X-Podkeys-Key-Id", "key_forgedforgedforged"),
                (
                    "X-Podkeys-Assertion",
                    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2aWN0aW0ifQ.",
                ),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!reply.text.contains("victim"), "{}", reply.text);
    assert!(!reply.text.contains("forged"), "{}", reply.text);
    assert_eq!(reply.body["headers"]["x-podkeys-owner-id"], "alice");
    assert_eq!(
        reply.body["headers"]["x-podkeys-key-id"],
        record.id.as_str()
    );
    assert_eq!(reply.body["verified_assertion"]["sub"], "alice");
    assert_eq!(reply.body["verified_assertion"]["admin"], false);
}

async fn podcast_routes_follow_scopes(api: Api) {
    let s = stack_for("e2escopes", api).await;
    let (reader, _) = s.app.seed_key("alice", &["podcasts:read"]).await;
    let (manager, _) = s.app.seed_key("alice", &["keys:read", "keys:write"]).await;
    assert_eq!(s.get("/api/v1/podcasts/1", &reader).await.status, 200);
    assert_eq!(
        s.send(
            "HEAD",
            "/api/v1/podcasts/1",
            &[("X-API-Key", &reader)],
            None
        )
        .await
        .status,
        200
    );
    s.send(
        "DELETE",
        "/api/v1/podcasts/1",
        &[("X-API-Key", &reader)],
        None,
    )
    .await
    .refused(403, "insufficient_scope");
    s.get("/api/v1/podcasts/1", &manager)
        .await
        .refused(403, "insufficient_scope");
    assert_eq!(s.get("/api/v1/auth/api-keys", &manager).await.status, 200);
    // Unknown key-management paths stay with podkeys: 404 from podkeys, not the backend.
    s.get("/api/v1/auth/api-keys/key_x/nope", &manager)
        .await
        .error(404, "not_found");
}

async fn owners_are_isolated_and_admins_see_everyone_with_owners(api: Api) {
    let s = stack_for("e2eowners", api).await;
    let (alice, alice_rec) = s.app.seed_key("alice", &["*"]).await;
    let (bob, _) = s.app.seed_key("bob", &["*"]).await;
    let (admin, _) = s.app.seed_key("root", &["admin"]).await;
    let id = alice_rec.id.as_str();
    s.get(&format!("/api/v1/auth/api-keys/{id}"), &bob)
        .await
        .error(404, "not_found");
    s.send(
        "DELETE",
        &format!("/api/v1/auth/api-keys/{id}"),
        &[("X-API-Key", &bob)],
        None,
    )
    .await
    .error(404, "not_found");
    s.get("/api/v1/auth/api-keys?owner_id=alice", &bob)
        .await
        .error(403, "forbidden");
    let bobs = s.get("/api/v1/auth/api-keys", &bob).await;
    assert!(
        bobs.body
            .as_array()
            .expect("array")
            .iter()
            .all(|k| k["owner_id"] == "bob")
    );
    let all = s.get("/api/v1/auth/api-keys", &admin).await;
    let owners: std::collections::BTreeSet<&str> = all
        .body
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|k| k["owner_id"].as_str())
        .collect();
    assert_eq!(owners, ["alice", "bob", "root"].into_iter().collect());
    assert_eq!(
        s.get(&format!("/api/v1/auth/api-keys/{id}"), &alice)
            .await
            .status,
        200
    );
}

async fn rotation_over_http_the_new_key_works_and_the_old_one_expires(api: Api) {
    let s = stack_for("e2erotate", api).await;
    let (key, record) = s.app.seed_key("alice", &["*"]).await;
    let rotated = s
        .send(
            "POST",
            &format!("/api/v1/auth/api-keys/{}/rotate", record.id),
            &[("X-API-Key", &key)],
            Some(r#"{"grace_period_seconds":1}"#),
        )
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.text);
    let successor = key_of(&rotated);
    assert_eq!(s.get("/api/v1/auth/me", &successor).await.status, 200);
    s.app.advance(1);
    s.get("/api/v1/auth/me", &key)
        .await
        .refused(403, "key_expired");
    assert_eq!(s.get("/api/v1/auth/me", &successor).await.status, 200);
}

async fn wrong_methods_and_oversized_bodies_get_api_errors(api: Api) {
    let s = stack_for("e2emisc", api).await;
    let (key, _) = s.app.seed_key("alice", &["*"]).await;
    s.send(
        "PUT",
        "/api/v1/auth/api-keys",
        &[("X-API-Key", &key)],
        Some("{}"),
    )
    .await
    .error(405, "method_not_allowed");
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(20_000));
    s.send(
        "POST",
        "/api/v1/auth/api-keys",
        &[("X-API-Key", &key)],
        Some(&huge),
    )
    .await
    .error(413, "payload_too_large");
    let before = s.app.items().await;
    s.create(&key, json!({"name": "", "scopes": ["nope"]}))
        .await
        .error(400, "invalid_request");
    assert_eq!(s.app.items().await, before);
}
