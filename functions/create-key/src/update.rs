//! `PATCH /api/v1/auth/api-keys/{id}` (SPEC §3): a key's name, description, scopes (narrowing
//! only, for non-admins) and plan (admins only). Everything is checked before the one
//! conditional write; a refusal writes nothing.

use apikey::{Description, KeyName, PlanName, ScopeSet, Timestamp};
use gateway::State;
use handler::{ApiError, Caller, KeyObject};
use keystore::KeyChanges;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::invalid;

/// The request body; unknown fields are refused. `description: null` or `""` removes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    plan: Option<String>,
}

/// A member that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(crate) async fn update(
    state: &State,
    req: &Request,
    caller: &Caller,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let id = handler::path_id(req)?;
    let body: UpdateBody = handler::json_body(req)?.ok_or_else(|| {
        ApiError::InvalidRequest("a JSON body with name, description, scopes or plan".into())
    })?;
    // Parse everything first: a malformed field is 400 whoever asks and whatever the key.
    let name = body
        .name
        .as_deref()
        .map(KeyName::parse)
        .transpose()
        .map_err(invalid)?;
    let description = match body.description {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) if d.is_empty() => Some(None),
        Some(Some(d)) => Some(Some(Description::parse(&d).map_err(invalid)?)),
    };
    let scopes = body
        .scopes
        .as_ref()
        .map(|names| ScopeSet::parse(names.iter().map(String::as_str)))
        .transpose()
        .map_err(invalid)?;
    let plan: Option<PlanName> = match body.plan.as_deref() {
        None => None,
        Some(p) => Some(state.config.plans.resolve(p).map_err(invalid)?.0.clone()),
    };
    let changes = KeyChanges {
        name,
        description,
        scopes,
        plan,
    };
    if changes.is_empty() {
        return Err(ApiError::InvalidRequest(
            "nothing to change: give name, description, scopes or plan".into(),
        ));
    }

    let record = state
        .store
        .get_by_id(&id)
        .await?
        .filter(|r| caller.access().permits(r))
        .ok_or_else(ApiError::not_found_key)?;
    if !caller.is_admin() {
        if let Some(scopes) = changes.scopes {
            // Narrowing only: within the key's own scopes and the caller's (SPEC §3).
            if !record.scopes.may_grant(scopes) || !caller.scopes.may_grant(scopes) {
                return Err(ApiError::Forbidden(
                    "scopes can only be narrowed: within the key's scopes and the caller's".into(),
                ));
            }
        }
        if changes.plan.is_some() && changes.plan != record.plan {
            return Err(ApiError::Forbidden(
                "only an admin key can change a plan".into(),
            ));
        }
    }
    let updated = state
        .store
        .update(&record, &changes, now, &caller.audit(req))
        .await?;
    Ok(handler::json(
        StatusCode::OK,
        &KeyObject::new(&updated, now),
    ))
}
