//! Error types: the crate's start-up error, and the ARM / Entra error bodies returned to clients.

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::http::Resp;

/// Why the emulator could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// A command-line argument was missing or malformed.
    #[error("invalid argument: {0}")]
    Usage(String),
    /// The listen address is not a loopback address; the admin API has no authentication.
    #[error("refusing to listen on non-loopback address {0}: the admin API is unauthenticated")]
    NotLoopback(std::net::SocketAddr),
    /// Generating the throwaway CA or leaf certificate failed.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// Building the TLS server configuration failed.
    #[error("TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
    /// Writing the state directory or binding the socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl EmulatorError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| EmulatorError::Io { context, source }
    }
}

/// An ARM error ready to be rendered as `{"error":{"code","message",...}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmError {
    /// HTTP status of the response.
    pub status: StatusCode,
    /// ARM error code, e.g. `ResourceNotFound`.
    pub code: String,
    /// Human readable message.
    pub message: String,
    /// Optional `target` (the offending property path).
    pub target: Option<String>,
    /// Optional nested `details`.
    pub details: Vec<Value>,
}

impl ArmError {
    /// An error with status, code and message and no target or details.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            target: None,
            details: Vec::new(),
        }
    }

    /// A 400 `InvalidRequestContent`-style validation error naming a property.
    pub fn bad_request(code: &str, message: impl Into<String>, target: Option<&str>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, code, message);
        e.target = target.map(str::to_string);
        e
    }

    /// The `{"code","message",...}` object without the outer `error` wrapper.
    pub fn inner_json(&self) -> Value {
        let mut inner = json!({"code": self.code, "message": self.message});
        if let Some(t) = &self.target {
            inner["target"] = json!(t);
        }
        if !self.details.is_empty() {
            inner["details"] = json!(self.details);
        }
        inner
    }

    pub(crate) fn into_resp(self) -> Resp {
        let body = json!({"error": self.inner_json()});
        Resp::json(self.status, body)
    }
}

pub(crate) fn not_found_resource(type_path: &str, name_path: &str, rg: Option<&str>) -> ArmError {
    let msg = match rg {
        Some(rg) => format!(
            "The Resource '{type_path}/{name_path}' under resource group '{rg}' was not found. \
             For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
        None => format!(
            "The Resource '{type_path}/{name_path}' was not found. \
             For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    };
    ArmError::new(StatusCode::NOT_FOUND, "ResourceNotFound", msg)
}

/// 409 `MissingSubscriptionRegistration` for a namespace the subscription has not registered.
pub(crate) fn missing_registration(ns: &str) -> ArmError {
    let message = format!(
        "The subscription is not registered to use namespace '{ns}'. \
         See https://aka.ms/rps-not-found for how to register subscriptions."
    );
    let mut e = ArmError::new(
        StatusCode::CONFLICT,
        "MissingSubscriptionRegistration",
        message.clone(),
    );
    e.details =
        vec![json!({"code": "MissingSubscriptionRegistration", "target": ns, "message": message})];
    e
}

pub(crate) fn rg_not_found(rg: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

pub(crate) fn subscription_not_found(sub: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "SubscriptionNotFound",
        format!("The subscription '{sub}' could not be found."),
    )
}

pub(crate) fn invalid_namespace(ns: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "InvalidResourceNamespace",
        format!("The resource namespace '{ns}' is invalid."),
    )
}

pub(crate) fn invalid_content(detail: &str) -> ArmError {
    ArmError::new(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// An Entra ID (AADSTS) error in the token endpoint's shape.
#[derive(Debug, Clone)]
pub(crate) struct EntraError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) code: u32,
    pub(crate) description: String,
}

impl EntraError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub(crate) fn into_resp(self) -> Resp {
        let trace_id = crate::ids::random_guid();
        let correlation_id = crate::ids::random_guid();
        let timestamp = crate::clock::entra_timestamp_now();
        let description = format!(
            "AADSTS{}: {} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}",
            self.code, self.description
        );
        Resp::json(
            self.status,
            json!({
                "error": self.error,
                "error_description": description,
                "error_codes": [self.code],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": "https://login.microsoftonline.com/error?code=".to_string() + &self.code.to_string(),
            }),
        )
    }
}
