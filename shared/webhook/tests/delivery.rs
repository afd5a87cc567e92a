//! A delivery end to end through the public API, sender and receiver side, with no network:
//! configuration → envelope → signature per attempt → what a receiver checks.

use std::collections::HashMap;

use apikey::{KeyId, Timestamp};
use serde_json::{Value, json};
use webhook::{
    EVENT_ID_HEADER, Envelope, Notice, RetrySchedule, SIGNATURE_HEADER, VerifyError, WebhookConfig,
    days_to_scan, due_notice, expiry_day, sign, verify,
};

const SECRET: &str = "whsec-integration-7d1e";
const TOLERANCE: u64 = 300;

fn config() -> WebhookConfig {
    let vars = HashMap::from([
        ("WEBHOOK_URL", "http://127.0.0.1:9000/hooks".to_owned()),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
    ]);
    WebhookConfig::from_lookup(|name| vars.get(name).cloned())
        .expect("valid settings")
        .expect("webhooks on")
}

fn revoked_event() -> Value {
    json!({
        "id": "evt_AAAAAAAAAAAAAAAAAAAA",
        "time": "2026-12-05T10:00:00Z",
        "action": "key.revoked",
        "actor": {"type": "key", "key_id": "key_BBBBBBBBBBBBBBBBBBBB", "owner_id": "u1"},
        "target": {"key_id": "key_BBBBBBBBBBBBBBBBBBBB", "owner_id": "u1", "name": "ci", "hint": "pod_Xb3k"},
        "request_id": "r-1",
        "source_ip": "203.0.113.9",
        "user_agent": "curl/8",
        "changes": null,
        "correlation_id": null,
    })
}

#[test]
fn every_attempt_of_a_delivery_sends_the_same_body_and_id_and_a_fresh_valid_signature() {
    let config = config();
    let envelope = Envelope::for_audit_event(revoked_event()).expect("an audit event");
    let body = envelope.body();
    let schedule = RetrySchedule::standard();

    let mut sent_at = 1_796_464_800_i64;
    let mut headers_seen = Vec::new();
    for attempt in 1..=3 {
        let wait = schedule
            .delay_before(attempt, 42)
            .expect("within the schedule");
        sent_at += i64::try_from(wait.as_secs()).expect("small");
        let headers = [
            (
                SIGNATURE_HEADER,
                sign(config.secret(), sent_at, body.as_bytes()),
            ),
            (EVENT_ID_HEADER, envelope.id().to_string()),
        ];

        // The receiver, at the moment the attempt arrives.
        let received: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            verify(
                config.secret(),
                &headers[0].1,
                body.as_bytes(),
                sent_at,
                TOLERANCE
            ),
            Ok(())
        );
        assert_eq!(received["id"], headers[1].1.as_str());
        assert_eq!(received["id"], "whk_AAAAAAAAAAAAAAAAAAAA");
        assert_eq!(received["type"], "key.revoked");
        assert_eq!(received["data"], revoked_event());
        headers_seen.push(headers);
    }
    // Same id each time; the signature changes with t.
    assert!(headers_seen.windows(2).all(|w| w[0][1] == w[1][1]));
    assert!(headers_seen.windows(2).all(|w| w[0][0] != w[1][0]));
}

#[test]
fn a_captured_delivery_replayed_later_is_refused_by_the_receiver() {
    let config = config();
    let body = Envelope::for_audit_event(revoked_event())
        .expect("an audit event")
        .body();
    let t = 1_796_464_800;
    let header = sign(config.secret(), t, body.as_bytes());
    assert!(matches!(
        verify(
            config.secret(),
            &header,
            body.as_bytes(),
            t + 3_600,
            TOLERANCE
        ),
        Err(VerifyError::OutsideTolerance { .. })
    ));
}

#[test]
fn a_daily_scan_sends_a_ninety_day_key_four_notices_with_stable_ids() {
    let key = KeyId::parse("key_CCCCCCCCCCCCCCCCCCCC").expect("valid key id");
    let created = Timestamp::from_epoch_secs(1_796_464_800);
    let expires_at = created.plus_days(90);
    let mut marks: Vec<Notice> = Vec::new();
    let mut ids = Vec::new();
    // Daily at 02:00 UTC for 100 days, each day run twice (a retried schedule), as the
    // conditional mark would see it: the second run finds the first one's mark.
    let first_run = apikey::Day::of(created)
        .plus(1)
        .start()
        .plus_secs(2 * 3_600);
    for day in 0..100 {
        let now = first_run.plus_days(day);
        for _run in 0..2 {
            if !days_to_scan(now).contains(&expiry_day(expires_at)) {
                continue;
            }
            if let Some(notice) = due_notice(expires_at, now, &marks) {
                let key_object = json!({"id": key.as_str(), "expires_at": expires_at.to_rfc3339()});
                let envelope = Envelope::for_notice(&key, notice, key_object, now);
                marks.push(notice);
                ids.push(envelope.id().to_string());
            }
        }
    }
    assert_eq!(
        ids,
        [
            "whk_key_CCCCCCCCCCCCCCCCCCCC_expiring_30",
            "whk_key_CCCCCCCCCCCCCCCCCCCC_expiring_7",
            "whk_key_CCCCCCCCCCCCCCCCCCCC_expiring_1",
            "whk_key_CCCCCCCCCCCCCCCCCCCC_expired",
        ]
    );
}
