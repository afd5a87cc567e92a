//! A batch from the table's stream: each new audit event becomes a stored delivery, then an
//! attempt. The response names the records that could not be handled, as Lambda's
//! `ReportBatchItemFailures` reads it
//! (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html):
//! the mapping retries from the first of them, so the records after it are seen again, and
//! storing a delivery whose id is already stored does nothing.

use keystore::{Delivery, audit_event_from_image};
use serde_json::{Value, json};
use webhook::Envelope;

use crate::Notifier;

/// Why one record was not handled.
enum Failure {
    /// It can never be read: retrying cannot help; the mapping's retries run out and its
    /// on-failure destination gets the record's position for an operator to look at.
    Poison(String),
    /// Storing its delivery failed; a retry may succeed.
    Store(String),
}

impl Notifier {
    pub(crate) async fn on_stream(&self, batch: &Value) -> Result<Value, String> {
        let records = batch
            .get("Records")
            .and_then(Value::as_array)
            .ok_or("`Records` is not a list")?;
        let mut failures = Vec::new();
        let mut stored = Vec::new();
        for record in records {
            let Some(sequence) = record
                .pointer("/dynamodb/SequenceNumber")
                .and_then(Value::as_str)
            else {
                // Without its position a record cannot be reported alone: fail the batch.
                return Err("a stream record without dynamodb.SequenceNumber".to_owned());
            };
            match self.store_record(record).await {
                Ok(Some(delivery)) => stored.push(delivery),
                Ok(None) => {}
                Err(failure) => {
                    let (kind, why) = match &failure {
                        Failure::Poison(why) => ("poison", why),
                        Failure::Store(why) => ("store", why),
                    };
                    tracing::error!(sequence, kind, error = %why, "stream record not handled");
                    failures.push(json!({"itemIdentifier": sequence}));
                }
            }
        }
        // First attempts after every record is stored: a slow receiver delays only this
        // batch's answer, and every delivery is already safe in the table.
        self.attempt_stored(stored).await;
        Ok(json!({ "batchItemFailures": failures }))
    }

    /// The delivery of one record, stored if new: `None` for a record that is not a new
    /// audit event, or whose delivery was stored before.
    async fn store_record(&self, record: &Value) -> Result<Option<Delivery>, Failure> {
        if record.get("eventName").and_then(Value::as_str) != Some("INSERT") {
            return Ok(None);
        }
        let Some(image) = record.pointer("/dynamodb/NewImage") else {
            return Ok(None);
        };
        let event = match audit_event_from_image(image) {
            Ok(Some(event)) => event,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Failure::Poison(e.to_string())),
        };
        let envelope = Envelope::for_audit_event(handler::audit_event(&event))
            .map_err(|e| Failure::Poison(e.to_string()))?;
        let now = self.now();
        let delivery = Delivery::new(envelope.id().as_str(), envelope.body(), now);
        match self
            .store
            .enqueue_delivery(&delivery, self.lease(now))
            .await
        {
            Ok(true) => Ok(Some(delivery)),
            Ok(false) => Ok(None),
            Err(e) => Err(Failure::Store(e.to_string())),
        }
    }
}
