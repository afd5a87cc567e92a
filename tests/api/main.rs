//! The key-management API, handler by handler, against DynamoDB Local.

mod audit;
mod authorizer;
mod bad_requests;
mod browser;
mod create;
mod e2e;
mod faults;
mod feeds;
mod helpers;
mod hostile;
mod infra;
mod lambda;
mod list;
mod log_levels;
mod metrics;
mod operations;
mod ratelimit;
mod reliability;
mod revoke;
mod rotate;
mod site;
mod update;
mod usage;
mod webhook_snippets;
mod webhooks;
