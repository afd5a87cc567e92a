//! The `apikeys` binary against DynamoDB Local, as an operator runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Cli {
    table: String,
}

impl Cli {
    fn new(label: &str) -> Self {
        Self {
            table: testkit::unique_table_name(label),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apikeys"))
            .args(args)
            .env("TABLE_NAME", &self.table)
            .env("AWS_ENDPOINT_URL_DYNAMODB", testkit::endpoint())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("KEY_PREFIX")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("apikeys runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("apikeys finishes")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// Waits until listings (an eventually consistent index) show every write.
    async fn settle(&self) {
        testkit::settle(&keystore::KeyStore::new(
            testkit::local_client(),
            &self.table,
        ))
        .await;
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn an_operator_bootstraps_an_admin_key_and_manages_keys() {
    let cli = Cli::new("cli");
    assert!(cli.ok(&["table", "create"]).contains("created table"));
    assert!(cli.ok(&["table", "create"]).contains("already exists"));

    let admin = cli.json(&["create", "--owner", "ops", "--name", "bootstrap", "--admin"]);
    assert_eq!(admin["scopes"], serde_json::json!(["admin"]));
    let admin_key = admin["key"].as_str().expect("key").to_owned();
    assert!(admin_key.starts_with("pod_"));

    let text = cli.ok(&[
        "create",
        "--owner",
        "alice",
        "--name",
        "laptop",
        "--scopes",
        "podcasts:read,keys:read",
        "--expires-in-days",
        "30",
    ]);
    let alice_key = text.trim().to_owned();
    assert!(
        alice_key.starts_with("pod_"),
        "only the key on stdout: {text}"
    );

    let verified = cli.json(&["verify", &alice_key]);
    assert_eq!(verified["owner_id"], "alice");
    assert_eq!(verified["status"], "active");
    assert!(
        !verified.to_string().contains(&alice_key),
        "verify never echoes the key"
    );

    cli.settle().await;
    let listed = cli.json(&["list"]);
    assert_eq!(listed.as_array().expect("array").len(), 2);
    let table = cli.ok(&["list", "--owner", "alice"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("laptop") && !table.contains("bootstrap"),
        "{table}"
    );
    assert!(!table.contains(&alice_key));

    let id = verified["id"].as_str().expect("id");
    let rotated = cli.json(&["rotate", id, "--grace-seconds", "600"]);
    assert_eq!(rotated["rotated_from"]["id"], id);
    assert_eq!(rotated["name"], "laptop");
    let successor = rotated["key"].as_str().expect("new key").to_owned();
    assert_eq!(cli.json(&["verify", &successor])["status"], "active");
    let again = cli.run(&["rotate", id]);
    assert!(
        stderr(&again).contains("already rotated"),
        "{}",
        stderr(&again)
    );
    assert!(cli.ok(&["revoke", id]).contains("revoked"));
    let again = cli.json(&["revoke", id]);
    assert_eq!(again["status"], "revoked");
    let out = cli.run_with_stdin(&["verify", "-"], Some(&format!("{alice_key}\n")));
    assert!(!out.status.success(), "a revoked key does not verify");
    assert!(stderr(&out).contains("revoked"));
    cli.settle().await;
    assert_eq!(
        cli.json(&["list", "--status", "revoked"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// SPEC §16: one flag makes the one kind of key a feed URL may carry, and says how to use it.
#[test]
fn create_feed_makes_a_feeds_read_only_key_and_shows_the_feed_url() {
    let cli = Cli::new("clifeed");
    cli.ok(&["table", "create"]);
    let out = cli.run(&["create", "--owner", "ann", "--name", "AntennaPod", "--feed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    let key = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(said.contains("scopes: feeds:read;"), "{said}");
    assert!(
        said.contains("/api/v1/feeds/{feed}?api_key=<the key>"),
        "{said}"
    );
    assert!(
        !said.contains(key.trim()),
        "the key is printed once, on stdout"
    );
    let json = cli.ok(&[
        "--json", "create", "--owner", "ann", "--name", "b", "--feed",
    ]);
    let body: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(body["scopes"], serde_json::json!(["feeds:read"]));
    assert_eq!(body["plan"], "free", "the default plan");
    let pro = cli.ok(&[
        "--json", "create", "--owner", "ann", "--name", "c", "--plan", "pro",
    ]);
    let body: Value = serde_json::from_str(&pro).expect("JSON");
    assert_eq!(body["plan"], "pro");
}

/// SPEC §10 / §3: the operator's PATCH: name, scopes, plan; refused once the key is revoked.
#[test]
fn update_changes_a_key_until_it_is_revoked() {
    let cli = Cli::new("cliupd");
    cli.ok(&["table", "create"]);
    let made: Value =
        serde_json::from_str(&cli.ok(&["--json", "create", "--owner", "ann", "--name", "a"]))
            .expect("JSON");
    let id = made["id"].as_str().expect("id").to_owned();
    let changed: Value = serde_json::from_str(&cli.ok(&[
        "--json",
        "update",
        &id,
        "--name",
        "b",
        "--scopes",
        "podcasts:read",
        "--plan",
        "pro",
    ]))
    .expect("JSON");
    assert_eq!(changed["name"], "b");
    assert_eq!(changed["scopes"], serde_json::json!(["podcasts:read"]));
    assert_eq!(changed["plan"], "pro");
    let nothing = cli.run(&["update", &id]);
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr(&nothing));
    let unknown = cli.run(&["update", &id, "--plan", "gold"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    cli.ok(&["revoke", &id]);
    let late = cli.run(&["update", &id, "--name", "c"]);
    assert_eq!(late.status.code(), Some(1), "{}", stderr(&late));
    assert!(
        stderr(&late).contains("revoked or expired"),
        "{}",
        stderr(&late)
    );
}

#[test]
fn operational_errors_are_clear_and_exit_non_zero() {
    let cli = Cli::new("clierr");
    let missing = cli.run(&["list"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("apikeys table create"),
        "{}",
        stderr(&missing)
    );

    cli.ok(&["table", "create"]);
    let cases: &[(&[&str], i32, &str)] = &[
        // Bad arguments exit 2 (as clap's own usage errors do), failures 1.
        (&["revoke", "nope"], 2, "not a key id"),
        (&["revoke", "key_00000000000000000000"], 1, "no key with id"),
        (&["verify", "pod_garbage"], 2, "not a valid key"),
        (&["create", "--owner", "a b", "--name", "x"], 2, "--owner"),
        (
            &["create", "--owner", "a", "--name", "x", "--scopes", "root"],
            2,
            "unknown scope",
        ),
        (
            &[
                "create",
                "--owner",
                "a",
                "--name",
                "x",
                "--expires-in-days",
                "0",
            ],
            2,
            "expires-in-days",
        ),
        (&["list", "--status", "gone"], 2, "--status"),
        (
            &["create", "--owner", "a", "--name", "x", "--plan", "gold"],
            2,
            "--plan",
        ),
        (
            &["create", "--owner", "a", "--name", "x", "--feed", "--admin"],
            2,
            "--feed",
        ),
        (&["list", "--limit", "500"], 2, "limit"),
        (&["frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, code, says) in cases {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

/// SPEC §2: the operator's CLI counts active keys too, and passes the limit only when told,
/// saying so; it is exempt from the minting rule (it has no calling key) and says that too.
#[tokio::test]
async fn create_honours_the_per_owner_limit_unless_told_and_says_so() {
    let cli = Cli::new("clilimit");
    cli.ok(&["table", "create"]);
    let first = cli.run(&[
        "create",
        "--owner",
        "ann",
        "--name",
        "one",
        "--max-active-keys",
        "1",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("as the operator"),
        "{}",
        stderr(&first)
    );
    cli.settle().await;
    let refused = cli.run(&[
        "create",
        "--owner",
        "ann",
        "--name",
        "two",
        "--max-active-keys",
        "1",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--over-limit"),
        "{}",
        stderr(&refused)
    );
    let forced = cli.run(&[
        "create",
        "--owner",
        "ann",
        "--name",
        "two",
        "--max-active-keys",
        "1",
        "--over-limit",
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("--over-limit"),
        "{}",
        stderr(&forced)
    );
}

/// SPEC §15: `table create` makes the signing-key table too; the key set appears with the
/// first assertion, rotates by kid and never prints a seed.
#[test]
fn signing_keys_are_listed_rotated_and_retired_by_kid() {
    let cli = Cli::new("clisigning");
    let created = cli.ok(&["table", "create"]);
    assert!(
        created.contains(&format!("{}-signing", cli.table)),
        "{created}"
    );
    assert!(
        cli.ok(&["signing-key", "list"])
            .contains("no signing key yet")
    );
    let early = cli.run(&["signing-key", "rotate"]);
    assert_eq!(early.status.code(), Some(1), "{}", stderr(&early));

    // What the first authorizer does: create the key set.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = keystore::signing::SigningStore::new(
        testkit::local_client(),
        format!("{}-signing", cli.table),
    );
    let first = runtime
        .block_on(
            store.current_or_create(gateway::signer::fresh_candidate, apikey::Timestamp::now()),
        )
        .expect("created")
        .kid;

    let rotated = cli.json(&["signing-key", "rotate"]);
    let second = rotated["kid"].as_str().expect("kid").to_owned();
    assert_ne!(second, first);
    let listed = cli.json(&["signing-key", "list"]);
    let kids: Vec<(&str, bool)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|k| (k["kid"].as_str().unwrap_or(""), k["current"] == true))
        .collect();
    assert!(kids.contains(&(first.as_str(), false)) && kids.contains(&(second.as_str(), true)));
    let current = cli.run(&["signing-key", "retire", &second]);
    assert_eq!(current.status.code(), Some(2), "{}", stderr(&current));
    cli.ok(&["signing-key", "retire", &first]);
    let after = cli.ok(&["signing-key", "list"]);
    assert!(
        !after.contains(&first) && after.contains(&second),
        "{after}"
    );
}

/// SPEC §11: the CLI's own changes are audited as `cli`, and `apikeys audit` reads the log.
#[tokio::test]
async fn cli_changes_are_audited_and_apikeys_audit_shows_them() {
    let cli = Cli::new("cliaudit");
    cli.ok(&["table", "create"]);
    let created = cli.json(&["create", "--owner", "alice", "--name", "laptop"]);
    let id = created["id"].as_str().expect("id").to_owned();
    cli.json(&["revoke", &id]);
    cli.json(&["create", "--owner", "bob", "--name", "phone"]);

    let all = cli.json(&["audit"]);
    let events = all.as_array().expect("an array");
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["key.created", "key.revoked", "key.created"]);
    assert!(events.iter().all(|e| e["actor"]["type"] == "cli"));
    let text = all.to_string();
    assert!(
        !text.contains(created["key"].as_str().expect("key")),
        "no key in the log"
    );
    let alices = cli.json(&["audit", "--owner", "alice"]);
    assert_eq!(alices.as_array().map(Vec::len), Some(2));
    let about = cli.json(&["audit", "--key", &id]);
    assert_eq!(about.as_array().map(Vec::len), Some(2));
    let table = cli.ok(&["audit", "--limit", "1"]);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(
        table.contains("key.created") && table.contains("cli"),
        "{table}"
    );
    let bad = cli.run(&["audit", "--key", "nope"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// SPEC §12: `apikeys usage` reads what the authorizer wrote, per key (every day of the
/// range) and per owner (each key's total).
#[tokio::test]
async fn apikeys_usage_shows_a_key_and_an_owner_by_day() {
    use apikey::{Day, KeyId, OwnerId, Timestamp, UsageCounts};
    let cli = Cli::new("cliusage");
    cli.ok(&["table", "create"]);
    let created = cli.json(&["create", "--owner", "alice", "--name", "laptop"]);
    let id = created["id"].as_str().expect("id").to_owned();
    // What an authorizer's flush writes, straight into the table.
    let store = keystore::KeyStore::new(testkit::local_client(), &cli.table);
    let key = keystore::KeyDay {
        key_id: KeyId::parse(&id).expect("id"),
        owner_id: OwnerId::parse("alice").expect("owner"),
        day: Day::of(Timestamp::now()),
    };
    let counts = UsageCounts {
        allowed: 7,
        rate_limited: 2,
        denied: 1,
    };
    store.add_usage(&key, counts).await.expect("usage written");

    let one = cli.json(&["usage", &id]);
    assert_eq!(one["days"].as_array().map(Vec::len), Some(30));
    assert_eq!(
        one["total"],
        serde_json::json!({"allowed": 7, "rate_limited": 2, "denied": 1})
    );
    let owner = cli.json(&["usage", "--owner", "alice", "--from", &key.day.to_string()]);
    assert_eq!(owner["days"].as_array().map(Vec::len), Some(1));
    assert_eq!(owner["keys"][0]["key_id"], id.as_str());
    assert_eq!(owner["total"]["allowed"], 7);
    let table = cli.ok(&["usage", &id, "--from", &key.day.to_string()]);
    assert!(table.starts_with("DATE"), "{table}");
    assert!(table.contains("TOTAL") && table.contains(" 7 "), "{table}");

    for bad in [
        vec!["usage"],
        vec!["usage", "nope"],
        vec!["usage", &id, "--from", "2026-13-01"],
        vec!["usage", &id, "--from", "2026-12-05", "--to", "2026-12-01"],
        vec![
            "usage",
            "--owner",
            "alice",
            "--from",
            "2024-01-01",
            "--to",
            "2025-01-01",
        ],
    ] {
        let out = cli.run(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
    let missing = cli.run(&["usage", "key_00000000000000000000"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
}
