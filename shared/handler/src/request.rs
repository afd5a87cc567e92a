//! Reading requests: route, body, query string, path id, request id.

use apikey::{KeyId, KeyStatus, OwnerId, PageLimit};
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
        let mut params = Self {
            status: None,
            limit: PageLimit::DEFAULT,
            cursor: None,
            owner_id: None,
        };
        let Some(query) = req.query_string_parameters_ref() else {
            return Ok(params);
        };
        let bad = |m: String| Err(ApiError::InvalidRequest(m));
        for (name, _) in query.iter() {
            if !Self::KNOWN.contains(&name) {
                let name: String = name.chars().take(64).collect();
                return bad(format!(
                    "unknown query parameter {name:?}; expected status, limit, cursor or owner_id"
                ));
            }
        }
        let single = |name: &str| -> Result<Option<&str>, ApiError> {
            match query.all(name) {
                None => Ok(None),
                Some(values) if values.len() == 1 => Ok(values.first().copied()),
                Some(_) => Err(ApiError::InvalidRequest(format!(
                    "query parameter {name} given more than once"
                ))),
            }
        };
        if let Some(s) = single("status")? {
            params.status = Some(
                s.parse()
                    .map_err(|e: apikey::Error| ApiError::InvalidRequest(e.to_string()))?,
            );
        }
        if let Some(s) = single("limit")? {
            params.limit = s
                .parse()
                .map_err(|e: apikey::Error| ApiError::InvalidRequest(e.to_string()))?;
        }
        if let Some(s) = single("cursor")? {
            if s.is_empty() || s.len() > 512 {
                return bad("cursor is not valid for this listing".into());
            }
            params.cursor = Some(s.to_owned());
        }
        if let Some(s) = single("owner_id")? {
            params.owner_id =
                Some(OwnerId::parse(s).map_err(|e| ApiError::InvalidRequest(e.to_string()))?);
        }
        Ok(params)
    }
}
