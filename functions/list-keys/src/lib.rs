//! `GET /api/v1/auth/api-keys` (a page of keys), `GET /api/v1/auth/api-keys/{id}` (one key),
//! `GET /api/v1/auth/me` (the calling key), `GET /api/v1/auth/audit-log` (`audit`) and the
//! usage reads (`usage`). Users see their own keys, events and usage; admins see all.
//! Also the public `GET /.well-known/jwks.json`: the keys that verify the assertion.

use apikey::{Scope, Timestamp};
use gateway::State;
use gateway::routes::{self, Function};
use handler::{ApiError, Caller, KeyObject, ListParams, RateLimit};
use keystore::{KeyRecord, Listing};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

mod audit;
mod usage;

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    handler::serve(req, |req| route(state, req)).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, ApiError> {
    let route = handler::route(&req, &routes::served_by(Function::ListKeys))?;
    if route.resource == routes::JWKS {
        return jwks(state).await;
    }
    let caller = Caller::from_request(&req)?;
    let now = state.clock.now();
    match route.resource {
        routes::ME => me(state, &caller, RateLimit::from_request(&req), now).await,
        routes::AUDIT_LOG => {
            caller.require(Scope::KeysRead)?;
            audit::audit_log(state, &req, &caller).await
        }
        routes::KEY => {
            caller.require(Scope::KeysRead)?;
            get(state, &req, &caller, now).await
        }
        routes::KEY_USAGE => {
            caller.require(Scope::KeysRead)?;
            usage::key_usage(state, &req, &caller).await
        }
        routes::USAGE => {
            caller.require(Scope::KeysRead)?;
            usage::owner_usage(state, &req, &caller).await
        }
        _ => {
            caller.require(Scope::KeysRead)?;
            list(state, &req, &caller, now).await
        }
    }
}

async fn list(
    state: &State,
    req: &Request,
    caller: &Caller,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let params = ListParams::from_request(req)?;
    let listing = match (&params.owner_id, caller.is_admin()) {
        (None, true) => Listing::All,
        (Some(owner), true) => Listing::Owner(owner.clone()),
        (None, false) => Listing::Owner(caller.owner_id.clone()),
        (Some(owner), false) if *owner == caller.owner_id => Listing::Owner(owner.clone()),
        (Some(_), false) => {
            return Err(ApiError::Forbidden(
                "only admin keys can list another owner's keys".into(),
            ));
        }
    };
    let page = state
        .store
        .list(
            &listing,
            params.status,
            params.limit.as_usize(),
            params.cursor.as_deref(),
            now,
        )
        .await?;
    let objects: Vec<KeyObject<'_>> = page.keys.iter().map(|k| KeyObject::new(k, now)).collect();
    let mut response = handler::json(StatusCode::OK, &objects);
    if let Some(cursor) = &page.next_cursor {
        let mut pairs = vec![
            ("limit", params.limit.to_string()),
            ("cursor", cursor.clone()),
        ];
        if let Some(status) = params.status {
            pairs.push(("status", status.to_string()));
        }
        if let Some(owner) = &params.owner_id {
            pairs.push(("owner_id", owner.as_str().to_owned()));
        }
        let link = next_link(req, routes::KEYS, &pairs);
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

/// `<path?query>; rel="next"`, relative to the URL the client called: API Gateway's
/// `requestContext.path` includes the stage or custom-domain base path, so the link works
/// however the API is reached. An HTTP API's `$default` stage adds no prefix, so `route`
/// (the route's own path) is the path there. Values are percent-encoded but for
/// `A-Za-z0-9._-` (cursors are base64url; owner ids may hold `+`, `:`, `|`, `@`).
pub(crate) fn next_link(req: &Request, route: &str, pairs: &[(&str, String)]) -> String {
    let path = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.path.clone(),
        _ => None,
    }
    .unwrap_or_else(|| route.to_owned());
    let mut query = String::new();
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                query.push(char::from(b));
            } else {
                query.push_str(&format!("%{b:02X}"));
            }
        }
    }
    format!("<{path}?{query}>; rel=\"next\"")
}

/// A key the caller may see: their own, or any for admins. Others' keys are 404, exactly like
/// keys that do not exist, so ids reveal nothing.
pub(crate) async fn visible_key(
    state: &State,
    req: &Request,
    caller: &Caller,
) -> Result<KeyRecord, ApiError> {
    let id = handler::path_id(req)?;
    match state.store.get_by_id(&id).await? {
        Some(record) if caller.access().permits(&record) => Ok(record),
        _ => Err(ApiError::not_found_key()),
    }
}

async fn get(
    state: &State,
    req: &Request,
    caller: &Caller,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let record = visible_key(state, req, caller).await?;
    Ok(handler::json(StatusCode::OK, &KeyObject::new(&record, now)))
}

#[derive(Serialize)]
struct Me<'a> {
    owner_id: &'a str,
    admin: bool,
    scopes: Vec<&'static str>,
    /// The key's plan (SPEC §10).
    plan: Option<&'a str>,
    /// This request's figures; `null` on an unlimited plan.
    rate_limit: Option<RateLimit>,
    key: KeyObject<'a>,
}

/// Who am I: any active key may ask, whatever its scopes.
async fn me(
    state: &State,
    caller: &Caller,
    rate_limit: Option<RateLimit>,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let record = state
        .store
        .get_by_id(&caller.key_id)
        .await?
        .filter(|r| r.owner_id == caller.owner_id)
        // The authorizer vouched for this key a moment ago; if it is gone, the context lies.
        .ok_or(ApiError::Unauthorized("request was not authorized"))?;
    let body = Me {
        owner_id: record.owner_id.as_str(),
        admin: record.scopes.is_admin(),
        scopes: record.scopes.iter().map(Scope::as_str).collect(),
        plan: record.plan.as_ref().map(|p| p.as_str()),
        rate_limit,
        key: KeyObject::new(&record, now),
    };
    Ok(handler::json(StatusCode::OK, &body))
}

/// The JWKS a backend verifies assertions with: every published key, rotated-out ones
/// included until retired. Cacheable for five minutes (a backend that meets an unknown `kid`
/// fetches it again).
async fn jwks(state: &State) -> Result<Response<Body>, ApiError> {
    let keys = state.signer.store().public_keys().await?;
    let jwks = assertion::Jwks {
        keys: keys
            .iter()
            .map(|k| assertion::Jwk::ed25519_x(k.x.clone()).with_kid(&k.kid))
            // A stored kid that is not its key's thumbprint is not published.
            .filter(|jwk| jwk.kid.as_deref() == Some(jwk.thumbprint().as_str()))
            .collect(),
    };
    let mut response = handler::json(StatusCode::OK, &jwks);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}
