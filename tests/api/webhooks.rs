//! Lifecycle webhooks and expiry notices through the local gateway (filled in below).
