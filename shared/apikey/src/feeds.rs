//! The feed paths (SPEC §16): where a `feeds:read` key may read, and the only place a key may
//! arrive in a URL (`?api_key=`). A comma-separated list of path globs in which `*` stands for
//! one or more characters within a single path segment (never a `/`).

use crate::Error;

/// The SPEC's default `FEED_PATHS`.
pub const DEFAULT_FEED_PATHS: &str = "/api/v1/feeds/*,/api/v1/episodes/*/audio";

/// The parsed `FEED_PATHS` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPaths(Vec<Vec<String>>);

impl FeedPaths {
    /// At most this many globs; each at most 256 characters.
    pub const MAX_GLOBS: usize = 20;

    /// `"/a/*,/b/*/c"`: every glob starts with `/`; segments are not empty; `**` is refused
    /// (it would suggest matching across segments, which `*` never does).
    pub fn parse(list: &str) -> Result<Self, Error> {
        let bad = |why| Err(Error::InvalidFeedPaths(why));
        let mut globs = Vec::new();
        for glob in list.split(',').map(str::trim) {
            if glob.is_empty() {
                return bad("an empty entry");
            }
            if !glob.starts_with('/') || glob.len() > 256 {
                return bad("every entry is a path starting with / (at most 256 characters)");
            }
            if glob.contains("**") || glob.contains('?') || glob.chars().any(char::is_whitespace) {
                return bad("only single * wildcards within a segment are supported");
            }
            let segments: Vec<String> = glob[1..].split('/').map(str::to_owned).collect();
            if segments.iter().any(String::is_empty) {
                return bad("an entry has an empty path segment");
            }
            globs.push(segments);
        }
        if globs.len() > Self::MAX_GLOBS {
            return bad("at most 20 entries");
        }
        Ok(Self(globs))
    }

    /// No feed paths at all: feed keys can read nothing.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Whether `path` (the request path without the stage) is a feed path.
    pub fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        self.0.iter().any(|glob| {
            glob.len() == segments.len()
                && glob
                    .iter()
                    .zip(&segments)
                    .all(|(g, s)| segment_matches(g, s))
        })
    }

    /// The first glob with each `*` as `{feed}`: an example URL path for people.
    pub fn example(&self) -> Option<String> {
        let glob = self.0.first()?;
        Some(format!("/{}", glob.join("/").replace('*', "{feed}")))
    }
}

impl Default for FeedPaths {
    fn default() -> Self {
        Self::parse(DEFAULT_FEED_PATHS).unwrap_or_else(|_| Self::none())
    }
}

/// `*` matches one or more characters; everything else matches itself.
fn segment_matches(glob: &str, segment: &str) -> bool {
    if segment.is_empty() {
        return false;
    }
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == segment;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !segment.starts_with(first) || !segment[first.len()..].ends_with(last) {
        return false;
    }
    // Each `*` takes at least one character.
    let stars = parts.len() - 1;
    if segment.len() < first.len() + last.len() + stars {
        return false;
    }
    let mut rest = &segment[first.len()..segment.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        // One character at least for the star before this part.
        let Some(skip) = rest.char_indices().nth(1).map(|(i, _)| i) else {
            return false;
        };
        match rest[skip..].find(middle) {
            Some(at) => rest = &rest[skip + at + middle.len()..],
            None => return false,
        }
    }
    !rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_matches_feeds_and_audio_within_one_segment() {
        let f = FeedPaths::default();
        for yes in [
            "/api/v1/feeds/42",
            "/api/v1/feeds/my-show.xml",
            "/api/v1/episodes/7/audio",
        ] {
            assert!(f.matches(yes), "{yes}");
        }
        for no in [
            "/api/v1/feeds",
            "/api/v1/feeds/",
            "/api/v1/feeds/42/episodes",
            "/api/v1/feeds/a/b",
            "/api/v1/episodes/7/audio/x",
            "/api/v1/episodes//audio",
            "/api/v1/podcasts/1",
            "api/v1/feeds/42",
            "/API/v1/feeds/42",
        ] {
            assert!(!f.matches(no), "{no}");
        }
        assert_eq!(f.example().as_deref(), Some("/api/v1/feeds/{feed}"));
    }

    #[test]
    fn stars_inside_a_segment() {
        let f = FeedPaths::parse("/rss/*.xml, /a/x*y*z").expect("valid");
        assert!(f.matches("/rss/show.xml"));
        assert!(!f.matches("/rss/.xml"));
        assert!(!f.matches("/rss/show.json"));
        assert!(f.matches("/a/x1y2z"));
        assert!(!f.matches("/a/xyz"));
        assert!(!f.matches("/a/x1y2"));
    }

    #[test]
    fn bad_lists_are_refused() {
        for bad in ["", "feeds/*", "/a,,/b", "/a//b", "/a/**", "/a/?", "/a b"] {
            assert!(FeedPaths::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FeedPaths::parse(&vec!["/a"; 21].join(",")).is_err());
    }
}
