//! `GET /api/v1/auth/audit-log` (SPEC §11): the caller's audience's events, newest first,
//! filtered by key, action and time, paged like key listings. Users see events whose target
//! or actor is one of their keys; admins see every event, or one owner's (`owner_id`). A
//! `key_id` the caller may not see is 404, as for `GET /auth/api-keys/{id}`.

use gateway::State;
use gateway::routes;
use handler::{ApiError, AuditParams, Caller};
use keystore::AuditQuery;
use keystore::audit::{ALL, owner_part};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

pub(crate) async fn audit_log(
    state: &State,
    req: &Request,
    caller: &Caller,
) -> Result<Response<Body>, ApiError> {
    let params = AuditParams::from_request(req)?;
    let part = match (&params.owner_id, caller.is_admin()) {
        (None, true) => ALL.to_owned(),
        (Some(owner), true) => owner_part(owner.as_str()),
        (None, false) => owner_part(caller.owner_id.as_str()),
        (Some(owner), false) if *owner == caller.owner_id => owner_part(owner.as_str()),
        (Some(_), false) => {
            return Err(ApiError::Forbidden(
                "only admin keys can read another owner's audit log".into(),
            ));
        }
    };
    if let Some(id) = &params.key_id {
        match state.store.get_by_id(id).await? {
            Some(record) if caller.access().permits(&record) => {}
            _ => return Err(ApiError::not_found_key()),
        }
    }
    let query = AuditQuery {
        key_id: params.key_id.as_ref().map(|k| k.as_str().to_owned()),
        action: params.action,
        since: params.since,
        until: params.until,
        limit: params.limit.as_usize(),
        cursor: params.cursor.clone(),
        ..AuditQuery::of(part)
    };
    let page = state.store.audit_log(&query).await?;
    let events: Vec<Value> = page.events.iter().map(handler::audit_event).collect();
    let mut response = handler::json(StatusCode::OK, &events);
    if let Some(cursor) = &page.next {
        let mut pairs = vec![
            ("limit", params.limit.to_string()),
            ("cursor", cursor.clone()),
        ];
        for (name, value) in [
            (
                "key_id",
                params.key_id.as_ref().map(|k| k.as_str().to_owned()),
            ),
            ("action", params.action.map(|a| a.as_str().to_owned())),
            ("since", params.since.map(|t| t.to_rfc3339())),
            ("until", params.until.map(|t| t.to_rfc3339())),
            (
                "owner_id",
                params.owner_id.as_ref().map(|o| o.as_str().to_owned()),
            ),
        ] {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        let link = crate::next_link(req, routes::AUDIT_LOG, &pairs);
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}
