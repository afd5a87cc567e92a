//! Who is calling, as the authorizer established it.

use std::collections::HashMap;

use apikey::{KeyId, OwnerId, Scope, ScopeSet, Timestamp};
use keystore::{Access, Actor, Audit};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::Value;

use crate::ApiError;

/// The calling key, from `requestContext.authorizer` (`owner_id`, `key_id`, `scopes`,
/// `admin`). API Gateway passes the authorizer's context values as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub owner_id: OwnerId,
    pub key_id: KeyId,
    pub scopes: ScopeSet,
    /// When the calling key stops working (`expires_at`, epoch seconds; empty or absent for a
    /// key that never expires).
    pub expires_at: Option<Timestamp>,
}

const UNWIRED: &str = "request was not authorized";

/// The authorizer's context, as API Gateway passed it on: `requestContext.authorizer` from a
/// REST API, `requestContext.authorizer.lambda` from an HTTP API (payload format 2.0,
/// <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>).
fn authorizer_fields(req: &Request) -> Option<&HashMap<String, Value>> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => Some(&ctx.authorizer.fields),
        Some(RequestContext::ApiGatewayV2(ctx)) => Some(&ctx.authorizer.as_ref()?.fields),
        _ => None,
    }
}

/// The calling key's rate-limit figures for this request (SPEC §10), from the authorizer's
/// `rate_limit_limit`, `rate_limit_remaining`, `rate_limit_reset`; none on an unlimited plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds.
    pub reset: i64,
}

impl RateLimit {
    /// `None` when the context has no complete set of figures (an unlimited plan).
    pub fn from_request(req: &Request) -> Option<Self> {
        let fields = authorizer_fields(req)?;
        let text = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Some(Self {
            limit: text("rate_limit_limit")?.parse().ok()?,
            remaining: text("rate_limit_remaining")?.parse().ok()?,
            reset: text("rate_limit_reset")?.parse().ok()?,
        })
    }

    /// GitHub's names, as AudioPod documents them.
    pub fn headers(self) -> [(&'static str, String); 3] {
        [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
        ]
    }
}

impl Caller {
    /// Fails closed: a request without a complete, consistent authorizer context means the
    /// API was deployed without the authorizer in front of this route.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let fields = authorizer_fields(req).ok_or(ApiError::Unauthorized(UNWIRED))?;
        let text = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        let parsed = (|| {
            let owner_id = OwnerId::parse(text("owner_id")?).ok()?;
            let key_id = KeyId::parse(text("key_id")?).ok()?;
            let scopes = ScopeSet::parse_spaced(text("scopes")?).ok()?;
            let admin = match fields.get("admin")? {
                Value::Bool(b) => *b,
                Value::String(s) if s == "true" => true,
                Value::String(s) if s == "false" => false,
                _ => return None,
            };
            let expires_at = match text("expires_at") {
                None | Some("") => None,
                Some(t) => Some(Timestamp::from_epoch_secs(t.parse().ok()?)),
            };
            // `admin` restates the scopes; a disagreement means a tampered or broken context.
            (admin == scopes.is_admin()).then_some(Self {
                owner_id,
                key_id,
                scopes,
                expires_at,
            })
        })();
        parsed.ok_or(ApiError::Unauthorized(UNWIRED))
    }

    /// Who is making a change, and from where, for its audit event (SPEC §11): this key, the
    /// request id, the client's address and user agent.
    pub fn audit(&self, req: &Request) -> Audit {
        let source_ip = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        let user_agent = req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect());
        Audit {
            actor: Actor::Key {
                key_id: self.key_id.clone(),
                owner_id: self.owner_id.clone(),
            },
            request_id: crate::request_id(req),
            source_ip,
            user_agent,
        }
    }

    /// Only the key's own id, for log lines (never fails, never the key).
    pub fn key_id_for_log(req: &Request) -> Option<String> {
        match authorizer_fields(req)?.get("key_id") {
            Some(Value::String(s)) if KeyId::parse(s).is_ok() => Some(s.clone()),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.scopes.is_admin()
    }

    /// Checked here as well as in the authorizer: a route that is ever wired wrongly still
    /// refuses keys without the scope.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.as_str()))
        }
    }

    /// The minting rule (SPEC §2): a non-admin key may not create or rotate into a key that
    /// outlives it, so a leaked key, or one in its rotation grace, cannot mint itself a
    /// longer-lived successor. `expires_at` is the new key's (`None`: never expires).
    pub fn may_mint_until(&self, expires_at: Option<Timestamp>) -> Result<(), ApiError> {
        let Some(limit) = self.expires_at.filter(|_| !self.is_admin()) else {
            return Ok(());
        };
        match expires_at {
            Some(t) if t <= limit => Ok(()),
            _ => Err(ApiError::Forbidden(format!(
                "a key cannot create a key that outlives itself: this key expires at {}, so \
                 the new key must expire by then (set expires_in_days), or ask an admin",
                limit.to_rfc3339()
            ))),
        }
    }

    pub fn access(&self) -> Access {
        if self.is_admin() {
            Access::Admin
        } else {
            Access::Owner(self.owner_id.clone())
        }
    }
}
