//! Configuration from the environment, checked once at init.

use std::time::Duration;

use apikey::KeyPrefix;

/// What every function reads from its environment (SPEC §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub key_prefix: KeyPrefix,
    pub retention: Duration,
    pub last_used_interval: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("TABLE_NAME is not set: name the DynamoDB table that holds the keys")]
    MissingTable,
    #[error("KEY_PREFIX {0:?} is invalid: it must match [a-z][a-z0-9]{{1,9}}")]
    Prefix(String),
    #[error("{0} must be a whole number (got {1:?})")]
    NotANumber(&'static str, String),
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
        Ok(Self {
            table_name,
            key_prefix,
            retention: Duration::from_secs(number("RETENTION_DAYS", 30)?.saturating_mul(86_400)),
            last_used_interval: Duration::from_secs(number("LAST_USED_INTERVAL_SECS", 60)?),
        })
    }
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
    fn only_the_table_name_is_required() {
        let c = Config::from_lookup(lookup(&[("TABLE_NAME", "keys")])).expect("valid");
        assert_eq!(c.key_prefix.as_str(), "pod");
        assert_eq!(c.retention, Duration::from_secs(30 * 86_400));
        assert_eq!(c.last_used_interval, Duration::from_secs(60));
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
                &[("TABLE_NAME", "t"), ("LAST_USED_INTERVAL_SECS", "-1")],
                "LAST_USED_INTERVAL_SECS",
            ),
        ];
        for (pairs, named) in cases {
            let err = Config::from_lookup(lookup(pairs)).expect_err("invalid");
            assert!(err.to_string().contains(named), "{err}");
        }
    }
}
