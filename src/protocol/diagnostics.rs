//! Diagnostics (errors and warnings shown by Terraform) and attribute paths.

use std::fmt;

/// One step of an [`AttrPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute or nested block name.
    Attr(String),
    /// A list (or tuple) index.
    Index(i64),
    /// A map key.
    Key(String),
}

/// Path to an attribute, e.g. `AttrPath::root("aws").attr("assume_role").index(0).attr("role_arn")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrPath {
    steps: Vec<PathStep>,
}

impl AttrPath {
    /// A path starting at the top-level attribute `name`.
    pub fn root(name: &str) -> Self {
        AttrPath {
            steps: vec![PathStep::Attr(name.to_owned())],
        }
    }

    /// A path made of `steps`, first to last (empty: the whole value).
    pub fn from_steps(steps: Vec<PathStep>) -> Self {
        AttrPath { steps }
    }

    /// Appends an attribute (or nested block) step.
    pub fn attr(mut self, name: &str) -> Self {
        self.steps.push(PathStep::Attr(name.to_owned()));
        self
    }

    /// Appends a list index step.
    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::Index(index));
        self
    }

    /// Appends a map key step.
    pub fn key(mut self, key: &str) -> Self {
        self.steps.push(PathStep::Key(key.to_owned()));
        self
    }

    /// The steps, first to last.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => f.write_str(a)?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown, but the operation continues.
    Warning,
}

/// One message for the Terraform user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// Actionable detail.
    pub detail: String,
    /// The attribute the user should fix, when input caused the problem.
    pub attribute: Option<AttrPath>,
}

/// An ordered collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }

    /// Adds a warning.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }

    /// Adds an error about the attribute at `path`.
    pub fn attribute_error(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary, detail, Some(path));
    }

    /// Adds a warning about the attribute at `path`.
    pub fn attribute_warning(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary, detail, Some(path));
    }

    /// Adds a diagnostic.
    pub fn add(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        attribute: Option<AttrPath>,
    ) {
        self.items.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            attribute,
        });
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Whether there are no diagnostics at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All diagnostics, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Moves all diagnostics of `other` to the end of `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_and_reports_errors() {
        let mut d = Diagnostics::new();
        d.warning("w", "");
        assert!(!d.has_errors());
        let path = AttrPath::root("aws").attr("assume_role").index(0).key("k");
        d.attribute_error(path.clone(), "bad", "fix it");
        assert!(d.has_errors());
        assert_eq!(path.to_string(), "aws.assume_role[0][\"k\"]");
        let mut other = Diagnostics::new();
        other.error("e", "");
        d.extend(other);
        assert_eq!(d.iter().count(), 3);
        assert_eq!(
            d.iter().nth(1).and_then(|x| x.attribute.clone()),
            Some(path)
        );
    }
}
