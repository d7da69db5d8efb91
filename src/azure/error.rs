//! `AzureError`: every failure of the Azure layer, classified once from ARM's answer.

use crate::http::TransportFailure;
use std::fmt;
use std::time::Duration;

/// What ARM said about a failed request, kept for the diagnostic and for support tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmErrorDetails {
    /// HTTP method of the failed request.
    pub method: String,
    /// URL of the failed request.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// ARM `error.code` (empty when the body had none).
    pub code: String,
    /// ARM `error.message`, or the raw body when it was not ARM's error shape.
    pub message: String,
    /// ARM `error.target`, when given.
    pub target: Option<String>,
    /// `x-ms-request-id` response header.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id` response header.
    pub correlation_id: Option<String>,
}

/// ARM's `error.code` for a write refused because an earlier operation on the same resource
/// still runs (HTTP 409).
pub(crate) const OPERATION_IN_PROGRESS: &str = "AnotherOperationInProgress";

impl ArmErrorDetails {
    /// Whether ARM refused the request because another operation on the resource still runs.
    pub fn is_operation_in_progress(&self) -> bool {
        self.status == 409 && self.code == OPERATION_IN_PROGRESS
    }
}

impl fmt::Display for ArmErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} returned {}", self.method, self.url, self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(t) = &self.target {
            write!(f, " (target {t})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [x-ms-request-id {id}")?;
            if let Some(c) = &self.correlation_id {
                write!(f, ", correlation id {c}")?;
            }
            f.write_str("]")?;
        } else if let Some(c) = &self.correlation_id {
            write!(f, " [correlation id {c}]")?;
        }
        Ok(())
    }
}

/// Errors of the Azure client layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AzureError {
    /// The configuration is incomplete or invalid; `attribute` names the HCL attribute
    /// (`azure.tenant_id`) or environment variable at fault.
    #[error("{message}")]
    Config {
        /// Attribute path (`azure.tenant_id`) or environment variable name.
        attribute: String,
        /// Full explanation including the fix.
        message: String,
    },
    /// A token could not be obtained; `message` carries the real cause (AADSTS code, TLS error, ...).
    #[error("Azure authentication ({method}) failed: {message}")]
    Credential {
        /// The credential kind (client secret, OIDC, CLI, managed identity).
        method: String,
        /// Cause chain, with secrets scrubbed.
        message: String,
    },
    /// The request never got an HTTP answer.
    #[error("{method} {url} failed ({kind:?}): {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Target URL.
        url: String,
        /// Kind of failure (TLS, DNS, connect, ...).
        kind: TransportFailure,
        /// Cause chain.
        message: String,
    },
    /// 404: the object does not exist.
    #[error("not found: {0}")]
    NotFound(Box<ArmErrorDetails>),
    /// The object already exists (ARM codes such as `ResourceExists`).
    #[error("already exists: {0}")]
    AlreadyExists(Box<ArmErrorDetails>),
    /// 409 for another reason (an operation in progress, a state conflict).
    #[error("conflict: {0}")]
    Conflict(Box<ArmErrorDetails>),
    /// 429 after retries were exhausted.
    #[error("throttled: {0}")]
    Throttled(Box<ArmErrorDetails>),
    /// 403: the principal lacks a role assignment.
    #[error("permission denied: {0}")]
    PermissionDenied(Box<ArmErrorDetails>),
    /// 401: the token was rejected.
    #[error("unauthenticated: {0}")]
    Unauthenticated(Box<ArmErrorDetails>),
    /// 400: the request was invalid.
    #[error("invalid request: {0}")]
    Invalid(Box<ArmErrorDetails>),
    /// 5xx after retries were exhausted.
    #[error("transient server error: {0}")]
    Transient(Box<ArmErrorDetails>),
    /// The subscription is not registered for a resource provider namespace.
    #[error(
        "the subscription is not registered for {namespace}: {message}. Register it with \
         `az provider register --namespace {namespace}` or set register_resource_providers = true \
         in the provider's azure block"
    )]
    MissingRegistration {
        /// Resource provider namespace, e.g. `Microsoft.Security`.
        namespace: String,
        /// ARM's or our own explanation.
        message: String,
    },
    /// Any other ARM error.
    #[error("{0}")]
    Api(Box<ArmErrorDetails>),
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("operation {status}: {code}: {message} (operation {operation_url})")]
    OperationFailed {
        /// Terminal status (`Failed`, `Canceled`).
        status: String,
        /// The operation's `error.code`.
        code: String,
        /// The operation's `error.message`.
        message: String,
        /// Status URL that reported the result.
        operation_url: String,
    },
    /// Waiting for an operation or a registration took longer than allowed.
    #[error("timed out after {}s waiting for {what}", .after.as_secs())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        after: Duration,
    },
    /// A response body could not be decoded into the expected type.
    #[error("cannot decode response of {context}: {message}")]
    Decode {
        /// Request that produced the body.
        context: String,
        /// Parser message.
        message: String,
    },
}

