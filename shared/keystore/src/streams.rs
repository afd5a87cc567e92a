//! The table's stream, read raw: the only code that speaks the DynamoDB Streams API. It finds
//! the table's stream, lists its shards, hands out shard iterators, reads records, and turns
//! each record into the JSON object Lambda puts in `Records[]` of a DynamoDB event
//! (<https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>, "Example event"). What to
//! do with the records (batches, retries, filters) is the local gateway's event source
//! mapping; deployed, Lambda reads the stream itself and nothing links this module.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodbstreams::primitives::DateTime;
use aws_sdk_dynamodbstreams::primitives::DateTimeFormat;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::error::{StoreError, classify};

type Source = Box<dyn std::error::Error + Send + Sync>;

/// GetRecords returns at most 1,000 records or 1 MB per call
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html>).
const MAX_RECORDS_PER_READ: i32 = 1_000;

/// What reading the stream can fail with, beyond the table errors every operation shares.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the table has no stream enabled")]
    NoStream,
    /// A shard iterator lives 15 minutes
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html>):
    /// ask for a new one from the last sequence number read.
    #[error("the shard iterator expired")]
    ExpiredIterator(#[source] Source),
    /// The position asked for is older than the stream's 24-hour retention.
    #[error("the records asked for were trimmed from the stream")]
    Trimmed(#[source] Source),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StreamError {
    /// Whether the same call may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) => e.is_transient(),
            Self::NoStream | Self::ExpiredIterator(_) | Self::Trimmed(_) => false,
        }
    }
}

fn stream_error<E, R>(err: SdkError<E, R>) -> StreamError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some("ExpiredIteratorException") => StreamError::ExpiredIterator(err.into()),
        Some("TrimmedDataAccessException") => StreamError::Trimmed(err.into()),
        // The Streams API's own "slow down" (the table API calls it otherwise).
        Some("LimitExceededException") => StreamError::Store(StoreError::Throttled(err.into())),
        _ => StreamError::Store(classify(err)),
    }
}

/// Where a shard iterator starts
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// The oldest record still in the shard.
    TrimHorizon,
    /// Just after the newest record in the shard.
    Latest,
    /// Exactly at this sequence number.
    AtSequence(String),
    /// Just after this sequence number.
    AfterSequence(String),
}

/// One shard of the stream, as DescribeStream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    /// Shards have a lineage: a parent's records come before its children's
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html#Streams.Processing>).
    pub parent: Option<String>,
    pub starting_sequence_number: Option<String>,
    /// Set once the shard is closed: it takes no more records.
    pub ending_sequence_number: Option<String>,
}

impl Shard {
    pub fn is_closed(&self) -> bool {
        self.ending_sequence_number.is_some()
    }
}

/// One stream record, ready for a Lambda event.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub sequence_number: String,
    /// When the change was made (`ApproximateCreationDateTime`), as RFC 3339 to the second,
    /// the form an on-failure record's `DDBStreamBatchInfo` shows it in.
    pub approximate_arrival: Option<String>,
    /// The object Lambda puts in `Records[]`.
    pub event: Value,
}

/// What one GetRecords call returned.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsPage {
    pub records: Vec<StreamRecord>,
    /// `None` once a closed shard has been read to its end: there is nothing more to read in
    /// it (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html>).
    pub next_iterator: Option<String>,
}

/// The stream of one table, with a Streams client that reaches it.
#[derive(Debug, Clone)]
pub struct TableStream {
    client: aws_sdk_dynamodbstreams::Client,
    arn: String,
    region: String,
}

