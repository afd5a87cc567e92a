//! The REQUEST authorizer in front of every route (SPEC §4).
//!
//! 1. Key from `X-API-Key`, `Api-Key` or `Authorization: Bearer`; missing, conflicting,
//!    malformed or bad checksum → `Unauthorized` (401) with no database call.
//! 2. One strongly consistent `GetItem` by SHA-256: unknown → `Unauthorized`.
//! 3. Revoked, expired, or a route needing a scope the key lacks → Deny (403) with
//!    `error_code` in the context for the gateway response.
//! 4. A key whose plan has a limit is counted (SPEC §10, `meter`): over it → an Allow naming
//!    the blocked usage plan's key, which API Gateway answers with 429 and the figures from
//!    the context. Refused and denied requests are not counted.
//! 5. Allow with `owner_id`, `key_id`, `scopes`, `admin`, `expires_at`, `plan`, the rate-limit
//!    figures and the signed `assertion` (SPEC §15) in the context, and the unlimited usage
//!    plan's key. `last_used_at` is refreshed at most once per interval.
//! 6. Any store failure or timeout → an error (500): never Allow, never a guess.
//!
//! The policy is always one statement for exactly the requested method ARN, Allow or Deny:
//! authorizer caching is not offered (SPEC §4), so no decision is ever reused for another
//! route, verb or caller.

mod extract;
mod meter;
pub mod policy;
pub mod shutdown;
mod usage;

use std::time::{Duration, Instant};

use apikey::{
    ApiKey, Day, KeyId, KeyStatus, OwnerId, PlanName, RateFigures, Scope, Timestamp, UsageOutcome,
    Verdict, Window, is_read, requirement,
};
use assertion::SigningKey;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use gateway::metrics::{Line, Unit, dimension, metric};
use gateway::signer::{self, Identity};
use gateway::{State, UsageKeys};
use keystore::{KeyDay, KeyRecord};
use lambda_runtime::Diagnostic;
use outcome::{Code, message};
use serde_json::{Value, json};

pub use extract::{
    AuthorizerEvent, BACKEND_ROUTE_KEY, EventContext, Presented, QUERY_KEY_PARAMETER,
    key_in_authorization, presented_key, query_key,
};
use policy::{Effect, MethodArn};
pub use usage::{Flushed, SHUTDOWN_BUDGET, flush_all};

/// A decision is always made within this, whatever DynamoDB does (SPEC §4: 3 s).
pub const DECISION_BUDGET: Duration = Duration::from_millis(2_800);

pub type Response = ApiGatewayCustomAuthorizerResponse<Value>;

/// The two answers that are not a policy. Their messages are what API Gateway reads:
/// exactly `Unauthorized` means 401; anything else is a 500.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Unauthorized")]
    Unauthorized,
    #[error("authorizer failure")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AuthError> for Diagnostic {
    fn from(e: AuthError) -> Self {
        let error_type = match e {
            AuthError::Unauthorized => "Unauthorized",
            AuthError::Failed(_) => "AuthorizerFailure",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// Why a request was answered as it was, for the log line and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny(Code),
    /// No key, two keys, or a string that is not one of our keys: no lookup was made.
    Rejected(&'static str),
    UnknownKey,
    /// Over the plan's limit: an Allow on the blocked usage plan (429).
    RateLimited,
    Failed,
}

impl Outcome {
    /// How usage counts it (SPEC §12): only decisions about a key that was read.
    pub fn usage(self) -> Option<UsageOutcome> {
        match self {
            Outcome::Allow => Some(UsageOutcome::Allowed),
            Outcome::RateLimited => Some(UsageOutcome::RateLimited),
            Outcome::Deny(_) => Some(UsageOutcome::Denied),
            Outcome::Rejected(_) | Outcome::UnknownKey | Outcome::Failed => None,
        }
    }
}

/// The key a decision was about, once read: the log names it, usage counts it.
struct Subject {
    key_id: KeyId,
    owner_id: OwnerId,
}

impl Subject {
    fn of(record: &KeyRecord) -> Self {
        Self {
            key_id: record.id.clone(),
            owner_id: record.owner_id.clone(),
        }
    }
}

/// For callers holding a JSON value (the local gateway, tests). A payload that is not even
/// an authorizer event fails closed, like everything else.
pub async fn handler(state: &State, event: Value) -> Result<Response, AuthError> {
    let event: AuthorizerEvent = serde_json::from_value(event)
        .map_err(|e| AuthError::Failed(format!("not a REQUEST authorizer event: {e}").into()))?;
    authorize(state, &event).await
}

/// An HTTP API's answer with simple responses enabled (payload format 2.0): allowed or not,
/// and a context the integrations read as `requestContext.authorizer.lambda` and parameter
/// mappings as `$context.authorizer.{key}`
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    pub is_authorized: bool,
    pub context: Value,
}

/// What the one authorizer binary answers: a policy to a REST API, a simple response to an
/// HTTP API.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Answer {
    Policy(Response),
    Simple(SimpleResponse),
}

