//! The HTTP side of the key functions (`lambda_http`): the calling key's identity, request
//! parsing (route, JSON body, query, path id), the one error → JSON response mapping, the key
//! object, and the one log line per request.

mod caller;
mod error;
mod request;
mod response;

use std::future::Future;
use std::time::Instant;

use gateway::metrics::{Line, Unit, dimension, metric, status_class};
use lambda_http::{Body, Request, Response};

pub use caller::{Caller, RateLimit};
pub use error::ApiError;
pub use request::{
    AuditParams, ListParams, MAX_BODY, UsageParams, json_body, path_id, request_id, resource, route,
};
pub use response::{KeyObject, audit_event, created_body, json, key_usage, owner_usage};

/// Runs `handle`, turns its error into the JSON error response, adds the calling key's
/// `X-RateLimit-*` headers, and writes the request's one log line: request id, method, route,
/// status, calling key id, latency. Never a key.
pub async fn serve<F, Fut>(req: Request, handle: F) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().to_string();
    let route = resource(&req).unwrap_or("-").to_owned();
    let caller_key = Caller::key_id_for_log(&req);
    let rate_limit = RateLimit::from_request(&req);
    let (mut response, error) = match handle(req).await {
        Ok(response) => (response, None),
        Err(e) => {
            let code = e.code().as_str();
            let cause = e.cause_chain();
            (e.into_response(request_id.as_deref()), Some((code, cause)))
        }
    };
    // On every answer to a key on a limited plan, as GitHub sends them (SPEC §10).
    for (name, value) in rate_limit.iter().flat_map(|r| r.headers()) {
        if let Ok(value) = lambda_http::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    let status = response.status().as_u16();
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let request_id = request_id.as_deref().unwrap_or("-");
    let key_id = caller_key.as_deref().unwrap_or("-");
    // The request's one line, with its metrics (EMF, SPEC §13): by route template and status
    // class only.
    if !gateway::metrics::enabled() {
        return response;
    }
    let mut line = match &error {
        Some((_, Some(cause))) => Line::new("ERROR", "request").field("cause", cause.as_str()),
        _ => Line::new("INFO", "request"),
    };
    if let Some((code, _)) = &error {
        line = line.field("code", *code);
    }
    line.field("request_id", request_id)
        .field("method", method)
        .field("route", route.as_str())
        .field("status", status)
        .field("key_id", key_id)
        .field("latency_us", latency_us)
        .dimension(dimension::ROUTE, &route)
        .dimension(dimension::STATUS_CLASS, status_class(status))
        .metric(metric::REQUESTS, Unit::Count, 1.0)
        .metric(
            metric::REQUEST_LATENCY,
            Unit::Milliseconds,
            latency_us as f64 / 1000.0,
        )
        .write();
    response
}
