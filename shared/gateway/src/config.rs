//! Configuration from the environment, checked once at init.

use std::time::Duration;

use std::collections::BTreeMap;

use apikey::{FeedPaths, KeyPrefix, PlanLimits, PlanName, Plans};

/// What every function reads from its environment (SPEC §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub key_prefix: KeyPrefix,
    pub retention: Duration,
    /// How long audit events are kept (`AUDIT_RETENTION_DAYS`, default 365, SPEC §11).
    pub audit_retention: Duration,
    pub last_used_interval: Duration,
    /// How long the authorizer keeps a key-day's counts before it writes them
    /// (`USAGE_FLUSH_SECS`, 1-3600, default 10, SPEC §12).
    pub usage_flush: Duration,
    /// The assertion signing keys' table (`SIGNING_TABLE_NAME`, default `<TABLE_NAME>-signing`).
    pub signing_table_name: String,
    /// `aud` of every assertion (`ASSERTION_AUDIENCE`, default `podcast-backend`).
    pub assertion_audience: String,
    /// `iss` of every assertion when set (`ASSERTION_ISSUER`); else derived from the request.
    pub assertion_issuer: Option<String>,
    /// Most active keys one owner may hold (`MAX_ACTIVE_KEYS_PER_OWNER`, default 100).
    pub max_active_keys_per_owner: usize,
    /// Where `feeds:read` keys may read, and the only paths a key may arrive in `?api_key=`
    /// (`FEED_PATHS`, SPEC §16).
    pub feed_paths: FeedPaths,
    /// The plans and the default one (`PLANS`, `DEFAULT_PLAN`, SPEC §10).
    pub plans: Plans,
    /// The usage plans' API key values the authorizer names in `usageIdentifierKey`
    /// (`USAGE_KEY_UNLIMITED`, `USAGE_KEY_BLOCKED`; SPEC §10). Not secrets: with the API key
    /// source `AUTHORIZER` a client never presents them.
    pub usage_keys: UsageKeys,
}

/// The two usage-plan keys: every Allow names one, and API Gateway answers 429 for the
/// blocked one (its usage plan throttles at 0 requests per second, quota 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageKeys {
    pub unlimited: String,
    pub blocked: String,
}

/// `make dev`'s values (the local gateway reads the same variables).
pub const DEFAULT_USAGE_KEY_UNLIMITED: &str = "podkeys-local-usage-unlimited";
pub const DEFAULT_USAGE_KEY_BLOCKED: &str = "podkeys-local-usage-blocked";

impl UsageKeys {
    /// From the two variables (unset: `make dev`'s values). API Gateway takes a key value of
    /// 20 to 128 characters (the `CreateApiKey` `value` limits); the two must differ.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let one = |name: &'static str, default: &str| {
            let value = get(name).unwrap_or_else(|| default.to_owned());
            let valid = (20..=128).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if valid {
                Ok(value)
            } else {
                Err(ConfigError::Invalid(
                    name,
                    value.chars().take(140).collect(),
                    "20-128 of A-Z a-z 0-9 - _",
                ))
            }
        };
        let keys = Self {
            unlimited: one("USAGE_KEY_UNLIMITED", DEFAULT_USAGE_KEY_UNLIMITED)?,
            blocked: one("USAGE_KEY_BLOCKED", DEFAULT_USAGE_KEY_BLOCKED)?,
        };
        if keys.unlimited == keys.blocked {
            return Err(ConfigError::Invalid(
                "USAGE_KEY_BLOCKED",
                keys.blocked,
                "must differ from USAGE_KEY_UNLIMITED",
            ));
        }
        Ok(keys)
    }
}

impl Default for UsageKeys {
    fn default() -> Self {
        Self {
            unlimited: DEFAULT_USAGE_KEY_UNLIMITED.into(),
            blocked: DEFAULT_USAGE_KEY_BLOCKED.into(),
        }
    }
}