/// The decision for either front door, told apart by the event's `version` (SPEC §17).
pub async fn answer(state: &State, event: AuthorizerEvent) -> Result<Answer, AuthError> {
    if !event.is_v2() {
        return authorize(state, &event).await.map(Answer::Policy);
    }
    let event = event.from_v2();
    let (result, outcome) = authorize_logged(state, &event).await;
    simple(result, outcome).map(Answer::Simple)
}

/// [`answer`] for callers holding a JSON value (the local gateway); anything that is not an
/// authorizer event fails closed.
pub async fn answer_value(state: &State, event: Value) -> Result<Answer, AuthError> {
    let event: AuthorizerEvent = serde_json::from_value(event)
        .map_err(|e| AuthError::Failed(format!("not a REQUEST authorizer event: {e}").into()))?;
    answer(state, event).await
}

/// The REST decision as an HTTP API's simple response. HTTP APIs have no gateway responses
/// and no usage plans, so every refusal (no or unknown key, revoked, expired, missing scope,
/// over the plan's limit) is `isAuthorized: false`, with its `error_code` (and a limit's
/// figures) in the context for the access log. A store failure stays an error: API Gateway
/// answers 500 and nothing is allowed.
pub fn simple(
    result: Result<Response, AuthError>,
    outcome: Outcome,
) -> Result<SimpleResponse, AuthError> {
    let refused = |mut context: Value, code: Code| {
        if let Some(fields) = context.as_object_mut() {
            fields.insert("error_code".into(), code.as_str().into());
        } else {
            context = json!({"error_code": code.as_str()});
        }
        SimpleResponse {
            is_authorized: false,
            context,
        }
    };
    match (result, outcome) {
        (Err(AuthError::Failed(e)), _) => Err(AuthError::Failed(e)),
        (Err(AuthError::Unauthorized), _) => Ok(refused(json!({}), Code::Unauthorized)),
        (Ok(r), Outcome::Allow) => Ok(SimpleResponse {
            is_authorized: true,
            context: r.context,
        }),
        (Ok(r), Outcome::Deny(code)) => Ok(refused(r.context, code)),
        (Ok(r), Outcome::RateLimited) => Ok(refused(r.context, Code::RateLimitExceeded)),
        // A policy with any other outcome is not expected; refuse rather than guess.
        (Ok(r), _) => Ok(refused(r.context, Code::Forbidden)),
    }
}

/// The decision for one request, and its log line.
pub async fn authorize(state: &State, event: &AuthorizerEvent) -> Result<Response, AuthError> {
    authorize_logged(state, event).await.0
}

async fn authorize_logged(
    state: &State,
    event: &AuthorizerEvent,
) -> (Result<Response, AuthError>, Outcome) {
    let started = Instant::now();
    let (result, outcome, subject) = decide(state, event, started).await;
    if gateway::metrics::enabled() {
        log_decision(event, &result, outcome, subject.as_ref(), started);
    }
    if let (Some(s), Some(counted)) = (subject, outcome.usage()) {
        let key = KeyDay {
            key_id: s.key_id,
            owner_id: s.owner_id,
            day: Day::of(state.clock.now()),
        };
        state.usage.record(key, counted, Instant::now());
    }
    (result, outcome)
}

