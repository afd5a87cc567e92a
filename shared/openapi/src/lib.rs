//! `infra/openapi.yaml` is the one description of the API: API Gateway is built from it (with
//! its `x-amazon-apigateway-*` extensions), the local gateway routes by it, and clients read
//! its public form, made here:
//!
//! - every `x-amazon-apigateway-*` member is dropped (integrations, the authorizer, gateway
//!   responses: deployment detail, and they hold CloudFormation intrinsics);
//! - resources with a greedy `{proxy+}` segment are dropped (an API Gateway notion OpenAPI
//!   cannot express; the document's description explains the podcast catch-all);
//! - the authorizer's security requirement becomes the three client schemes of
//!   `x-podkeys-security-schemes` (any one of them), which become `securitySchemes`; the
//!   usage-plan scheme the authorizer feeds (`api_key`) goes with it.
//!
//! `servers` is left to whoever serves the document: it is the URL it was fetched from.

use serde_json::{Map, Value};

/// The security scheme API Gateway knows the authorizer by.
pub const AUTHORIZER_SCHEME: &str = "PodkeysAuthorizer";
/// API Gateway's usage-plan key, which the authorizer supplies (SPEC §10): not a client's.
pub const USAGE_PLAN_SCHEME: &str = "api_key";
/// Where the source document keeps the schemes clients use.
pub const CLIENT_SCHEMES: &str = "x-podkeys-security-schemes";
const AWS_EXTENSION: &str = "x-amazon-apigateway-";

/// The public document from the source YAML.
pub fn public_document(source_yaml: &str) -> Result<Value, String> {
    let mut doc: Value =
        serde_yaml::from_str(source_yaml).map_err(|e| format!("infra/openapi.yaml: {e}"))?;
    let root = doc.as_object_mut().ok_or("the document is not a mapping")?;
    let client_schemes = match root.remove(CLIENT_SCHEMES) {
        Some(Value::Object(s)) if !s.is_empty() => s,
        _ => return Err(format!("{CLIENT_SCHEMES} is missing or empty")),
    };
    let alternatives: Vec<Value> = client_schemes
        .keys()
        .map(|name| {
            let mut requirement = Map::new();
            requirement.insert(name.clone(), Value::Array(Vec::new()));
            Value::Object(requirement)
        })
        .collect();
    if let Some(Value::Object(paths)) = root.get_mut("paths") {
        paths.retain(|path, _| !path.contains("+}"));
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                let Some(Value::Array(requirements)) = op.get_mut("security") else {
                    continue;
                };
                if requirements
                    .iter()
                    .any(|r| r.get(AUTHORIZER_SCHEME).is_some())
                {
                    *requirements = alternatives.clone();
                }
            }
        }
    }
    let schemes = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("components is not a mapping")?
        .entry("securitySchemes")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("securitySchemes is not a mapping")?;
    schemes.remove(AUTHORIZER_SCHEME);
    schemes.remove(USAGE_PLAN_SCHEME);
    schemes.extend(client_schemes);
    strip_aws_extensions(&mut doc);
    Ok(doc)
}

fn strip_aws_extensions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with(AWS_EXTENSION));
            map.values_mut().for_each(strip_aws_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_aws_extensions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = include_str!("../../../infra/openapi.yaml");

    fn public() -> Value {
        public_document(SOURCE).expect("the document converts")
    }

    fn walk<'a>(v: &'a Value, path: &mut Vec<String>, out: &mut Vec<(String, &'a Value)>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    path.push(k.clone());
                    out.push((path.join("/"), child));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for child in items {
                    walk(child, path, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn no_aws_extension_or_intrinsic_survives() {
        let doc = public();
        let mut all = Vec::new();
        walk(&doc, &mut Vec::new(), &mut all);
        for (path, _) in &all {
            let last = path.rsplit('/').next().unwrap_or_default();
            assert!(!last.starts_with(AWS_EXTENSION), "{path}");
            assert!(!last.starts_with("Fn::") && last != "Ref", "{path}");
        }
        assert!(!doc.to_string().contains(AUTHORIZER_SCHEME));
        assert!(doc.get(CLIENT_SCHEMES).is_none());
    }

    #[test]
    fn the_source_keeps_what_api_gateway_needs() {
        let source: Value = serde_yaml::from_str(SOURCE).expect("yaml");
        assert!(source["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"].is_object());
        assert!(source["x-amazon-apigateway-gateway-responses"]["UNAUTHORIZED"].is_object());
        assert!(source["components"]["securitySchemes"][AUTHORIZER_SCHEME].is_object());
        assert_eq!(source["x-amazon-apigateway-api-key-source"], "AUTHORIZER");
        let usage = &source["components"]["securitySchemes"][USAGE_PLAN_SCHEME];
        assert_eq!(
            (&usage["name"], &usage["in"]),
            (&"x-api-key".into(), &"header".into())
        );
        // Every operation behind the authorizer also requires the usage-plan key, in the same
        // requirement (both at once), so that API Gateway applies the usage plans to it.
        let mut behind = 0;
        for item in source["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("path item").values() {
                for requirement in op["security"].as_array().into_iter().flatten() {
                    if requirement.get(AUTHORIZER_SCHEME).is_some() {
                        behind += 1;
                        assert!(
                            requirement.get(USAGE_PLAN_SCHEME).is_some(),
                            "{requirement}"
                        );
                    }
                }
            }
        }
        assert!(behind >= 10, "{behind}");
    }

    #[test]
    fn key_routes_take_any_of_the_three_headers_and_public_routes_none() {
        let doc = public();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["ApiKey"]["name"], "X-API-Key");
        assert_eq!(schemes["ApiKeyHeader"]["name"], "Api-Key");
        assert_eq!(schemes["Bearer"]["scheme"], "bearer");
        assert!(
            schemes.get(USAGE_PLAN_SCHEME).is_none(),
            "clients never send it"
        );
        assert!(doc.get("x-amazon-apigateway-api-key-source").is_none());
        let key_op = &doc["paths"]["/api/v1/auth/api-keys"]["post"]["security"];
        assert_eq!(
            key_op,
            &serde_json::json!([{"ApiKey": []}, {"ApiKeyHeader": []}, {"Bearer": []}])
        );
        for public in ["/api/openapi.json", "/api/docs", "/console"] {
            assert_eq!(
                doc["paths"][public]["get"]["security"],
                serde_json::json!([]),
                "{public}"
            );
        }
    }

    #[test]
    fn greedy_resources_are_left_out_and_every_operation_has_an_id() {
        let doc = public();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.keys().all(|p| !p.contains('+')));
        assert!(paths.contains_key("/api/v1/auth/api-keys/{id}/rotate"));
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("operations") {
                assert!(op["operationId"].is_string(), "{method} {path}");
                assert!(op["responses"].is_object(), "{method} {path}");
            }
        }
    }

    #[test]
    fn the_documents_error_codes_are_exactly_the_outcome_vocabulary() {
        let doc = public();
        let codes: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        let ours: Vec<&str> = outcome::Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, ours);
    }
}
