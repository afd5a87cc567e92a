//! The key-management API, handler by handler, against DynamoDB Local.

mod authorizer;
mod bad_requests;
mod create;
mod e2e;
mod helpers;
mod infra;
mod list;
mod revoke;
mod rotate;
