//! The notifier (SPEC §14): lifecycle webhooks and expiry notices, on three triggers that
//! share one function and one store.
//!
//! - **The table's stream** (`{"Records": [...]}`, filtered by the event source mapping to new
//!   admin copies of audit events): each event becomes a delivery stored in the table under
//!   its stable id (a record seen twice stores nothing new) and is attempted at once. The
//!   key operation that wrote the event committed before the stream saw it, so no receiver
//!   can slow or fail it. An event that cannot be read is reported as a batch item failure:
//!   the mapping retries it and then hands it to its on-failure destination.
//! - **Every minute** (`{"task": "deliver"}`): deliveries whose retry is due are claimed
//!   (conditionally, so overlapping runs do not both send), attempted, and either deleted,
//!   put back for the next retry of [`webhook::RetrySchedule`], or given up and kept for
//!   replay (`apikeys webhooks replay`).
//! - **Daily** (`{"task": "expiry-scan"}`, and `apikeys notify-expiring`): the keys expiring
//!   in the scan window, read from the expiry index day by day, get the notice they are due,
//!   marked on the key in the same transaction that stores the delivery, so concurrent and
//!   repeated scans send each notice once.

mod scan;
mod send;
mod stream;

use std::future::Future;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use apikey::Timestamp;
use futures_util::StreamExt;
use gateway::metrics::{Line, Unit, dimension, metric};
use keystore::{Delivery, KeyStore, StoreError};
use serde_json::{Value, json};
use webhook::{RetrySchedule, WebhookConfig};

pub use scan::ScanReport;
pub use send::{AttemptError, Sender};

/// How long one attempt may take: a receiver should answer at once and work afterwards.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deliveries attempted at once by one run.
const CONCURRENCY: usize = 16;
/// Due deliveries read per query.
const DUE_PAGE: usize = 100;
/// A scheduled run stops taking new deliveries after this long (the function's timeout is 60 s).
const RUN_BUDGET: Duration = Duration::from_secs(40);

/// What the notifier is asked to do, by the event it is invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// A batch from the table's stream.
    Stream(Value),
    /// Attempt the deliveries whose retry is due.
    Deliver,
    /// The expiry scan, at `now` (the clock when absent).
    ExpiryScan { now: Option<Timestamp> },
}

impl Task {
    pub fn parse(event: Value) -> Result<Self, String> {
        if event.get("Records").is_some() {
            return Ok(Self::Stream(event));
        }
        match event.get("task").and_then(Value::as_str) {
            Some("deliver") => Ok(Self::Deliver),
            Some("expiry-scan") => {
                let now = match event.get("now") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_str()
                            .and_then(Timestamp::parse_rfc3339)
                            .ok_or("`now` is not an RFC 3339 time")?,
                    ),
                };
                Ok(Self::ExpiryScan { now })
            }
            Some(other) => Err(format!("unknown task {other:?}")),
            None => Err("neither stream records nor a task".to_owned()),
        }
    }
}

/// What one delivery run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub delivered: usize,
    pub retrying: usize,
    pub given_up: usize,
}

impl RunReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Retrying => self.retrying += 1,
            Outcome::GivenUp => self.given_up += 1,
            Outcome::Skipped => {}
        }
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retrying,
    GivenUp,
    /// Another worker took it first.
    Skipped,
}

impl Outcome {
    /// The `Outcome` dimension's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::GivenUp => "given_up",
            Self::Skipped => "skipped",
        }
    }
}

/// The notifier's state between invocations.
#[derive(Debug, Clone)]
pub struct Notifier {
    store: KeyStore,
    sender: Sender,
    schedule: RetrySchedule,
}

impl Notifier {
    /// A notifier sending to `config` with the standard retry schedule.
    pub fn new(store: KeyStore, config: WebhookConfig) -> Result<Self, std::io::Error> {
        Ok(Self {
            store,
            sender: Sender::new(config, ATTEMPT_TIMEOUT)?,
            schedule: RetrySchedule::standard(),
        })
    }

