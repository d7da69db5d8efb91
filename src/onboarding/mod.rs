//! The onboarding domain: which Defender plans an AWS account gets, what the security connector's
//! `offerings` say, which IAM roles and policies the plans need, how those roles trust Defender
//! for Cloud, and the CloudFormation template a portal user would download. Pure functions, no
//! I/O; every output is canonical JSON, so the same input gives byte-identical output.

mod canonical;
pub mod cloud_apps;
mod error;
pub mod offerings;
pub mod organization;
pub mod plans;
mod policies;
pub mod prerequisites;
pub mod roles;
pub mod template;
pub mod trust;
pub mod trust_template;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod prerequisites_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod trust_template_tests;

pub use canonical::{canonical_json, stable_hash};
pub use error::{InputIssue, OnboardingError, PathSegment};
pub use offerings::{
    OfferingType, fill_role_arns, offerings, offerings_json, role_arn_placeholder,
};
pub use organization::{
    DeploymentPlan, OrganizationShape, TargetIssue, is_account_id, validate_exclusions,
};
pub use plans::{
    Access, AgentlessScanning, AgentlessScanningSpec, Containers, ContainersSpec, Databases,
    DatabasesSpec, DefenderCspm, DefenderCspmSpec, PlanSet, PlanSetSpec, Servers, ServersPlan,
    ServersSpec, VulnerabilityAssessment,
};
pub use prerequisites::{
    ChangedPricing, MissingPrerequisite, OwnerOption, Prerequisites, PricingSetting, PricingTier,
    Reconciliation, RequiredPricing, SubscriptionPricing, missing_prerequisites, owner_missing,
    prerequisites, prerequisites_from_offerings, reconcile,
};
pub use roles::{ArnField, AwsRole, RoleKey, Trust, microsoft_audiences, required_roles};
pub use template::{TemplateKind, cloudformation_template};
pub use trust::trust_policy;
pub use trust_template::{
    Issuer, TrustValues, render_trust_policy, required_providers, templatize_trust_policy,
    trust_policy_template,
};

/// Entra ID tenant that holds Defender for Cloud's own applications; the tokens Defender
/// presents to AWS are issued by it, not by the customer's tenant.
pub const MICROSOFT_TENANT_ID: &str = "33e01921-4d64-4f8c-a055-5bdaffd5e33d";

/// Thumbprint Microsoft's onboarding templates register for `sts.windows.net` (AWS no longer
/// checks it for well-known issuers, but IAM still requires one).
pub const STS_WINDOWS_THUMBPRINT: &str = "626d44e704d1ceabe3bf0d53397464ac8080142c";

/// The OIDC issuer URL AWS must trust for tokens from `tenant_id`.
pub fn issuer_url(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}
