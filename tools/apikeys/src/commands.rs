use std::io::Read;

use apikey::{ApiKey, GracePeriod, KeyId, KeyPrefix, KeyStatus, OwnerId, Timestamp};
use handler::KeyObject;
use keystore::client::{self, ClientSettings};
use keystore::signing::SigningStore;
use keystore::{Access, KeyRecord, KeyStore, Listing, Rotation, StoreError, TableCreation};
use serde_json::json;

use crate::{AuditArgs, Cli, Command, ListArgs, TableCommand, UsageArgs, WebhookCommand};

/// Why a command failed: bad arguments (exit 2) or anything else (exit 1).
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

pub(crate) fn usage(message: String) -> Failure {
    Failure::Usage(message)
}

pub(crate) type Outcome = Result<(), Failure>;

pub async fn run(cli: Cli) -> Outcome {
    let prefix = KeyPrefix::parse(&cli.prefix).map_err(|_| {
        format!(
            "--prefix / KEY_PREFIX {:?} must match [a-z][a-z0-9]{{1,9}}",
            cli.prefix
        )
    })?;
    let store = KeyStore::new(connect().await, &cli.table);
    let json = cli.json;
    match cli.command {
        Command::Table {
            command: TableCommand::Create,
        } => table_create(&store, json).await,
        Command::Create(args) => crate::change::create(&store, &prefix, args, json).await,
        Command::Update(args) => crate::change::update(&store, args, json).await,
        Command::List(args) => list(&store, args, json).await,
        Command::Audit(args) => audit(&store, args, json).await,
        Command::Usage(args) => usage_report(&store, args, json).await,
        Command::Revoke { id } => revoke(&store, &id, json).await,
        Command::Rotate { id, grace_seconds } => {
            rotate(&store, &prefix, &id, grace_seconds, json).await
        }
        Command::NotifyExpiring { now } => {
            crate::webhooks::notify_expiring(&store, now.as_deref(), json).await
        }
        Command::Webhooks { command } => match command {
            WebhookCommand::Failed => crate::webhooks::failed(&store, json).await,
            WebhookCommand::Replay { ids, all } => {
                crate::webhooks::replay(&store, ids, all, json).await
            }
        },
        Command::Verify { key } => verify(&store, &prefix, &key, json).await,
        Command::SigningKey { command } => {
            let table = signing_table(&cli.table);
            crate::signing::run(
                SigningStore::new(store.client().clone(), table),
                command,
                json,
            )
            .await
        }
    }
}

/// A DynamoDB Local on loopback needs no credentials: use fixed dummy ones so that local use
/// works on a machine with no AWS set-up. Anything else goes through the standard chain.
async fn connect() -> keystore::Client {
    match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(url) if is_loopback(&url) && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() => {
            client::local(&url, ClientSettings::interactive())
        }
        _ => client::from_env(ClientSettings::interactive()).await,
    }
}

fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    ["localhost", "127.", "[::1]"]
        .iter()
        .any(|h| host.starts_with(h))
}

pub(crate) fn explain(table: &str, e: StoreError) -> String {
    let mut message = match &e {
        StoreError::TableNotFound(_) => {
            format!("table {table:?} does not exist; create it with `apikeys table create`")
        }
        StoreError::Unavailable(_) => {
            "DynamoDB did not answer (is the endpoint right and up?)".into()
        }
        _ => e.to_string(),
    };
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    message
}

/// The signing-key table of `keys_table`: `SIGNING_TABLE_NAME`, default `<table>-signing`.
fn signing_table(keys_table: &str) -> String {
    std::env::var("SIGNING_TABLE_NAME")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| keystore::signing::default_signing_table(keys_table))
}

/// The keys table and its signing-key table.
async fn table_create(store: &KeyStore, json: bool) -> Outcome {
    let signing = signing_table(store.table());
    let keys = keystore::create_table(store.client(), store.table())
        .await
        .map_err(|e| explain(store.table(), e))?;
    let signed = keystore::signing::create_signing_table(store.client(), &signing)
        .await
        .map_err(|e| explain(&signing, e))?;
    for (table, creation) in [(store.table(), keys), (signing.as_str(), signed)] {
        let created = creation == TableCreation::Created;
        if json {
            println!("{}", json!({"table": table, "created": created}));
        } else if created {
            println!("created table {table}");
        } else {
            println!("table {table} already exists; left as it is");
        }
    }
    Ok(())
}

