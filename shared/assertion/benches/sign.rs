//! SPEC §7b: signing the assertion costs under 50 µs per decision. The baseline is a bare
//! Ed25519 signature over a message of the same length, measured in the same run.

use assertion::{Claims, SigningKey};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn claims() -> Claims {
    Claims {
        iss: "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod".into(),
        aud: "podcast-backend".into(),
        sub: "auth0|5f7c8ec7c33c6c004bbafe82".into(),
        key_id: "key_7VqgMEkUtivGCNqIvDji".into(),
        scopes: vec![
            "podcasts:read".into(),
            "podcasts:write".into(),
            "keys:read".into(),
        ],
        admin: false,
        plan: Some("free".into()),
        iat: 1_800_000_000,
        exp: 1_800_000_300,
        jti: Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into()),
    }
}

fn bench(c: &mut Criterion) {
    let (_, key) = SigningKey::generate().expect("random");
    let claims = claims();
    let token = key.sign(&claims);
    let mut seed = [0u8; 32];
    aws_lc_rs::rand::fill(&mut seed).expect("random");
    let bare = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("seed");
    let message = vec![b'a'; token.len() - 87];
    let mut group = c.benchmark_group("assertion");
    group.bench_function("sign claims (JSON, base64url, Ed25519)", |b| {
        b.iter(|| key.sign(black_box(&claims)))
    });
    group.bench_function("baseline: bare Ed25519 over the same length", |b| {
        b.iter(|| bare.sign(black_box(&message)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
