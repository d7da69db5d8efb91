//! AWS provider configuration: the `aws {}` block.
//!
//! Everything not set here is left to aws-config's standard chain (environment, shared
//! profile, SSO, web identity from `AWS_WEB_IDENTITY_TOKEN_FILE`, container and instance
//! metadata), so the usual `AWS_*` variables work without being listed here.

use crate::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;

/// Attempts per call (first try included) in aws-config's standard retry mode.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Attempts per call for the organization-scale clients (Organizations, StackSets) unless
/// `max_retries` is set: a walk of 1,000 accounts or a StackSet poll loop should ride out a
/// burst of throttling rather than fail the apply.
pub const BULK_MAX_ATTEMPTS: u32 = 8;
/// Region used when neither HCL nor the environment/profile names one; the global services
/// this provider calls (IAM, STS, Organizations) answer from there.
pub const FALLBACK_REGION: &str = "us-east-1";
/// Time allowed to connect to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one attempt of one call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// `assume_role {}`: a role assumed on top of the base credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssumeRole {
    /// ARN of the role to assume.
    pub role_arn: String,
    /// Session name (default: chosen by aws-config).
    pub session_name: Option<String>,
    /// External id required by the role's trust policy.
    pub external_id: Option<String>,
    /// Session duration.
    pub duration: Option<Duration>,
}

/// `assume_role_with_web_identity {}`: exchange an OIDC token (Terraform Cloud workload
/// identity) for role credentials; no base credentials needed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebIdentity {
    /// ARN of the role to assume.
    pub role_arn: String,
    /// Session name (default `terraform-provider-multicloud`).
    pub session_name: Option<String>,
    /// The token itself; falls back to `TFC_WORKLOAD_IDENTITY_TOKEN`.
    pub web_identity_token: Option<Secret>,
    /// File holding the token, re-read for every exchange.
    pub web_identity_token_file: Option<PathBuf>,
}

/// Endpoint overrides per service (tests point them at moto).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsEndpoints {
    /// IAM endpoint URL.
    pub iam: Option<String>,
    /// STS endpoint URL.
    pub sts: Option<String>,
    /// CloudFormation endpoint URL.
    pub cloudformation: Option<String>,
    /// Organizations endpoint URL.
    pub organizations: Option<String>,
    /// S3 endpoint URL.
    pub s3: Option<String>,
}

/// The `aws {}` provider block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsConfig {
    /// Region (else `AWS_REGION`, the profile, then [`FALLBACK_REGION`]).
    pub region: Option<String>,
    /// Shared-config profile name (else `AWS_PROFILE`).
    pub profile: Option<String>,
    /// Static access key id; needs `secret_key`.
    pub access_key: Option<String>,
    /// Static secret access key.
    pub secret_key: Option<Secret>,
    /// Session token for temporary static keys.
    pub session_token: Option<Secret>,
    /// Role assumed on top of the base credentials.
    pub assume_role: Option<AssumeRole>,
    /// OIDC web identity exchange (replaces the base credentials).
    pub assume_role_with_web_identity: Option<WebIdentity>,
    /// Endpoint overrides.
    pub endpoints: AwsEndpoints,
    /// Retries after the first attempt (default: [`DEFAULT_MAX_ATTEMPTS`] attempts in all).
    pub max_retries: Option<u32>,
}

impl AwsConfig {
    /// Fills the web-identity token from `TFC_WORKLOAD_IDENTITY_TOKEN` when the block is present
    /// without a token or token file (the rest comes from aws-config's own environment reading).
    pub fn with_env_fallbacks(mut self, env: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(w) = &mut self.assume_role_with_web_identity
            && w.web_identity_token.is_none()
            && w.web_identity_token_file.is_none()
        {
            w.web_identity_token = env("TFC_WORKLOAD_IDENTITY_TOKEN")
                .filter(|t| !t.trim().is_empty())
                .map(Secret::from);
        }
        self
    }

    /// Total attempts per call, as aws-config counts them.
    pub fn max_attempts(&self) -> u32 {
        self.max_retries
            .map_or(DEFAULT_MAX_ATTEMPTS, |r| r.saturating_add(1))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn attempts() {
        assert_eq!(AwsConfig::default().max_attempts(), 3);
        let c = AwsConfig {
            max_retries: Some(5),
            ..Default::default()
        };
        assert_eq!(c.max_attempts(), 6);
    }

    #[test]
    fn tfc_token_fallback_only_when_block_present_and_empty() {
        let env = |k: &str| (k == "TFC_WORKLOAD_IDENTITY_TOKEN").then(|| "jwt".to_owned());
        assert_eq!(
            AwsConfig::default()
                .with_env_fallbacks(env)
                .assume_role_with_web_identity,
            None
        );
        let c = AwsConfig {
            assume_role_with_web_identity: Some(WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
        .with_env_fallbacks(env);
        let token = c
            .assume_role_with_web_identity
            .and_then(|w| w.web_identity_token);
        assert_eq!(token.as_ref().map(Secret::expose), Some("jwt"));
    }

    #[test]
    fn debug_hides_secrets() {
        let c = AwsConfig {
            access_key: Some("AKIAEXAMPLE".into()),
            secret_key: Some(Secret::new("aws-secret-key")),
            session_token: Some(Secret::new("aws-session-token")),
            assume_role_with_web_identity: Some(WebIdentity {
                web_identity_token: Some(Secret::new("aws-web-jwt")),
                ..Default::default()
            }),
            ..Default::default()
        };
        let out = format!("{c:?}");
        for s in ["aws-secret-key", "aws-session-token", "aws-web-jwt"] {
            assert!(!out.contains(s), "{out}");
        }
    }
}