pub const DEFAULT_AUDIENCE: &str = "podcast-backend";
/// SPEC §10's default `PLANS` and `DEFAULT_PLAN`.
pub const DEFAULT_PLANS: &str = r#"{"free":{"requests_per_minute":100,"requests_per_day":10000},"pro":{"requests_per_minute":1000},"unlimited":{}}"#;
pub const DEFAULT_PLAN: &str = "free";
pub const DEFAULT_MAX_ACTIVE_KEYS: usize = 100;
/// Days audit events are kept unless `AUDIT_RETENTION_DAYS` says otherwise (SPEC §11).
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 365;
/// Seconds the authorizer keeps usage counts before writing them (SPEC §12).
pub const DEFAULT_USAGE_FLUSH_SECS: u64 = 10;
/// Above this the per-owner count would cost more than a page of reads per create.
pub const MAX_MAX_ACTIVE_KEYS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("TABLE_NAME is not set: name the DynamoDB table that holds the keys")]
    MissingTable,
    #[error("KEY_PREFIX {0:?} is invalid: it must match [a-z][a-z0-9]{{1,9}}")]
    Prefix(String),
    #[error("{0} must be a whole number (got {1:?})")]
    NotANumber(&'static str, String),
    #[error("{0} is invalid ({1:?}): {2}")]
    Invalid(&'static str, String, &'static str),
    #[error("{0}")]
    Domain(#[from] apikey::Error),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = get("TABLE_NAME")
            .filter(|t| !t.trim().is_empty())
            .ok_or(ConfigError::MissingTable)?;
        let key_prefix = match get("KEY_PREFIX") {
            None => KeyPrefix::default(),
            Some(p) => KeyPrefix::parse(&p).map_err(|_| ConfigError::Prefix(p))?,
        };
        let number = |name: &'static str, default: u64| match get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ConfigError::NotANumber(name, v)),
        };
        let audience = get("ASSERTION_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into());
        if audience.is_empty() || audience.len() > 256 || audience.chars().any(char::is_control) {
            return Err(ConfigError::Invalid(
                "ASSERTION_AUDIENCE",
                audience,
                "1-256 characters, no control characters",
            ));
        }
        let issuer = get("ASSERTION_ISSUER").filter(|i| !i.is_empty());
        if let Some(iss) = &issuer
            && !(iss.starts_with("https://") || is_loopback_url(iss))
        {
            return Err(ConfigError::Invalid(
                "ASSERTION_ISSUER",
                iss.clone(),
                "an https:// URL (http:// only on loopback)",
            ));
        }
        let max_keys = number("MAX_ACTIVE_KEYS_PER_OWNER", DEFAULT_MAX_ACTIVE_KEYS as u64)?;
        let max_active_keys_per_owner = match usize::try_from(max_keys) {
            Ok(n @ 1..=MAX_MAX_ACTIVE_KEYS) => n,
            _ => {
                return Err(ConfigError::Invalid(
                    "MAX_ACTIVE_KEYS_PER_OWNER",
                    max_keys.to_string(),
                    "a whole number from 1 to 10000",
                ));
            }
        };
        let plans = parse_plans(
            get("PLANS").as_deref().unwrap_or(DEFAULT_PLANS),
            get("DEFAULT_PLAN").as_deref().unwrap_or(DEFAULT_PLAN),
        )?;
        let feed_paths = match get("FEED_PATHS") {
            None => FeedPaths::default(),
            // Set but empty: no feed paths, so no key is ever taken from a URL.
            Some(list) if list.trim().is_empty() => FeedPaths::none(),
            Some(list) => FeedPaths::parse(&list)?,
        };
        let signing_table_name = get("SIGNING_TABLE_NAME")
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| keystore::signing::default_signing_table(&table_name));
        let usage_keys = UsageKeys::from_lookup(&get)?;
        let audit_days = number("AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS)?;
        if audit_days == 0 {
            return Err(ConfigError::Invalid(
                "AUDIT_RETENTION_DAYS",
                audit_days.to_string(),
                "at least 1 day",
            ));
        }
        let audit_retention = Duration::from_secs(audit_days.saturating_mul(86_400));
        let flush_secs = number("USAGE_FLUSH_SECS", DEFAULT_USAGE_FLUSH_SECS)?;
        if !(1..=3600).contains(&flush_secs) {
            return Err(ConfigError::Invalid(
                "USAGE_FLUSH_SECS",
                flush_secs.to_string(),
                "a whole number of seconds from 1 to 3600",
            ));
        }
        Ok(Self {
            usage_flush: Duration::from_secs(flush_secs),
            usage_keys,
            retention: Duration::from_secs(number("RETENTION_DAYS", 30)?.saturating_mul(86_400)),
            audit_retention,
            last_used_interval: Duration::from_secs(number("LAST_USED_INTERVAL_SECS", 60)?),
            signing_table_name,
            assertion_audience: audience,
            assertion_issuer: issuer,
            max_active_keys_per_owner,
            feed_paths,
            plans,
            table_name,
            key_prefix,
        })
    }

    /// The defaults for a table (what `from_env` gives with only `TABLE_NAME` set), for tests
    /// and tools that build a configuration in code.
    pub fn for_table(table_name: &str) -> Self {
        Self {
            table_name: table_name.to_owned(),
            key_prefix: KeyPrefix::default(),
            retention: Duration::from_secs(30 * 86_400),
            audit_retention: Duration::from_secs(DEFAULT_AUDIT_RETENTION_DAYS * 86_400),
            last_used_interval: Duration::from_secs(60),
            usage_flush: Duration::from_secs(DEFAULT_USAGE_FLUSH_SECS),
            signing_table_name: keystore::signing::default_signing_table(table_name),
            assertion_audience: DEFAULT_AUDIENCE.into(),
            assertion_issuer: None,
            max_active_keys_per_owner: DEFAULT_MAX_ACTIVE_KEYS,
            feed_paths: FeedPaths::default(),
            plans: default_plans(),
            usage_keys: UsageKeys::default(),
        }
    }
}