async fn list(store: &KeyStore, args: ListArgs, json: bool) -> Outcome {
    let listing = match args.owner.as_deref() {
        Some(o) => Listing::Owner(OwnerId::parse(o).map_err(|e| usage(format!("--owner: {e}")))?),
        None => Listing::All,
    };
    let status = args
        .status
        .as_deref()
        .map(str::parse::<KeyStatus>)
        .transpose()
        .map_err(|e| usage(format!("--status: {e}")))?;
    let now = Timestamp::now();
    // A status-filtered page does bounded work and may come back short, even empty, while
    // more keys follow: keep reading until `limit` keys are in hand or the listing ends.
    let limit = args.limit.as_usize();
    let mut keys = Vec::with_capacity(limit);
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list(&listing, status, limit - keys.len(), cursor.as_deref(), now)
            .await
            .map_err(|e| explain(store.table(), e))?;
        keys.extend(page.keys);
        cursor = page.next_cursor;
        if keys.len() >= limit || cursor.is_none() {
            break;
        }
    }
    let objects: Vec<KeyObject<'_>> = keys.iter().map(|k| KeyObject::new(k, now)).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string(&objects).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let rows: Vec<[String; 7]> = objects
        .iter()
        .map(|k| {
            [
                k.id.to_owned(),
                k.owner_id.to_owned(),
                k.name.to_owned(),
                k.hint.to_owned(),
                k.scopes.join(" "),
                k.status.to_owned(),
                k.last_used_at.clone().unwrap_or_else(|| "never".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "OWNER",
            "NAME",
            "HINT",
            "SCOPES",
            "STATUS",
            "LAST USED",
        ],
        &rows,
    );
    if cursor.is_some() {
        eprintln!("(more keys exist; raise --limit or filter by --owner / --status)");
    }
    Ok(())
}

async fn audit(store: &KeyStore, args: AuditArgs, json: bool) -> Outcome {
    use keystore::audit::{ALL, owner_part};
    let part = match args.owner.as_deref() {
        Some(o) => {
            let owner = OwnerId::parse(o).map_err(|e| usage(format!("--owner: {e}")))?;
            owner_part(owner.as_str())
        }
        None => ALL.to_owned(),
    };
    let key_id = args
        .key
        .as_deref()
        .map(KeyId::parse)
        .transpose()
        .map_err(|e| usage(format!("--key: {e}")))?;
    let query = keystore::AuditQuery {
        key_id: key_id.map(|k| k.as_str().to_owned()),
        limit: args.limit.as_usize(),
        ..keystore::AuditQuery::of(part)
    };
    let page = store
        .audit_log(&query)
        .await
        .map_err(|e| explain(store.table(), e))?;
    if json {
        let events: Vec<serde_json::Value> = page.events.iter().map(handler::audit_event).collect();
        println!(
            "{}",
            serde_json::to_string(&events).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    let rows: Vec<[String; 5]> = page
        .events
        .iter()
        .map(|e| {
            let actor = match (&e.actor_kind[..], &e.actor_key_id) {
                (_, Some(key)) => format!("{} ({key})", e.actor_owner_id.as_deref().unwrap_or("-")),
                (kind, None) => kind.to_owned(),
            };
            [
                e.time.to_rfc3339(),
                e.action.as_str().to_owned(),
                e.target.key_id.clone(),
                e.target.owner_id.clone(),
                actor,
            ]
        })
        .collect();
    print_table(&["TIME", "ACTION", "KEY", "OWNER", "BY"], &rows);
    if page.next.is_some() {
        eprintln!("(more events exist; raise --limit or filter by --key / --owner)");
    }
    Ok(())
}

async fn usage_report(store: &KeyStore, args: UsageArgs, json: bool) -> Outcome {
    let today = apikey::Day::of(Timestamp::now());
    let range = apikey::DayRange::parse(args.from.as_deref(), args.to.as_deref(), today)
        .map_err(|e| usage(e.to_string()))?;
    let failed = |e| explain(store.table(), e);
    let body = match (args.id.as_deref(), args.owner.as_deref()) {
        (Some(id), _) => {
            let id = KeyId::parse(id).map_err(|e| usage(e.to_string()))?;
            if store.get_by_id(&id).await.map_err(failed)?.is_none() {
                return Err(Failure::Failed(format!("no key {id}")));
            }
            let per_day = store.key_usage(&id, range).await.map_err(failed)?;
            handler::key_usage(&id, range, &per_day)
        }
        (None, Some(owner)) => {
            let owner = OwnerId::parse(owner).map_err(|e| usage(format!("--owner: {e}")))?;
            let rows = store.owner_usage(&owner, range).await.map_err(failed)?;
            handler::owner_usage(&owner, range, &rows)
        }
        (None, None) => return Err(usage("name a key id or --owner".into())),
    };
    if json {
        println!("{body}");
        return Ok(());
    }
    let cells = |v: &serde_json::Value| {
        ["allowed", "rate_limited", "denied"].map(|k| v[k].as_u64().unwrap_or(0).to_string())
    };
    let mut rows: Vec<[String; 4]> = body["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let [a, r, n] = cells(d);
            [d["date"].as_str().unwrap_or("-").to_owned(), a, r, n]
        })
        .collect();
    let [a, r, n] = cells(&body["total"]);
    rows.push(["TOTAL".to_owned(), a, r, n]);
    print_table(&["DATE", "ALLOWED", "RATE_LIMITED", "DENIED"], &rows);
    if let Some(keys) = body["keys"].as_array().filter(|k| !k.is_empty()) {
        println!();
        let rows: Vec<[String; 4]> = keys
            .iter()
            .map(|k| {
                let [a, r, n] = cells(&k["total"]);
                [k["key_id"].as_str().unwrap_or("-").to_owned(), a, r, n]
            })
            .collect();
        print_table(&["KEY", "ALLOWED", "RATE_LIMITED", "DENIED"], &rows);
    }
    Ok(())
}

pub(crate) fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

async fn revoke(store: &KeyStore, id: &str, json: bool) -> Outcome {
    let id = KeyId::parse(id).map_err(|_| usage(format!("{id:?} is not a key id (key_…)")))?;
    let now = Timestamp::now();
    let record = store
        .revoke(&id, &Access::Admin, now, &keystore::Audit::cli())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => format!("no key with id {id}"),
            e => explain(store.table(), e),
        })?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&KeyObject::new(&record, now)).map_err(|e| e.to_string())?
        );
    } else {
        let at = record
            .revoked_at
            .map(Timestamp::to_rfc3339)
            .unwrap_or_default();
        println!("revoked {} ({}) at {at}", record.id, record.owner_id);
    }
    Ok(())
}

