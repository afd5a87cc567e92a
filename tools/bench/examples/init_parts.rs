//! Where the authorizer's init time goes (scratch measurement for BENCHMARKS.md).
use std::time::Instant;

#[tokio::main]
async fn main() {
    let t = Instant::now();
    gateway::init_tracing();
    let a = t.elapsed();
    let config = gateway::Config::from_env().expect("config");
    let b = t.elapsed();
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let c = t.elapsed();
    let client = keystore::Client::new(&shared);
    let d = t.elapsed();
    let local = keystore::client::local(
        "http://127.0.0.1:1",
        keystore::client::ClientSettings::default(),
    );
    let e = t.elapsed();
    drop((client, local, config));
    println!(
        "tracing {a:?} config {:?} aws_config load {:?} Client::new {:?} local client {:?}",
        b - a,
        c - b,
        d - c,
        e - d
    );
}