    /// Another retry schedule (a local test that cannot wait minutes).
    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
    }

    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    /// How long an attempt holds a delivery before the schedule may take it again: a
    /// worker that dies mid-attempt delays it by this much, no more.
    fn lease(&self, now: Timestamp) -> Timestamp {
        let secs = i64::try_from(self.sender.timeout().as_secs()).unwrap_or(60);
        now.plus_secs(secs * 2 + 1)
    }

    /// The Lambda entry point: the response for a stream batch (`batchItemFailures`), a
    /// summary for the scheduled tasks. An error fails the invocation.
    pub async fn handle(&self, event: Value) -> Result<Value, String> {
        match Task::parse(event)? {
            Task::Stream(batch) => self.on_stream(&batch).await,
            Task::Deliver => {
                let report = self.deliver_due(RUN_BUDGET).await.map_err(store_error)?;
                Ok(json!({
                    "delivered": report.delivered,
                    "retrying": report.retrying,
                    "given_up": report.given_up,
                }))
            }
            Task::ExpiryScan { now } => {
                let report = self
                    .expiry_scan(now.unwrap_or_else(|| self.now()))
                    .await
                    .map_err(store_error)?;
                Ok(report.to_json())
            }
        }
    }

    /// Attempts pending deliveries whose retry is due, until none is or `budget` is spent.
    pub async fn deliver_due(&self, budget: Duration) -> Result<RunReport, StoreError> {
        let started = Instant::now();
        let mut report = RunReport::default();
        loop {
            let now = self.now();
            let due = self.store.due_deliveries(now, DUE_PAGE).await?;
            let found = due.len();
            let outcomes = self
                .each(due, |delivery| async move {
                    if !self
                        .store
                        .claim_delivery(&delivery, self.lease(now))
                        .await?
                    {
                        return Ok(Outcome::Skipped);
                    }
                    self.attempt(&delivery).await
                })
                .await;
            let mut progressed = false;
            for outcome in outcomes {
                let outcome = outcome?;
                progressed |= outcome != Outcome::Skipped;
                report.add(outcome);
            }
            if found < DUE_PAGE || !progressed || started.elapsed() >= budget {
                return Ok(report);
            }
        }
    }

    /// Runs `work` over `items`, [`CONCURRENCY`] at a time.
    async fn each<T, F, Fut>(&self, items: Vec<T>, work: F) -> Vec<Result<Outcome, StoreError>>
    where
        F: Fn(T) -> Fut,
        Fut: Future<Output = Result<Outcome, StoreError>>,
    {
        futures_util::stream::iter(items)
            .map(work)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    }

    /// The first attempts of deliveries this invocation stored; how many were delivered. An
    /// outcome that could not be recorded is left to the schedule, which takes the delivery
    /// again after its lease: no reason to fail the invocation.
    async fn attempt_stored(&self, stored: Vec<Delivery>) -> usize {
        let outcomes = self
            .each(
                stored,
                |delivery| async move { self.attempt(&delivery).await },
            )
            .await;
        let mut delivered = 0;
        for outcome in outcomes {
            match outcome {
                Ok(Outcome::Delivered) => delivered += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook outcome not recorded"),
            }
        }
        delivered
    }

    /// One attempt of a delivery this worker holds, and its outcome recorded: delivered
    /// ones are deleted, failed ones wait for their next retry or are given up.
    pub async fn attempt(&self, delivery: &Delivery) -> Result<Outcome, StoreError> {
        let attempt = delivery.attempts.saturating_add(1);
        let started = Instant::now();
        let sent = self
            .sender
            .attempt(&delivery.id, &delivery.body, self.now())
            .await;
        let took = started.elapsed();
        match sent {
            Ok(()) => {
                log_attempt(&delivery.id, attempt, Outcome::Delivered, None, took);
                self.store.delivery_done(&delivery.id).await?;
                Ok(Outcome::Delivered)
            }
            Err(error) => {
                let now = self.now();
                let jitter = std::collections::hash_map::RandomState::new()
                    .hash_one((&delivery.id, attempt));
                let next = self
                    .schedule
                    .delay_before(attempt.saturating_add(1), jitter)
                    .map(after);
                let outcome = if next.is_some() {
                    Outcome::Retrying
                } else {
                    Outcome::GivenUp
                };
                log_attempt(&delivery.id, attempt, outcome, Some(&error), took);
                self.store
                    .delivery_failed(&delivery.id, attempt, next, now, &error.0)
                    .await?;
                Ok(outcome)
            }
        }
    }

    /// Puts a given-up delivery back in line and attempts it at once; `None` when no
    /// given-up delivery has that id.
    pub async fn replay(&self, event_id: &str) -> Result<Option<Outcome>, StoreError> {
        let now = self.now();
        match self
            .store
            .replay_delivery(event_id, self.lease(now))
            .await?
        {
            Some(delivery) => self.attempt(&delivery).await.map(Some),
            None => Ok(None),
        }
    }
}