/// The decision's one line, with its metrics (EMF, SPEC §13): by outcome only, never by key.
fn log_decision(
    event: &AuthorizerEvent,
    result: &Result<Response, AuthError>,
    outcome: Outcome,
    subject: Option<&Subject>,
    started: Instant,
) {
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let request_id = event
        .request_context
        .as_ref()
        .and_then(|c| c.request_id.as_deref())
        .unwrap_or("-");
    let key_id = subject.map_or("-", |s| s.key_id.as_str());
    let method = event.http_method.as_deref().unwrap_or("-");
    let path = event.path.as_deref().unwrap_or("-");
    let (outcome_name, reason) = match outcome {
        Outcome::Allow => ("allow", "-"),
        Outcome::Deny(code) => ("deny", code.as_str()),
        Outcome::Rejected(why) => (Code::Unauthorized.as_str(), why),
        Outcome::UnknownKey => (Code::Unauthorized.as_str(), "unknown_key"),
        Outcome::RateLimited => ("rate_limited", Code::RateLimitExceeded.as_str()),
        Outcome::Failed => ("error", "store_failure"),
    };
    let mut line = match result {
        Err(AuthError::Failed(cause)) => {
            Line::new("ERROR", "authorize").field("cause", cause.to_string())
        }
        _ => Line::new("INFO", "authorize"),
    };
    let store_error = matches!(outcome, Outcome::Failed);
    line = line
        .field("request_id", request_id)
        .field("method", method)
        .field("path", path)
        .field("outcome", outcome_name)
        .field("reason", reason)
        .field("key_id", key_id)
        .field("latency_us", latency_us)
        .dimension(dimension::OUTCOME, outcome_name)
        .metric(metric::DECISIONS, Unit::Count, 1.0)
        .metric(
            metric::DECISION_LATENCY,
            Unit::Milliseconds,
            latency_us as f64 / 1000.0,
        )
        .metric(
            metric::STORE_ERRORS,
            Unit::Count,
            if store_error { 1.0 } else { 0.0 },
        );
    line.write();
}

