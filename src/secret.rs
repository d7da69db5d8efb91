//! `Secret`: a credential string that cannot leak through `Debug`, `Display` or serialization.
//!
//! Client secrets, access keys and tokens are wrapped in [`Secret`] as soon as they are read
//! from configuration or the environment. The only way to get the text back is
//! [`Secret::expose`], which makes every place that hands a secret to a library easy to find.

use std::fmt;

/// A secret value (client secret, secret access key, session or OIDC token).
///
/// `Debug` prints `Secret(***)`; there is deliberately no `Display` and no `Serialize`.
///
/// ```
/// use terraform_provider_multicloud::secret::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "Secret(***)");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret text, for handing it to the library that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string (an unset environment variable is often `""`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("super-secret-value");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s:#?}"), "Secret(***)");
    }

    #[test]
    fn debug_of_containing_struct_is_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            name: &'static str,
            secret: Option<Secret>,
        }
        let h = Holder {
            name: "app",
            secret: Some(Secret::from("p@ss")),
        };
        let out = format!("{h:?}");
        assert!(!out.contains("p@ss"), "{out}");
        assert!(out.contains("Secret(***)"), "{out}");
    }

    #[test]
    fn expose_returns_value() {
        let s = Secret::from(String::from("abc"));
        assert_eq!(s.expose(), "abc");
        assert!(!s.is_empty());
        assert!(Secret::new("").is_empty());
    }
}
