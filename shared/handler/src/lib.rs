//! The HTTP side of the key functions (`lambda_http`): the calling key's identity, request
//! parsing (route, JSON body, query, path id), the one error → JSON response mapping, the key
//! object, and the one log line per request.

mod caller;
mod error;
mod request;
mod response;

use std::future::Future;
use std::time::Instant;

use lambda_http::{Body, Request, Response};

pub use caller::Caller;
pub use error::ApiError;
pub use request::{ListParams, MAX_BODY, json_body, path_id, request_id, resource, route};
pub use response::{KeyObject, created_body, json};

/// Runs `handle`, turns its error into the JSON error response, and writes the request's one
/// log line: request id, method, route, status, calling key id, latency. Never a key.
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
    let (response, error) = match handle(req).await {
        Ok(response) => (response, None),
        Err(e) => {
            let code = e.code().as_str();
            let cause = e.cause_chain();
            (e.into_response(request_id.as_deref()), Some((code, cause)))
        }
    };
    let status = response.status().as_u16();
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let request_id = request_id.as_deref().unwrap_or("-");
    let key_id = caller_key.as_deref().unwrap_or("-");
    match error {
        None => tracing::info!(
            request_id, method, route, status, key_id, latency_us, "request"
        ),
        Some((code, None)) => {
            tracing::info!(
                request_id, method, route, status, key_id, latency_us, code, "request"
            )
        }
        Some((code, Some(cause))) => tracing::error!(
            request_id, method, route, status, key_id, latency_us, code, cause, "request"
        ),
    }
    response
}
