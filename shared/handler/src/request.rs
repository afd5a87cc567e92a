//! Reading requests: route, body, query string, path id, request id.

use apikey::{Day, DayRange, KeyId, KeyStatus, OwnerId, PageLimit, Timestamp};
use keystore::Action;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::ApiError;
use gateway::routes::{self, Route};

/// Largest accepted request body.
pub const MAX_BODY: usize = 16 * 1024;

/// API Gateway's id for this request (what a client quotes in a support ticket), or else the
/// Lambda invocation id.
pub fn request_id(req: &Request) -> Option<String> {
    let id = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.as_ref(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.as_ref(),
        _ => None,
    };
    id.cloned()
        .or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()))
}

/// The resource API Gateway matched (e.g. `/api/v1/auth/api-keys/{id}`): unlike the path,
/// it carries no stage or base-path prefix. From an HTTP API, the path of the route key
/// (`GET /api/v1/auth/api-keys/{id}`).
pub fn resource(req: &Request) -> Option<&str> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.as_deref(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .route_key
            .as_deref()
            .and_then(|key| key.split_once(' '))
            .map(|(_, path)| path),
        _ => None,
    }
}

/// The route this function serves for the request, or 404 / 405 in the API's own terms.
pub fn route(req: &Request, served: &[Route]) -> Result<Route, ApiError> {
    let resource = resource(req).ok_or(ApiError::NotFound("no such route"))?;
    let method = req.method().as_str();
    if let Some(route) = served
        .iter()
        .find(|r| r.resource == resource && r.method == method)
    {
        return Ok(*route);
    }
    match routes::allowed_methods(resource) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NotFound("no such route")),
    }
}

/// The JSON body, whatever `Content-Type` says (curl `-d` sends form encoding). `None` for an
/// empty body. Unknown fields, wrong types and duplicate fields are refused by `T`'s
/// `Deserialize`; the message names the field.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<Option<T>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::InvalidRequest("request body is not valid UTF-8".into()))?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if !trimmed.starts_with('{') {
        return Err(ApiError::InvalidRequest(
            "request body must be a JSON object".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::InvalidRequest(if path == "." || path.is_empty() {
            format!("invalid request body: {inner}")
        } else {
            format!("invalid request body: {path}: {inner}")
        })
    })?;
    de.end()
        .map_err(|e| ApiError::InvalidRequest(format!("invalid request body: {e}")))?;
    Ok(Some(value))
}

/// The `{id}` path parameter. Anything that is not a well-formed key id cannot name a key:
/// 404, exactly as for an id that does not exist.
pub fn path_id(req: &Request) -> Result<KeyId, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first("id"))
        .and_then(|id| KeyId::parse(id).ok())
        .ok_or_else(ApiError::not_found_key)
}

/// Query parameters of `GET /auth/api-keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub status: Option<KeyStatus>,
    pub limit: PageLimit,
    pub cursor: Option<String>,
    pub owner_id: Option<OwnerId>,
}

impl ListParams {
    const KNOWN: [&str; 4] = ["status", "limit", "cursor", "owner_id"];

    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let q = single_params(req, &Self::KNOWN)?;
        let invalid = |e: apikey::Error| ApiError::InvalidRequest(e.to_string());
        Ok(Self {
            status: q
                .get("status")
                .map(|s| s.parse())
                .transpose()
                .map_err(invalid)?,
            limit: match q.get("limit") {
                Some(s) => s.parse().map_err(invalid)?,
                None => PageLimit::DEFAULT,
            },
            cursor: cursor(q.get("cursor").copied())?,
            owner_id: q
                .get("owner_id")
                .map(|s| OwnerId::parse(s))
                .transpose()
                .map_err(invalid)?,
        })
    }
}

/// Query parameters of `GET /auth/audit-log` (SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditParams {
    pub key_id: Option<KeyId>,
    pub action: Option<Action>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: PageLimit,
    pub cursor: Option<String>,
    pub owner_id: Option<OwnerId>,
}