async fn verify(store: &KeyStore, prefix: &KeyPrefix, key: &str, json: bool) -> Outcome {
    let mut text = key.to_owned();
    if key == "-" {
        text.clear();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading the key from stdin: {e}"))?;
        text = text.trim().to_owned();
    }
    let key = ApiKey::parse(prefix, &text).map_err(|e| usage(format!("not a valid key: {e}")))?;
    let now = Timestamp::now();
    let record = store
        .get_by_hash(&key.hash())
        .await
        .map_err(|e| explain(store.table(), e))?
        .ok_or_else(|| {
            format!(
                "{} is well-formed but unknown to table {}",
                key.hint(),
                store.table()
            )
        })?;
    let status = record.status(now);
    if json {
        println!(
            "{}",
            serde_json::to_string(&KeyObject::new(&record, now)).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{} {} owner={} scopes={} status={status}",
            record.hint,
            record.id,
            record.owner_id,
            record.scopes.to_spaced()
        );
    }
    match status {
        KeyStatus::Active => Ok(()),
        other => Err(format!("the key is {other}").into()),
    }
}

async fn rotate(
    store: &KeyStore,
    prefix: &KeyPrefix,
    id: &str,
    grace: GracePeriod,
    json: bool,
) -> Outcome {
    let id = KeyId::parse(id).map_err(|_| usage(format!("{id:?} is not a key id (key_…)")))?;
    let now = Timestamp::now();
    let old = store
        .get_by_id(&id)
        .await
        .map_err(|e| explain(store.table(), e))?
        .ok_or_else(|| format!("no key with id {id}"))?;
    let new = old.successor(now);
    let (key, record) = KeyRecord::issue(prefix, new, now).map_err(|e| e.to_string())?;
    let Rotation {
        new: record,
        old: ended,
    } = store
        .rotate(&old, &record, grace.get(), now, &keystore::Audit::cli())
        .await
        .map_err(|e| match e {
            StoreError::NotActive => {
                format!("{id} is revoked or expired; create a new key instead")
            }
            StoreError::AlreadyRotated => format!("{id} was already rotated; rotate its successor"),
            e => explain(store.table(), e),
        })?;
    if json {
        let body = handler::created_body(&record, key.expose_secret(), Some(&ended), now)
            .map_err(|e| e.to_string())?;
        println!("{body}");
    } else {
        let until = ended
            .revoked_at
            .or(ended.expires_at)
            .map(Timestamp::to_rfc3339)
            .unwrap_or_default();
        eprintln!(
            "Rotated {} into {}; the old key works until {until}. The new key is shown once:",
            old.id, record.id
        );
        println!("{}", key.expose_secret());
    }
    Ok(())
}
