//! Calling the REQUEST authorizer and reading its answer as API Gateway does
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html>):
//! a function error whose message is `Unauthorized` is a 401, any other error or an answer
//! without a policy a 500 (`AUTHORIZER_FAILURE`), otherwise a policy, a principal and a
//! context, and the `usageIdentifierKey` the API's usage plans are looked up by. Only
//! statements whose `Action` covers `execute-api:Invoke` count.

use serde_json::{Map, Value};

use crate::invoke::{Failure, Invoker};
use crate::policy::{Effect, Statement};

/// What the authorizer said.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Unauthorized,
    Failed(String),
    Policy {
        statements: Vec<Statement>,
        context: Map<String, Value>,
        principal: String,
        /// `usageIdentifierKey`: with the API key source `AUTHORIZER`, the usage plan's key.
        usage_key: Option<String>,
    },
}

/// Runs the authorizer function `logical_id` on `event`.
pub async fn authorize(invoker: &Invoker, logical_id: &str, event: Value) -> Decision {
    match invoker.authorizer(logical_id, event).await {
        Ok(answer) => parse_policy(&answer).unwrap_or_else(Decision::Failed),
        Err(Failure::Function(message)) if message == "Unauthorized" => Decision::Unauthorized,
        Err(Failure::Function(message) | Failure::Invoke(message)) => Decision::Failed(message),
    }
}

/// Runs an HTTP API's authorizer (payload format 2.0, simple responses) on `event`: its
/// answer, or why there is none (an error or an invalid answer, both a 500).
pub async fn authorize_simple(
    invoker: &Invoker,
    logical_id: &str,
    event: Value,
) -> Result<crate::http_api::Simple, String> {
    match invoker.authorizer(logical_id, event).await {
        Ok(answer) => crate::http_api::parse_simple(&answer),
        Err(Failure::Function(message) | Failure::Invoke(message)) => Err(message),
    }
}

/// The authorizer's JSON answer as a decision.
pub fn parse_policy(v: &Value) -> Result<Decision, String> {
    let statements = v["policyDocument"]["Statement"]
        .as_array()
        .ok_or("authorizer answer has no policyDocument.Statement")?;
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut parsed = Vec::new();
    for s in statements {
        let actions = strings(&s["Action"]);
        if !actions
            .iter()
            .any(|a| a == "execute-api:Invoke" || a == "execute-api:*" || a == "*")
        {
            continue;
        }
        let effect = match s["Effect"].as_str() {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(format!("policy effect {other:?}")),
        };
        parsed.push(Statement {
            effect,
            resources: strings(&s["Resource"]),
        });
    }
    Ok(Decision::Policy {
        statements: parsed,
        context: v["context"].as_object().cloned().unwrap_or_default(),
        principal: v["principalId"].as_str().unwrap_or_default().to_owned(),
        usage_key: v["usageIdentifierKey"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(statements: Value) -> Value {
        json!({
            "principalId": "alice",
            "policyDocument": {"Version": "2012-10-17", "Statement": statements},
            "context": {"owner_id": "alice", "admin": false},
        })
    }

    #[test]
    fn an_answer_becomes_statements_principal_and_context() {
        let answer = policy(json!([
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:a"},
            {"Effect": "Deny", "Action": ["execute-api:Invoke"], "Resource": ["arn:b", "arn:c"]},
        ]));
        let Ok(Decision::Policy {
            statements,
            context,
            principal,
            usage_key,
        }) = parse_policy(&answer)
        else {
            panic!("a policy: {answer}");
        };
        assert_eq!(
            statements,
            vec![
                Statement {
                    effect: Effect::Allow,
                    resources: vec!["arn:a".into()],
                },
                Statement {
                    effect: Effect::Deny,
                    resources: vec!["arn:b".into(), "arn:c".into()],
                },
            ]
        );
        assert_eq!(principal, "alice");
        assert_eq!(context["owner_id"], "alice");
        assert_eq!(usage_key, None);
        let mut named = answer.clone();
        named["usageIdentifierKey"] = "plan-key-0123456789abcdef".into();
        assert!(matches!(
            parse_policy(&named),
            Ok(Decision::Policy { usage_key: Some(k), .. }) if k == "plan-key-0123456789abcdef"
        ));
    }

    #[test]
    fn statements_for_other_actions_do_not_count() {
        let cases = [
            (json!("s3:GetObject"), 0),
            (json!(["execute-api:ManageConnections"]), 0),
            (json!("execute-api:*"), 1),
            (json!("*"), 1),
            (json!(["s3:*", "execute-api:Invoke"]), 1),
        ];
        for (action, counted) in cases {
            let answer = policy(json!([{"Effect": "Allow", "Action": action, "Resource": "*"}]));
            match parse_policy(&answer) {
                Ok(Decision::Policy { statements, .. }) => {
                    assert_eq!(statements.len(), counted, "{action}");
                }
                other => panic!("{action}: {other:?}"),
            }
        }
    }

    #[test]
    fn answers_that_are_not_policies_are_refused() {
        let cases = [
            json!({}),
            json!({"policyDocument": {}}),
            json!({"policyDocument": {"Statement": "Allow"}}),
            policy(json!([{"Effect": "Maybe", "Action": "*", "Resource": "*"}])),
            policy(json!([{"Action": "*", "Resource": "*"}])),
        ];
        for answer in cases {
            assert!(parse_policy(&answer).is_err(), "{answer}");
        }
    }
}
