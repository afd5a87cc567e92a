//! Lambda's event source mapping for the table's DynamoDB stream, on your machine: it polls
//! DynamoDB Local's stream (through `keystore::streams`, which speaks the Streams API) and
//! invokes a handler as Lambda would invoke the function, with the mapping's documented
//! semantics and no more:
//! - records of a shard in order, one batch in flight per shard, parents before children
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>);
//! - filter criteria applied to each record before batching, non-matching records dropped
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>);
//! - retries, batch bisection and `ReportBatchItemFailures`
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>);
//! - discarding after `MaximumRetryAttempts`, with an invocation record sent to the on-failure
//!   destination (<https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>).
//!
//! Not emulated: batching windows (`MaximumBatchingWindowInSeconds`, 0 here as by default),
//! `MaximumRecordAgeInSeconds`, `ParallelizationFactor` above 1, tumbling windows, the 6 MB
//! payload limit and function timeouts.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keystore::streams::{Position, StreamError, StreamRecord, TableStream, rfc3339_millis};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use crate::events::{ACCOUNT, REGION};

/// The function the mapping invokes: it gets `{"Records": [...]}` and answers as a Lambda
/// function would, `Ok` with its response (`{"batchItemFailures": [...]}` for a partial
/// failure, anything else for success) or `Err` with a function error's message.
pub type StreamHandler =
    Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// A [`StreamHandler`] from an async closure.
pub fn handler<F, Fut>(f: F) -> StreamHandler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    Arc::new(move |event| Box::pin(f(event)))
}

/// `StartingPosition` of the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartingPosition {
    /// Every record still in the stream. The default here: the local table is in memory and
    /// new, and Lambda's documentation warns that `LATEST` can miss records written while a
    /// mapping starts (<https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>).
    #[default]
    TrimHorizon,
    /// Only records written after the mapping started.
    Latest,
}

/// Where the invocation records of discarded batches go (`DestinationConfig.OnFailure`).
#[derive(Debug, Clone, Default)]
pub enum OnFailure {
    /// `tracing::error!` with the record.
    #[default]
    Log,
    /// One JSON line appended per discarded batch.
    File(PathBuf),
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<Value>>>),
}

/// The mapping's properties, named as in the template's `AWS::Lambda::EventSourceMapping`.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    /// The function's name, for `functionArn` in on-failure records.
    pub function_name: String,
    /// `BatchSize`: 1 to 10,000.
    pub batch_size: usize,
    /// `MaximumRetryAttempts`: 0 to 10,000, `None` for AWS's -1 (retry until the record
    /// expires).
    pub maximum_retry_attempts: Option<u32>,
    /// `BisectBatchOnFunctionError`.
    pub bisect_batch_on_function_error: bool,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
    /// `StartingPosition`.
    pub starting_position: StartingPosition,
    /// `FilterCriteria`: one pattern (`{"eventName": ["INSERT"], …}`), or the whole
    /// `{"Filters": [{"Pattern": "<JSON text>"}, …]}`. `None`: every record.
    pub filter: Option<Value>,
    /// How long a shard with nothing new waits before reading again. Lambda polls each shard
    /// 4 times per second (<https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>).
    pub poll_interval: Duration,
    /// `DestinationConfig.OnFailure`.
    pub on_failure: OnFailure,
}

impl Default for MappingConfig {
    fn default() -> Self {
        Self {
            function_name: "notifier".into(),
            batch_size: 10,
            maximum_retry_attempts: Some(3),
            bisect_batch_on_function_error: true,
            report_batch_item_failures: true,
            starting_position: StartingPosition::TrimHorizon,
            filter: None,
            poll_interval: Duration::from_millis(250),
            on_failure: OnFailure::Log,
        }
    }
}

/// A mapping that cannot be created, as Lambda refuses it at CreateEventSourceMapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingError {
    InvalidConfig(String),
    InvalidFilter(String),
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid event source mapping: {why}"),
            Self::InvalidFilter(why) => write!(f, "invalid filter criteria: {why}"),
        }
    }
}

impl std::error::Error for MappingError {}

