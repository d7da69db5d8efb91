//! AWS clients: configuration, credential resolution through aws-config, per-service
//! endpoint overrides, error classification, and the IAM and CloudFormation operations
//! onboarding needs.

pub mod client;
pub mod cloudformation;
pub mod config;
pub mod credential;
pub mod error;
pub mod iam;
pub mod key_check;
mod org_tree_cache;
pub mod organizations;
pub mod resend;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use client::{AwsClients, CallerIdentity};
pub use cloudformation::CloudFormationClient;
pub use config::{AssumeRole, AwsConfig, AwsEndpoints, WebIdentity};
pub use error::AwsError;
pub use iam::IamClient;
pub use org_tree_cache::TREE_REUSE;
pub use organizations::OrganizationsClient;
