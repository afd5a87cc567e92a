//! The README's webhook receivers (SPEC §14), run exactly as written: each snippet marked
//! `<!-- receiver: … -->` is copied out of README.md, started with `python3` / `node` (project
//! prerequisites: a missing one fails the test) on a free port, and sent deliveries signed by
//! `webhook::sign`: good, tampered, another secret, stale, several `v1`, malformed headers.
//! The README's example bodies are checked against the envelope code and the API's schemas.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apikey::{KeyId, Timestamp};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use webhook::{EVENT_ID_HEADER, Envelope, SIGNATURE_HEADER, Secret};

const SECRET: &str = "whsec-snippet-test-7Qm2";
const OTHER_SECRET: &str = "whsec-someone-else-9Zx4";
/// How long a receiver may take to start listening (an interpreter's cold start).
const START_TIMEOUT: Duration = Duration::from_secs(4);
/// How long one request, or the line printed after it, may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn readme() -> String {
    let path = repo_file("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of the fenced block right after the line `<!-- {marker} -->`, which must occur
/// exactly once.
fn marked_block(readme: &str, marker: &str) -> String {
    let comment = format!("<!-- {marker} -->");
    let lines: Vec<&str> = readme.lines().collect();
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim() == comment)
        .collect();
    assert_eq!(
        at.len(),
        1,
        "README.md must mark exactly one block {comment}"
    );
    let fence = lines.get(at[0] + 1).copied().unwrap_or_default();
    assert!(
        fence.starts_with("```"),
        "{comment} must be right before a ``` fence, found {fence:?}"
    );
    let body: Vec<&str> = lines[at[0] + 2..]
        .iter()
        .take_while(|line| line.trim_end() != "```")
        .copied()
        .collect();
    assert!(
        at[0] + 2 + body.len() < lines.len(),
        "the block after {comment} is never closed"
    );
    format!("{}\n", body.join("\n"))
}

/// A README receiver running as a child process (killed, and its file removed, when dropped).
struct Receiver {
    interpreter: &'static str,
    child: Child,
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
    script: PathBuf,
}

impl Receiver {
    /// Starts the README's `<!-- receiver: {lang} -->` snippet with `interpreter` and waits
    /// until it accepts connections.
    async fn start(lang: &str, interpreter: &'static str, extension: &str) -> Self {
        let code = marked_block(&readme(), &format!("receiver: {lang}"));
        let script = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "webhook-receiver-{}-{lang}.{extension}",
            std::process::id()
        ));
        std::fs::write(&script, code).expect("write the snippet");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(interpreter)
            .arg(&script)
            .env("WEBHOOK_SECRET", SECRET)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                let _ = std::fs::remove_file(&script);
                panic!(
                    "cannot run `{interpreter}` ({e}): it is a project prerequisite \
                     (scripts/prereqs.sh; the README's Prerequisites say how to install it)"
                )
            });

        let (tx, stdout) = mpsc::unbounded_channel();
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped");
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                sink.lock()
                    .expect("not poisoned")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let mut receiver = Self {
            interpreter,
            child,
            url: format!("http://127.0.0.1:{port}/hook"),
            // No pooling: each delivery on its own connection, as the notifier sends them, and
            // no race with a server closing an idle one (Python's answers HTTP/1.0).
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build_http(),
            stdout,
            stderr,
            script,
        };
        receiver.wait_until_listening(port).await;
        receiver
    }

    async fn wait_until_listening(&mut self, port: u16) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!(
                    "the {} receiver exited ({status}) before listening:\n{}",
                    self.interpreter,
                    self.stderr()
                );
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the {} receiver is not listening on {port} after {START_TIMEOUT:?}:\n{}",
                self.interpreter,
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("not poisoned").clone()
    }

    /// POSTs `body` as the notifier does, with `signature` as `Podkeys-Signature` (none when
    /// `None`); the status.
    async fn deliver(&self, signature: Option<&str>, event_id: &str, body: &[u8]) -> u16 {
        let mut request = hyper::Request::post(&self.url)
            .header("content-type", "application/json")
            .header("user-agent", "podkeys-webhooks")
            .header(EVENT_ID_HEADER, event_id);
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("request");
        let response = tokio::time::timeout(STEP_TIMEOUT, self.client.request(request))
            .await
            .unwrap_or_else(|_| panic!("no answer within {STEP_TIMEOUT:?}"))
            .unwrap_or_else(|e| panic!("request failed: {e}\n{}", self.stderr()));
        let status = response.status().as_u16();
        response.into_body().collect().await.expect("body");
        status
    }

    /// The next line the receiver prints on stdout.
    async fn next_line(&mut self) -> String {
        match tokio::time::timeout(STEP_TIMEOUT, self.stdout.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("the receiver closed stdout:\n{}", self.stderr()),
            Err(_) => panic!(
                "nothing printed within {STEP_TIMEOUT:?}:\n{}",
                self.stderr()
            ),
        }
    }

    async fn stop(mut self) -> (Vec<String>, String) {
        self.child.kill().await.expect("kill the receiver");
        let mut rest = Vec::new();
        while let Ok(Some(line)) =
            tokio::time::timeout(Duration::from_millis(200), self.stdout.recv()).await
        {
            rest.push(line);
        }
        (rest, self.stderr())
    }
}