/// The attempt's one line: with its metrics (EMF, SPEC §13) in a function, by outcome only,
/// never by event or key; a plain `tracing` line elsewhere (the local gateway, the CLI).
fn log_attempt(
    event_id: &str,
    attempt: u32,
    outcome: Outcome,
    error: Option<&AttemptError>,
    took: Duration,
) {
    let name = outcome.as_str();
    if gateway::metrics::enabled() {
        let mut line = match error {
            Some(error) => Line::new("WARN", "webhook").field("error", error.to_string()),
            None => Line::new("INFO", "webhook"),
        };
        line = line
            .field("event_id", event_id)
            .field("attempt", attempt)
            .field("outcome", name)
            .dimension(dimension::OUTCOME, name)
            .metric(metric::WEBHOOK_ATTEMPTS, Unit::Count, 1.0)
            .metric(
                metric::WEBHOOK_LATENCY,
                Unit::Milliseconds,
                took.as_secs_f64() * 1000.0,
            );
        line.write();
    } else if let Some(error) = error {
        tracing::warn!(event_id, attempt, outcome = name, error = %error, "webhook attempt failed");
    } else {
        tracing::info!(event_id, attempt, "webhook delivered");
    }
}

fn store_error(e: StoreError) -> String {
    format!("store: {e}")
}

/// The second a retry `delay` from now is due: rounded up from the millisecond, so that a retry
/// is never early (the outbox keeps whole seconds).
fn after(delay: Duration) -> Timestamp {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    due_second(now_ms, delay)
}

fn due_second(now_ms: u128, delay: Duration) -> Timestamp {
    let secs = (now_ms + delay.as_millis()).div_ceil(1000);
    Timestamp::from_epoch_secs(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_told_apart_by_their_shape() {
        assert!(matches!(
            Task::parse(json!({"Records": []})),
            Ok(Task::Stream(_))
        ));
        assert_eq!(Task::parse(json!({"task": "deliver"})), Ok(Task::Deliver));
        assert_eq!(
            Task::parse(json!({"task": "expiry-scan"})),
            Ok(Task::ExpiryScan { now: None })
        );
        assert_eq!(
            Task::parse(json!({"task": "expiry-scan", "now": "2026-12-05T10:00:00Z"})),
            Ok(Task::ExpiryScan {
                now: Timestamp::parse_rfc3339("2026-12-05T10:00:00Z")
            })
        );
        for bad in [
            json!({}),
            json!({"task": "launch"}),
            json!({"task": 1}),
            json!({"task": "expiry-scan", "now": "yesterday"}),
        ] {
            assert!(Task::parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_retry_is_never_early() {
        let ms = |m: u64| Duration::from_millis(m);
        assert_eq!(due_second(100_000, ms(0)).epoch_secs(), 100);
        assert_eq!(due_second(100_000, ms(1)).epoch_secs(), 101);
        assert_eq!(due_second(100_999, ms(1_000)).epoch_secs(), 102);
        assert_eq!(due_second(100_001, ms(27_000)).epoch_secs(), 128);
        assert_eq!(due_second(100_000, ms(27_000)).epoch_secs(), 127);
    }
}
