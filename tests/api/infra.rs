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

/// The lifecycle-webhook function (SPEC §14): no route, three triggers.
const NOTIFIER: &str = "NotifierFunction";

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML")
}

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
    let functions: BTreeSet<&str> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, _)| id.as_str())
        .collect();
    // The functions behind the API, and the notifier (SPEC §14), which has no route.
    let mut built: Vec<(&str, &str)> = Function::ALL
        .iter()
        .map(|f| (f.logical_id(), f.binary()))
        .collect();
    if !built.iter().any(|(id, _)| *id == NOTIFIER) {
        built.push((NOTIFIER, "notifier"));
    }
    assert_eq!(
        functions,
        built.iter().map(|(id, _)| *id).collect::<BTreeSet<_>>()
    );
    for (logical, binary) in built {
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
    assert!(functions.contains(&NOTIFIER), "{functions:?}");
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
    // The notifier's stream (SPEC §14), as keystore::create_table makes it locally.
    assert_eq!(p["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
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

/// SPEC §14: webhooks are off by default, and on only with both a URL and the ARN of the
/// secret; everything the notifier needs exists only then.
#[test]
fn webhooks_are_off_unless_both_parameters_are_set() {
    let t = template();
    let params = &t["Parameters"];
    for name in ["WebhookUrl", "WebhookSecretArn"] {
        assert_eq!(params[name]["Type"], "String", "{name}");
        assert_eq!(params[name]["Default"], "", "{name}: off by default");
        let pattern = params[name]["AllowedPattern"].as_str().expect(name);
        assert!(pattern.starts_with('|'), "{name}: empty is allowed");
    }
    assert_eq!(
        params["WebhookUrl"]["AllowedPattern"], "|https://[^\\s]+",
        "https only when deployed (http on loopback is make dev's)"
    );
    assert!(
        params["WebhookSecretArn"]["AllowedPattern"]
            .as_str()
            .is_some_and(|p| p.contains(":secretsmanager:") && p.contains(":secret:")),
        "an ARN of a Secrets Manager secret, never the secret"
    );
    assert_eq!(
        t["Conditions"]["WebhooksOn"],
        yaml("{Fn::Not: [{Fn::Equals: [{Ref: WebhookUrl}, '']}]}")
    );
    // The two are set together: each rule requires the other parameter once one is set.
    let rules = t["Rules"].as_mapping().expect("Rules");
    let mut pairs = BTreeSet::new();
    for (name, rule) in rules {
        let set = &rule["RuleCondition"]["Fn::Not"][0]["Fn::Equals"];
        let required = &rule["Assertions"][0]["Assert"]["Fn::Not"][0]["Fn::Equals"];
        assert_eq!(set[1], "", "{name:?}");
        assert_eq!(required[1], "", "{name:?}");
        pairs.insert((
            set[0]["Ref"].as_str().expect("a Ref").to_owned(),
            required[0]["Ref"].as_str().expect("a Ref").to_owned(),
        ));
    }
    let both = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        pairs,
        BTreeSet::from([
            both("WebhookUrl", "WebhookSecretArn"),
            both("WebhookSecretArn", "WebhookUrl"),
        ])
    );
    let resources = t["Resources"].as_mapping().expect("resources");
    for id in [
        NOTIFIER,
        "NotifierLogGroup",
        "NotifierFailures",
        "NotifierFailuresAlarm",
    ] {
        assert_eq!(t["Resources"][id]["Condition"], "WebhooksOn", "{id}");
    }
    assert_eq!(
        t["Outputs"]["NotifierFailuresQueueUrl"]["Condition"],
        "WebhooksOn"
    );
    // Anything that names the notifier or its queue exists only with it.
    for (id, r) in resources {
        let text = serde_yaml::to_string(r).expect("yaml");
        if text.contains("NotifierFunction") || text.contains("NotifierFailures") {
            assert_eq!(r["Condition"], "WebhooksOn", "{id:?}");
        }
    }
}

/// The signing secret is resolved from Secrets Manager when CloudFormation deploys the
/// notifier: never a parameter value, never in the template, and only the notifier has it.
#[test]
fn the_webhook_secret_is_a_secrets_manager_reference_never_a_value() {
    let t = template();
    let env = &t["Resources"][NOTIFIER]["Properties"]["Environment"]["Variables"];
    assert_eq!(env[webhook::URL_VAR], yaml("{Ref: WebhookUrl}"));
    assert_eq!(
        env[webhook::SECRET_VAR],
        yaml("{Fn::Sub: '{{resolve:secretsmanager:${WebhookSecretArn}:SecretString}}'}")
    );
    // No other function, and no global, carries either variable.
    let globals = &t["Globals"]["Function"]["Environment"]["Variables"];
    for name in [webhook::URL_VAR, webhook::SECRET_VAR] {
        assert!(globals.get(name).is_none(), "{name} in Globals");
    }
    for (id, r) in t["Resources"].as_mapping().expect("resources") {
        if id.as_str() == Some(NOTIFIER) || r["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let vars = &r["Properties"]["Environment"]["Variables"];
        assert!(vars.get(webhook::SECRET_VAR).is_none(), "{id:?}");
        assert!(vars.get(webhook::URL_VAR).is_none(), "{id:?}");
    }
    // No parameter could carry a secret: the only Secret* parameter is the ARN.
    let params = t["Parameters"].as_mapping().expect("parameters");
    let secretish: Vec<&str> = params
        .keys()
        .filter_map(Value::as_str)
        .filter(|k| k.to_lowercase().contains("secret"))
        .collect();
    assert_eq!(secretish, ["WebhookSecretArn"]);
    // And every dynamic reference in the template is that one.
    let path = format!("{}/../infra/template.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("template");
    let references: Vec<&str> = text
        .match_indices("{{resolve:")
        .map(|(at, _)| {
            let end = text[at..].find("}}").expect("closed") + at + 2;
            &text[at..end]
        })
        .collect();
    assert_eq!(
        references,
        ["{{resolve:secretsmanager:${WebhookSecretArn}:SecretString}}"]
    );
}

/// The notifier is built like the other functions, has no HTTP event, and each of its three
/// triggers sends an event its code reads.
#[test]
fn the_notifier_reads_new_audit_events_off_the_stream_and_runs_on_two_schedules() {
    let t = template();
    let f = &t["Resources"][NOTIFIER];
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "notifier");
    let p = &f["Properties"];
    assert_eq!(p["Timeout"].as_u64(), Some(60));
    // Runtime, architecture, memory, RUST_LOG and TABLE_NAME come from the Globals.
    for inherited in [
        "Runtime",
        "Architectures",
        "MemorySize",
        "CodeUri",
        "Handler",
    ] {
        assert!(p.get(inherited).is_none(), "{inherited} is the Globals'");
    }
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["TABLE_NAME"],
        yaml("{Ref: KeysTable}")
    );
    let events = p["Events"].as_mapping().expect("events");
    let types: BTreeSet<&str> = events.values().filter_map(|e| e["Type"].as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from(["DynamoDB", "ScheduleV2"]),
        "no HTTP event"
    );
    assert_eq!(events.len(), 3);

    // The table's stream: bounded retries, batches halved on error, items reported one by
    // one, what is given up recorded in the failure queue.
    let s = &p["Events"]["TableStream"]["Properties"];
    assert_eq!(p["Events"]["TableStream"]["Type"], "DynamoDB");
    assert_eq!(s["Stream"], yaml("{Fn::GetAtt: [KeysTable, StreamArn]}"));
    assert_eq!(s["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(s["BatchSize"].as_u64(), Some(10));
    assert_eq!(s["MaximumBatchingWindowInSeconds"].as_u64(), Some(0));
    assert_eq!(s["BisectBatchOnFunctionError"], true);
    assert_eq!(s["MaximumRetryAttempts"].as_u64(), Some(3));
    let age = s["MaximumRecordAgeInSeconds"]
        .as_u64()
        .expect("a bounded age");
    assert!(
        (3600..86_400).contains(&age),
        "{age}: at least an hour, and less than the stream's 24 hours"
    );
    assert_eq!(
        s["FunctionResponseTypes"],
        yaml("[ReportBatchItemFailures]")
    );
    assert_eq!(
        s["DestinationConfig"]["OnFailure"]["Destination"],
        yaml("{Fn::GetAtt: [NotifierFailures, Arn]}")
    );
    // The filter matches the admin copy of each new audit event, typed as the stream
    // record has it, on the `dynamodb` key only (the only one DynamoDB mappings filter on).
    let filters = s["FilterCriteria"]["Filters"]
        .as_sequence()
        .expect("filters");
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().expect("a string pattern"))
            .expect("the pattern is JSON");
    let mut expected = serde_json::json!({"dynamodb": {"NewImage": {}}});
    expected["dynamodb"]["NewImage"][keystore::audit::AUDIT_PART] =
        serde_json::json!({"S": [keystore::audit::ALL]});
    assert_eq!(pattern, expected);

    // The schedules: each input is a task the notifier knows.
    for (event, schedule, task) in [
        ("DeliverDue", "rate(1 minute)", notifier::Task::Deliver),
        (
            "ExpiryScan",
            "cron(15 0 * * ? *)",
            notifier::Task::ExpiryScan { now: None },
        ),
    ] {
        let e = &p["Events"][event];
        assert_eq!(e["Type"], "ScheduleV2", "{event}");
        let props = &e["Properties"];
        assert_eq!(props["ScheduleExpression"], schedule, "{event}");
        assert_eq!(props["FlexibleTimeWindow"]["Mode"], "OFF", "{event}");
        assert_eq!(
            props["OmitName"], true,
            "{event}: no fixed name to clash on"
        );
        let input: serde_json::Value =
            serde_json::from_str(props["Input"].as_str().expect("a JSON string"))
                .expect("the input is JSON");
        assert_eq!(notifier::Task::parse(input), Ok(task), "{event}");
    }
    assert_eq!(
        p["Events"]["ExpiryScan"]["Properties"]["ScheduleExpressionTimezone"],
        "UTC"
    );

    // Scheduled runs that keep failing are recorded too.
    let invoke = &p["EventInvokeConfig"];
    assert_eq!(invoke["DestinationConfig"]["OnFailure"]["Type"], "SQS");
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        yaml("{Fn::GetAtt: [NotifierFailures, Arn]}")
    );
}

/// Least privilege: the notifier writes its own outbox items, marks notices on keys and
/// nothing else, queries one index, reads one stream, and sends to its failure queue.
#[test]
fn the_notifier_may_write_only_its_outbox_and_notice_marks() {
    let t = template();
    let statements = t["Resources"][NOTIFIER]["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements")
        .clone();
    let table = yaml("{Fn::GetAtt: [KeysTable, Arn]}");
    let actions = |s: &Value| -> Vec<String> {
        match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Sequence(list) => list
                .iter()
                .map(|a| a.as_str().expect("an action").to_owned())
                .collect(),
            other => panic!("Action {other:?}"),
        }
    };
    let allowed: Vec<String> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(actions)
        .collect();
    for action in &allowed {
        assert!(!action.contains('*'), "{action}");
        assert!(
            ![
                "dynamodb:Scan",
                "dynamodb:BatchWriteItem",
                "dynamodb:PartiQLUpdate"
            ]
            .contains(&action.as_str()),
            "{action}"
        );
    }
    let find = |action: &str, pred: &dyn Fn(&Value) -> bool| -> Vec<Value> {
        statements
            .iter()
            .filter(|s| actions(s).iter().any(|a| a == action) && pred(s))
            .cloned()
            .collect()
    };
    // Query: the audit_log index only.
    let query = find("dynamodb:Query", &|_| true);
    assert_eq!(query.len(), 1);
    assert_eq!(
        query[0]["Resource"]["Fn::Sub"],
        format!("${{KeysTable.Arn}}/index/{}", keystore::audit::AUDIT_INDEX).as_str()
    );
    // Put and Delete: only the outbox's items (webhook#<event id>).
    let outbox = format!("{}*", keystore::delivery_pk(""));
    for action in ["dynamodb:PutItem", "dynamodb:DeleteItem"] {
        let found = find(action, &|_| true);
        assert_eq!(found.len(), 1, "{action}");
        assert_eq!(found[0]["Resource"], table, "{action}");
        assert_eq!(
            found[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
            Value::Sequence(vec![Value::from(outbox.as_str())]),
            "{action}"
        );
    }
    // Update: the outbox's items, or on any item only the notice marks (on a condition
    // that reads the key and revoked_at), nothing read back.
    let updates = find("dynamodb:UpdateItem", &|_| true);
    assert_eq!(updates.len(), 2);
    for u in &updates {
        assert_eq!(u["Resource"], table);
        let leading = &u["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        let attributes = &u["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"];
        if leading.is_null() {
            let mut named: Vec<&str> = attributes
                .as_sequence()
                .expect("attributes")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            named.sort_unstable();
            let mut expected = vec![
                keystore::schema::PK,
                keystore::NOTICES,
                keystore::schema::attr::REVOKED_AT,
            ];
            expected.sort_unstable();
            assert_eq!(named, expected);
            assert_eq!(
                u["Condition"]["StringEqualsIfExists"]["dynamodb:ReturnValues"],
                yaml("[NONE]")
            );
        } else {
            assert_eq!(
                leading,
                &Value::Sequence(vec![Value::from(outbox.as_str())])
            );
        }
    }
    // GetItem on the table only.
    let get = find("dynamodb:GetItem", &|_| true);
    assert_eq!(get.len(), 1);
    assert_eq!(get[0]["Resource"], table);
    // SAM's AWSLambdaDynamoDBExecutionRole reads any stream; the deny keeps it to ours.
    let deny: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    assert_eq!(deny.len(), 1);
    assert_eq!(
        deny[0]["NotResource"],
        yaml("{Fn::Sub: '${KeysTable.Arn}/stream/*'}")
    );
    let mut denied = actions(deny[0]);
    denied.sort();
    assert_eq!(
        denied,
        [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator"
        ]
    );
    // The stream's on-failure destination.
    let send = find("sqs:SendMessage", &|_| true);
    assert_eq!(send.len(), 1);
    assert_eq!(
        send[0]["Resource"],
        yaml("{Fn::GetAtt: [NotifierFailures, Arn]}")
    );
    // And nothing outside the keys table, the queue and the streams.
    for s in &statements {
        let resource = serde_yaml::to_string(if s["Effect"] == "Deny" {
            &s["NotResource"]
        } else {
            &s["Resource"]
        })
        .expect("yaml");
        assert!(
            resource.contains("KeysTable") || resource.contains("NotifierFailures"),
            "{resource}"
        );
        assert!(!resource.contains("SigningKeysTable"), "{resource}");
    }
}

/// What the notifier gives up on is kept (encrypted, 14 days), pages the alarm topic like the
/// other alarms (SPEC §13), and is findable from the stack's outputs.
#[test]
fn the_notifier_failure_queue_is_kept_encrypted_and_alarmed() {
    let t = template();
    let q = &t["Resources"]["NotifierFailures"];
    assert_eq!(q["Type"], "AWS::SQS::Queue");
    assert_eq!(q["Properties"]["SqsManagedSseEnabled"], true);
    assert_eq!(
        q["Properties"]["MessageRetentionPeriod"].as_u64(),
        Some(14 * 24 * 3600)
    );
    let a = &t["Resources"]["NotifierFailuresAlarm"];
    assert_eq!(a["Type"], "AWS::CloudWatch::Alarm");
    let a = &a["Properties"];
    assert_eq!(a["Namespace"], "AWS/SQS");
    assert_eq!(a["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert_eq!(a["Dimensions"][0]["Name"], "QueueName");
    assert_eq!(
        a["Dimensions"][0]["Value"],
        yaml("{Fn::GetAtt: [NotifierFailures, QueueName]}")
    );
    assert_eq!(a["Threshold"].as_f64(), Some(0.0));
    assert_eq!(a["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(a["TreatMissingData"], "notBreaching");
    assert_eq!(a["AlarmActions"], yaml("[{Ref: AlarmTopic}]"));
    assert_eq!(a["OKActions"], yaml("[{Ref: AlarmTopic}]"));
    assert_eq!(
        t["Outputs"]["NotifierFailuresQueueUrl"]["Value"],
        yaml("{Ref: NotifierFailures}")
    );
}