impl Drop for Receiver {
    /// The child is killed by `kill_on_drop`; the copied snippet goes too, pass or fail.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
    }
}

fn now() -> i64 {
    Timestamp::now().epoch_secs()
}

fn secret(value: &str) -> Secret {
    Secret::new(value).expect("non-blank")
}

/// A delivery as the notifier builds it: the envelope of an audit event with this id.
fn delivery(evt_random: &str) -> (String, String) {
    let event = json!({
        "id": format!("evt_{evt_random}"),
        "time": Timestamp::now().to_rfc3339(),
        "action": "key.revoked",
        "actor": {"type": "cli", "key_id": null, "owner_id": null},
        "target": {"key_id": "key_hoccgKgjv6yY8Bwt67b6", "owner_id": "alice",
                   "name": "staging", "hint": "pod_rRH3…"},
        "request_id": null, "source_ip": null, "user_agent": null,
        "changes": null, "correlation_id": null,
    });
    let envelope = Envelope::for_audit_event(event).expect("a lifecycle event");
    (envelope.id().to_string(), envelope.body())
}

fn v1_of(header: &str) -> &str {
    header.split_once(",v1=").expect("a v1 part").1
}

/// Every case of the brief against one running receiver.
async fn check_receiver(lang: &str, interpreter: &'static str, extension: &str) {
    let started = Instant::now();
    let mut receiver = Receiver::start(lang, interpreter, extension).await;
    let (id, body) = delivery("SnippetGood012345678");
    let body = body.as_bytes();
    let t = now();
    let good = webhook::sign(&secret(SECRET), t, body);

    // A delivery signed now with the shared secret: accepted, and its line printed.
    let status = receiver.deliver(Some(&good), &id, body).await;
    assert!(
        (200..300).contains(&status),
        "{lang}: a good delivery got {status}\n{}",
        receiver.stderr()
    );
    let line = receiver.next_line().await;
    assert!(
        line.contains("verified") && line.contains(&id) && line.contains("key.revoked"),
        "{lang}: printed {line:?}"
    );

    // The same signature over a body with one byte changed.
    let mut tampered = body.to_vec();
    let at = body
        .windows(5)
        .position(|w| w == b"alice")
        .expect("owner in body");
    tampered[at + 4] = b'f';
    let other = webhook::sign(&secret(OTHER_SECRET), t, body);
    let stale = webhook::sign(&secret(SECRET), t - 600, body);
    let future = webhook::sign(&secret(SECRET), t + 600, body);
    let good_v1 = v1_of(&good);
    let refused: Vec<(&str, Option<String>, &[u8])> = vec![
        (
            "one byte of the body changed",
            Some(good.clone()),
            tampered.as_slice(),
        ),
        ("signed with another secret", Some(other.clone()), body),
        ("t 10 minutes old", Some(stale), body),
        ("t 10 minutes ahead", Some(future), body),
        ("no header", None, body),
        ("empty header", Some(String::new()), body),
        ("garbage header", Some("garbage".into()), body),
        ("no t", Some(format!("v1={good_v1}")), body),
        ("no v1", Some(format!("t={t}")), body),
        ("t not a number", Some(format!("t=abc,v1={good_v1}")), body),
        ("t signed", Some(format!("t=+{t},v1={good_v1}")), body),
        ("two t", Some(format!("t={t},t={t},v1={good_v1}")), body),
        ("an empty part", Some(format!("t={t},,v1={good_v1}")), body),
        (
            "a part without =",
            Some(format!("t={t},v1={good_v1},x")),
            body,
        ),
        (
            "v1 truncated",
            Some(format!("t={t},v1={}", &good_v1[..63])),
            body,
        ),
    ];
    for (case, header, body) in refused {
        let status = receiver.deliver(header.as_deref(), &id, body).await;
        assert!(
            (400..500).contains(&status),
            "{lang}: {case}: got {status}, want 4xx\n{}",
            receiver.stderr()
        );
    }

    // Several v1 (a sender changing secrets signs with both): the second one is right.
    let (id2, body2) = delivery("SnippetTwoV145678abc");
    let body2 = body2.as_bytes();
    let t2 = now();
    let right = webhook::sign(&secret(SECRET), t2, body2);
    let wrong = webhook::sign(&secret(OTHER_SECRET), t2, body2);
    let both = format!("t={t2},v1={},v1={}", v1_of(&wrong), v1_of(&right));
    let status = receiver.deliver(Some(&both), &id2, body2).await;
    assert!(
        (200..300).contains(&status),
        "{lang}: two v1, the second right: got {status}\n{}",
        receiver.stderr()
    );
    let line = receiver.next_line().await;
    assert!(
        line.contains("verified") && line.contains(&id2),
        "{lang}: printed {line:?}"
    );

    // Spaces after the commas and another scheme are tolerated, as `webhook::verify` does.
    let (id3, body3) = delivery("SnippetSpaces789abcd");
    let body3 = body3.as_bytes();
    let t3 = now();
    let right = webhook::sign(&secret(SECRET), t3, body3);
    let spaced = format!("t={t3}, v0=legacy, v1={}", v1_of(&right));
    let status = receiver.deliver(Some(&spaced), &id3, body3).await;
    assert!(
        (200..300).contains(&status),
        "{lang}: {spaced:?}: got {status}\n{}",
        receiver.stderr()
    );
    assert!(receiver.next_line().await.contains(&id3));

    let (rest, stderr) = receiver.stop().await;
    assert!(
        rest.is_empty(),
        "{lang}: printed lines for refused deliveries: {rest:?}"
    );
    assert!(
        !stderr.contains(SECRET),
        "{lang}: the secret is on stderr: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{lang}: took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_readme_python_receiver_verifies_signatures() {
    check_receiver("python", "python3", "py").await;
}

#[tokio::test]
async fn the_readme_node_receiver_verifies_signatures() {
    // `.cjs`: the snippet is CommonJS whatever package.json a parent folder might hold.
    check_receiver("node", "node", "cjs").await;
}

/// The property names of schema `name` in infra/openapi.yaml, and its required ones.
fn schema_properties(name: &str) -> (Vec<String>, Vec<String>) {
    let path = repo_file("infra/openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/openapi.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    let schema = &doc["components"]["schemas"][name];
    let mut properties: Vec<String> = schema["properties"]
        .as_mapping()
        .unwrap_or_else(|| panic!("schema {name} has properties"))
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    let mut required: Vec<String> = schema["required"]
        .as_sequence()
        .unwrap_or_else(|| panic!("schema {name} lists required"))
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    properties.sort();
    required.sort();
    (properties, required)
}

fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn the_readme_example_bodies_are_what_podkeys_sends() {
    let readme = readme();
    let parse = |marker: &str| -> Value {
        let text = marked_block(&readme, marker);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{marker}: not JSON ({e})"))
    };

    // key.revoked: the envelope the notifier makes of that audit event is the example.
    let revoked = parse("webhook body: key.revoked");
    let envelope = Envelope::for_audit_event(revoked["data"].clone()).expect("an audit event");
    assert_eq!(envelope.to_json(), revoked);
    assert_eq!(envelope.event_type().as_str(), "key.revoked");
    let (properties, required) = schema_properties("AuditEvent");
    assert_eq!(keys_of(&revoked["data"]), properties);
    assert_eq!(properties, required);

    // key.expiring: the notice a scan at `created` finds due for that key, with its id.
    let expiring = parse("webhook body: key.expiring");
    let data = &expiring["data"];
    let time = |v: &Value| Timestamp::parse_rfc3339(v.as_str().expect("a time")).expect("RFC 3339");
    let now = time(&expiring["created"]);
    let notice = webhook::due_notice(time(&data["expires_at"]), now, &[]).expect("due a notice");
    let key_id = KeyId::parse(data["id"].as_str().expect("an id")).expect("a key id");
    let envelope = Envelope::for_notice(&key_id, notice, data.clone(), now);
    assert_eq!(envelope.to_json(), expiring);
    assert_eq!(envelope.event_type().as_str(), "key.expiring");
    assert_eq!(data["status"], "active");
    let (properties, required) = schema_properties("KeyObject");
    assert_eq!(keys_of(data), properties);
    assert_eq!(properties, required);
}
