//! The onboarding layer's error type, and input problems as data: each names the attribute path
//! that holds the bad value, so the resource layer can turn it into a diagnostic on that path.

use std::fmt;

/// One step of the path to a bad input value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathSegment {
    /// An attribute or nested block.
    Attr(&'static str),
    /// A map key.
    Key(String),
}

/// A problem with one input value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputIssue {
    /// Where the bad value is, from the top of the plan set.
    pub path: Vec<PathSegment>,
    /// Short summary, for the diagnostic's title.
    pub summary: String,
    /// What is wrong and how to fix it.
    pub detail: String,
}

impl InputIssue {
    pub(crate) fn new(
        path: Vec<PathSegment>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        InputIssue {
            path,
            summary: summary.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.path.iter().enumerate() {
            match seg {
                PathSegment::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathSegment::Attr(a) => write!(f, ".{a}")?,
                PathSegment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        write!(f, ": {}: {}", self.summary, self.detail)
    }
}

/// Errors of the onboarding domain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnboardingError {
    /// The plan set input is invalid; every problem found is listed.
    #[error("invalid plan set: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InputIssue>),
    /// An ARN or id given to build a trust policy is malformed.
    #[error("{what} {value:?} is malformed: {expected}")]
    Malformed {
        /// Which input.
        what: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}
