//! Webhook receivers in the README, run against real signatures (filled in below).