/// The decision, its outcome, and the key once read (for the log and usage).
async fn decide(
    state: &State,
    event: &AuthorizerEvent,
    started: Instant,
) -> (Result<Response, AuthError>, Outcome, Option<Subject>) {
    let reject = |why| (Err(AuthError::Unauthorized), Outcome::Rejected(why), None);
    let Some(method_arn) = event.method_arn.as_deref() else {
        let e = AuthError::Failed("event has no methodArn".into());
        return (Err(e), Outcome::Failed, None);
    };
    let Some(arn) = MethodArn::parse(method_arn) else {
        let e = AuthError::Failed("methodArn is not an execute-api ARN".into());
        return (Err(e), Outcome::Failed, None);
    };
    // A key in the URL only for a read of a feed path (SPEC §16); anywhere else it is refused
    // as if no key were sent, before any lookup, so ordinary keys gain nothing in a URL.
    let (text, in_query) = match (presented_key(event), query_key(event)) {
        (Presented::Conflicting, _) | (_, Presented::Conflicting) => {
            return reject("conflicting_keys");
        }
        (Presented::One(_), Presented::One(_)) => return reject("conflicting_keys"),
        (Presented::One(text), Presented::None) => (text, false),
        (Presented::None, Presented::One(text)) => {
            if !(is_read(arn.verb) && state.config.feed_paths.matches(&arn.path)) {
                return reject("query_key_not_allowed_here");
            }
            (text, true)
        }
        (Presented::None, Presented::None) => return reject("no_key"),
    };
    let Ok(key) = ApiKey::parse(&state.config.key_prefix, text) else {
        return reject("malformed_key");
    };
    // An HTTP API cannot remove `Authorization` on the way to the backend (a reserved header:
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html),
    // so there a key in it is refused on the backend's route: no key reaches the backend.
    if event.is_v2()
        && event.route_key.as_deref() == Some(BACKEND_ROUTE_KEY)
        && key_in_authorization(event)
    {
        return reject("bearer_key_to_backend");
    }

    // The signing key is read only when this container has none fresh, and a key whose plan
    // this container knows to be limited is counted (`meter`): both joined with the key
    // lookup, so neither adds a round trip of its own.
    let now = state.clock.now();
    let window = Window::at(now);
    let remaining = DECISION_BUDGET.saturating_sub(started.elapsed());
    let hash = key.hash();
    // The count goes out first: it is the slower call (a conditional write), so the key read
    // is built and sent while DynamoDB works on it. Usage counts that have waited their
    // interval ride along too (SPEC §12), on their own budget: a slow usage write never
    // fails a decision.
    let lookup = tokio::time::timeout(remaining, async {
        tokio::join!(
            meter::start(state, &hash, window),
            state.store.get_by_hash(&hash),
            state.signer.key(now)
        )
    });
    let due = state.usage.due(Instant::now(), state.config.usage_flush);
    let (lookup, _) = tokio::join!(lookup, usage::flush(state, due, remaining));
    let (record, signing_key, early) = match lookup {
        Ok((early, Ok(Some(record)), Ok(signing_key))) => (record, signing_key, early),
        Ok((early, Ok(None), _)) => {
            meter::take_back(state, &hash, window, early).await;
            return (Err(AuthError::Unauthorized), Outcome::UnknownKey, None);
        }
        Ok((_, Err(e), _) | (_, _, Err(e))) => {
            return (Err(AuthError::Failed(e.into())), Outcome::Failed, None);
        }
        Err(_) => {
            let e = AuthError::Failed("key lookup exceeded the decision budget".into());
            return (Err(e), Outcome::Failed, None);
        }
    };
    let subject = Some(Subject::of(&record));
    if in_query && !record.scopes.is_feed_only() {
        // A valid key, but not a feed key: refused as if unknown, and logged by id only.
        meter::take_back(state, &hash, window, early).await;
        return (
            Err(AuthError::Unauthorized),
            Outcome::Rejected("query_key_not_feed_only"),
            subject,
        );
    }
    let refusal = match record.status(now) {
        KeyStatus::Revoked => Some((Code::KeyRevoked, message::KEY_REVOKED.into())),
        KeyStatus::Expired => Some((Code::KeyExpired, message::KEY_EXPIRED.into())),
        KeyStatus::Active => {
            let needs = requirement(arn.verb, &arn.path, &state.config.feed_paths);
            (!needs.is_met_by(record.scopes)).then(|| {
                let scope = needs.named_scope().map_or("a required", Scope::as_str);
                (Code::InsufficientScope, outcome::insufficient_scope(scope))
            })
        }
    };
    if let Some((code, message)) = refusal {
        meter::take_back(state, &hash, window, early).await;
        let response = deny(&record, method_arn, code, &message);
        return (Ok(response), Outcome::Deny(code), subject);
    }
    let plan = record
        .plan
        .clone()
        .unwrap_or_else(|| state.config.plans.default_plan().clone());
    let limits = state.config.plans.limits(&plan);
    let remaining = DECISION_BUDGET.saturating_sub(started.elapsed());
    let settled = tokio::time::timeout(
        remaining,
        meter::settle(state, &hash, window, early, limits),
    );
    let tally = match settled.await {
        Ok(Ok(tally)) => tally,
        Ok(Err(e)) => return (Err(AuthError::Failed(e.into())), Outcome::Failed, subject),
        Err(_) => {
            let e = AuthError::Failed("rate counting exceeded the decision budget".into());
            return (Err(e), Outcome::Failed, subject);
        }
    };
    let figures = match tally.map(|t| t.verdict) {
        Some(Verdict::Limited {
            figures,
            retry_after,
        }) => {
            let usage_keys = &state.config.usage_keys;
            let response = rate_limited(&record, method_arn, usage_keys, figures, retry_after);
            return (Ok(response), Outcome::RateLimited, subject);
        }
        Some(Verdict::Allowed(figures)) => Some(figures),
        None => None,
    };
    touch_if_stale(state, &record, now, started).await;
    let context = event.request_context.as_ref();
    let identity = Identity {
        issuer: signer::issuer(
            state.config.assertion_issuer.as_deref(),
            context.and_then(|c| c.domain_name.as_deref()),
            context.and_then(|c| c.stage.as_deref()),
        ),
        audience: &state.config.assertion_audience,
        owner_id: record.owner_id.as_str(),
        key_id: record.id.as_str(),
        scopes: record
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        admin: record.scopes.is_admin(),
        plan: Some(plan.as_str().to_owned()),
        request_id: context.and_then(|c| c.request_id.as_deref()),
    };
    let granted = Granted {
        plan: &plan,
        figures,
        usage_key: &state.config.usage_keys.unlimited,
    };
    let response = allow(&record, method_arn, &signing_key, identity, granted, now);
    (Ok(response), Outcome::Allow, subject)
}

/// Refreshes `last_used_at` when the value just read is older than the interval, within
/// what is left of the budget. A failure here is logged, never a reason to refuse.
async fn touch_if_stale(state: &State, record: &KeyRecord, now: Timestamp, started: Instant) {
    let interval = state.config.last_used_interval;
    let interval_secs = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
    let fresh = record
        .last_used_at
        .is_some_and(|t| t.plus_secs(interval_secs) > now);
    if fresh {
        return;
    }
    let remaining = DECISION_BUDGET.saturating_sub(started.elapsed());
    let touch = state.store.touch_last_used(&record.hash, now, interval);
    match tokio::time::timeout(remaining, touch).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(key_id = %record.id, error = %e, "last_used_at not updated"),
        Err(_) => tracing::warn!(key_id = %record.id, "last_used_at update ran out of time"),
    }
}

