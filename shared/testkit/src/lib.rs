//! Test support. Every test gets its own uniquely named table on the DynamoDB Local that
//! `make test` starts (`scripts/dynamodb-local.sh`), so tests run in parallel and never see
//! each other's keys. There is no mock: without DynamoDB Local these helpers fail loudly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keystore::client::{self, ClientSettings};
use keystore::{Client, KeyStore, Stream, TableCreation};

/// Where the project's DynamoDB Local listens.
pub const ENDPOINT_VAR: &str = "PODKEYS_TEST_DYNAMODB";

pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: these tests need the project's DynamoDB Local. \
             Run `make test`, or start it with `eval $(scripts/dynamodb-local.sh start)`."
        ),
    }
}

/// Time bounds for the emulator. Production's bounds (800 ms per attempt) suit DynamoDB's
/// ~10 ms reads, but DynamoDB Local is a JVM on two busy cores that serialises transactions:
/// under a hundred parallel creates an attempt can take seconds. Tests of the production bounds
/// build their own client with `ClientSettings::default()`.
pub fn emulator_settings() -> ClientSettings {
    ClientSettings {
        connect_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(10),
        operation_timeout: Duration::from_secs(30),
        max_attempts: 3,
    }
}

pub fn local_client() -> Client {
    client::local(&endpoint(), emulator_settings())
}

/// A table name no other test (or earlier run against the same DynamoDB Local) uses.
pub fn unique_table_name(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("t-{label}-{}-{nanos}-{n}", std::process::id())
}

/// A store on a fresh table (and a fresh signing-key table beside it), without the table's
/// stream: DynamoDB Local writes a stream record beside every write, a cost only the tests
/// that read the stream should pay ([`fresh_streaming_store`]).
pub async fn fresh_store(label: &str) -> KeyStore {
    fresh_store_with(label, Stream::Off).await
}

/// A store on a fresh table with the stream the deployed table has (SPEC §14's notifier).
pub async fn fresh_streaming_store(label: &str) -> KeyStore {
    fresh_store_with(label, Stream::NewImages).await
}

async fn fresh_store_with(label: &str, stream: Stream) -> KeyStore {
    let client = local_client();
    let table = unique_table_name(label);
    // Its signing-key table too, under the name `Config::for_table` derives.
    let signing = keystore::signing::default_signing_table(&table);
    match keystore::signing::create_signing_table(&client, &signing).await {
        Ok(TableCreation::Created) => {}
        other => panic!("creating test table {signing} on {}: {other:?}", endpoint()),
    }
    match keystore::create_table_with(&client, &table, stream).await {
        Ok(TableCreation::Created) => KeyStore::new(client, table),
        other => panic!("creating test table {table} on {}: {other:?}", endpoint()),
    }
}

/// Number of items (key items and id items) in the store's table. Rate counters
/// (`rate#…`, SPEC §10) are metering every counted request writes, audit events (`audit#…`,
/// SPEC §11) are the record of a change, and usage items (`usage#…`, SPEC §12) the
/// authorizer's flushed counts, none of them what a request stored: they are left out here
/// and counted by [`counter_count`], [`audit_count`] and [`usage_count`].
pub async fn item_count(store: &KeyStore) -> usize {
    let counted = counted(store).await;
    counted.total - counted.counters - counted.audits - counted.usage
}

/// Number of rate-counter items in the store's table.
pub async fn counter_count(store: &KeyStore) -> usize {
    counted(store).await.counters
}

/// Number of audit items in the store's table (one per audience of each event).
pub async fn audit_count(store: &KeyStore) -> usize {
    counted(store).await.audits
}

/// Number of usage items (one per key and day) in the store's table.
pub async fn usage_count(store: &KeyStore) -> usize {
    counted(store).await.usage
}

struct Counted {
    counters: usize,
    audits: usize,
    usage: usize,
    total: usize,
}

async fn counted(store: &KeyStore) -> Counted {
    let prefix = |p: &str| {
        let text = format!("{:?}", keystore::AttributeValue::S(p.into()));
        text.trim_end_matches(['"', ')']).to_owned()
    };
    match store.raw_items().await {
        Ok(items) => {
            let starting = |p: &str| {
                let p = prefix(p);
                items
                    .iter()
                    .filter(|item| {
                        item.iter()
                            .any(|(k, v)| k == keystore::schema::PK && v.starts_with(&p))
                    })
                    .count()
            };
            Counted {
                counters: starting("rate#"),
                audits: starting("audit#"),
                usage: starting("usage#"),
                total: items.len(),
            }
        }
        Err(e) => panic!("scanning {}: {e:?}", store.table()),
    }
}

