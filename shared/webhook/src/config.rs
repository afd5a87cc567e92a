//! `WEBHOOK_URL` and `WEBHOOK_SECRET` (SPEC §14): both unset turns webhooks off; anything
//! half-set or unsafe stops the function at init with a message naming the variable.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::secret::Secret;

pub const URL_VAR: &str = "WEBHOOK_URL";
pub const SECRET_VAR: &str = "WEBHOOK_SECRET";

/// Why the webhook settings stop init. Messages name the variable and what to do; they never
/// contain the secret, nor the URL's path or query (which may hold a receiver's token): only
/// its scheme and host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("WEBHOOK_SECRET is set but WEBHOOK_URL is not: set both to send webhooks, or neither")]
    MissingUrl,
    #[error("WEBHOOK_URL is set but WEBHOOK_SECRET is not: set both to send webhooks, or neither")]
    MissingSecret,
    #[error("WEBHOOK_SECRET is empty or blank: deliveries would be signed with no secret")]
    BlankSecret,
    #[error("WEBHOOK_URL is not an absolute http(s) URL: {0}")]
    InvalidUrl(&'static str),
    #[error(
        "WEBHOOK_URL must use https:// (http:// only for localhost, 127.0.0.0/8 or [::1]); \
         got http:// to host {host}"
    )]
    InsecureUrl { host: String },
}

/// Where deliveries go, checked: `https://`, or `http://` to a loopback host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    url: String,
    host: String,
}

impl WebhookUrl {
    /// Surrounding whitespace is dropped (a URL has none); the rest is kept as given. Refused:
    /// a scheme other than http(s), no host, a bad port, credentials (`user:pass@`: the
    /// signature authenticates podkeys, and a password in a URL ends up in logs), whitespace
    /// or control characters, and `http://` to any host but a loopback one.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let url = text.trim();
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::InvalidUrl(
                "it contains whitespace or control characters",
            ));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or(ConfigError::InvalidUrl("it must start with https://"))?;
        let secure = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(ConfigError::InvalidUrl("the scheme must be https"));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ConfigError::InvalidUrl(
                "credentials (user:password@) are not supported; the signature authenticates podkeys",
            ));
        }
        let host = parse_host(authority)?;
        if !secure && !is_loopback(host) {
            return Err(ConfigError::InsecureUrl {
                host: host.to_owned(),
            });
        }
        Ok(Self {
            host: host.to_owned(),
            url: url.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The host as written (an IPv6 literal keeps its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// The host of `host[:port]` or `[v6][:port]`; the port, when present, must be 1-65535.
fn parse_host(authority: &str) -> Result<&str, ConfigError> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or(ConfigError::InvalidUrl("an IPv6 host needs its closing ]"))?;
        let (host, after) = authority.split_at(end + 1);
        if host[1..host.len() - 1].parse::<Ipv6Addr>().is_err() {
            return Err(ConfigError::InvalidUrl("the IPv6 host is not an address"));
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or(ConfigError::InvalidUrl("junk after the IPv6 host"))?,
                ),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(ConfigError::InvalidUrl("it has no host"));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Err(ConfigError::InvalidUrl("the port must be 1-65535"));
        }
    }
    Ok(host)
}

/// `localhost`, 127.0.0.0/8 and `[::1]`: traffic that never leaves the machine, so plain
/// http cannot be read or changed on the way (`make dev`'s local receiver).
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

/// The webhook settings of a deployment with webhooks on.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    url: WebhookUrl,
    secret: Secret,
}

impl WebhookConfig {
    pub fn new(url: WebhookUrl, secret: Secret) -> Self {
        Self { url, secret }
    }