impl AzureError {
    pub(crate) fn config(attribute: &str, message: impl Into<String>) -> Self {
        Self::Config {
            attribute: attribute.to_owned(),
            message: message.into(),
        }
    }

    /// ARM details when the error came from an ARM response.
    pub fn details(&self) -> Option<&ArmErrorDetails> {
        match self {
            Self::NotFound(d)
            | Self::AlreadyExists(d)
            | Self::Conflict(d)
            | Self::Throttled(d)
            | Self::PermissionDenied(d)
            | Self::Unauthenticated(d)
            | Self::Invalid(d)
            | Self::Transient(d)
            | Self::Api(d) => Some(d),
            _ => None,
        }
    }

    /// Classifies an ARM error response. Error codes win over statuses where ARM is known to
    /// use several statuses for one meaning (registration errors come as 400 or 409).
    pub fn from_arm(details: ArmErrorDetails) -> Self {
        let code = details.code.clone();
        if code.eq_ignore_ascii_case("MissingSubscriptionRegistration")
            || code.eq_ignore_ascii_case("SubscriptionNotRegistered")
        {
            return Self::MissingRegistration {
                namespace: namespace_from_message(&details.message).unwrap_or_default(),
                message: details.message,
            };
        }
        let details = Box::new(details);
        let exists = ["ResourceExists", "AlreadyExists", "ResourceAlreadyExists"]
            .iter()
            .any(|c| code.eq_ignore_ascii_case(c));
        match details.status {
            404 => Self::NotFound(details),
            409 if exists => Self::AlreadyExists(details),
            409 => Self::Conflict(details),
            429 => Self::Throttled(details),
            403 => Self::PermissionDenied(details),
            401 => Self::Unauthenticated(details),
            400 | 422 => Self::Invalid(details),
            500..=599 => Self::Transient(details),
            _ => Self::Api(details),
        }
    }
}

/// ARM words registration errors as "... to use namespace 'Microsoft.Security'. See ...".
fn namespace_from_message(message: &str) -> Option<String> {
    let after = &message[message.find("namespace")? + "namespace".len()..];
    let start = after.find('\'')? + 1;
    let len = after[start..].find('\'')?;
    Some(after[start..start + len].to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn details(status: u16, code: &str) -> ArmErrorDetails {
        ArmErrorDetails {
            method: "PUT".into(),
            url: "https://arm/x".into(),
            status,
            code: code.into(),
            message: "msg".into(),
            target: None,
            request_id: Some("req-1".into()),
            correlation_id: Some("corr-1".into()),
        }
    }

    #[test]
    fn classification() {
        assert!(matches!(
            AzureError::from_arm(details(404, "ResourceNotFound")),
            AzureError::NotFound(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(409, "ResourceExists")),
            AzureError::AlreadyExists(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(409, "AnotherOperationInProgress")),
            AzureError::Conflict(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(429, "TooManyRequests")),
            AzureError::Throttled(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(403, "AuthorizationFailed")),
            AzureError::PermissionDenied(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(401, "InvalidAuthenticationToken")),
            AzureError::Unauthenticated(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(400, "InvalidParameter")),
            AzureError::Invalid(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(503, "ServiceUnavailable")),
            AzureError::Transient(_)
        ));
        assert!(matches!(
            AzureError::from_arm(details(412, "PreconditionFailed")),
            AzureError::Api(_)
        ));
    }

    #[test]
    fn registration_error_names_namespace_and_fix() {
        let mut d = details(409, "MissingSubscriptionRegistration");
        d.message = "The subscription is not registered to use namespace 'Microsoft.Security'. See https://aka.ms/rps-not-found".into();
        let err = AzureError::from_arm(d);
        assert!(
            matches!(&err, AzureError::MissingRegistration { namespace, .. } if namespace == "Microsoft.Security")
        );
        assert!(
            err.to_string()
                .contains("az provider register --namespace Microsoft.Security"),
            "{err}"
        );
    }

    #[test]
    fn display_keeps_code_message_and_ids() {
        let text = AzureError::from_arm(details(400, "InvalidParameter")).to_string();
        for part in [
            "PUT https://arm/x returned 400 InvalidParameter: msg",
            "req-1",
            "corr-1",
        ] {
            assert!(text.contains(part), "{text}");
        }
    }
}
