//! The expiry scan: the keys of each day of [`webhook::days_to_scan`] from the expiry index,
//! the notice each is due ([`webhook::due_notice`]), stored behind a conditional mark on the
//! key and attempted at once.

use apikey::Timestamp;
use keystore::{Delivery, KeyRecord, StoreError};
use serde_json::{Value, json};
use webhook::{Envelope, NOTICE_DAYS, Notice, days_to_scan, due_notice};

use crate::Notifier;

/// What one scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Keys read from the index.
    pub keys: usize,
    /// Notices this scan stored (and attempted).
    pub notices: usize,
    /// Of those, delivered at the first attempt; the rest are with the retry schedule.
    pub delivered: usize,
}

impl ScanReport {
    pub fn to_json(self) -> Value {
        json!({"keys": self.keys, "notices": self.notices, "delivered": self.delivered})
    }
}

/// The mark a notice leaves on its key (`webhook_notices`).
fn mark(notice: Notice) -> String {
    match notice {
        Notice::Expiring { days } => format!("expiring_{days}"),
        Notice::Expired => "expired".to_owned(),
    }
}

fn marked(marks: &[String]) -> Vec<Notice> {
    let mut sent: Vec<Notice> = NOTICE_DAYS
        .iter()
        .filter_map(|&d| Notice::expiring(d))
        .collect();
    sent.push(Notice::Expired);
    sent.retain(|n| marks.contains(&mark(*n)));
    sent
}

impl Notifier {
    /// The scan at `now`: one index query per day of the window, the due notices stored
    /// once each, then attempted.
    pub async fn expiry_scan(&self, now: Timestamp) -> Result<ScanReport, StoreError> {
        let mut report = ScanReport::default();
        let mut stored = Vec::new();
        for day in days_to_scan(now) {
            for (record, marks) in self.store.keys_expiring_on(day).await? {
                report.keys += 1;
                let Some(notice) = due(&record, &marks, now) else {
                    continue;
                };
                let key_object = serde_json::to_value(handler::KeyObject::new(&record, now))
                    .map_err(|e| StoreError::Unexpected(e.into()))?;
                let envelope = Envelope::for_notice(&record.id, notice, key_object, now);
                let delivery = Delivery::new(envelope.id().as_str(), envelope.body(), now);
                if self
                    .store
                    .mark_notice(&record, &mark(notice), &delivery, self.lease(now))
                    .await?
                {
                    report.notices += 1;
                    stored.push(delivery);
                }
            }
        }
        report.delivered = self.attempt_stored(stored).await;
        tracing::info!(
            keys = report.keys,
            notices = report.notices,
            delivered = report.delivered,
            "expiry scan"
        );
        Ok(report)
    }
}

/// The notice `record` is due at `now`: none for a revoked key (status wins over the clock)
/// or a rotated one (its successor carries on and gets its own notices).
fn due(record: &KeyRecord, marks: &[String], now: Timestamp) -> Option<Notice> {
    if record.revoked_at.is_some() || record.rotated_to.is_some() {
        return None;
    }
    due_notice(record.expires_at?, now, &marked(marks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_read_back_as_the_notices_they_name() {
        let all = [
            "expiring_30",
            "expiring_7",
            "expiring_1",
            "expired",
            "other",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            marked(&all),
            vec![
                Notice::Expiring { days: 30 },
                Notice::Expiring { days: 7 },
                Notice::Expiring { days: 1 },
                Notice::Expired
            ]
        );
        assert_eq!(
            marked(&["expiring_7".to_owned()]),
            vec![Notice::Expiring { days: 7 }]
        );
        assert!(marked(&[]).is_empty());
        for n in marked(&all) {
            assert_eq!(marked(&[mark(n)]), vec![n]);
        }
    }
}
