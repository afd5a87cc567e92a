//! SPEC §13: every decision and request line carries CloudWatch Embedded Metric Format that
//! CloudWatch would accept, with low-cardinality dimensions only.
//! EMF specification: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.

use std::collections::HashSet;

use gateway::metrics::{NAMESPACE, dimension, metric};
use gateway::routes::{self, ROUTES};
use serde_json::{Value, json};

use crate::e2e::{key_of, stack};
use crate::helpers::{App, Event};
use crate::reliability::{captured_logs, json_lines_since};

/// The specification's rules for one line; the error says which rule failed.
pub(crate) fn check_emf(line: &Value) -> Result<(), String> {
    let aws = line.get("_aws").ok_or("no _aws")?;
    if !aws["Timestamp"].is_i64() {
        return Err("_aws.Timestamp is not an integer (epoch ms)".into());
    }
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .ok_or("no CloudWatchMetrics")?;
    if directives.is_empty() {
        return Err("CloudWatchMetrics is empty".into());
    }
    for d in directives {
        if !d["Namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && n.len() <= 255)
        {
            return Err("Namespace missing or too long".into());
        }
        let sets = d["Dimensions"]
            .as_array()
            .ok_or("Dimensions is not an array")?;
        for set in sets {
            let names = set.as_array().ok_or("a dimension set is not an array")?;
            if names.len() > 30 {
                return Err("more than 30 dimensions in a set".into());
            }
            for name in names {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                if !line[name]
                    .as_str()
                    .is_some_and(|v| !v.is_empty() && v.len() <= 1024)
                {
                    return Err(format!("dimension {name} has no string value in the line"));
                }
            }
        }
        let metrics = d["Metrics"].as_array().ok_or("Metrics is not an array")?;
        if metrics.is_empty() || metrics.len() > 100 {
            return Err("Metrics must hold 1 to 100 entries".into());
        }
        for m in metrics {
            let name = m["Name"].as_str().ok_or("a metric has no Name")?;
            if !line[name].is_number() {
                return Err(format!("metric {name} has no numeric value in the line"));
            }
            let units = ["Count", "Milliseconds"];
            if !m["Unit"].as_str().is_some_and(|u| units.contains(&u)) {
                return Err(format!("metric {name} has an unexpected unit"));
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_metric_line_is_valid_emf_with_low_cardinality_dimensions() {
    captured_logs();
    let s = stack("metrics").await;
    let (admin, _) = s.app.seed_key("metrics-owner", &["*", "admin"]).await;
    let created = s
        .create(&admin, json!({"name": "m", "scopes": ["podcasts:read"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let key = key_of(&created);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(s.get("/api/v1/podcasts/1", &key).await.status, 200); // allow
    s.get("/api/v1/auth/api-keys", &key)
        .await
        .error(403, "insufficient_scope"); // deny
    s.get("/api/v1/podcasts/1", "pod_nope")
        .await
        .error(401, "unauthorized");
    s.get("/api/v1/auth/api-keys/key_00000000000000000000", &admin)
        .await
        .error(404, "not_found");
    let _ = App::offline()
        .authorize(&Event::authorizer_for("GET", "/x", &key))
        .await; // error

    // Every metric line of the run so far, this test's and the others'.
    let lines: Vec<Value> = json_lines_since(0, "\"_aws\"")
        .into_iter()
        .filter(|v| v.get("_aws").is_some())
        .collect();
    let mut outcomes = HashSet::new();
    let routes: HashSet<&str> = ROUTES
        .iter()
        .map(|r| r.resource)
        .chain([routes::KEYS_SUBTREE, "-"])
        .collect();
    for line in &lines {
        check_emf(line).unwrap_or_else(|why| panic!("{why}: {line}"));
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        match line["message"].as_str() {
            Some("authorize") => {
                let outcome = line[dimension::OUTCOME].as_str().expect("outcome");
                assert!(
                    ["allow", "deny", "rate_limited", "unauthorized", "error"].contains(&outcome),
                    "{line}"
                );
                outcomes.insert(outcome.to_owned());
                for m in [
                    metric::DECISIONS,
                    metric::DECISION_LATENCY,
                    metric::STORE_ERRORS,
                ] {
                    assert!(line[m].is_number(), "{m}: {line}");
                }
                let store_error = line[metric::STORE_ERRORS].as_f64() == Some(1.0);
                assert_eq!(store_error, outcome == "error", "{line}");
            }
            Some("request") => {
                let route = line[dimension::ROUTE].as_str().expect("route");
                assert!(routes.contains(route), "{route} is not a route template");
                let class = line[dimension::STATUS_CLASS].as_str().expect("class");
                assert!(["2xx", "4xx", "5xx"].contains(&class), "{line}");
                assert!(line[metric::REQUESTS].is_number(), "{line}");
            }
            // The notifier's, from the webhook tests running beside this one.
            Some("webhook") => {
                let outcome = line[dimension::OUTCOME].as_str().expect("outcome");
                assert!(
                    ["delivered", "retrying", "given_up"].contains(&outcome),
                    "{line}"
                );
                assert!(line[metric::WEBHOOK_ATTEMPTS].is_number(), "{line}");
                assert!(line[metric::WEBHOOK_LATENCY].is_number(), "{line}");
            }
            other => panic!(
                "an EMF line that is neither a decision, a request nor a webhook attempt: {other:?}"
            ),
        }
        // No dimension value is an id or a key.
        for set in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for name in set
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let value = line[name].as_str().unwrap_or_default();
                for secret in [id.as_str(), key.as_str(), admin.as_str(), "metrics-owner"] {
                    assert!(!value.contains(secret), "{name}={value}");
                }
                assert!(
                    !value.starts_with("key_") && !value.starts_with("pod_"),
                    "{value}"
                );
            }
        }
    }
    for outcome in ["allow", "deny", "unauthorized", "error"] {
        assert!(
            outcomes.contains(outcome),
            "no {outcome} decision line among {}",
            lines.len()
        );
    }
}