impl AuditParams {
    const KNOWN: [&str; 7] = [
        "key_id", "action", "since", "until", "limit", "cursor", "owner_id",
    ];

    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let q = single_params(req, &Self::KNOWN)?;
        let invalid = |e: apikey::Error| ApiError::InvalidRequest(e.to_string());
        let time = |name: &str| -> Result<Option<Timestamp>, ApiError> {
            q.get(name)
                .map(|s| {
                    Timestamp::parse_rfc3339(s).ok_or_else(|| {
                        ApiError::InvalidRequest(format!(
                            "{name} must be an RFC 3339 date-time, e.g. 2026-12-04T18:00:00Z"
                        ))
                    })
                })
                .transpose()
        };
        let action = q
            .get("action")
            .map(|s| {
                Action::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = Action::EVERY.iter().map(|a| a.as_str()).collect();
                    ApiError::InvalidRequest(format!(
                        "unknown action; expected one of {}",
                        known.join(", ")
                    ))
                })
            })
            .transpose()?;
        let (since, until) = (time("since")?, time("until")?);
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(ApiError::InvalidRequest("since is after until".into()));
            }
        }
        Ok(Self {
            key_id: q
                .get("key_id")
                .map(|s| KeyId::parse(s))
                .transpose()
                .map_err(invalid)?,
            action,
            since,
            until,
            limit: match q.get("limit") {
                Some(s) => s.parse().map_err(invalid)?,
                None => PageLimit::DEFAULT,
            },
            cursor: cursor(q.get("cursor").copied())?,
            owner_id: q
                .get("owner_id")
                .map(|s| OwnerId::parse(s))
                .transpose()
                .map_err(invalid)?,
        })
    }
}

/// Query parameters of the usage reads (SPEC §12): `from`, `to` (dates, the last 30 days by
/// default, at most 366), and for an owner's usage `owner_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageParams {
    pub range: DayRange,
    pub owner_id: Option<OwnerId>,
}

impl UsageParams {
    /// One key's usage: `from` and `to` only.
    pub fn for_key(req: &Request, today: Day) -> Result<Self, ApiError> {
        Self::read(req, &["from", "to"], today)
    }

    /// An owner's usage: `from`, `to` and `owner_id`.
    pub fn for_owner(req: &Request, today: Day) -> Result<Self, ApiError> {
        Self::read(req, &["from", "to", "owner_id"], today)
    }

    fn read(req: &Request, known: &[&str], today: Day) -> Result<Self, ApiError> {
        let q = single_params(req, known)?;
        let range = DayRange::parse(q.get("from").copied(), q.get("to").copied(), today)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        let owner_id = q
            .get("owner_id")
            .map(|s| OwnerId::parse(s))
            .transpose()
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        Ok(Self { range, owner_id })
    }
}

fn cursor(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(s) if s.is_empty() || s.len() > 512 => Err(ApiError::InvalidRequest(
            "cursor is not valid for this listing".into(),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// The query string's parameters, each given at most once and each one of `known`.
fn single_params<'a>(
    req: &'a Request,
    known: &[&str],
) -> Result<std::collections::HashMap<&'a str, &'a str>, ApiError> {
    let mut out = std::collections::HashMap::new();
    let Some(query) = req.query_string_parameters_ref() else {
        return Ok(out);
    };
    for (name, _) in query.iter() {
        if !known.contains(&name) {
            let name: String = name.chars().take(64).collect();
            return Err(ApiError::InvalidRequest(format!(
                "unknown query parameter {name:?}; expected {}",
                known.join(", ")
            )));
        }
        match query.all(name).as_deref() {
            Some([value]) => {
                out.insert(name, *value);
            }
            _ => {
                return Err(ApiError::InvalidRequest(format!(
                    "query parameter {name} given more than once"
                )));
            }
        }
    }
    Ok(out)
}
