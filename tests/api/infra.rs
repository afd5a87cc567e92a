//! `infra/template.yaml` and `infra/openapi.yaml` agree with the code: routes, functions,
//! gateway responses, public pages.

use std::collections::BTreeSet;

use gateway::routes::{self, Function, ROUTES};
use outcome::responses::GATEWAY_RESPONSES;
use serde_yaml::Value;

fn template() -> Value {
    let path = format!("{}/../infra/template.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).expect("the template is plain YAML (long-form intrinsics)")
}

fn openapi() -> Value {
    let path = format!("{}/../infra/openapi.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).expect("the document is plain YAML (long-form intrinsics)")
}

/// The API's definition, after the template's `AWS::Include` of infra/openapi.yaml.
fn api(t: &Value) -> Value {
    let body = &t["Resources"]["PodkeysApi"]["Properties"]["DefinitionBody"];
    assert_eq!(body["Fn::Transform"]["Name"], "AWS::Include");
    assert_eq!(
        body["Fn::Transform"]["Parameters"]["Location"], "openapi.yaml",
        "relative to the template"
    );
    openapi()
}

/// The public pages: served by the site function, with no authorizer.
const PUBLIC: [&str; 5] = [
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/{file}",
    "/console",
    "/console/{file}",
];

fn logical_id(function: Function) -> &'static str {
    function.logical_id()
}

/// The function an operation's Lambda integration invokes, by logical id.
fn integrated_function(operation: &Value) -> String {
    let uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        .as_str()
        .expect("a Lambda integration URI");
    let start = uri.find("functions/${").expect("functions/${…}") + "functions/${".len();
    let end = uri[start..].find(".Arn}").expect(".Arn}") + start;
    uri[start..end].to_owned()
}

#[test]
fn every_key_route_is_in_the_template_behind_the_authorizer_on_its_function() {
    let t = template();
    let api = api(&t);
    let paths = &api["paths"];
    for route in ROUTES {
        let op = &paths[route.resource][route.method.to_lowercase()];
        assert!(
            op.is_mapping(),
            "{} {} missing",
            route.method,
            route.resource
        );
        assert_eq!(
            integrated_function(op),
            logical_id(route.function),
            "{} {}",
            route.method,
            route.resource
        );
        if routes::PUBLIC.contains(&route.resource) {
            assert_eq!(
                op["security"],
                Value::Sequence(vec![]),
                "{} is public",
                route.resource
            );
            continue;
        }
        assert_eq!(
            op["security"][0]["PodkeysAuthorizer"],
            Value::Sequence(vec![]),
            "{} {} is not behind the authorizer",
            route.method,
            route.resource
        );
    }
}

#[test]
fn the_template_has_no_route_the_code_does_not_serve() {
    let t = template();
    let api = api(&t);
    let paths = api["paths"].as_mapping().expect("paths");
    let known: BTreeSet<&str> = ROUTES.iter().map(|r| r.resource).collect();
    for (path, item) in paths {
        let path = path.as_str().expect("path");
        if path == "/{proxy+}" || path == routes::KEYS_SUBTREE || PUBLIC.contains(&path) {
            continue;
        }
        assert!(
            known.contains(path),
            "{path} is in the template but not in gateway::routes"
        );
        for (method, op) in item.as_mapping().expect("operations") {
            let method = method.as_str().expect("method");
            if method == "x-amazon-apigateway-any-method" {
                // Other methods go to a function that answers 405 with Allow.
                assert_eq!(integrated_function(op), Function::ListKeys.logical_id());
                continue;
            }
            let upper = method.to_uppercase();
            assert!(
                ROUTES
                    .iter()
                    .any(|r| r.resource == path && r.method == upper),
                "{upper} {path} is in the template but not in gateway::routes"
            );
        }
    }
    assert_eq!(
        integrated_function(&paths[routes::KEYS_SUBTREE]["x-amazon-apigateway-any-method"]),
        Function::ListKeys.logical_id(),
        "unknown key-management paths stay with podkeys"
    );
}

#[test]
fn each_function_builds_the_binary_of_its_crate_for_arm64_al2023() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Handler"], "bootstrap");
    let functions: Vec<&str> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(functions.len(), Function::ALL.len(), "{functions:?}");
    for (logical, binary) in Function::ALL.map(|f| (f.logical_id(), f.binary())) {
        let f = &t["Resources"][logical];
        assert_eq!(f["Type"], "AWS::Serverless::Function", "{logical}");
        assert_eq!(
            f["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{logical}"
        );
        assert_eq!(
            f["Metadata"]["BuildProperties"]["Binary"], binary,
            "{logical}"
        );
        let manifest = format!(
            "{}/../functions/{binary}/Cargo.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{manifest}: {e}"));
        assert!(
            text.contains(&format!("name = \"{binary}\"")),
            "{manifest} is not the {binary} crate"
        );
    }
}

