//! The user-supplied strings a key carries: owner id, name, description.

use std::fmt;

use crate::Error;

/// Who a key belongs to: 1–128 characters from `A–Z a–z 0–9 . _ - @ + : |`, which covers
/// user ids, e-mail addresses and identity-provider subjects such as `auth0|123`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(String);

impl OwnerId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Result<Self, Error> {
        let allowed = |c: u8| c.is_ascii_alphanumeric() || b"._-@+:|".contains(&c);
        if (1..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(allowed) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::InvalidOwnerId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerId({})", self.0)
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key's name: 1–100 characters, not blank, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.trim().is_empty() {
            return Err(Error::InvalidName("must not be empty or blank"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(Error::InvalidName("must be at most 100 characters"));
        }
        if s.chars().any(char::is_control) {
            return Err(Error::InvalidName("must not contain control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key's description: at most 500 characters; line breaks and tabs are allowed, other
/// control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.chars().count() > Self::MAX_CHARS {
            return Err(Error::InvalidDescription("must be at most 500 characters"));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Error::InvalidDescription(
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_ids_accept_user_ids_emails_and_subjects() {
        for ok in [
            "u1",
            "alice@example.com",
            "auth0|5f1c",
            "team:podcasts",
            "a-b_c.d+e",
        ] {
            assert!(OwnerId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn owner_ids_reject_empty_long_spaced_and_exotic_strings() {
        let long = "a".repeat(129);
        for bad in ["", " ", "a b", "ålice", "a/b", "a\0b", "<x>", long.as_str()] {
            assert_eq!(OwnerId::parse(bad), Err(Error::InvalidOwnerId), "{bad:?}");
        }
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(KeyName::parse(&"é".repeat(100)).is_ok());
        assert!(KeyName::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn names_must_be_non_blank_and_free_of_control_characters() {
        for bad in ["", "   ", "a\nb", "tab\there", "nul\0", "\u{7f}del"] {
            assert!(KeyName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            KeyName::parse("<img src=x onerror=alert(1)>").map(|n| n.as_str().to_owned()),
            Ok("<img src=x onerror=alert(1)>".to_owned())
        );
    }

    #[test]
    fn descriptions_allow_line_breaks_but_not_other_control_characters() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse("line one\nline two\tok").is_ok());
        assert!(Description::parse("bell\u{7}").is_err());
        assert!(Description::parse(&"x".repeat(500)).is_ok());
        assert!(Description::parse(&"x".repeat(501)).is_err());
    }
}
