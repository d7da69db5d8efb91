//! Azure Resource Manager client: configuration, credentials (`azure_identity` on our own
//! HTTP client), retried JSON calls, long-running operations and provider registration.

pub mod api_versions;
pub mod claims;
pub mod client;
pub mod config;
pub mod credential;
pub mod error;
pub mod hybrid_connectivity;
pub mod list;
pub mod lro;
pub mod registration;
pub mod request;
pub mod security_connector;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use claims::TokenClaims;
pub use client::ArmClient;
pub use config::{AuthMethod, AzureConfig, AzureEndpoints};
pub use error::{ArmErrorDetails, AzureError};
pub use registration::ResourceProvider;
pub use request::ArmResponse;
