//! What the podcast backend receives through the local gateway, over real HTTP with the real
//! authorizer on DynamoDB Local (`PODKEYS_TEST_DYNAMODB`): the identity podkeys vouches for,
//! whatever the client forged, and never the caller's key.

use std::sync::Arc;

use apikey::{KeyName, OwnerId, ScopeSet, Timestamp};
use keystore::{KeyRecord, NewKey};
use local_gateway::{Functions, LocalGateway, echo};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Stack {
    addr: String,
    key: String,
    record: KeyRecord,
}

async fn stack(label: &str, scopes: &[&str]) -> Stack {
    let store = testkit::fresh_store(label).await;
    let table = store.table().to_owned();
    let config = gateway::Config::from_lookup(|name| (name == "TABLE_NAME").then(|| table.clone()))
        .expect("config");
    let state = gateway::State::new(store, config);
    let new = NewKey {
        owner_id: OwnerId::parse("alice").expect("owner"),
        name: KeyName::parse("alice's key").expect("name"),
        description: None,
        scopes: ScopeSet::parse(scopes.iter().copied()).expect("scopes"),
        expires_at: None,
        plan: None,
    };
    let (key, record) =
        KeyRecord::issue(&state.config.key_prefix, new, Timestamp::now()).expect("os rng");
    state
        .store
        .create(&record, &keystore::Audit::system())
        .await
        .expect("seed key");

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let echo_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let backend = format!("http://{}", echo_listener.local_addr().expect("addr"));
    let base = format!("http://{addr}");
    tokio::spawn(async move { echo::serve_for(echo_listener, &base).await });
    let gateway = LocalGateway::new(Functions::InProcess(state), &backend).expect("document");
    tokio::spawn(Arc::new(gateway).serve(listener));
    Stack {
        addr,
        key: key.expose_secret().to_owned(),
        record,
    }
}

/// One raw HTTP/1.1 request, header names spelled exactly as given; the body as text.
async fn raw(addr: &str, request_line: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn forged_podkeys_headers_never_reach_the_backend() {
    let s = stack("lgforged", &["podcasts:read", "podcasts:write"]).await;
    let key = s.key.as_str();
    let cases: [&[(&str, &str)]; 6] = [
        &[("x-podkeys-owner-id", "victim")],
        &[("X-PODKEYS-SCOPES", "* admin")],
        &[
            ("X-Podkeys-Key-Id", "key_FORGEDa"),
            ("x-podkeys-key-id", "key_FORGEDb"),
        ],
        &[
            ("X-Podkeys-Owner-Id", "victim"),
            ("x-PODKEYS-owner-ID", "mallory"),
        ],
        &[(
            "X-Podkeys-Assertion",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
        )],
        &[
            ("x-podkeys-owner-id", "victim"),
            ("X-Podkeys-Key-Id", "key_victim"),
            ("x-podkeys-scopes", "keys:write"),
            ("X-PODKEYS-ASSERTION", "forged"),
        ],
    ];
    for forged in cases {
        let mut headers = vec![("X-API-Key", key)];
        headers.extend_from_slice(forged);
        let (status, text) = raw(&s.addr, "GET /api/v1/podcasts/42 HTTP/1.1", &headers).await;
        assert_eq!(status, 200, "{forged:?}: {text}");
        let echoed: Value = serde_json::from_str(&text).expect("the echo's JSON");
        let seen = &echoed["headers"];
        assert_eq!(seen["x-podkeys-owner-id"], "alice", "{forged:?}");
        assert_eq!(seen["x-podkeys-key-id"], s.record.id.as_str(), "{forged:?}");
        assert_eq!(
            seen["x-podkeys-scopes"], "podcasts:read podcasts:write",
            "{forged:?}"
        );
        for (_, value) in forged.iter() {
            assert!(
                !text.contains(value),
                "{forged:?}: the forged value reached the backend: {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_backend_never_sees_the_callers_key() {
    let s = stack("lgredacted", &["podcasts:read"]).await;
    let key = s.key.as_str();
    let bearer = format!("Bearer {key}");
    let cases: [&[(&str, &str)]; 4] = [
        &[("X-API-Key", key)],
        &[("api-key", key)],
        &[("Authorization", &bearer)],
        &[
            ("X-API-KEY", key),
            ("Api-Key", key),
            ("authorization", &bearer),
        ],
    ];
    for sent in cases {
        let (status, text) = raw(&s.addr, "GET /api/v1/podcasts/1?q=1 HTTP/1.1", sent).await;
        assert_eq!(status, 200, "{text}");
        assert!(!text.contains(key), "the key reached the backend: {text}");
        let echoed: Value = serde_json::from_str(&text).expect("the echo's JSON");
        for name in ["x-api-key", "api-key", "authorization"] {
            assert_eq!(echoed["headers"][name], "redacted", "{sent:?}: {name}");
        }
    }
}
