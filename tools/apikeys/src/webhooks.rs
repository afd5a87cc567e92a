//! Webhook commands (SPEC §14): the expiry scan on demand, and the deliveries that were given
//! up, listed and sent again. Sending needs `WEBHOOK_URL` and `WEBHOOK_SECRET`, as the
//! notifier has them; listing needs only the table.

use apikey::Timestamp;
use keystore::KeyStore;
use notifier::{Notifier, Outcome as Sent};
use serde_json::json;
use webhook::WebhookConfig;

use crate::commands::{Outcome, explain, print_table, usage};

/// The most given-up deliveries `webhooks failed` shows, and `replay --all` sends, per run.
const MAX_FAILED: usize = 1000;

fn notifier(store: &KeyStore) -> Result<Notifier, crate::commands::Failure> {
    let config = WebhookConfig::from_lookup(|name| std::env::var(name).ok())
        .map_err(|e| usage(e.to_string()))?
        .ok_or_else(|| {
            usage("WEBHOOK_URL and WEBHOOK_SECRET must be set to send webhooks".to_owned())
        })?;
    Ok(Notifier::new(store.clone(), config).map_err(|e| format!("HTTP client: {e}"))?)
}

/// `apikeys notify-expiring [--now RFC3339]`: the daily scan, now.
pub async fn notify_expiring(store: &KeyStore, now: Option<&str>, json: bool) -> Outcome {
    let now = match now {
        Some(text) => Timestamp::parse_rfc3339(text)
            .ok_or_else(|| usage(format!("--now {text:?} is not an RFC 3339 time")))?,
        None => Timestamp::now(),
    };
    let report = notifier(store)?
        .expiry_scan(now)
        .await
        .map_err(|e| explain(store.table(), e))?;
    if json {
        println!("{}", report.to_json());
    } else {
        println!(
            "{} expiring keys read, {} notices sent ({} delivered at once, the rest retried)",
            report.keys, report.notices, report.delivered
        );
    }
    Ok(())
}

/// `apikeys webhooks failed`: given-up deliveries, most recent first.
pub async fn failed(store: &KeyStore, json: bool) -> Outcome {
    let failed = store
        .failed_deliveries(MAX_FAILED)
        .await
        .map_err(|e| explain(store.table(), e))?;
    if json {
        let rows: Vec<_> = failed
            .iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "created": d.created.to_rfc3339(),
                    "given_up": d.at.to_rfc3339(),
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                })
            })
            .collect();
        println!("{}", json!(rows));
        return Ok(());
    }
    if failed.is_empty() {
        println!("no given-up deliveries");
        return Ok(());
    }
    let rows: Vec<[String; 4]> = failed
        .iter()
        .map(|d| {
            [
                d.id.clone(),
                d.at.to_rfc3339(),
                d.attempts.to_string(),
                d.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&["EVENT ID", "GIVEN UP", "ATTEMPTS", "LAST ERROR"], &rows);
    Ok(())
}

/// `apikeys webhooks replay ID… | --all`: each given-up delivery back in line, attempted at
/// once; one that fails again follows the retry schedule from its start.
pub async fn replay(store: &KeyStore, ids: Vec<String>, all: bool, json: bool) -> Outcome {
    let ids = if all {
        store
            .failed_deliveries(MAX_FAILED)
            .await
            .map_err(|e| explain(store.table(), e))?
            .into_iter()
            .map(|d| d.id)
            .collect()
    } else if ids.is_empty() {
        return Err(usage("name the event ids to replay, or --all".to_owned()));
    } else {
        ids
    };
    let notifier = notifier(store)?;
    let mut unknown = Vec::new();
    for id in &ids {
        let outcome = notifier
            .replay(id)
            .await
            .map_err(|e| explain(store.table(), e))?;
        let said = match outcome {
            Some(Sent::Delivered) => "delivered",
            Some(Sent::Retrying) => "failed again; retrying on the schedule",
            Some(Sent::GivenUp) => "failed again; given up",
            Some(Sent::Skipped) => "taken by another worker",
            None => {
                unknown.push(id.clone());
                "not a given-up delivery"
            }
        };
        if json {
            println!("{}", json!({"id": id, "result": said}));
        } else {
            println!("{id}: {said}");
        }
    }
    match unknown.is_empty() {
        true => Ok(()),
        false => Err(format!("no given-up delivery with id {}", unknown.join(", ")).into()),
    }
}
