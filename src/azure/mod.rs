//! Azure Resource Manager client: configuration, credentials (`azure_identity` on our own
//! HTTP client), retried JSON calls, long-running operations, provider registration, Defender
//! plan pricings and the role-assignment check.

pub mod api_versions;
pub mod authorization;
pub mod claims;
pub mod classic_connector;
pub mod client;
pub mod config;
pub mod credential;
pub mod error;
pub mod hybrid_connectivity;
pub mod inventory_projection;
pub mod list;
mod lost_answer;
pub mod lro;
pub mod pricings;
pub mod registration;
pub mod request;
pub mod security_connector;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod lost_answer_tests;
#[cfg(test)]
mod malformed_response_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod subscription_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use claims::TokenClaims;
pub use client::ArmClient;
pub use config::{AuthMethod, AzureConfig, AzureEndpoints};
pub use error::{ArmErrorDetails, AzureError};
pub use pricings::{Pricing, PricingExtension};
pub use registration::ResourceProvider;
pub use request::ArmResponse;
