//! `DELETE /api/v1/auth/api-keys/{id}`: revokes a key. The authorizer reads keys with
//! strongly consistent reads, so the very next request with it is refused.

use apikey::Scope;
use gateway::State;
use gateway::routes::{self, Function};
use handler::{ApiError, Caller, KeyObject};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    handler::serve(req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, ApiError> {
    handler::route(&req, &routes::served_by(Function::RevokeKey))?;
    let caller = Caller::from_request(&req)?;
    caller.require(Scope::KeysWrite)?;
    let id = handler::path_id(&req)?;
    let now = state.clock.now();
    // Idempotent: a second revoke returns the key with its first `revoked_at`.
    let audit = caller.audit(&req);
    let record = state
        .store
        .revoke(&id, &caller.access(), now, &audit)
        .await?;
    Ok(handler::json(StatusCode::OK, &KeyObject::new(&record, now)))
}
