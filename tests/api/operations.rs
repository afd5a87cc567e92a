//! SPEC §13 in the template: the alarms watch what they claim to, notify the one topic, the
//! dashboard charts metrics the code emits, every log group has a retention, and the access
//! log can hold no key.

use gateway::metrics::{NAMESPACE, dimension, metric};
use gateway::routes::Function;
use serde_yaml::Value;

fn template() -> Value {
    let path = format!("{}/../infra/template.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).expect("the template is plain YAML (long-form intrinsics)")
}

fn resources(t: &Value) -> Vec<(String, Value)> {
    t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.clone()))
        .collect()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML")
}

#[test]
fn each_alarm_watches_its_metric_with_its_statistic_and_threshold_and_notifies_the_topic() {
    let t = template();
    let topic = yaml("[{Ref: AlarmTopic}]");
    // (logical id, namespace, metric, statistic or extended statistic, threshold, operator)
    let expected = [
        (
            "AuthorizerStoreErrorsAlarm",
            NAMESPACE,
            metric::STORE_ERRORS,
            "Sum",
            5.0,
            "GreaterThanOrEqualToThreshold",
        ),
        (
            "AuthorizerThrottlesAlarm",
            "AWS/Lambda",
            "Throttles",
            "Sum",
            1.0,
            "GreaterThanOrEqualToThreshold",
        ),
        (
            "AuthorizerDurationAlarm",
            "AWS/Lambda",
            "Duration",
            "p99",
            1000.0,
            "GreaterThanThreshold",
        ),
        (
            "Api5xxRateAlarm",
            "AWS/ApiGateway",
            "5XXError",
            "Average",
            0.05,
            "GreaterThanThreshold",
        ),
    ];
    for (id, namespace, name, stat, threshold, operator) in expected {
        let a = &t["Resources"][id]["Properties"];
        assert_eq!(t["Resources"][id]["Type"], "AWS::CloudWatch::Alarm", "{id}");
        assert_eq!(a["Namespace"], namespace, "{id}");
        assert_eq!(a["MetricName"], name, "{id}");
        let statistic = a["Statistic"].as_str().or(a["ExtendedStatistic"].as_str());
        assert_eq!(statistic, Some(stat), "{id}");
        assert_eq!(a["Threshold"].as_f64(), Some(threshold), "{id}");
        assert_eq!(a["ComparisonOperator"], operator, "{id}");
        assert_eq!(a["AlarmActions"], topic, "{id}");
        assert_eq!(a["TreatMissingData"], "notBreaching", "{id}");
    }
    // The store-error alarm reads the authorizer's EMF metric with its one dimension.
    let store = &t["Resources"]["AuthorizerStoreErrorsAlarm"]["Properties"];
    assert_eq!(store["Dimensions"][0]["Name"], dimension::OUTCOME);
    assert_eq!(store["Dimensions"][0]["Value"], "error");
    for id in ["AuthorizerThrottlesAlarm", "AuthorizerDurationAlarm"] {
        let d = &t["Resources"][id]["Properties"]["Dimensions"][0];
        assert_eq!(d["Name"], "FunctionName");
        assert_eq!(d["Value"], yaml("{Ref: AuthorizerFunction}"), "{id}");
    }
    // DynamoDB throttles: reads plus writes on the keys table.
    let table = &t["Resources"]["TableThrottlesAlarm"]["Properties"];
    let metrics = table["Metrics"].as_sequence().expect("metric math");
    let names: Vec<&str> = metrics
        .iter()
        .filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    assert_eq!(names, ["ReadThrottleEvents", "WriteThrottleEvents"]);
    for m in metrics.iter().filter(|m| m.get("MetricStat").is_some()) {
        assert_eq!(m["MetricStat"]["Metric"]["Namespace"], "AWS/DynamoDB");
        assert_eq!(m["MetricStat"]["Stat"], "Sum");
        assert_eq!(
            m["MetricStat"]["Metric"]["Dimensions"][0]["Value"],
            yaml("{Ref: KeysTable}")
        );
    }
    assert_eq!(table["Threshold"].as_f64(), Some(1.0));
    assert_eq!(table["AlarmActions"], topic);
    // Every alarm of the template is one of these.
    let alarms = resources(&t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .count();
    assert_eq!(alarms, 7);
    // The notifier's (SPEC §14): anything on its failure queue is something it gave up on.
    let failures = &t["Resources"]["NotifierFailuresAlarm"];
    assert_eq!(failures["Condition"], "WebhooksOn");
    let p = &failures["Properties"];
    assert_eq!(
        (
            &p["Namespace"],
            &p["MetricName"],
            &p["Statistic"],
            p["Threshold"].as_f64(),
            &p["ComparisonOperator"]
        ),
        (
            &yaml("AWS/SQS"),
            &yaml("ApproximateNumberOfMessagesVisible"),
            &yaml("Maximum"),
            Some(0.0),
            &yaml("GreaterThanThreshold")
        )
    );
    assert_eq!(p["AlarmActions"], topic);
    // And any delivery given up after the retry schedule, counted by the notifier's own EMF
    // lines: the metric and its one dimension set as the code writes them.
    let given_up = &t["Resources"]["WebhooksGivenUpAlarm"];
    assert_eq!(given_up["Condition"], "WebhooksOn");
    let p = &given_up["Properties"];
    assert_eq!(
        (
            p["Namespace"].as_str(),
            p["MetricName"].as_str(),
            p["Statistic"].as_str(),
            p["Threshold"].as_f64(),
            p["ComparisonOperator"].as_str()
        ),
        (
            Some(NAMESPACE),
            Some(metric::WEBHOOK_ATTEMPTS),
            Some("Sum"),
            Some(1.0),
            Some("GreaterThanOrEqualToThreshold")
        )
    );
    let dimensions = p["Dimensions"].as_sequence().expect("dimensions");
    assert_eq!(dimensions.len(), 1, "the line's one dimension set");
    assert_eq!(dimensions[0]["Name"].as_str(), Some(dimension::OUTCOME));
    assert_eq!(
        dimensions[0]["Value"].as_str(),
        Some(notifier::Outcome::GivenUp.as_str())
    );
    assert_eq!(p["AlarmActions"], topic);
    let subscription = &t["Resources"]["AlarmEmailSubscription"];
    assert_eq!(subscription["Condition"], "HasAlarmEmail");
    assert_eq!(
        subscription["Properties"]["TopicArn"],
        yaml("{Ref: AlarmTopic}")
    );
}

#[test]
fn every_log_group_has_the_retention_parameter_and_every_function_a_log_group() {
    let t = template();
    let groups: Vec<(String, Value)> = resources(&t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
        .collect();
    assert_eq!(
        groups.len(),
        Function::ALL.len() + 3,
        "one per metered function, the notifier's, and the access log of each front door \
         (REST, HTTP API)"
    );
    for (id, g) in &groups {
        assert_eq!(
            g["Properties"]["RetentionInDays"],
            yaml("{Ref: LogRetentionDays}"),
            "{id}"
        );
    }
    assert_eq!(
        t["Parameters"]["LogRetentionDays"]["Default"].as_u64(),
        Some(30)
    );
    for f in Function::ALL {
        let name = yaml(&format!(
            "{{Fn::Sub: '/aws/lambda/${{{}}}'}}",
            f.logical_id()
        ));
        assert!(
            groups
                .iter()
                .any(|(_, g)| g["Properties"]["LogGroupName"] == name),
            "{} has no log group",
            f.logical_id()
        );
    }
}

#[test]
fn the_access_log_is_json_without_query_strings_or_headers() {
    let t = template();
    let api = &t["Resources"]["PodkeysApi"]["Properties"];
    let setting = &api["AccessLogSetting"];
    assert_eq!(
        setting["DestinationArn"],
        yaml("{Fn::GetAtt: [ApiAccessLogGroup, Arn]}")
    );
    // The HTTP API front door (SPEC §17) logs the same way.
    let http = &t["Resources"]["HttpApiStage"]["Properties"]["AccessLogSettings"];
    assert_eq!(
        http["DestinationArn"],
        yaml("{Fn::GetAtt: [HttpApiAccessLogGroup, Arn]}")
    );
    for format in [&setting["Format"], &http["Format"]] {
        let format = format.as_str().expect("a format");
        let parsed: serde_json::Value = serde_json::from_str(format).expect("a JSON format");
        assert!(parsed["requestId"].is_string() && parsed["status"].is_string());
        assert_eq!(parsed["errorCode"], "$context.authorizer.error_code");
        for forbidden in [
            "$context.path",
            "$request",
            "querystring",
            "$input",
            "$method.request",
            "header",
            "$context.identity.apiKey",
            "$context.authorizer.assertion",
        ] {
            assert!(!format.contains(forbidden), "{forbidden} in {format}");
        }
    }
    assert_eq!(api["TracingEnabled"], true);
}

#[test]
fn the_dashboard_charts_metrics_the_code_emits() {
    let t = template();
    let body = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("a Fn::Sub body");
    let parsed: serde_json::Value = serde_json::from_str(body).expect("the body is JSON");
    let widgets = parsed["widgets"].as_array().expect("widgets");
    assert!(widgets.len() >= 4);
    let ours = [
        metric::DECISIONS,
        metric::DECISION_LATENCY,
        metric::STORE_ERRORS,
        metric::REQUESTS,
        metric::REQUEST_LATENCY,
        metric::WEBHOOK_ATTEMPTS,
        metric::WEBHOOK_LATENCY,
    ];
    let mut charted = Vec::new();
    for w in widgets {
        for line in w["properties"]["metrics"].as_array().expect("metrics") {
            let line = line.as_array().expect("a metric line");
            if line[0] == NAMESPACE {
                let name = line[1].as_str().expect("a name");
                assert!(ours.contains(&name), "{name} is not a metric podkeys emits");
                assert_eq!(
                    line[2],
                    dimension::OUTCOME,
                    "{name}: the dimension the code uses"
                );
                charted.push(name.to_owned());
            }
        }
    }
    for name in [
        metric::DECISIONS,
        metric::DECISION_LATENCY,
        metric::STORE_ERRORS,
        metric::WEBHOOK_ATTEMPTS,
        metric::WEBHOOK_LATENCY,
    ] {
        assert!(charted.iter().any(|c| c == name), "{name} is not charted");
    }
}
