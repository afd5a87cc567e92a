//! SPEC §7 key figures: parse + hash < 2 µs, garbage rejected < 1 µs, generation < 5 µs. Each
//! group carries a baseline measured in the same run (bare SHA-256, bare OS random fill), so
//! BENCHMARKS.md can report ratios that a noisy machine does not distort.

use std::hint::black_box;

use apikey::{ApiKey, KeyId, KeyPrefix};
use criterion::{Criterion, criterion_group, criterion_main};
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};

fn parse_and_hash(c: &mut Criterion) {
    let prefix = KeyPrefix::default();
    let key = ApiKey::generate(&prefix).expect("os rng");
    let text = key.expose_secret().to_owned();
    let mut g = c.benchmark_group("parse");
    g.bench_function("baseline_sha256_only", |b| {
        b.iter(|| Sha256::digest(black_box(text.as_bytes())))
    });
    g.bench_function("parse_and_hash_valid_key", |b| {
        b.iter(|| ApiKey::parse(&prefix, black_box(&text)).map(|k| k.hash()))
    });
    let mut bad_sum = text.clone();
    bad_sum.replace_range(text.len() - 6.., "000000");
    g.bench_function("reject_bad_checksum", |b| {
        b.iter(|| ApiKey::parse(&prefix, black_box(&bad_sum)).is_err())
    });
    let garbage = "x".repeat(10 * 1024);
    g.bench_function("reject_10kb_garbage", |b| {
        b.iter(|| ApiKey::parse(&prefix, black_box(&garbage)).is_err())
    });
    g.bench_function("reject_wrong_prefix", |b| {
        b.iter(|| {
            ApiKey::parse(
                &prefix,
                black_box("ghp_0123456789012345678901234567890123456789012345678"),
            )
            .is_err()
        })
    });
    g.finish();
}

fn generate(c: &mut Criterion) {
    let prefix = KeyPrefix::default();
    let mut g = c.benchmark_group("generate");
    g.bench_function("baseline_os_random_64_bytes", |b| {
        b.iter(|| {
            let mut buf = [0u8; 64];
            SysRng.try_fill_bytes(&mut buf).map(|()| buf)
        })
    });
    g.bench_function("generate_key", |b| b.iter(|| ApiKey::generate(&prefix)));
    g.bench_function("generate_key_id", |b| b.iter(KeyId::generate));
    g.finish();
}

criterion_group!(benches, parse_and_hash, generate);
criterion_main!(benches);
