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
        (&["revoke", "nope"], 1, "not a key id"),
        (&["revoke", "key_00000000000000000000"], 1, "no key with id"),
        (&["verify", "pod_garbage"], 1, "not a valid key"),
        (&["create", "--owner", "a b", "--name", "x"], 1, "--owner"),
        (
            &["create", "--owner", "a", "--name", "x", "--scopes", "root"],
            1,
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
        (&["list", "--status", "gone"], 1, "--status"),
        (&["list", "--limit", "500"], 2, "limit"),
        (&["frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, code, says) in cases {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}