/// What the mapping has done so far, for logs and for tests that wait on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Shards the mapping holds a first iterator for (with `LATEST`, records written from then
    /// on are read).
    pub shards_started: u64,
    /// Handler invocations, retries included.
    pub invocations: u64,
    /// Records the handler processed successfully.
    pub delivered: u64,
    /// Records dropped by the filter criteria.
    pub filtered: u64,
    /// Records discarded after their retries ran out.
    pub discarded: u64,
    /// Invocation records sent to the on-failure destination.
    pub failure_records: u64,
}

impl ProgressSnapshot {
    /// Records the mapping is past, whichever way.
    pub fn checkpointed(&self) -> u64 {
        self.delivered + self.filtered + self.discarded
    }
}

#[derive(Debug, Default)]
struct Counters {
    shards_started: AtomicU64,
    invocations: AtomicU64,
    delivered: AtomicU64,
    filtered: AtomicU64,
    discarded: AtomicU64,
    failure_records: AtomicU64,
}

/// A live view of a mapping's [`ProgressSnapshot`].
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Counters>);

impl Progress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        let c = &self.0;
        ProgressSnapshot {
            shards_started: c.shards_started.load(Ordering::SeqCst),
            invocations: c.invocations.load(Ordering::SeqCst),
            delivered: c.delivered.load(Ordering::SeqCst),
            filtered: c.filtered.load(Ordering::SeqCst),
            discarded: c.discarded.load(Ordering::SeqCst),
            failure_records: c.failure_records.load(Ordering::SeqCst),
        }
    }

    /// Waits until `done` holds (true) or `timeout` passes (false).
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&ProgressSnapshot) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.snapshot()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

/// The emulated event source mapping.
#[derive(Debug)]
pub struct EventSourceMapping {
    config: MappingConfig,
    filter: FilterCriteria,
    progress: Progress,
}

/// Valid ranges of CreateEventSourceMapping
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>).
const MAX_BATCH_SIZE: usize = 10_000;
const MAX_RETRY_ATTEMPTS: u32 = 10_000;
/// How long a shard waits after the Streams API failed before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);
/// How often the stream's shards are listed, for new (child) shards.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(1);

impl EventSourceMapping {
    pub fn new(config: MappingConfig) -> Result<Self, MappingError> {
        if !(1..=MAX_BATCH_SIZE).contains(&config.batch_size) {
            return Err(MappingError::InvalidConfig(format!(
                "BatchSize must be 1 to {MAX_BATCH_SIZE}, not {}",
                config.batch_size
            )));
        }
        if config
            .maximum_retry_attempts
            .is_some_and(|n| n > MAX_RETRY_ATTEMPTS)
        {
            return Err(MappingError::InvalidConfig(format!(
                "MaximumRetryAttempts must be -1 to {MAX_RETRY_ATTEMPTS}"
            )));
        }
        let filter = match &config.filter {
            Some(criteria) => FilterCriteria::parse(criteria)?,
            None => FilterCriteria::default(),
        };
        Ok(Self {
            config,
            filter,
            progress: Progress::default(),
        })
    }

    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Polls `stream` and invokes `handler` until `shutdown` completes; a batch in flight then
    /// is abandoned (its records were not checkpointed). Stream errors are logged and retried;
    /// handler errors and panics are function errors, handled as the mapping's settings say.
    pub async fn run(
        self,
        stream: TableStream,
        handler: StreamHandler,
        shutdown: impl Future<Output = ()>,
    ) {
        let region = match stream.region() {
            "" => REGION.to_owned(),
            region => region.to_owned(),
        };
        let function_arn = format!(
            "arn:aws:lambda:{region}:{ACCOUNT}:function:{}",
            self.config.function_name
        );
        let mapping = Arc::new(Mapping {
            config: self.config,
            filter: self.filter,
            progress: self.progress,
            stream,
            handler,
            function_arn,
        });
        tracing::info!(
            stream = mapping.stream.arn(),
            function = %mapping.function_arn,
            "event source mapping polling the table's stream"
        );
        // Dropping `coordinate` on shutdown drops its JoinSet, which aborts the shard tasks.
        tokio::select! {
            () = shutdown => {}
            () = coordinate(Arc::clone(&mapping)) => {}
        }
        tracing::info!(
            stream = mapping.stream.arn(),
            "event source mapping stopped"
        );
    }
}

struct Mapping {
    config: MappingConfig,
    filter: FilterCriteria,
    progress: Progress,
    stream: TableStream,
    handler: StreamHandler,
    function_arn: String,
}