/// SPEC §10's default plans.
pub fn default_plans() -> Plans {
    // The constants above parse (a test checks it); the fallback only keeps a panic out.
    parse_plans(DEFAULT_PLANS, DEFAULT_PLAN).unwrap_or_else(|_| Plans::unlimited_only())
}

/// `PLANS`: a JSON object, plan name → `{"requests_per_minute"?, "requests_per_day"?}`
/// (whole numbers from 1 to 1,000,000,000; a missing limit is unlimited; nothing else
/// allowed), and `DEFAULT_PLAN`, one of its names.
pub fn parse_plans(json: &str, default: &str) -> Result<Plans, ConfigError> {
    let bad =
        |why: &'static str| ConfigError::Invalid("PLANS", json.chars().take(200).collect(), why);
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| bad("not JSON"))?;
    let object = value.as_object().ok_or_else(|| bad("not a JSON object"))?;
    if object.is_empty() || object.len() > 50 {
        return Err(bad("1 to 50 plans"));
    }
    let mut plans = BTreeMap::new();
    for (name, limits) in object {
        let name =
            PlanName::parse(name).map_err(|_| bad("a plan name is not 1-32 of a-z 0-9 _ -"))?;
        let limits = limits
            .as_object()
            .ok_or_else(|| bad("a plan is not a JSON object"))?;
        let mut plan = PlanLimits::default();
        for (field, v) in limits {
            let n = v
                .as_u64()
                .filter(|n| (1..=1_000_000_000).contains(n))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("limits are whole numbers from 1 to 1000000000"))?;
            match field.as_str() {
                "requests_per_minute" => plan.requests_per_minute = Some(n),
                "requests_per_day" => plan.requests_per_day = Some(n),
                _ => {
                    return Err(bad(
                        "a plan has only requests_per_minute and requests_per_day",
                    ));
                }
            }
        }
        plans.insert(name, plan);
    }
    let default_name = PlanName::parse(default)
        .map_err(|_| ConfigError::Invalid("DEFAULT_PLAN", default.into(), "not a plan name"))?;
    Plans::new(plans, default_name)
        .map_err(|_| ConfigError::Invalid("DEFAULT_PLAN", default.into(), "not one of PLANS"))
}