/// The whole policy: one statement, exactly the requested method ARN.
fn policy(effect: Effect, method_arn: &str) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = match effect {
        Effect::Allow => IamPolicyEffect::Allow,
        Effect::Deny => IamPolicyEffect::Deny,
    };
    statement.resource = vec![method_arn.to_owned()];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    policy
}

/// An answer for the key's owner with the one-statement policy; the caller adds the rest.
fn policy_answer(record: &KeyRecord, effect: Effect, method_arn: &str) -> Response {
    let mut response = Response::default();
    response.principal_id = Some(record.owner_id.to_string());
    response.policy_document = policy(effect, method_arn);
    response
}

/// What an Allow grants beyond the key: its plan, the figures of its limit (none on an
/// unlimited plan), and the usage-plan key API Gateway meters it under.
#[derive(Debug, Clone, Copy)]
pub struct Granted<'a> {
    pub plan: &'a PlanName,
    pub figures: Option<RateFigures>,
    pub usage_key: &'a str,
}

/// Allow for exactly `method_arn`, with the caller's identity for the functions and the signed
/// assertion for the podcast backend.
pub fn allow(
    record: &KeyRecord,
    method_arn: &str,
    signing_key: &SigningKey,
    identity: Identity<'_>,
    granted: Granted<'_>,
    now: Timestamp,
) -> Response {
    let mut response = policy_answer(record, Effect::Allow, method_arn);
    // API key source AUTHORIZER: every Allow names a usage plan's key, or API Gateway answers
    // 403 Forbidden (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-key-source.html).
    response.usage_identifier_key = Some(granted.usage_key.to_owned());
    let mut context = json!({
        "owner_id": record.owner_id.as_str(),
        "key_id": record.id.as_str(),
        "scopes": record.scopes.to_spaced(),
        "admin": record.scopes.is_admin(),
        // Epoch seconds, empty for a key that never expires: create-key refuses a non-admin
        // key minting a key that outlives it (SPEC §2).
        "expires_at": record.expires_at.map(|t| t.epoch_secs().to_string()).unwrap_or_default(),
        "assertion": signer::assert(signing_key, identity, now),
        "plan": granted.plan.as_str(),
    });
    // Always present, empty on an unlimited plan: the backend's header mappings read them.
    let f = granted.figures;
    if let Some(fields) = context.as_object_mut() {
        for (name, value) in [
            ("rate_limit_limit", f.map(|f| f.limit.to_string())),
            ("rate_limit_remaining", f.map(|f| f.remaining.to_string())),
            ("rate_limit_reset", f.map(|f| f.reset.to_string())),
        ] {
            fields.insert(name.into(), value.unwrap_or_default().into());
        }
    }
    response.context = context;
    response
}

/// Over a limit: an Allow that names the blocked usage plan's key, which API Gateway answers
/// with its `THROTTLED` response (429) before any integration runs. `rate_limit_fields` is
/// a fragment of JSON the gateway response's template inserts after `request_id`
/// (SPEC §10's body); the figures are whole numbers, so nothing in it needs escaping.
pub fn rate_limited(
    record: &KeyRecord,
    method_arn: &str,
    usage_keys: &UsageKeys,
    figures: RateFigures,
    retry_after: u32,
) -> Response {
    let mut response = policy_answer(record, Effect::Allow, method_arn);
    response.usage_identifier_key = Some(usage_keys.blocked.clone());
    response.context = json!({
        "key_id": record.id.as_str(),
        "rate_limit_fields": format!(
            r#","limit":{},"remaining":{},"reset":{},"retry_after":{}"#,
            figures.limit,
            figures.remaining,
            figures.reset,
            retry_after
        ),
        "rate_limit_limit": figures.limit,
        "rate_limit_remaining": figures.remaining,
        "rate_limit_reset": figures.reset,
        "retry_after": retry_after,
    });
    response
}

/// Deny for exactly `method_arn`, with the reason for the gateway response's body.
pub fn deny(record: &KeyRecord, method_arn: &str, code: Code, message: &str) -> Response {
    let mut response = policy_answer(record, Effect::Deny, method_arn);
    response.context = json!({
        "error_code": code.as_str(),
        "error_message": message,
        "key_id": record.id.as_str(),
    });
    response
}