impl TableStream {
    /// The latest stream of `table` (DescribeTable's `LatestStreamArn`), with a Streams client
    /// that reaches it as `client` reaches the table: same region, HTTP client, timeouts and
    /// retries. Where `client` talks to an endpoint of its own (DynamoDB Local), the Streams
    /// client uses that endpoint too (DynamoDB Local serves both APIs on one port) and signs
    /// with the same access key id, which is what DynamoDB Local keys its tables by (it does
    /// not verify signatures). On AWS's endpoints the Streams API has its own host, which the
    /// Streams client resolves, and credentials come from the default chain, as
    /// `client::from_env` and `client::for_lambda` take them.
    ///
    /// The SDK does not hand a client's endpoint or credentials back (its
    /// `Config::credentials_provider` has returned `None` since release-2023-11-15), so the
    /// DescribeTable request is observed on its way out instead.
    pub async fn open(client: &Client, table: &str) -> Result<Self, StreamError> {
        let witness = Witness::default();
        let described = client
            .describe_table()
            .table_name(table)
            .customize()
            .interceptor(witness.clone())
            .send()
            .await
            .map_err(classify)?;
        let Some(table) = described.table() else {
            return Err(StreamError::NoStream);
        };
        let enabled = table
            .stream_specification()
            .is_none_or(|s| s.stream_enabled());
        let arn = table
            .latest_stream_arn()
            .filter(|_| enabled)
            .ok_or(StreamError::NoStream)?
            .to_owned();
        let seen = witness.seen();
        let config = client.config();
        let region = config.region().cloned();
        let custom = seen.endpoint.as_deref().and_then(custom_endpoint);
        let mut streams = match &custom {
            Some(_) => aws_sdk_dynamodbstreams::Config::builder(),
            None => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(region.clone())
                    .load()
                    .await;
                aws_sdk_dynamodbstreams::config::Builder::from(&shared)
            }
        };
        if let (Some(_), Some(key_id)) = (&custom, &seen.access_key_id) {
            streams.set_credentials_provider(Some(SharedCredentialsProvider::new(
                Credentials::new(key_id, "unverified", None, None, "podkeys-table-stream"),
            )));
        }
        streams
            .set_behavior_version(Some(BehaviorVersion::latest()))
            .set_region(region.clone())
            .set_endpoint_url(custom)
            .set_timeout_config(config.timeout_config().cloned())
            .set_retry_config(config.retry_config().cloned());
        if let Some(http) = config.http_client() {
            streams.set_http_client(Some(http));
        }
        Ok(Self {
            client: aws_sdk_dynamodbstreams::Client::from_conf(streams.build()),
            arn,
            region: region.map(|r| r.as_ref().to_owned()).unwrap_or_default(),
        })
    }

    /// The stream's ARN: `eventSourceARN` of every record, `streamArn` of failure records.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The region of the client the stream was opened with.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Every shard of the stream (DescribeStream, page after page).
    pub async fn shards(&self) -> Result<Vec<Shard>, StreamError> {
        let mut shards = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(stream_error)?;
            let Some(description) = page.stream_description() else {
                return Ok(shards);
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                let range = shard.sequence_number_range();
                shards.push(Shard {
                    id: id.to_owned(),
                    parent: shard.parent_shard_id().map(str::to_owned),
                    starting_sequence_number: range
                        .and_then(|r| r.starting_sequence_number())
                        .map(str::to_owned),
                    ending_sequence_number: range
                        .and_then(|r| r.ending_sequence_number())
                        .map(str::to_owned),
                });
            }
            match description.last_evaluated_shard_id() {
                Some(last) => start = Some(last.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    /// A shard iterator at `position`. `None` when the shard has nothing at that position
    /// and never will (a closed shard read past its end).
    pub async fn iterator(
        &self,
        shard_id: &str,
        position: &Position,
    ) -> Result<Option<String>, StreamError> {
        let (kind, sequence) = match position {
            Position::TrimHorizon => (ShardIteratorType::TrimHorizon, None),
            Position::Latest => (ShardIteratorType::Latest, None),
            Position::AtSequence(s) => (ShardIteratorType::AtSequenceNumber, Some(s.clone())),
            Position::AfterSequence(s) => (ShardIteratorType::AfterSequenceNumber, Some(s.clone())),
        };
        let got = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(shard_id)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
            .await
            .map_err(stream_error)?;
        Ok(got.shard_iterator().map(str::to_owned))
    }

    /// The records at `iterator` (GetRecords, up to 1,000), each converted to Lambda's shape.
    pub async fn read(&self, iterator: &str) -> Result<RecordsPage, StreamError> {
        let got = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(MAX_RECORDS_PER_READ)
            .send()
            .await
            .map_err(stream_error)?;
        let records = got
            .records()
            .iter()
            .map(|r| lambda_record(r, &self.arn, &self.region))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RecordsPage {
            records,
            next_iterator: got.next_shard_iterator().map(str::to_owned),
        })
    }
}

/// What the DescribeTable request of [`TableStream::open`] showed on its way out: the endpoint
/// it went to and the access key id it was signed with.
#[derive(Debug, Clone, Default)]
struct Seen {
    endpoint: Option<String>,
    access_key_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Witness(Arc<Mutex<Seen>>);

impl Witness {
    fn seen(&self) -> Seen {
        match self.0.lock() {
            Ok(seen) => seen.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Intercept for Witness {
    fn name(&self) -> &'static str {
        "TableStreamWitness"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let mut seen = match self.0.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        seen.endpoint = Some(request.uri().to_owned());
        seen.access_key_id = request
            .headers()
            .get("authorization")
            .and_then(signing_key_id)
            .map(str::to_owned);
        Ok(())
    }
}

/// The access key id of a SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, …`).
fn signing_key_id(authorization: &str) -> Option<&str> {
    let credential = authorization.split_once("Credential=")?.1;
    let key_id = credential.split_once('/')?.0;
    (!key_id.is_empty()).then_some(key_id)
}

/// The base URL of `uri` when it is not one of AWS's own endpoints, which the Streams client
/// resolves for itself (the Streams API is `streams.dynamodb.<region>.amazonaws.com` there,
/// not the table API's host).
fn custom_endpoint(uri: &str) -> Option<String> {
    let authority_at = uri.find("://")? + 3;
    let end = uri[authority_at..]
        .find(['/', '?'])
        .map_or(uri.len(), |i| authority_at + i);
    let authority = &uri[authority_at..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let aws = [".amazonaws.com", ".amazonaws.com.cn", ".api.aws"]
        .iter()
        .any(|suffix| host.ends_with(suffix));
    (!aws && !host.is_empty()).then(|| uri[..end].to_owned())
}

/// One stream record as Lambda puts it in `Records[]`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html>, "Example event").
pub fn lambda_record(
    record: &Record,
    stream_arn: &str,
    region: &str,
) -> Result<StreamRecord, StreamError> {
    let change = record
        .dynamodb()
        .ok_or_else(|| StoreError::corrupt("a stream record without its change"))?;
    let sequence_number = change
        .sequence_number()
        .ok_or_else(|| StoreError::corrupt("a stream record without a sequence number"))?
        .to_owned();
    let mut dynamodb = Map::new();
    if let Some(at) = change.approximate_creation_date_time() {
        dynamodb.insert("ApproximateCreationDateTime".into(), epoch_seconds(at));
    }
    if let Some(keys) = change.keys() {
        dynamodb.insert("Keys".into(), item_json(keys)?);
    }
    if let Some(image) = change.new_image() {
        dynamodb.insert("NewImage".into(), item_json(image)?);
    }
    if let Some(image) = change.old_image() {
        dynamodb.insert("OldImage".into(), item_json(image)?);
    }
    dynamodb.insert("SequenceNumber".into(), json!(sequence_number));
    if let Some(size) = change.size_bytes() {
        dynamodb.insert("SizeBytes".into(), json!(size));
    }
    if let Some(view) = change.stream_view_type() {
        dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
    }

    let mut event = Map::new();
    if let Some(id) = record.event_id() {
        event.insert("eventID".into(), json!(id));
    }
    if let Some(name) = record.event_name() {
        event.insert("eventName".into(), json!(name.as_str()));
    }
    event.insert(
        "eventVersion".into(),
        json!(record.event_version().unwrap_or("1.1")),
    );
    event.insert(
        "eventSource".into(),
        json!(record.event_source().unwrap_or("aws:dynamodb")),
    );
    event.insert(
        "awsRegion".into(),
        json!(record.aws_region().unwrap_or(region)),
    );
    event.insert("dynamodb".into(), Value::Object(dynamodb));
    event.insert("eventSourceARN".into(), json!(stream_arn));
    // Set on deletions by TTL: `{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`.
    if let Some(who) = record.user_identity() {
        event.insert(
            "userIdentity".into(),
            json!({ "type": who.r#type(), "principalId": who.principal_id() }),
        );
    }
    Ok(StreamRecord {
        sequence_number,
        approximate_arrival: change.approximate_creation_date_time().and_then(|at| {
            DateTime::from_secs(at.secs())
                .fmt(DateTimeFormat::DateTime)
                .ok()
        }),
        event: Value::Object(event),
    })
}

/// Epoch seconds, as the event's `ApproximateCreationDateTime` is: a whole number when the
/// stream gave whole seconds, a fraction otherwise.
fn epoch_seconds(at: &DateTime) -> Value {
    if at.subsec_nanos() == 0 {
        json!(at.secs())
    } else {
        json!(at.as_secs_f64())
    }
}

/// An item (or its keys) in DynamoDB JSON, attribute names in order.
pub fn item_json(item: &HashMap<String, AttributeValue>) -> Result<Value, StreamError> {
    let sorted: BTreeMap<&String, &AttributeValue> = item.iter().collect();
    let mut out = Map::new();
    for (name, value) in sorted {
        out.insert(name.clone(), attribute_json(value)?);
    }
    Ok(Value::Object(out))
}

/// One attribute value in DynamoDB JSON: `{"S": "…"}`, `{"N": "…"}`, `{"B": "<base64>"}`, …
pub fn attribute_json(value: &AttributeValue) -> Result<Value, StreamError> {
    let base64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| STANDARD.encode(b.as_ref());
    Ok(match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b) }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(base64).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m)? }),
        AttributeValue::L(l) => json!({
            "L": l.iter().map(attribute_json).collect::<Result<Vec<_>, _>>()?
        }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        _ => {
            return Err(
                StoreError::corrupt("an attribute of a type this reader does not know").into(),
            );
        }
    })
}

/// `time` as RFC 3339 in UTC to the millisecond (`2019-11-14T00:13:49.717Z`), the form of an
/// on-failure record's `timestamp`.
pub fn rfc3339_millis(time: SystemTime) -> String {
    let millis = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    };
    let at = DateTime::from_millis(millis);
    let whole = DateTime::from_secs(at.secs())
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    let millis = at.subsec_nanos() / 1_000_000;
    match whole.strip_suffix('Z') {
        Some(seconds) => format!("{seconds}.{millis:03}Z"),
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodbstreams::primitives::Blob;
    use aws_sdk_dynamodbstreams::types::{
        Identity, OperationType, StreamRecord as SdkStreamRecord, StreamViewType,
    };

    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.into())
    }

    #[test]
    fn every_attribute_type_converts_to_dynamodb_json() {
        let cases: Vec<(AttributeValue, Value)> = vec![
            (s("hello"), json!({"S": "hello"})),
            (AttributeValue::N("-12.50".into()), json!({"N": "-12.50"})),
            (
                AttributeValue::B(Blob::new(b"\x00\xffpod".to_vec())),
                json!({"B": "AP9wb2Q="}),
            ),
            (
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
                json!({"SS": ["a", "b"]}),
            ),
            (
                AttributeValue::Ns(vec!["1".into(), "2.5".into()]),
                json!({"NS": ["1", "2.5"]}),
            ),
            (
                AttributeValue::Bs(vec![Blob::new(b"hi".to_vec()), Blob::new(Vec::new())]),
                json!({"BS": ["aGk=", ""]}),
            ),
            (
                AttributeValue::M(HashMap::from([
                    ("z".to_owned(), AttributeValue::Bool(false)),
                    ("a".to_owned(), s("x")),
                ])),
                json!({"M": {"a": {"S": "x"}, "z": {"BOOL": false}}}),
            ),
            (
                AttributeValue::L(vec![s("x"), AttributeValue::N("1".into())]),
                json!({"L": [{"S": "x"}, {"N": "1"}]}),
            ),
            (AttributeValue::Null(true), json!({"NULL": true})),
            (AttributeValue::Bool(true), json!({"BOOL": true})),
            (
                AttributeValue::L(vec![AttributeValue::M(HashMap::from([(
                    "deep".to_owned(),
                    AttributeValue::L(vec![AttributeValue::Null(true)]),
                )]))]),
                json!({"L": [{"M": {"deep": {"L": [{"NULL": true}]}}}]}),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                attribute_json(&value).expect("a known type"),
                expected,
                "{value:?}"
            );
        }
    }

    #[test]
    fn item_attributes_come_out_in_name_order() {
        let item = HashMap::from([
            ("pk".to_owned(), s("k")),
            ("b".to_owned(), AttributeValue::N("2".into())),
            ("a".to_owned(), s("1")),
        ]);
        let text = item_json(&item).expect("an item").to_string();
        assert_eq!(text, r#"{"a":{"S":"1"},"b":{"N":"2"},"pk":{"S":"k"}}"#);
    }

    fn sdk_record(old_image: bool, identity: bool) -> Record {
        let mut change = SdkStreamRecord::builder()
            .approximate_creation_date_time(DateTime::from_secs(1_573_690_399))
            .keys("pk", s("k1"))
            .new_image("pk", s("k1"))
            .new_image("n", AttributeValue::N("7".into()))
            .sequence_number("800000000003126276362")
            .size_bytes(42)
            .stream_view_type(StreamViewType::NewImage);
        if old_image {
            change = change.old_image("pk", s("k1"));
        }
        let mut record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Modify)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("us-east-2")
            .dynamodb(change.build());
        if identity {
            record = record.user_identity(
                Identity::builder()
                    .r#type("Service")
                    .principal_id("dynamodb.amazonaws.com")
                    .build(),
            );
        }
        record.build()
    }

    #[test]
    fn a_record_takes_the_shape_of_lambdas_dynamodb_event() {
        let arn = "arn:aws:dynamodb:us-east-2:123456789012:table/t/stream/2019-11-14T00:04:06.388";
        let got =
            lambda_record(&sdk_record(false, false), arn, "ignored").expect("a convertible record");
        assert_eq!(got.sequence_number, "800000000003126276362");
        assert_eq!(
            got.approximate_arrival.as_deref(),
            Some("2019-11-14T00:13:19Z")
        );
        assert_eq!(
            got.event,
            json!({
                "eventID": "e1",
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-2",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_573_690_399,
                    "Keys": {"pk": {"S": "k1"}},
                    "NewImage": {"n": {"N": "7"}, "pk": {"S": "k1"}},
                    "SequenceNumber": "800000000003126276362",
                    "SizeBytes": 42,
                    "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": arn
            })
        );
    }

    #[test]
    fn old_images_and_ttl_identities_are_kept_when_present() {
        let got = lambda_record(&sdk_record(true, true), "arn", "r").expect("a convertible record");
        assert_eq!(
            got.event["dynamodb"]["OldImage"],
            json!({"pk": {"S": "k1"}})
        );
        assert_eq!(
            got.event["userIdentity"],
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
    }

    #[test]
    fn a_record_without_a_sequence_number_is_corrupt() {
        let record = Record::builder()
            .dynamodb(SdkStreamRecord::builder().build())
            .build();
        assert!(matches!(
            lambda_record(&record, "arn", "r"),
            Err(StreamError::Store(StoreError::Corrupt(_)))
        ));
    }

    #[test]
    fn only_endpoints_outside_aws_are_reused_for_the_streams_api() {
        let cases = [
            ("http://127.0.0.1:8317/", Some("http://127.0.0.1:8317")),
            ("http://localhost:8000", Some("http://localhost:8000")),
            ("http://[::1]:8000/x?y", Some("http://[::1]:8000")),
            ("https://dynamodb.us-east-1.amazonaws.com/", None),
            ("https://dynamodb-fips.us-gov-west-1.amazonaws.com/", None),
            ("https://dynamodb.cn-north-1.amazonaws.com.cn/", None),
            ("https://dynamodb.us-east-1.api.aws/", None),
            ("not a url", None),
        ];
        for (uri, expected) in cases {
            assert_eq!(custom_endpoint(uri).as_deref(), expected, "{uri}");
        }
    }

    #[test]
    fn the_access_key_id_is_read_from_a_sigv4_authorization_header() {
        let header = "AWS4-HMAC-SHA256 Credential=local/20261205/us-east-1/dynamodb/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signing_key_id(header), Some("local"));
        assert_eq!(signing_key_id("AWS4-HMAC-SHA256 Credential=/x"), None);
        assert_eq!(signing_key_id("Bearer x"), None);
    }

    #[test]
    fn timestamps_are_rfc3339_to_the_millisecond() {
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_573_690_429_717);
        assert_eq!(rfc3339_millis(at), "2019-11-14T00:13:49.717Z");
        let whole = UNIX_EPOCH + std::time::Duration::from_secs(1_573_690_429);
        assert_eq!(rfc3339_millis(whole), "2019-11-14T00:13:49.000Z");
    }
}