#[test]
fn each_gateway_response_body_matches_the_shared_source() {
    let t = template();
    let api = api(&t);
    let responses = api["x-amazon-apigateway-gateway-responses"]
        .as_mapping()
        .expect("gateway responses");
    assert_eq!(
        responses.len(),
        GATEWAY_RESPONSES.len(),
        "same set of responses"
    );
    for r in GATEWAY_RESPONSES {
        let in_template = &responses[&Value::from(r.kind)];
        assert_eq!(
            in_template["statusCode"].as_u64(),
            Some(u64::from(r.status)),
            "{}",
            r.kind
        );
        assert_eq!(
            in_template["responseTemplates"]["application/json"].as_str(),
            Some(r.template().as_str()),
            "{}",
            r.kind
        );
        assert_eq!(
            in_template["responseParameters"]["gatewayresponse.header.Content-Type"],
            "'application/json'",
            "{}",
            r.kind
        );
        for (name, value) in r.headers {
            assert_eq!(
                in_template["responseParameters"]
                    [format!("gatewayresponse.header.{name}").as_str()],
                format!("'{value}'").as_str(),
                "{} {name}",
                r.kind
            );
        }
    }
}

#[test]
fn the_podcast_backend_gets_identity_headers_and_never_the_callers_key() {
    let t = template();
    let api = api(&t);
    let proxy = &api["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"];
    assert_eq!(
        proxy["security"][0]["PodkeysAuthorizer"],
        Value::Sequence(vec![])
    );
    let integration = &proxy["x-amazon-apigateway-integration"];
    assert_eq!(integration["type"], "http_proxy");
    let params = &integration["requestParameters"];
    for (header, source) in [
        ("X-Podkeys-Owner-Id", "context.authorizer.owner_id"),
        ("X-Podkeys-Key-Id", "context.authorizer.key_id"),
        ("X-Podkeys-Scopes", "context.authorizer.scopes"),
        ("X-Podkeys-Assertion", "context.authorizer.assertion"),
        ("X-Podkeys-Plan", "context.authorizer.plan"),
        (
            "X-Podkeys-RateLimit-Limit",
            "context.authorizer.rate_limit_limit",
        ),
        (
            "X-Podkeys-RateLimit-Remaining",
            "context.authorizer.rate_limit_remaining",
        ),
        (
            "X-Podkeys-RateLimit-Reset",
            "context.authorizer.rate_limit_reset",
        ),
        // A static value AWS documents (in single quotes), never the caller's key.
        ("X-API-Key", "'redacted'"),
        ("Api-Key", "'redacted'"),
        ("Authorization", "'redacted'"),
    ] {
        assert_eq!(
            params[format!("integration.request.header.{header}").as_str()],
            source,
            "{header}"
        );
    }
}

/// SPEC §4: no authorizer caching, so no parameter that could turn it on, and no identity
/// source (requests with any one of the three headers, or none, reach the authorizer).
#[test]
fn the_authorizer_checks_every_request_and_caching_cannot_be_turned_on() {
    let t = template();
    let parameters = t["Parameters"].as_mapping().expect("parameters");
    assert!(
        parameters
            .keys()
            .all(|k| !k.as_str().unwrap_or_default().contains("Cache")),
        "{:?}",
        parameters.keys().collect::<Vec<_>>()
    );
    let api = api(&t);
    let authorizer = &api["components"]["securitySchemes"]["PodkeysAuthorizer"]["x-amazon-apigateway-authorizer"];
    assert_eq!(authorizer["type"], "request");
    assert_eq!(authorizer["authorizerResultTtlInSeconds"].as_u64(), Some(0));
    assert!(authorizer.get("identitySource").is_none());
}

/// SPEC §4/§15: log levels stop at debug, backends are https, every function's logs have a
/// retention, and the authorizer may write last_used_at and nothing else.
#[test]
fn the_template_keeps_keys_out_of_logs_and_limits_what_the_authorizer_may_write() {
    let t = template();
    let levels = &t["Parameters"]["LogLevel"]["AllowedValues"];
    assert_eq!(
        levels,
        &serde_yaml::from_str::<Value>("[error, warn, info, debug]").expect("yaml")
    );
    assert_eq!(
        t["Parameters"]["PodcastBackendUrl"]["AllowedPattern"],
        "https://.+"
    );
    let resources = t["Resources"].as_mapping().expect("resources");
    let functions: Vec<&str> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(functions.len(), 5);
    for function in functions {
        let group = resources
            .values()
            .find(|r| {
                r["Type"] == "AWS::Logs::LogGroup"
                    && r["Properties"]["LogGroupName"]["Fn::Sub"]
                        == format!("/aws/lambda/${{{function}}}").as_str()
            })
            .unwrap_or_else(|| panic!("{function} has no log group"));
        assert_eq!(
            group["Properties"]["RetentionInDays"]["Ref"],
            "LogRetentionDays"
        );
    }
    let statements = &t["Resources"][Function::Authorizer.logical_id()]["Properties"]["Policies"]
        [0]["Statement"];
    let update = statements
        .as_sequence()
        .expect("statements")
        .iter()
        .find(|s| s["Action"] == "dynamodb:UpdateItem")
        .expect("an UpdateItem statement");
    assert_eq!(
        update["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"],
        serde_yaml::from_str::<Value>("[pk, last_used_at, revoked_at]").expect("yaml")
    );
}

