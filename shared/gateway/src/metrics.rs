//! CloudWatch Embedded Metric Format (EMF) on the one log line each decision and each request
//! already writes (SPEC §13): the line gains an `_aws` block naming the metrics, which
//! CloudWatch extracts from the log group without any API call
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! Dimensions are low-cardinality only (an outcome, a route template, a status class): never a
//! key id, an owner id or a key, since each distinct value is a billed metric. The names below
//! are the one source the template's alarms and dashboard use (a test compares them).
//!
//! `tracing`'s JSON formatter cannot write the nested `_aws` object, so these lines are built
//! here and written to [`sink`] (stdout on Lambda, where CloudWatch Logs reads it). Once
//! [`enable`]d (a function's init does it), they are written at every `RUST_LOG` level: they
//! are the metrics, not just a log. Code that is not a function (benchmarks, tools) never
//! enables them and pays nothing: check [`enabled`] before building a line.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every podkeys metric.
pub const NAMESPACE: &str = "Podkeys";

/// Metric names.
pub mod metric {
    /// Authorizer decisions (Count), by `Outcome`.
    pub const DECISIONS: &str = "Decisions";
    /// Time to a decision (Milliseconds), by `Outcome`.
    pub const DECISION_LATENCY: &str = "DecisionLatency";
    /// Decisions that failed closed because the table could not be read (Count).
    pub const STORE_ERRORS: &str = "StoreErrors";
    /// Requests a key-management function answered (Count), by `Route` and `StatusClass`.
    pub const REQUESTS: &str = "Requests";
    /// Time a key-management function took (Milliseconds), by `Route` and `StatusClass`.
    pub const REQUEST_LATENCY: &str = "RequestLatency";
    /// Webhook delivery attempts (Count), by `Outcome`: `delivered`, `retrying` or `given_up`
    /// (SPEC §14). A given-up delivery waits for `apikeys webhooks replay`.
    pub const WEBHOOK_ATTEMPTS: &str = "WebhookAttempts";
    /// Time a webhook attempt took, to the receiver's answer or the timeout (Milliseconds), by
    /// `Outcome`.
    pub const WEBHOOK_LATENCY: &str = "WebhookLatency";
}

/// Dimension names.
pub mod dimension {
    /// A decision's `allow`, `deny`, `rate_limited`, `unauthorized` or `error`; a webhook
    /// attempt's `delivered`, `retrying` or `given_up`.
    pub const OUTCOME: &str = "Outcome";
    /// The API resource template, e.g. `/api/v1/auth/api-keys/{id}`.
    pub const ROUTE: &str = "Route";
    /// `2xx`, `4xx` or `5xx`.
    pub const STATUS_CLASS: &str = "StatusClass";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One log line with its metrics.
#[derive(Debug)]
pub struct Line {
    fields: Map<String, Value>,
    metrics: Vec<(&'static str, Unit, f64)>,
    dimensions: Vec<(&'static str, String)>,
}

impl Line {
    /// A line at `level` (`INFO`, `ERROR`…) with `message`, like the `tracing` lines beside it.
    pub fn new(level: &str, message: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("level".into(), level.into());
        fields.insert("message".into(), message.into());
        Self {
            fields,
            metrics: Vec::new(),
            dimensions: Vec::new(),
        }
    }

    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Self {
        self.metrics.push((name, unit, value));
        self
    }

    /// A dimension; its value must come from a small fixed set.
    pub fn dimension(mut self, name: &'static str, value: &str) -> Self {
        self.dimensions.push((name, value.to_owned()));
        self
    }

    /// The JSON line: the fields, the dimension values and metric values as members, and the
    /// `_aws` block that names them (one dimension set: all the line's dimensions).
    pub fn render(self, epoch_millis: i64) -> String {
        let mut root = self.fields;
        let names: Vec<&str> = self.dimensions.iter().map(|(n, _)| *n).collect();
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        for (name, value) in self.dimensions {
            root.insert(name.into(), value.into());
        }
        for (name, _, value) in self.metrics {
            root.insert(name.into(), json!(value));
        }
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": epoch_millis,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [names],
                    "Metrics": metrics,
                }],
            }),
        );
        Value::Object(root).to_string()
    }

    /// Renders the line with the current time and writes it to the sink.
    pub fn write(self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let mut line = self.render(now);
        line.push('\n');
        let sink = sink();
        if let Ok(mut w) = sink.lock() {
            let _ = w.write_all(line.as_bytes());
            let _ = w.flush();
        }
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// From now on, metric lines are written.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether metric lines are written (build one only when they are).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

type Sink = Mutex<Box<dyn Write + Send>>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Where metric lines go: stdout unless [`set_sink`] was called first.
pub fn sink() -> &'static Sink {
    SINK.get_or_init(|| Mutex::new(Box::new(std::io::stdout())))
}

/// Sends every metric line from now on to `writer`, and enables them (tests capture them).
pub fn set_sink(writer: Box<dyn Write + Send>) {
    enable();
    match sink().lock() {
        Ok(mut current) => *current = writer,
        Err(poisoned) => *poisoned.into_inner() = writer,
    }
}

/// `2xx`, `4xx` or `5xx` (1xx and 3xx are not answers podkeys gives).
pub fn status_class(status: u16) -> &'static str {
    match status {
        500.. => "5xx",
        400..=499 => "4xx",
        _ => "2xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_its_metrics_and_dimensions_in_the_aws_block() {
        let line = Line::new("INFO", "authorize")
            .field("request_id", "r-1")
            .dimension(dimension::OUTCOME, "deny")
            .metric(metric::DECISIONS, Unit::Count, 1.0)
            .metric(metric::DECISION_LATENCY, Unit::Milliseconds, 2.5)
            .render(1_700_000_000_000);
        let v: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["message"], "authorize");
        assert_eq!(v["Outcome"], "deny");
        assert_eq!(v["Decisions"], 1.0);
        assert_eq!(v["DecisionLatency"], 2.5);
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Outcome"]]));
        assert_eq!(
            directive["Metrics"],
            json!([
                {"Name": "Decisions", "Unit": "Count"},
                {"Name": "DecisionLatency", "Unit": "Milliseconds"}
            ])
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(201), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
