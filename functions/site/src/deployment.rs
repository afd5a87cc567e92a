//! What the pages take from the deployment's configuration (the template gives every function
//! the same environment):
//! - the plans: `infra/openapi.yaml` lists SPEC §10's default plans in `PlanName`'s enum; when
//!   `PLANS` names others, the document served at `/api/openapi.json` lists those (so clients
//!   and Schemathesis see what the API accepts);
//! - the feed paths (`FEED_PATHS`, SPEC §16): the console shows a new feed key's URL with the
//!   first one as its example.

use std::sync::OnceLock;

use serde_json::Value;

use crate::OPENAPI_JSON;

/// The document, with `PlanName`'s enum from `PLANS` when it is set and is a JSON object (the
/// key functions refuse a malformed `PLANS` at init; the site then keeps the defaults).
pub(crate) fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| with_plans(OPENAPI_JSON, std::env::var("PLANS").ok().as_deref()))
}

pub(crate) fn with_plans(document: &str, plans: Option<&str>) -> String {
    let names: Option<Vec<Value>> = plans
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| {
            v.as_object()
                .map(|o| o.keys().cloned().map(Value::from).collect())
        })
        .filter(|names: &Vec<Value>| !names.is_empty());
    let (Some(names), Ok(mut doc)) = (names, serde_json::from_str::<Value>(document)) else {
        return document.to_owned();
    };
    match doc.pointer_mut("/components/schemas/PlanName/enum") {
        Some(list) => *list = Value::Array(names),
        None => return document.to_owned(),
    }
    doc.to_string()
}

/// The first feed path with `{feed}` for its wildcard, e.g. `/api/v1/feeds/{feed}`. A bad
/// `FEED_PATHS` stops the key functions at init; here it falls back to the default.
pub(crate) fn feed_example() -> &'static str {
    static EXAMPLE: OnceLock<String> = OnceLock::new();
    EXAMPLE.get_or_init(|| example_of(std::env::var("FEED_PATHS").ok().as_deref()))
}

pub(crate) fn example_of(feed_paths: Option<&str>) -> String {
    if feed_paths.is_some_and(|list| list.trim().is_empty()) {
        return String::new(); // feed URLs are off: the console shows none
    }
    feed_paths
        .and_then(|list| apikey::FeedPaths::parse(list).ok())
        .unwrap_or_default()
        .example()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_enum(doc: &str) -> Value {
        let v: Value = serde_json::from_str(doc).expect("JSON");
        v["components"]["schemas"]["PlanName"]["enum"].clone()
    }

    #[test]
    fn the_feed_example_follows_feed_paths() {
        assert_eq!(example_of(None), "/api/v1/feeds/{feed}");
        assert_eq!(example_of(Some("/rss/*.xml")), "/rss/{feed}.xml");
        assert_eq!(example_of(Some("not a path")), "/api/v1/feeds/{feed}");
        assert_eq!(example_of(Some("")), "");
    }

    #[test]
    fn the_enum_follows_plans() {
        assert_eq!(
            plan_enum(OPENAPI_JSON),
            serde_json::json!(["free", "pro", "unlimited"])
        );
        let custom = with_plans(
            OPENAPI_JSON,
            Some(r#"{"hobby":{},"team":{"requests_per_day":5}}"#),
        );
        assert_eq!(plan_enum(&custom), serde_json::json!(["hobby", "team"]));
        for unusable in [None, Some("{"), Some("[]"), Some("{}")] {
            assert_eq!(
                with_plans(OPENAPI_JSON, unusable),
                OPENAPI_JSON,
                "{unusable:?}"
            );
        }
    }
}
