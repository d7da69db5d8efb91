//! AWS clients: configuration, credential resolution through aws-config, per-service
//! endpoint overrides and error classification.

pub mod client;
pub mod config;
pub mod credential;
pub mod error;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use client::{AwsClients, CallerIdentity};
pub use config::{AssumeRole, AwsConfig, AwsEndpoints, WebIdentity};
pub use error::AwsError;
