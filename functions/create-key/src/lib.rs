//! `POST /api/v1/auth/api-keys`: issues a key and returns its plaintext, the only time it
//! ever leaves the service. `POST /api/v1/auth/api-keys/{id}/rotate`: replaces a key in one
//! call, the old one ending after a grace period. `PATCH /api/v1/auth/api-keys/{id}`: changes
//! a key's name, description, scopes or plan (`update.rs`).

mod update;

use apikey::{
    Description, GracePeriod, KeyName, Lifetime, OwnerId, PlanName, Plans, Scope, ScopeSet,
    Timestamp,
};
use gateway::State;
use gateway::routes::{self, Function};
use handler::{ApiError, Caller};
use keystore::{Audit, KeyRecord, NewKey, StoreError};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

/// Fresh keys collide with probability ~2^-256; one retry covers the id space as well.
const CREATE_ATTEMPTS: usize = 2;

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    handler::serve(req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, ApiError> {
    let route = handler::route(&req, &routes::served_by(Function::CreateKey))?;
    let caller = Caller::from_request(&req)?;
    caller.require(Scope::KeysWrite)?;
    let now = state.clock.now();
    if route.resource == routes::ROTATE {
        return rotate(state, &req, &caller, now).await;
    }
    if route.method == "PATCH" {
        return update::update(state, &req, &caller, now).await;
    }
    let body: CreateBody = handler::json_body(&req)?
        .ok_or_else(|| ApiError::InvalidRequest("request body with a name is required".into()))?;
    let new = body.into_new_key(&caller, &state.config.plans, now)?;
    create(state, new, now, &caller.audit(&req)).await
}

/// The request body of SPEC §3. Every field is checked and turned into a domain type before
/// anything is written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    plan: Option<String>,
}

pub(crate) fn invalid(e: apikey::Error) -> ApiError {
    ApiError::InvalidRequest(e.to_string())
}

impl CreateBody {
    fn into_new_key(
        self,
        caller: &Caller,
        plans: &Plans,
        now: Timestamp,
    ) -> Result<NewKey, ApiError> {
        let name = KeyName::parse(&self.name).map_err(invalid)?;
        let description = self
            .description
            .filter(|d| !d.is_empty())
            .map(|d| Description::parse(&d))
            .transpose()
            .map_err(invalid)?;
        let scopes = match &self.scopes {
            None => ScopeSet::default_for_new_keys(),
            Some(names) => ScopeSet::parse(names.iter().map(String::as_str)).map_err(invalid)?,
        };
        let expires_at = match self.expires_in_days {
            None => None,
            Some(days) => Some(now.plus_days(Lifetime::new(days).map_err(invalid)?.get())),
        };
        let owner_id = match self.owner_id {
            None => caller.owner_id.clone(),
            Some(o) => OwnerId::parse(&o).map_err(invalid)?,
        };
        if owner_id != caller.owner_id && !caller.is_admin() {
            return Err(ApiError::Forbidden(
                "only admin keys can create keys for another owner".into(),
            ));
        }
        if !caller.scopes.may_grant(scopes) {
            return Err(ApiError::Forbidden(
                "a key can only create keys with scopes it holds itself".into(),
            ));
        }
        caller.may_mint_until(expires_at)?;
        let plan = plan_for(self.plan.as_deref(), caller, plans)?;
        Ok(NewKey {
            owner_id,
            name,
            description,
            scopes,
            expires_at,
            plan: Some(plan),
        })
    }
}

/// SPEC §10: an unknown plan is 400 for everyone; only admins choose a plan, others get the
/// default (and may name it).
fn plan_for(asked: Option<&str>, caller: &Caller, plans: &Plans) -> Result<PlanName, ApiError> {
    let Some(asked) = asked else {
        return Ok(plans.default_plan().clone());
    };
    let (plan, _) = plans.resolve(asked).map_err(invalid)?;
    if plan != plans.default_plan() && !caller.is_admin() {
        return Err(ApiError::Forbidden(format!(
            "only an admin key can choose a plan; new keys are on {}",
            plans.default_plan()
        )));
    }
    Ok(plan.clone())
}

fn created_body(
    record: &KeyRecord,
    key: &str,
    rotated_from: Option<&KeyRecord>,
    now: Timestamp,
) -> Result<serde_json::Value, ApiError> {
    handler::created_body(record, key, rotated_from, now).map_err(|e| ApiError::Internal(e.into()))
}

async fn create(
    state: &State,
    new: NewKey,
    now: Timestamp,
    audit: &Audit,
) -> Result<Response<Body>, ApiError> {
    let cap = state.config.max_active_keys_per_owner;
    if state.store.count_active(&new.owner_id, now, cap).await? >= cap {
        return Err(ApiError::KeyLimitReached(format!(
            "this owner already holds {cap} active keys, the most this deployment allows \
             (MAX_ACTIVE_KEYS_PER_OWNER): revoke one before creating another"
        )));
    }
    let prefix = &state.config.key_prefix;
    for _ in 0..CREATE_ATTEMPTS {
        let (key, record) =
            KeyRecord::issue(prefix, new.clone(), now).map_err(|e| ApiError::Internal(e.into()))?;
        match state.store.create(&record, audit).await {
            Ok(()) => {
                let body = created_body(&record, key.expose_secret(), None, now)?;
                return Ok(created(&record, &body));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal("key generation collided twice".into()))
}

/// 201 with `Location` naming the new key.
fn created(record: &KeyRecord, body: &serde_json::Value) -> Response<Body> {
    let mut response = handler::json(StatusCode::CREATED, body);
    let location = format!("{}/{}", routes::KEYS, record.id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Body of a rotation: how long the old key keeps working.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    #[serde(default)]
    grace_period_seconds: Option<i64>,
}

/// A new key with the old one's name, description, scopes, owner and lifetime; the old key
/// ends `grace_period_seconds` from now (never later than it already would). One
/// transaction, so concurrent rotations of one key have exactly one winner.
async fn rotate(
    state: &State,
    req: &Request,
    caller: &Caller,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let id = handler::path_id(req)?;
    let body: RotateBody = handler::json_body(req)?.unwrap_or_default();
    let grace = match body.grace_period_seconds {
        None => GracePeriod::DEFAULT,
        Some(secs) => GracePeriod::new(secs).map_err(invalid)?,
    };
    let old = state
        .store
        .get_by_id(&id)
        .await?
        .filter(|r| caller.access().permits(r))
        .ok_or_else(ApiError::not_found_key)?;
    if !caller.scopes.may_grant(old.scopes) {
        return Err(ApiError::Forbidden(
            "a key can only rotate keys with scopes it holds itself".into(),
        ));
    }
    if old.rotated_to.is_some() {
        return Err(StoreError::AlreadyRotated.into());
    }
    if old.status(now) != apikey::KeyStatus::Active {
        return Err(StoreError::NotActive.into());
    }
    let new = old.successor(now);
    caller.may_mint_until(new.expires_at)?;
    let (key, record) = KeyRecord::issue(&state.config.key_prefix, new, now)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let audit = caller.audit(req);
    let rotation = state
        .store
        .rotate(&old, &record, grace.get(), now, &audit)
        .await?;
    let body = created_body(&rotation.new, key.expose_secret(), Some(&rotation.old), now)?;
    Ok(created(&rotation.new, &body))
}
