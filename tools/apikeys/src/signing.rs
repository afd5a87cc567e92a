//! `apikeys signing-key list | rotate | retire KID`: the assertion signing keys (SPEC §15).
//! Seeds never leave the table: these commands print kids and dates only.

use apikey::Timestamp;
use keystore::StoreError;
use keystore::signing::{Candidate, SigningStore};
use serde_json::json;

use crate::SigningCommand;
use crate::commands::Failure;

pub async fn run(store: SigningStore, command: SigningCommand, json: bool) -> Result<(), Failure> {
    let table = store.table().to_owned();
    let fail = |e: StoreError| Failure::Failed(format!("signing table {table}: {e}"));
    match command {
        SigningCommand::List => {
            let current = store.current().await.map_err(fail)?.map(|c| c.kid);
            let keys = store.public_keys().await.map_err(fail)?;
            if json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        json!({"kid": k.kid, "created_at": k.created_at.to_rfc3339(),
                               "current": current.as_deref() == Some(k.kid.as_str())})
                    })
                    .collect();
                println!("{}", json!(rows));
            } else if keys.is_empty() {
                println!("no signing key yet: the first authorized request creates one");
            } else {
                for k in &keys {
                    let mark = if current.as_deref() == Some(k.kid.as_str()) {
                        "current"
                    } else {
                        ""
                    };
                    println!("{}  {}  {mark}", k.kid, k.created_at.to_rfc3339());
                }
            }
            Ok(())
        }
        SigningCommand::Rotate => {
            let (seed, key) =
                assertion::SigningKey::generate().map_err(|e| Failure::Failed(e.to_string()))?;
            let x = key.public_jwk().x.unwrap_or_default();
            let candidate = Candidate {
                kid: key.kid(),
                x: &x,
                seed: seed.as_ref(),
            };
            match store.rotate(candidate, Timestamp::now()).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => {
                    return Err(Failure::Failed(
                        "no signing key set yet: the first authorized request creates one".into(),
                    ));
                }
                Err(e) => return Err(fail(e)),
            }
            if json {
                println!("{}", json!({"kid": key.kid(), "current": true}));
            } else {
                println!(
                    "{} is now current; older keys stay published until retired",
                    key.kid()
                );
            }
            Ok(())
        }
        SigningCommand::Retire { kid } => {
            match store.retire(&kid).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => {
                    return Err(Failure::Usage(format!(
                        "{kid} is the current key: rotate first, then retire it"
                    )));
                }
                Err(StoreError::NotFound) => {
                    return Err(Failure::Usage(format!("no published key has kid {kid}")));
                }
                Err(e) => return Err(fail(e)),
            }
            if json {
                println!("{}", json!({"kid": kid, "retired": true}));
            } else {
                println!("{kid} retired: assertions signed with it no longer verify");
            }
            Ok(())
        }
    }
}
