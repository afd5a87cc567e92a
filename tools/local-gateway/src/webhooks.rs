//! Lifecycle webhooks on this machine (SPEC §14): the notifier in-process, fed as the
//! template feeds it. The table's stream reaches it through an emulated event source mapping
//! with the template's properties ([`mapping_config`]), and the template's one-minute
//! schedule is a timer that asks it to deliver due retries. The daily expiry scan is
//! `apikeys notify-expiring`, run by hand.

use std::sync::Arc;
use std::time::Duration;

use keystore::streams::TableStream;
use notifier::Notifier;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::streams::{
    EventSourceMapping, MappingConfig, OnFailure, Progress, StartingPosition, handler,
};

/// The template's `Schedule` of `{"task": "deliver"}`: every minute.
pub const DELIVER_EVERY: Duration = Duration::from_secs(60);

/// The stream event's `FilterCriteria` in the template: admin copies of audit events (every
/// event has exactly one; the notifier itself skips anything but an `INSERT`). DynamoDB
/// mappings filter on the `dynamodb` key only, with typed values:
/// https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
pub fn stream_filter() -> Value {
    json!({"dynamodb": {"NewImage": {"audit_part": {"S": ["all"]}}}})
}

/// The template's stream event source properties for the notifier (its `Events.TableStream`);
/// `tests/api/webhooks.rs` checks the two agree.
pub fn mapping_config(on_failure: OnFailure) -> MappingConfig {
    MappingConfig {
        function_name: "notifier".into(),
        batch_size: 10,
        maximum_retry_attempts: Some(3),
        bisect_batch_on_function_error: true,
        report_batch_item_failures: true,
        starting_position: StartingPosition::TrimHorizon,
        filter: Some(stream_filter()),
        on_failure,
        ..MappingConfig::default()
    }
}

/// The running notifier: its stream mapping and its delivery timer, stopped when dropped.
#[derive(Debug)]
pub struct Webhooks {
    tasks: JoinSet<()>,
    progress: Progress,
}

impl Webhooks {
    /// Starts reading the table's stream into `notifier`, and asks it every `deliver_every`
    /// for due retries.
    pub async fn start(
        notifier: Arc<Notifier>,
        config: MappingConfig,
        deliver_every: Duration,
    ) -> Result<Self, String> {
        let store = notifier.store();
        let stream = TableStream::open(store.client(), store.table())
            .await
            .map_err(|e| format!("the table's stream: {e}"))?;
        let mapping = EventSourceMapping::new(config).map_err(|e| e.to_string())?;
        let progress = mapping.progress();
        let mut tasks = JoinSet::new();
        let invoked = notifier.clone();
        let handle = handler(move |event| {
            let notifier = invoked.clone();
            async move { notifier.handle(event).await }
        });
        tasks.spawn(mapping.run(stream, handle, std::future::pending()));
        tasks.spawn(async move {
            let mut timer = tokio::time::interval(deliver_every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                timer.tick().await;
                if let Err(e) = notifier.handle(json!({"task": "deliver"})).await {
                    tracing::error!(error = %e, "webhook deliveries");
                }
            }
        });
        Ok(Self { tasks, progress })
    }

    /// What the stream mapping has done so far.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Stops both (the stream's batch in flight is abandoned, as on a crash: its deliveries
    /// are stored before they are attempted, so the timer of the next run finds them).
    pub fn stop(&mut self) {
        self.tasks.abort_all();
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.stop();
    }
}