enum ShardState {
    Waiting {
        parent: Option<String>,
        start: Position,
    },
    Reading,
    Done,
}

/// Lists the stream's shards and reads each, a parent's to its end before its children's
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html#Streams.Processing>).
/// Shards there at the start begin at the starting position; shards that appear later are new
/// children and begin at their oldest record, so nothing written meanwhile is skipped.
async fn coordinate(mapping: Arc<Mapping>) {
    let mut shards: HashMap<String, ShardState> = HashMap::new();
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let mut tasks = JoinSet::new();
    let mut first_listing = true;
    loop {
        match mapping.stream.shards().await {
            Ok(listed) => {
                for shard in listed {
                    if shards.contains_key(&shard.id) {
                        continue;
                    }
                    let start = match (first_listing, mapping.config.starting_position) {
                        (true, StartingPosition::Latest) if shard.is_closed() => None,
                        (true, StartingPosition::Latest) => Some(Position::Latest),
                        _ => Some(Position::TrimHorizon),
                    };
                    let state = match start {
                        Some(start) => ShardState::Waiting {
                            parent: shard.parent.clone(),
                            start,
                        },
                        None => ShardState::Done,
                    };
                    shards.insert(shard.id, state);
                }
                first_listing = false;
            }
            Err(e) => tracing::warn!(error = %e, "listing the stream's shards failed"),
        }
        let ready: Vec<String> = shards
            .iter()
            .filter(|(_, state)| match state {
                ShardState::Waiting { parent, .. } => parent
                    .as_ref()
                    .is_none_or(|p| matches!(shards.get(p), None | Some(ShardState::Done))),
                ShardState::Reading | ShardState::Done => false,
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in ready {
            let Some(ShardState::Waiting { start, .. }) =
                shards.insert(id.clone(), ShardState::Reading)
            else {
                continue;
            };
            let handle = tasks.spawn(read_shard(Arc::clone(&mapping), id.clone(), start));
            running.insert(handle.id(), id);
        }
        let finished = tokio::select! {
            Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => Some(joined),
            () = tokio::time::sleep(DISCOVERY_INTERVAL) => None,
        };
        if let Some(joined) = finished {
            let task = match joined {
                Ok((task, ())) => task,
                Err(e) => {
                    tracing::error!(error = %e, "a shard reader stopped unexpectedly");
                    e.id()
                }
            };
            if let Some(id) = running.remove(&task) {
                shards.insert(id, ShardState::Done);
            }
        }
    }
}

/// Reads one shard to its end (a closed shard) or forever (an open one), one batch at a time.
async fn read_shard(mapping: Arc<Mapping>, shard: String, start: Position) {
    tracing::info!(shard = %shard, "reading shard");
    let mut started = false;
    let mut start = start;
    // The last sequence number the mapping is past: a new iterator starts after it.
    let mut checkpoint: Option<String> = None;
    let mut iterator: Option<String> = None;
    loop {
        let current = match iterator.take() {
            Some(it) => it,
            None => {
                let position = match &checkpoint {
                    Some(seq) => Position::AfterSequence(seq.clone()),
                    None => start.clone(),
                };
                match mapping.stream.iterator(&shard, &position).await {
                    Ok(Some(it)) => {
                        if !started {
                            started = true;
                            Progress::add(&mapping.progress.0.shards_started, 1);
                        }
                        it
                    }
                    Ok(None) => break,
                    Err(StreamError::Trimmed(_)) => {
                        tracing::warn!(shard = %shard, "records past the checkpoint were trimmed; reading from the oldest left");
                        start = Position::TrimHorizon;
                        checkpoint = None;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(shard = %shard, error = %e, "getting a shard iterator failed");
                        tokio::time::sleep(ERROR_BACKOFF).await;
                        continue;
                    }
                }
            }
        };
        let page = match mapping.stream.read(&current).await {
            Ok(page) => page,
            // A new iterator from the checkpoint (iterators live 15 minutes).
            Err(StreamError::ExpiredIterator(_)) => continue,
            Err(StreamError::Trimmed(_)) => {
                tracing::warn!(shard = %shard, "records past the checkpoint were trimmed; reading from the oldest left");
                start = Position::TrimHorizon;
                checkpoint = None;
                continue;
            }
            Err(e) => {
                tracing::warn!(shard = %shard, error = %e, "reading the shard failed");
                iterator = Some(current);
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        };
        let read = page.records.len();
        let last = page.records.last().map(|r| r.sequence_number.clone());
        // Filtering comes first: a record that does not match is dropped, never sent, and
        // the iterator moves past it; batches are made of matching records
        // (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>).
        let (matching, dropped): (Vec<StreamRecord>, Vec<StreamRecord>) = page
            .records
            .into_iter()
            .partition(|r| mapping.filter.matches(&r.event));
        Progress::add(&mapping.progress.0.filtered, dropped.len());
        for batch in matching.chunks(mapping.config.batch_size) {
            mapping.deliver(&shard, batch.to_vec()).await;
        }
        if last.is_some() {
            checkpoint = last;
        }
        match page.next_iterator {
            Some(next) => iterator = Some(next),
            // A closed shard read to its end.
            None => break,
        }
        if read == 0 {
            tokio::time::sleep(mapping.config.poll_interval).await;
        }
    }
    tracing::info!(shard = %shard, "shard read to its end");
}

/// A batch (or part of one) on its way through retries.
struct Attempt {
    records: Vec<StreamRecord>,
    /// Retries so far: failed invocations that were not bisections.
    retries: u32,
    /// Invocations so far, for `approximateInvokeCount`.
    invocations: u64,
}

/// How one invocation ended, as the mapping reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Success,
    /// `ReportBatchItemFailures`: the records before this index succeeded.
    Partial(usize),
    /// The function returned an error (or panicked).
    FunctionError,
    /// A response Lambda counts as a complete failure (a null, empty or unknown
    /// `itemIdentifier`).
    Unusable(&'static str),
}

impl Mapping {
    /// One batch through the documented failure handling
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>,
    /// <https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>):
    /// - a function error retries the batch; with `BisectBatchOnFunctionError` the batch is
    ///   split in two first and each half retried, and "splitting batches doesn't consume the
    ///   retry quota";
    /// - with `ReportBatchItemFailures`, the records before the lowest reported sequence
    ///   number are checkpointed and "Lambda retries all records starting from that
    ///   checkpoint" (with bisection on too, "the batch is bisected at the returned sequence
    ///   number and Lambda retries only the remaining records");
    /// - once `MaximumRetryAttempts` retries have failed, the records are discarded, an
    ///   invocation record goes to the on-failure destination, and the shard moves on.
    async fn deliver(&self, shard: &str, batch: Vec<StreamRecord>) {
        let mut pending = VecDeque::from([Attempt {
            records: batch,
            retries: 0,
            invocations: 0,
        }]);
        while let Some(mut attempt) = pending.pop_front() {
            let outcome = self.invoke(shard, &attempt.records).await;
            attempt.invocations += 1;
            match outcome {
                Outcome::Success => {
                    Progress::add(&self.progress.0.delivered, attempt.records.len());
                }
                Outcome::Partial(failed_at) => {
                    Progress::add(&self.progress.0.delivered, failed_at);
                    attempt.records.drain(..failed_at);
                    self.retry_or_discard(shard, &mut pending, attempt, false)
                        .await;
                }
                Outcome::FunctionError | Outcome::Unusable(_)
                    if self.config.bisect_batch_on_function_error && attempt.records.len() > 1 =>
                {
                    let second = attempt.records.split_off(attempt.records.len() / 2);
                    tracing::debug!(
                        shard,
                        first = attempt.records.len(),
                        second = second.len(),
                        "bisecting the failed batch"
                    );
                    pending.push_front(Attempt {
                        records: second,
                        retries: attempt.retries,
                        invocations: attempt.invocations,
                    });
                    pending.push_front(attempt);
                }
                Outcome::FunctionError => {
                    self.retry_or_discard(shard, &mut pending, attempt, true)
                        .await;
                }
                Outcome::Unusable(_) => {
                    self.retry_or_discard(shard, &mut pending, attempt, false)
                        .await;
                }
            }
        }
    }

    async fn retry_or_discard(
        &self,
        shard: &str,
        pending: &mut VecDeque<Attempt>,
        mut attempt: Attempt,
        function_error: bool,
    ) {
        let exhausted = self
            .config
            .maximum_retry_attempts
            .is_some_and(|max| attempt.retries >= max);
        if !exhausted {
            attempt.retries += 1;
            tracing::debug!(
                shard,
                retry = attempt.retries,
                records = attempt.records.len(),
                "retrying the batch"
            );
            pending.push_front(attempt);
            // Not a tight loop against a failing function (or, with `None`, forever).
            tokio::time::sleep(self.config.poll_interval).await;
            return;
        }
        Progress::add(&self.progress.0.discarded, attempt.records.len());
        Progress::add(&self.progress.0.failure_records, 1);
        let record = self.failure_record(shard, &attempt, function_error);
        tracing::warn!(
            shard,
            records = attempt.records.len(),
            first = attempt.records.first().map(|r| r.sequence_number.as_str()),
            last = attempt.records.last().map(|r| r.sequence_number.as_str()),
            "retries exhausted: batch discarded, invocation record sent to the on-failure destination"
        );
        self.send_to_destination(record).await;
    }

    /// Invokes the handler with `records` and reads its answer.
    async fn invoke(&self, shard: &str, records: &[StreamRecord]) -> Outcome {
        Progress::add(&self.progress.0.invocations, 1);
        let event = json!({
            "Records": records.iter().map(|r| r.event.clone()).collect::<Vec<_>>()
        });
        tracing::debug!(
            shard,
            records = records.len(),
            first = records.first().map(|r| r.sequence_number.as_str()),
            last = records.last().map(|r| r.sequence_number.as_str()),
            "invoking the function"
        );
        // In its own task, so that a panicking handler is a function error, as a crashed
        // function is to Lambda, rather than the end of this shard's reader.
        let invocation = tokio::spawn((self.handler)(event));
        let outcome = match invocation.await {
            Ok(Ok(response)) => outcome(&response, records, self.config.report_batch_item_failures),
            Ok(Err(message)) => {
                // The message is the function's and may quote an item: debug level only.
                tracing::debug!(shard, error = %message, "function error");
                Outcome::FunctionError
            }
            Err(e) => {
                tracing::debug!(shard, error = %e, "the function panicked");
                Outcome::FunctionError
            }
        };
        match &outcome {
            Outcome::Success => {}
            Outcome::Partial(at) => tracing::info!(
                shard,
                failed_from = records.get(*at).map(|r| r.sequence_number.as_str()),
                "partial batch failure"
            ),
            Outcome::FunctionError => {
                tracing::warn!(
                    shard,
                    records = records.len(),
                    "the function returned an error"
                );
            }
            Outcome::Unusable(why) => {
                tracing::warn!(
                    shard,
                    why,
                    "batch item failures unusable: the whole batch failed"
                );
            }
        }
        outcome
    }

    /// The invocation record of a discarded batch, as the documentation's example shows it
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>).
    fn failure_record(&self, shard: &str, attempt: &Attempt, function_error: bool) -> Value {
        let mut response = Map::new();
        response.insert("statusCode".into(), json!(200));
        response.insert("executedVersion".into(), json!("$LATEST"));
        // The function was invoked and returned: a function error is "Unhandled"; a partial
        // batch response was a successful invocation, with no function error.
        if function_error {
            response.insert("functionError".into(), json!("Unhandled"));
        }
        let first = attempt.records.first();
        let last = attempt.records.last();
        json!({
            "requestContext": {
                "requestId": request_id(),
                "functionArn": self.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempt.invocations,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": rfc3339_millis(SystemTime::now()),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first.map(|r| r.sequence_number.as_str()),
                "endSequenceNumber": last.map(|r| r.sequence_number.as_str()),
                "approximateArrivalOfFirstRecord": first.and_then(|r| r.approximate_arrival.as_deref()),
                "approximateArrivalOfLastRecord": last.and_then(|r| r.approximate_arrival.as_deref()),
                "batchSize": attempt.records.len(),
                "streamArn": self.stream.arn(),
            }
        })
    }

    async fn send_to_destination(&self, record: Value) {
        match &self.config.on_failure {
            // The record holds sequence numbers and ARNs, never an item.
            OnFailure::Log => {
                tracing::error!(record = %record, "on-failure destination: discarded stream batch");
            }
            OnFailure::Memory(records) => match records.lock() {
                Ok(mut records) => records.push(record),
                Err(poisoned) => poisoned.into_inner().push(record),
            },
            OnFailure::File(path) => {
                let path = path.clone();
                let line = format!("{record}\n");
                let written = tokio::task::spawn_blocking(move || {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .and_then(|mut file| file.write_all(line.as_bytes()))
                        .map_err(|e| format!("{}: {e}", path.display()))
                })
                .await;
                let error = match written {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e,
                    Err(e) => e.to_string(),
                };
                tracing::error!(error = %error, record = %record, "writing to the on-failure destination failed");
            }
        }
    }
}

/// Reads a function's response as the mapping does
/// (<https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>,
/// "Success and failure conditions"). Without `ReportBatchItemFailures` any response is a
/// success. With it: an empty or null `batchItemFailures` list, or an empty or null response,
/// is a complete success; an empty-string or null `itemIdentifier`, or one under a wrong key
/// name, is a complete failure, as is one naming no record of the batch. Otherwise the records
/// before the lowest reported sequence number succeeded.
fn outcome(response: &Value, records: &[StreamRecord], report_failures: bool) -> Outcome {
    if !report_failures {
        return Outcome::Success;
    }
    let failures = match response.get("batchItemFailures") {
        None | Some(Value::Null) => return Outcome::Success,
        Some(Value::Array(failures)) => failures,
        Some(_) => return Outcome::Unusable("batchItemFailures is not a list"),
    };
    let mut lowest: Option<usize> = None;
    for failure in failures {
        let id = match failure.get("itemIdentifier") {
            Some(Value::String(id)) if !id.is_empty() => id,
            Some(Value::String(_)) => return Outcome::Unusable("an empty itemIdentifier"),
            Some(Value::Null) => return Outcome::Unusable("a null itemIdentifier"),
            Some(_) => return Outcome::Unusable("an itemIdentifier that is not a string"),
            None => return Outcome::Unusable("a batch item failure without itemIdentifier"),
        };
        let Some(at) = records.iter().position(|r| r.sequence_number == *id) else {
            return Outcome::Unusable("an itemIdentifier naming no record of the batch");
        };
        lowest = Some(lowest.map_or(at, |l| l.min(at)));
    }
    match lowest {
        Some(at) => Outcome::Partial(at),
        None => Outcome::Success,
    }
}

/// A request id in the form of Lambda's (a UUID), unique within this process.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let high = u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or_default();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xfff,
        u64::from(std::process::id()) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

/// `FilterCriteria`: patterns of which a record must match at least one
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>). The
/// comparison operators are those of that page's table, with EventBridge's semantics: Null,
/// Empty and Equals (`["a", 1, null, ""]`, exact, numbers by their JSON form), Or (several
/// values), And (several fields), Not (`{"anything-but": …}`), Numeric
/// (`{"numeric": [">", 10, "<=", 20]}`), Exists (`{"exists": true|false}`) and Begins with
/// (`{"prefix": "…"}`). A rule on a field holding an array matches when any element does.
#[derive(Debug, Clone, Default)]
pub struct FilterCriteria {
    patterns: Vec<Map<String, Value>>,
}

impl FilterCriteria {
    /// One pattern, or `{"Filters": [{"Pattern": "<JSON text>"}, …]}`; `{}` and
    /// `{"Filters": []}` filter nothing out.
    pub fn parse(criteria: &Value) -> Result<Self, MappingError> {
        let invalid = |why: String| MappingError::InvalidFilter(why);
        let Some(object) = criteria.as_object() else {
            return Err(invalid("filter criteria must be a JSON object".into()));
        };
        let patterns: Vec<Value> = match object.get("Filters") {
            Some(Value::Array(filters)) => filters
                .iter()
                .map(|f| match f.get("Pattern") {
                    Some(Value::String(text)) => serde_json::from_str(text)
                        .map_err(|e| invalid(format!("a Pattern is not JSON: {e}"))),
                    Some(Value::Object(pattern)) => Ok(Value::Object(pattern.clone())),
                    _ => Err(invalid("each filter needs a Pattern".into())),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid("Filters must be a list".into())),
            None if object.is_empty() => Vec::new(),
            None => vec![criteria.clone()],
        };
        let patterns = patterns
            .into_iter()
            .map(|p| match p {
                Value::Object(p) => {
                    validate_pattern(&p)?;
                    Ok(p)
                }
                _ => Err(invalid("a pattern must be a JSON object".into())),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// Whether `record` (a `Records[]` element) passes: no patterns, or one that matches.
    pub fn matches(&self, record: &Value) -> bool {
        self.patterns.is_empty()
            || self
                .patterns
                .iter()
                .any(|p| object_matches(p, Some(record)))
    }
}

fn validate_pattern(pattern: &Map<String, Value>) -> Result<(), MappingError> {
    let invalid = |why: String| Err(MappingError::InvalidFilter(why));
    for (key, rule) in pattern {
        match rule {
            Value::Object(nested) => validate_pattern(nested)?,
            Value::Array(rules) if rules.is_empty() => {
                return invalid(format!("the rules of {key:?} are an empty list"));
            }
            Value::Array(rules) => {
                for rule in rules {
                    validate_rule(key, rule)?;
                }
            }
            _ => return invalid(format!("the rules of {key:?} must be a list")),
        }
    }
    Ok(())
}

fn validate_rule(key: &str, rule: &Value) -> Result<(), MappingError> {
    let invalid = |why: &str| Err(MappingError::InvalidFilter(format!("{key:?}: {why}")));
    let Value::Object(op) = rule else {
        return match rule {
            Value::Array(_) => invalid("a rule cannot be a list"),
            _ => Ok(()),
        };
    };
    let mut entries = op.iter();
    let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
        return invalid("an operator object has exactly one operator");
    };
    match (name.as_str(), arg) {
        ("exists", Value::Bool(_)) | ("prefix", Value::String(_)) => Ok(()),
        ("anything-but", Value::Array(values)) if values.iter().all(is_scalar) => Ok(()),
        ("anything-but", value) if is_scalar(value) => Ok(()),
        ("numeric", Value::Array(terms)) if numeric_terms(terms).is_some() => Ok(()),
        ("numeric", _) => invalid("numeric takes operator and number pairs"),
        ("exists" | "prefix" | "anything-but", _) => invalid(&format!("a bad argument to {name}")),
        _ => invalid(&format!("the operator {name:?} is not supported here")),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// `[">", 10, "<=", 20]` as (operator, bound) pairs.
fn numeric_terms(terms: &[Value]) -> Option<Vec<(&str, f64)>> {
    if terms.is_empty() || terms.len() % 2 != 0 {
        return None;
    }
    terms
        .chunks(2)
        .map(|pair| match (pair.first()?, pair.get(1)?) {
            (Value::String(op), Value::Number(n))
                if matches!(op.as_str(), "=" | "<" | "<=" | ">" | ">=") =>
            {
                Some((op.as_str(), n.as_f64()?))
            }
            _ => None,
        })
        .collect()
}

fn object_matches(pattern: &Map<String, Value>, event: Option<&Value>) -> bool {
    pattern.iter().all(|(key, rule)| {
        let field = event.and_then(Value::as_object).and_then(|o| o.get(key));
        match rule {
            Value::Object(nested) => object_matches(nested, field),
            Value::Array(rules) => rules.iter().any(|rule| rule_matches(rule, field)),
            _ => false,
        }
    })
}

fn rule_matches(rule: &Value, field: Option<&Value>) -> bool {
    let values: Vec<&Value> = match field {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
    };
    let Value::Object(op) = rule else {
        return values.contains(&rule);
    };
    if let Some(Value::Bool(exists)) = op.get("exists") {
        return field.is_some() == *exists;
    }
    if let Some(Value::String(prefix)) = op.get("prefix") {
        return values
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.starts_with(prefix.as_str())));
    }
    if let Some(excluded) = op.get("anything-but") {
        let excluded: Vec<&Value> = match excluded {
            Value::Array(list) => list.iter().collect(),
            value => vec![value],
        };
        return values.iter().any(|v| !excluded.contains(v));
    }
    if let Some(Value::Array(terms)) = op.get("numeric") {
        let Some(terms) = numeric_terms(terms) else {
            return false;
        };
        return values.iter().filter_map(|v| v.as_f64()).any(|n| {
            terms.iter().all(|(op, bound)| match *op {
                "=" => n == *bound,
                "<" => n < *bound,
                "<=" => n <= *bound,
                ">" => n > *bound,
                ">=" => n >= *bound,
                _ => false,
            })
        });
    }
    false
}

#[cfg(test)]
#[path = "streams_tests.rs"]
mod tests;
