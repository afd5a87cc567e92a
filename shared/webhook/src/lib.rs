//! Lifecycle webhooks and expiry notices (SPEC §14), the pure part: everything about a
//! delivery that can be decided without the network, the table or the clock. No I/O, no AWS,
//! no HTTP client; time comes in as arguments, so tests set it.
//!
//! What is here:
//! - [`Secret`], [`sign`] and [`verify`]: `Podkeys-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
//!   "<t>.<raw body>">`, made per attempt, and checked exactly as a receiver should (the
//!   README's Python and Node snippets do the same thing); header names
//!   [`SIGNATURE_HEADER`] and [`EVENT_ID_HEADER`].
//! - [`WebhookConfig::from_lookup`]: `WEBHOOK_URL` / `WEBHOOK_SECRET`, off when both are unset,
//!   an init error naming the variable when half-set, blank or not https outside loopback.
//! - [`Envelope`] and [`EventId`]: the `{"id","type","created","data"}` body and ids that stay
//!   the same on every redelivery and across racing scans (see [`EventId`] for the forms).
//! - [`due_notice`], [`expiry_day`], [`days_to_scan`]: which expiry notice a key is due, once
//!   each and most imminent only, and which days of an expiry-day index a scan reads.
//! - [`RetrySchedule`]: first retry within a minute, backoff for more than an hour, then give
//!   up and keep the delivery for replay.
//!
//! What uses it (the I/O parts, elsewhere):
//! - the notifier function, fed by DynamoDB Streams on the table: for each new audit item it
//!   builds [`Envelope::for_audit_event`] from the event as §11 shows it, stores the body as a
//!   pending delivery keyed by [`EventId`], and returns, so a slow or dead receiver never holds
//!   up a key operation (the operation's transaction is long committed) nor the stream shard;
//! - the delivery: POSTs [`Envelope::body`] with [`sign`] over a fresh `t` per attempt and
//!   `Podkeys-Event-Id`, waits [`RetrySchedule::delay_before`] between attempts, and parks the
//!   delivery for an operator's replay when that says `None`;
//! - the daily expiry scan (and `apikeys notify-expiring [--now]`): queries the expiry index for
//!   each day of [`days_to_scan`], skips revoked keys, asks [`due_notice`] with the notices
//!   already marked on the key, and sends [`Envelope::for_notice`] behind a conditional mark
//!   whose key is the [`EventId`], so re-runs and concurrent runs send each notice once;
//! - every function's init: [`WebhookConfig::from_lookup`] over the environment.

mod config;
mod envelope;
mod notice;
mod retry;
mod secret;
mod sign;

pub use config::{ConfigError, SECRET_VAR, URL_VAR, WebhookConfig, WebhookUrl};
pub use envelope::{Envelope, EnvelopeError, EventId, EventType};
pub use notice::{
    EXPIRED_LOOKBACK_DAYS, NOTICE_DAYS, Notice, days_to_scan, due_notice, expiry_day,
};
pub use retry::RetrySchedule;
pub use secret::Secret;
pub use sign::{EVENT_ID_HEADER, SIGNATURE_HEADER, VerifyError, sign, verify};