/// `http://localhost…`, `http://127.…` or `http://[::1]…`: the only places plain HTTP is
/// accepted (a developer's machine).
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if host.starts_with('[') {
        match host.split_once(']') {
            Some((ip, port)) if port.is_empty() || port.starts_with(':') => &host[..=ip.len()],
            _ => "",
        }
    } else {
        host.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn usage_keys_default_to_make_devs_and_bad_ones_stop_init() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).expect("valid");
        assert_eq!(config.usage_keys, UsageKeys::default());
        let set = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("USAGE_KEY_UNLIMITED", "stack-123456789012-usage-unlimited"),
            ("USAGE_KEY_BLOCKED", "stack-123456789012-usage-blocked"),
        ]))
        .expect("valid");
        assert_eq!(set.usage_keys.blocked, "stack-123456789012-usage-blocked");
        for (name, value) in [
            ("USAGE_KEY_UNLIMITED", "short"),
            ("USAGE_KEY_BLOCKED", "has a space in it somewhere"),
            ("USAGE_KEY_BLOCKED", DEFAULT_USAGE_KEY_UNLIMITED),
        ] {
            let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), (name, value)]))
                .expect_err(value);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn an_empty_feed_paths_turns_feed_urls_off() {
        let off =
            Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("FEED_PATHS", "")])).expect("valid");
        assert_eq!(off.feed_paths, FeedPaths::none());
        assert!(!off.feed_paths.matches("/api/v1/feeds/1"));
        let on = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).expect("valid");
        assert!(on.feed_paths.matches("/api/v1/feeds/1"));
    }

    #[test]
    fn the_default_plans_are_the_specs() {
        let plans = default_plans();
        assert_eq!(plans.default_plan().as_str(), "free");
        assert_eq!(
            plans.resolve("free").map(|(_, l)| l),
            Ok(PlanLimits {
                requests_per_minute: Some(100),
                requests_per_day: Some(10_000)
            })
        );
        assert!(
            plans
                .resolve("unlimited")
                .is_ok_and(|(_, l)| l.is_unlimited())
        );
        assert_eq!(parse_plans(DEFAULT_PLANS, DEFAULT_PLAN), Ok(plans));
        let custom = parse_plans(r#"{"tiny":{"requests_per_day":3}}"#, "tiny").expect("valid");
        assert_eq!(
            custom.resolve("tiny").map(|(_, l)| l.requests_per_day),
            Ok(Some(3))
        );
    }

    #[test]
    fn only_the_table_name_is_required() {
        let c = Config::from_lookup(lookup(&[("TABLE_NAME", "keys")])).expect("valid");
        assert_eq!(c.key_prefix.as_str(), "pod");
        assert_eq!(c.retention, Duration::from_secs(30 * 86_400));
        assert_eq!(c.last_used_interval, Duration::from_secs(60));
        assert_eq!(c.usage_flush, Duration::from_secs(10));
        assert_eq!(c, Config::for_table("keys"));
        assert_eq!(c.signing_table_name, "keys-signing");
        assert_eq!(c.assertion_audience, "podcast-backend");
        assert_eq!(c.max_active_keys_per_owner, 100);
    }

    #[test]
    fn plain_http_is_loopback_only() {
        for url in [
            "http://localhost:3000",
            "http://127.0.0.1/x",
            "http://[::1]:8080/",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://localhost",
            "http://example.com",
            "http://127.evil.example",
            "http://localhost.evil.example",
            "http://[::1].evil",
            "http://",
            "ftp://127.0.0.1",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn bad_configuration_is_refused_with_a_message_naming_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "TABLE_NAME"),
            (&[("TABLE_NAME", " ")], "TABLE_NAME"),
            (&[("TABLE_NAME", "t"), ("KEY_PREFIX", "AP")], "KEY_PREFIX"),
            (
                &[("TABLE_NAME", "t"), ("RETENTION_DAYS", "x")],
                "RETENTION_DAYS",
            ),
            (
                &[("TABLE_NAME", "t"), ("AUDIT_RETENTION_DAYS", "0")],
                "AUDIT_RETENTION_DAYS",
            ),
            (
                &[("TABLE_NAME", "t"), ("AUDIT_RETENTION_DAYS", "a year")],
                "AUDIT_RETENTION_DAYS",
            ),
            (
                &[("TABLE_NAME", "t"), ("USAGE_FLUSH_SECS", "0")],
                "USAGE_FLUSH_SECS",
            ),
            (
                &[("TABLE_NAME", "t"), ("USAGE_FLUSH_SECS", "3601")],
                "USAGE_FLUSH_SECS",
            ),
            (
                &[("TABLE_NAME", "t"), ("LAST_USED_INTERVAL_SECS", "-1")],
                "LAST_USED_INTERVAL_SECS",
            ),
            (
                &[("TABLE_NAME", "t"), ("ASSERTION_AUDIENCE", "")],
                "ASSERTION_AUDIENCE",
            ),
            (
                &[
                    ("TABLE_NAME", "t"),
                    ("ASSERTION_ISSUER", "http://api.example"),
                ],
                "ASSERTION_ISSUER",
            ),
            (
                &[("TABLE_NAME", "t"), ("MAX_ACTIVE_KEYS_PER_OWNER", "0")],
                "MAX_ACTIVE_KEYS_PER_OWNER",
            ),
            (
                &[
                    ("TABLE_NAME", "t"),
                    ("MAX_ACTIVE_KEYS_PER_OWNER", "1000000"),
                ],
                "MAX_ACTIVE_KEYS_PER_OWNER",
            ),
            (
                &[("TABLE_NAME", "t"), ("FEED_PATHS", "feeds/*")],
                "FEED_PATHS",
            ),
            (
                &[("TABLE_NAME", "t"), ("FEED_PATHS", "/a,,/b")],
                "FEED_PATHS",
            ),
        ];
        for (pairs, named) in cases {
            let err = Config::from_lookup(lookup(pairs)).expect_err("invalid");
            assert!(err.to_string().contains(named), "{err}");
        }
    }
}
