//! `POST /api/v1/auth/api-keys`: issues a key and returns its plaintext, the only time it
//! ever leaves the service.

use apikey::{Description, KeyName, OwnerId, Scope, ScopeSet, Timestamp};
use gateway::routes::{self, Function};
use gateway::{ApiError, Caller, KeyObject, State};
use keystore::{KeyRecord, NewKey, StoreError};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

/// Fresh keys collide with probability ~2^-256; one retry covers the id space as well.
const CREATE_ATTEMPTS: usize = 2;

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    gateway::serve(req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, ApiError> {
    gateway::route(&req, &routes::served_by(Function::CreateKey))?;
    let caller = Caller::from_request(&req)?;
    caller.require(Scope::KeysWrite)?;
    let body: CreateBody = gateway::json_body(&req)?
        .ok_or_else(|| ApiError::InvalidRequest("request body with a name is required".into()))?;
    let now = Timestamp::now();
    let new = body.into_new_key(&caller, now)?;
    create(state, new, now).await
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
}

fn invalid(e: apikey::Error) -> ApiError {
    ApiError::InvalidRequest(e.to_string())
}

impl CreateBody {
    fn into_new_key(self, caller: &Caller, now: Timestamp) -> Result<NewKey, ApiError> {
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
            Some(days @ 1..=3650) => Some(now.plus_days(days)),
            Some(_) => {
                return Err(ApiError::InvalidRequest(
                    "expires_in_days must be a whole number from 1 to 3650".into(),
                ));
            }
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
        Ok(NewKey {
            owner_id,
            name,
            description,
            scopes,
            expires_at,
        })
    }
}

#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    object: KeyObject<'a>,
    /// The plaintext key: in this response and nowhere else, ever.
    key: &'a str,
}

async fn create(state: &State, new: NewKey, now: Timestamp) -> Result<Response<Body>, ApiError> {
    let prefix = &state.config.key_prefix;
    for _ in 0..CREATE_ATTEMPTS {
        let (key, record) =
            KeyRecord::issue(prefix, new.clone(), now).map_err(|e| ApiError::Internal(e.into()))?;
        match state.store.create(&record).await {
            Ok(()) => {
                let body = Created {
                    object: KeyObject::new(&record, now),
                    key: key.expose_secret(),
                };
                let mut response = gateway::json(StatusCode::CREATED, &body);
                let location = format!("{}/{}", routes::KEYS, record.id);
                if let Ok(v) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                return Ok(response);
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal("key generation collided twice".into()))
}