#[test]
fn the_table_matches_the_keystore_schema() {
    let t = template();
    let table = &t["Resources"]["KeysTable"];
    assert_eq!(table["DeletionPolicy"], "Retain");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["KeySchema"][0]["AttributeName"], keystore::schema::PK);
    assert_eq!(
        p["TimeToLiveSpecification"]["AttributeName"],
        keystore::schema::PURGE_AT
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    let indexes: BTreeSet<&str> = p["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes")
        .iter()
        .map(|i| i["IndexName"].as_str().expect("name"))
        .collect();
    assert_eq!(
        indexes,
        BTreeSet::from([
            keystore::schema::BY_OWNER,
            keystore::schema::BY_CREATED,
            keystore::audit::AUDIT_INDEX,
        ])
    );
}

#[test]
fn the_public_pages_skip_the_authorizer_and_only_they_do() {
    let api = api(&template());
    let paths = api["paths"].as_mapping().expect("paths");
    for (path, item) in paths {
        let path = path.as_str().expect("path");
        for (method, op) in item.as_mapping().expect("operations") {
            let public = op["security"] == Value::Sequence(vec![]);
            let expected = PUBLIC.contains(&path) || routes::PUBLIC.contains(&path);
            assert_eq!(public, expected, "{method:?} {path}");
            if routes::PUBLIC.contains(&path) {
                assert_eq!(
                    integrated_function(op),
                    Function::ListKeys.logical_id(),
                    "{method:?} {path}"
                );
            } else if public {
                assert_eq!(
                    integrated_function(op),
                    Function::Site.logical_id(),
                    "{method:?} {path}"
                );
            } else {
                assert_eq!(
                    op["security"][0]["PodkeysAuthorizer"],
                    Value::Sequence(vec![]),
                    "{method:?} {path}"
                );
            }
        }
    }
    // The site function has no business with the table.
    let site = &template()["Resources"][Function::Site.logical_id()]["Properties"];
    assert!(site["Policies"].is_null(), "no table permissions");
}

#[test]
fn the_usage_plans_give_429s_for_the_keys_the_authorizer_names() {
    let t = template();
    let api = api(&t);
    assert_eq!(api["x-amazon-apigateway-api-key-source"], "AUTHORIZER");
    let r = &t["Resources"];
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for (plan, key, attachment, variable) in [
        (
            "UsagePlanUnlimited",
            "UsageKeyUnlimited",
            "UsagePlanUnlimitedKey",
            "USAGE_KEY_UNLIMITED",
        ),
        (
            "UsagePlanBlocked",
            "UsageKeyBlocked",
            "UsagePlanBlockedKey",
            "USAGE_KEY_BLOCKED",
        ),
    ] {
        assert_eq!(r[plan]["Type"], "AWS::ApiGateway::UsagePlan");
        let stage = &r[plan]["Properties"]["ApiStages"][0];
        assert_eq!(stage["ApiId"]["Ref"], "PodkeysApi", "{plan}");
        assert_eq!(stage["Stage"]["Ref"], "PodkeysApi.Stage", "{plan}");
        assert_eq!(r[key]["Type"], "AWS::ApiGateway::ApiKey");
        assert_eq!(r[key]["Properties"]["Enabled"], true);
        // The authorizer names exactly the value the key was created with.
        assert_eq!(r[key]["Properties"]["Value"], env[variable], "{variable}");
        let link = &r[attachment]["Properties"];
        assert_eq!(
            (&link["KeyId"]["Ref"], &link["UsagePlanId"]["Ref"]),
            (&Value::from(key), &Value::from(plan))
        );
    }
    assert!(r["UsagePlanUnlimited"]["Properties"]["Throttle"].is_null());
    assert!(r["UsagePlanUnlimited"]["Properties"]["Quota"].is_null());
    let blocked = &r["UsagePlanBlocked"]["Properties"];
    assert_eq!(blocked["Throttle"]["BurstLimit"], 0);
    assert_eq!(blocked["Throttle"]["RateLimit"], 0);
    assert_eq!(blocked["Quota"]["Limit"], 0);
}
