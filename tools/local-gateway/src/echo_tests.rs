use std::sync::atomic::{AtomicUsize, Ordering};

use assertion::{Claims, Jwks, SigningKey};
use axum::body::{Body, to_bytes};
use axum::routing::get;
use tower::ServiceExt;

use super::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or_default())
        .unwrap_or_default()
}

fn claims(audience: &str, iat: i64) -> Claims {
    Claims {
        iss: "http://127.0.0.1".into(),
        aud: audience.into(),
        sub: "alice".into(),
        key_id: "key_abc".into(),
        scopes: vec!["podcasts:read".into()],
        admin: false,
        plan: None,
        iat,
        exp: iat + 300,
        jti: None,
    }
}

/// A real HTTP server publishing `jwks` where the gateway would, counting fetches.
async fn publish(jwks: Jwks) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let body = serde_json::to_string(&jwks).expect("JWKS");
    let app = Router::new().route(
        JWKS_PATH,
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, fetches)
}

async fn echo(echo: &Arc<Echo>, assertion: Option<&str>) -> Value {
    let mut req = axum::http::Request::get("/api/v1/podcasts/1?x=1");
    if let Some(a) = assertion {
        req = req.header("x-podkeys-assertion", a);
    }
    let resp = echo
        .clone()
        .router()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let bytes = to_bytes(resp.into_body(), 1 << 16).await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn key() -> SigningKey {
    SigningKey::generate().expect("a key").1
}

#[tokio::test]
async fn the_echo_answers_what_it_received() {
    let body = echo(&Arc::new(Echo::new(None)), None).await;
    assert_eq!(body["backend"], "podkeys echo");
    assert_eq!(body["method"], "GET");
    assert_eq!(body["path"], "/api/v1/podcasts/1");
    assert_eq!(body["query"], "x=1");
    assert_eq!(body["verified_assertion"], Value::Null);
    assert_eq!(body["assertion_error"], "no X-Podkeys-Assertion header");
}

#[tokio::test]
async fn a_valid_assertion_comes_back_as_its_verified_claims() {
    let signer = key();
    let (gateway, fetches) = publish(Jwks {
        keys: vec![signer.public_jwk()],
    })
    .await;
    let echo_ = Arc::new(Echo::new(Some(&gateway)).with_audience("podcast-backend"));
    let expected = claims("podcast-backend", now());
    let token = signer.sign(&expected);
    for _ in 0..3 {
        let body = echo(&echo_, Some(&token)).await;
        assert_eq!(body.get("assertion_error"), None, "{body}");
        assert_eq!(
            body["verified_assertion"],
            serde_json::to_value(&expected).expect("claims")
        );
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "the keys are cached");
}

#[tokio::test]
async fn invalid_assertions_are_null_with_the_reason() {
    let signer = key();
    let stranger = key();
    let (gateway, _) = publish(Jwks {
        keys: vec![signer.public_jwk()],
    })
    .await;
    let echo_ = Arc::new(Echo::new(Some(&gateway)).with_audience("podcast-backend"));
    let good = signer.sign(&claims("podcast-backend", now()));
    let tampered = format!("{good}x");
    let cases = [
        ("garbage".to_owned(), "not a compact JWT"),
        (signer.sign(&claims("someone-else", now())), "audience"),
        (
            signer.sign(&claims("podcast-backend", now() - 3600)),
            "expired",
        ),
        (stranger.sign(&claims("podcast-backend", now())), "kid"),
        (tampered, ""),
    ];
    for (token, why) in cases {
        let body = echo(&echo_, Some(&token)).await;
        assert_eq!(body["verified_assertion"], Value::Null, "{why}");
        let error = body["assertion_error"].as_str().unwrap_or_default();
        assert!(!error.is_empty() && error.contains(why), "{why}: {error}");
    }
}

#[tokio::test]
async fn without_the_gateways_keys_nothing_verifies() {
    let token = key().sign(&claims("podcast-backend", now()));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let closed = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    for echo_ in [Echo::new(None), Echo::new(Some(&closed))] {
        let body = echo(&Arc::new(echo_), Some(&token)).await;
        assert_eq!(body["verified_assertion"], Value::Null);
        assert!(body["assertion_error"].is_string(), "{body}");
    }
}