/// Waits (at most 5 s) until the table's indexes show every write, so that a listing right
/// after writing is deterministic. DynamoDB's indexes are eventually consistent, and DynamoDB
/// Local's lag behind under load too; the product does not hide that (SPEC §3), tests wait.
pub async fn settle(store: &KeyStore) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match store.indexes_settled().await {
            Ok(true) => return,
            Ok(false) if std::time::Instant::now() < deadline => {
                // Yield the runtime while the emulator's index catches up.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(false) => panic!("indexes of {} still lag after 5 s", store.table()),
            Err(e) => panic!("scanning {}: {e:?}", store.table()),
        }
    }
}

/// A TCP endpoint that accepts connections and never answers: the slowest DynamoDB there is.
/// Requests to it must be cut short by the client's timeouts. Dropping the guard closes it.
pub async fn silent_endpoint() -> (String, SilentGuard) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding a loopback port: {e}"));
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => panic!("local address: {e}"),
    };
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, SilentGuard(task))
}

pub struct SilentGuard(tokio::task::JoinHandle<()>);

impl Drop for SilentGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a `FaultProxy` does to traffic between a client and DynamoDB Local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Forward everything.
    None = 0,
    /// Close every connection at once (new and pooled).
    Drop = 1,
    /// Swallow traffic: requests get no answer, ever (slower than any timeout).
    Stall = 2,
    /// Forward requests, then cut the connection halfway through the response.
    ResetMidResponse = 3,
    /// Answer with bytes that are not HTTP.
    Garbage = 4,
}

impl Fault {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Drop,
            2 => Self::Stall,
            3 => Self::ResetMidResponse,
            4 => Self::Garbage,
            _ => Self::None,
        }
    }
}

/// A TCP proxy in front of DynamoDB Local that injects faults on demand, on new and on
/// already-open (pooled) connections alike. Loopback only; dropped with its guard.
pub struct FaultProxy {
    url: String,
    fault: std::sync::Arc<std::sync::atomic::AtomicU8>,
    _task: SilentGuard,
}

impl FaultProxy {
    pub async fn start(upstream_url: &str) -> Self {
        Self::start_at(upstream_url, "127.0.0.1:0").await
    }

    /// On a given address: to bring a proxy back where a dropped one was.
    pub async fn start_at(upstream_url: &str, addr: &str) -> Self {
        use std::sync::atomic::AtomicU8;
        let upstream = upstream_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("binding the fault proxy on {addr}: {e}"));
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => panic!("fault proxy address: {e}"),
        };
        let fault = std::sync::Arc::new(AtomicU8::new(Fault::None as u8));
        let shared = fault.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (fault, upstream) = (shared.clone(), upstream.clone());
                tokio::spawn(async move { proxy_connection(client, &upstream, fault).await });
            }
        });
        Self {
            url,
            fault,
            _task: SilentGuard(task),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn set(&self, fault: Fault) {
        self.fault
            .store(fault as u8, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    /// A proxy that goes away takes its open connections with it, as a dead host would.
    fn drop(&mut self) {
        self.set(Fault::Drop);
    }
}

async fn proxy_connection(
    client: tokio::net::TcpStream,
    upstream: &str,
    fault: std::sync::Arc<std::sync::atomic::AtomicU8>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let now = || Fault::from_u8(fault.load(Ordering::SeqCst));
    if now() == Fault::Drop {
        return;
    }
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let garbage: &[u8] = b"\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n\x13\x37";
    let up = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            match now() {
                Fault::None | Fault::ResetMidResponse => {
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                Fault::Stall => std::future::pending::<()>().await,
                Fault::Drop | Fault::Garbage => return,
            }
        }
    };
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match now() {
                Fault::Garbage => {
                    let _ = client_write.write_all(garbage).await;
                    return;
                }
                Fault::Drop => return,
                _ => {}
            }
            let n = match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            match now() {
                Fault::None => {
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
                Fault::ResetMidResponse => {
                    let _ = client_write.write_all(&buf[..n / 2]).await;
                    return;
                }
                Fault::Stall => std::future::pending::<()>().await,
                Fault::Drop => return,
                Fault::Garbage => {
                    let _ = client_write.write_all(garbage).await;
                    return;
                }
            }
        }
    };
    // Either direction ending ends the connection (both halves are dropped).
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}