    /// Reads [`URL_VAR`] and [`SECRET_VAR`] through `get` (`|name| std::env::var(name).ok()`
    /// in a function's init; a map in tests). Both unset or empty → `Ok(None)`: webhooks off.
    /// Only one of them set, a blank secret, or an unsafe URL → an error naming the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        // A variable set to "" is how templates and `make dev` pass "not configured".
        let url = get(URL_VAR).filter(|v| !v.trim().is_empty());
        let secret = get(SECRET_VAR);
        let secret_blank = secret.as_deref().is_none_or(|s| s.trim().is_empty());
        match (url, secret) {
            (None, None) => Ok(None),
            (None, Some(_)) if secret_blank => Ok(None),
            (None, Some(_)) => Err(ConfigError::MissingUrl),
            (Some(_), None) => Err(ConfigError::MissingSecret),
            (Some(url), Some(secret)) => {
                let url = WebhookUrl::parse(&url)?;
                let secret = Secret::new(secret)?;
                Ok(Some(Self { url, secret }))
            }
        }
    }

    pub fn url(&self) -> &WebhookUrl {
        &self.url
    }

    pub fn secret(&self) -> &Secret {
        &self.secret
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "do-not-print-me-4f9a";

    fn lookup(url: Option<&str>, secret: Option<&str>) -> impl Fn(&str) -> Option<String> {
        let mut vars = HashMap::new();
        if let Some(url) = url {
            vars.insert(URL_VAR, url.to_owned());
        }
        if let Some(secret) = secret {
            vars.insert(SECRET_VAR, secret.to_owned());
        }
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn both_unset_or_empty_turns_webhooks_off() {
        for (url, secret) in [
            (None, None),
            (Some(""), None),
            (None, Some("")),
            (Some(""), Some("")),
            (Some("  "), None),
            (Some(" "), Some(" \t")),
        ] {
            assert!(
                matches!(WebhookConfig::from_lookup(lookup(url, secret)), Ok(None)),
                "{url:?} {secret:?}"
            );
        }
    }

    #[test]
    fn both_set_turns_webhooks_on() {
        let config = WebhookConfig::from_lookup(lookup(
            Some(" https://hooks.example.com/podkeys?token=abc "),
            Some(SECRET),
        ))
        .expect("valid")
        .expect("on");
        assert_eq!(
            config.url().as_str(),
            "https://hooks.example.com/podkeys?token=abc"
        );
        assert_eq!(config.url().host(), "hooks.example.com");
        let same = Secret::new(SECRET).expect("non-blank");
        assert_eq!(
            crate::sign(config.secret(), 1, b"x"),
            crate::sign(&same, 1, b"x")
        );
    }

    #[test]
    fn half_set_or_blank_settings_stop_init_naming_the_variable() {
        let cases = [
            (None, Some(SECRET), ConfigError::MissingUrl, URL_VAR),
            (Some(""), Some(SECRET), ConfigError::MissingUrl, URL_VAR),
            (
                Some("https://h.example"),
                None,
                ConfigError::MissingSecret,
                SECRET_VAR,
            ),
            (
                Some("https://h.example"),
                Some(""),
                ConfigError::BlankSecret,
                SECRET_VAR,
            ),
            (
                Some("https://h.example"),
                Some("   "),
                ConfigError::BlankSecret,
                SECRET_VAR,
            ),
        ];
        for (url, secret, want, var) in cases {
            let err = WebhookConfig::from_lookup(lookup(url, secret)).expect_err("refused");
            assert_eq!(err, want, "{url:?} {secret:?}");
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    #[test]
    fn https_urls_are_accepted_anywhere() {
        for url in [
            "https://hooks.example.com",
            "https://hooks.example.com/",
            "HTTPS://hooks.example.com:8443/a/b?c=d#e",
            "https://203.0.113.9/hook",
            "https://[2001:db8::1]:443/hook",
            "https://localhost/hook",
        ] {
            assert!(WebhookUrl::parse(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn http_urls_are_accepted_only_to_loopback_hosts() {
        for url in [
            "http://localhost:9000/hook",
            "http://LOCALHOST/hook",
            "http://localhost./hook",
            "http://127.0.0.1:9000/hook",
            "http://127.255.0.7/hook",
            "http://[::1]:9000/hook",
            "http://[::1]",
            "http://localhost?x=1",
        ] {
            assert!(WebhookUrl::parse(url).is_ok(), "{url}");
        }
        for (url, host) in [
            ("http://hooks.example.com/hook", "hooks.example.com"),
            ("http://128.0.0.1/hook", "128.0.0.1"),
            ("http://10.0.0.1:9000/hook", "10.0.0.1"),
            ("http://0.0.0.0:9000/hook", "0.0.0.0"),
            ("http://[::2]/hook", "[::2]"),
            ("http://localhost.example.com/hook", "localhost.example.com"),
            // Not dotted quad: resolved by DNS, so not known to be loopback.
            ("http://127.1/hook", "127.1"),
        ] {
            assert_eq!(
                WebhookUrl::parse(url),
                Err(ConfigError::InsecureUrl { host: host.into() }),
                "{url}"
            );
        }
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        for (url, why) in [
            ("hooks.example.com/hook", "it must start with https://"),
            ("ftp://hooks.example.com", "the scheme must be https"),
            ("https:/hooks.example.com", "it must start with https://"),
            ("https://", "it has no host"),
            ("https:///path", "it has no host"),
            ("https://:443/", "it has no host"),
            ("https://h.example:/", "the port must be 1-65535"),
            ("https://h.example:0/", "the port must be 1-65535"),
            ("https://h.example:65536/", "the port must be 1-65535"),
            ("https://h.example:+80/", "the port must be 1-65535"),
            ("https://[::1/", "an IPv6 host needs its closing ]"),
            ("https://[nope]/", "the IPv6 host is not an address"),
            ("https://[::1]x/", "junk after the IPv6 host"),
            (
                "https://h.example/a b",
                "it contains whitespace or control characters",
            ),
            (
                "https://h.exa\u{7f}mple/",
                "it contains whitespace or control characters",
            ),
            (
                "https://user:pw@h.example/",
                "credentials (user:password@) are not supported; the signature authenticates podkeys",
            ),
            // The classic trick: the host is after the @, not before it.
            (
                "http://localhost@evil.example/",
                "credentials (user:password@) are not supported; the signature authenticates podkeys",
            ),
        ] {
            assert_eq!(
                WebhookUrl::parse(url),
                Err(ConfigError::InvalidUrl(why)),
                "{url}"
            );
        }
    }

    #[test]
    fn no_error_or_debug_output_ever_contains_the_secret() {
        let cases = [
            (None, Some(SECRET)),
            (Some("http://h.example/"), Some(SECRET)),
            (Some("nonsense"), Some(SECRET)),
            (Some("https://h.example/"), Some(" ")),
        ];
        for (url, secret) in cases {
            let err = WebhookConfig::from_lookup(lookup(url, secret)).expect_err("refused");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(SECRET), "{shown}");
        }
        let config = WebhookConfig::from_lookup(lookup(Some("https://h.example/"), Some(SECRET)))
            .expect("valid")
            .expect("on");
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
    }

    #[test]
    fn an_insecure_url_error_shows_the_host_but_not_the_path_or_query() {
        let err = WebhookUrl::parse("http://h.example/hook?token=tok-123").expect_err("insecure");
        let shown = err.to_string();
        assert!(shown.contains("h.example"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
    }
}
