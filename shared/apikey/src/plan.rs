//! Plans (SPEC §10): a name on every key, and the limits the operator configured for it.

use std::collections::BTreeMap;
use std::fmt;

use crate::Error;

/// A plan's name: 1–32 of `a-z 0-9 _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanName(String);

impl PlanName {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || (i > 0 && (b == b'_' || b == b'-'))
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::InvalidPlanName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A plan's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanLimits {
    pub requests_per_minute: Option<u32>,
    pub requests_per_day: Option<u32>,
}

impl PlanLimits {
    pub fn is_unlimited(self) -> bool {
        self.requests_per_minute.is_none() && self.requests_per_day.is_none()
    }
}

/// The operator's plans and the one new keys get unless an admin names another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plans {
    plans: BTreeMap<PlanName, PlanLimits>,
    default: PlanName,
}

impl Plans {
    /// `default` must be one of `plans`.
    pub fn new(plans: BTreeMap<PlanName, PlanLimits>, default: PlanName) -> Result<Self, Error> {
        if plans.contains_key(&default) {
            Ok(Self { plans, default })
        } else {
            Err(Error::UnknownPlan(default.0))
        }
    }

    /// One plan, `unlimited`, the default.
    pub fn unlimited_only() -> Self {
        let name = PlanName("unlimited".into());
        Self {
            plans: BTreeMap::from([(name.clone(), PlanLimits::default())]),
            default: name,
        }
    }

    pub fn default_plan(&self) -> &PlanName {
        &self.default
    }

    /// A plan by name; an unknown name is the client's error (400).
    pub fn resolve(&self, name: &str) -> Result<(&PlanName, PlanLimits), Error> {
        self.plans
            .get_key_value(name)
            .map(|(n, l)| (n, *l))
            .ok_or_else(|| Error::UnknownPlan(name.chars().take(64).collect()))
    }

    /// The limits of a stored plan name; a plan the operator has since removed counts as the
    /// default plan's (a key never becomes unlimited by configuration drift).
    pub fn limits(&self, name: &PlanName) -> PlanLimits {
        self.plans
            .get(name)
            .or_else(|| self.plans.get(&self.default))
            .copied()
            .unwrap_or_default()
    }

    pub fn names(&self) -> impl Iterator<Item = &PlanName> {
        self.plans.keys()
    }
}

impl std::borrow::Borrow<str> for PlanName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PlanName {
        PlanName::parse(s).expect("valid")
    }

    #[test]
    fn plan_names() {
        for ok in ["free", "pro", "a", "team-2", "x_y", "0day"] {
            assert!(PlanName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Free", "-x", "_x", "a b", "é", &"a".repeat(33)] {
            assert!(PlanName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resolving_and_limits() {
        let free = PlanLimits {
            requests_per_minute: Some(100),
            requests_per_day: Some(10_000),
        };
        let plans = Plans::new(
            BTreeMap::from([
                (name("free"), free),
                (name("unlimited"), PlanLimits::default()),
            ]),
            name("free"),
        )
        .expect("default is a plan");
        assert_eq!(plans.resolve("free").map(|(_, l)| l), Ok(free));
        assert!(
            plans
                .resolve("unlimited")
                .is_ok_and(|(_, l)| l.is_unlimited())
        );
        assert_eq!(
            plans.resolve("gold"),
            Err(Error::UnknownPlan("gold".into()))
        );
        assert_eq!(plans.limits(&name("retired")), free);
        assert!(Plans::new(BTreeMap::new(), name("free")).is_err());
    }
}
