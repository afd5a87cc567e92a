//! `GET /api/v1/auth/api-keys/{id}/usage` and `GET /api/v1/auth/usage` (SPEC §12): requests
//! by UTC day and outcome, every day of the range present (zeros included), with the range's
//! total. One key's usage follows the owner rules of `GET /auth/api-keys/{id}` (another
//! owner's key is 404); an owner's usage those of listing (`owner_id` another owner's: admins
//! only, 403 otherwise), and adds each key's total.

use apikey::Day;
use gateway::State;
use handler::{ApiError, Caller, UsageParams};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

pub(crate) async fn key_usage(
    state: &State,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, ApiError> {
    let params = UsageParams::for_key(req, Day::of(state.clock.now()))?;
    let record = crate::visible_key(state, req, caller).await?;
    let per_day = state.store.key_usage(&record.id, params.range).await?;
    let body = handler::key_usage(&record.id, params.range, &per_day);
    Ok(handler::json(StatusCode::OK, &body))
}

pub(crate) async fn owner_usage(
    state: &State,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, ApiError> {
    let params = UsageParams::for_owner(req, Day::of(state.clock.now()))?;
    let owner = match params.owner_id {
        Some(owner) if owner != caller.owner_id && !caller.is_admin() => {
            return Err(ApiError::Forbidden(
                "only admin keys can read another owner's usage".into(),
            ));
        }
        Some(owner) => owner,
        None => caller.owner_id.clone(),
    };
    let rows = state.store.owner_usage(&owner, params.range).await?;
    let body = handler::owner_usage(&owner, params.range, &rows);
    Ok(handler::json(StatusCode::OK, &body))
}
