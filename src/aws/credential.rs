//! AWS credential resolution on top of aws-config: static keys, the standard chain, web
//! identity (OIDC) and an assumed role layered on whichever base was chosen.
//!
//! The web-identity exchange is done here rather than with aws-config's
//! `WebIdentityTokenCredentialsProvider` because that provider takes its token only from a
//! file and its STS endpoint only from the environment, while we need an inline token
//! (`TFC_WORKLOAD_IDENTITY_TOKEN`) and the `endpoints.sts` override.

use super::config::{AwsConfig, WebIdentity};
use crate::secret::Secret;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
use std::path::PathBuf;

/// Session name used when the configuration gives none.
pub const DEFAULT_SESSION_NAME: &str = "terraform-provider-multicloud";

/// Static keys from the configuration, when both halves are present.
pub(crate) fn static_credentials(config: &AwsConfig) -> Option<Credentials> {
    let (Some(ak), Some(sk)) = (&config.access_key, &config.secret_key) else {
        return None;
    };
    Some(Credentials::new(
        ak.clone(),
        sk.expose().to_owned(),
        config.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "provider-configuration",
    ))
}

#[derive(Debug, Clone)]
enum TokenSource {
    Inline(Secret),
    File(PathBuf),
}

/// Exchanges an OIDC token for role credentials with STS `AssumeRoleWithWebIdentity`.
#[derive(Debug)]
pub(crate) struct WebIdentityProvider {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    session_name: String,
    token: TokenSource,
}

impl WebIdentityProvider {
    /// `base` supplies region, endpoint and retry settings; its credentials are not used
    /// (the call is authorized by the token alone).
    pub(crate) fn new(
        base: &SdkConfig,
        sts_endpoint: Option<&str>,
        web: &WebIdentity,
    ) -> Option<Self> {
        let token = match (&web.web_identity_token, &web.web_identity_token_file) {
            (Some(t), _) => TokenSource::Inline(t.clone()),
            (None, Some(p)) => TokenSource::File(p.clone()),
            (None, None) => return None,
        };
        let mut builder = aws_sdk_sts::config::Builder::from(base);
        builder.set_credentials_provider(None);
        if let Some(url) = sts_endpoint {
            builder = builder.endpoint_url(url);
        }
        Some(Self {
            sts: aws_sdk_sts::Client::from_conf(builder.build()),
            role_arn: web.role_arn.clone(),
            session_name: web
                .session_name
                .clone()
                .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned()),
            token,
        })
    }

    async fn read_token(&self) -> Result<String, CredentialsError> {
        match &self.token {
            TokenSource::Inline(t) => Ok(t.expose().to_owned()),
            TokenSource::File(p) => tokio::fs::read_to_string(p)
                .await
                .map(|t| t.trim().to_owned())
                .map_err(|e| {
                    CredentialsError::invalid_configuration(format!(
                        "cannot read web identity token file {}: {e}",
                        p.display()
                    ))
                }),
        }
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let token = self.read_token().await?;
        let out = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .web_identity_token(token)
            .send()
            .await
            .map_err(|e| {
                CredentialsError::provider_error(format!(
                    "AssumeRoleWithWebIdentity for {} failed: {}",
                    self.role_arn,
                    crate::http::error_chain(&e)
                ))
            })?;
        let c = out.credentials.ok_or_else(|| {
            CredentialsError::unhandled("AssumeRoleWithWebIdentity returned no credentials")
        })?;
        let expiry = std::time::SystemTime::try_from(c.expiration).ok();
        Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            expiry,
            "web-identity",
        ))
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.fetch())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn static_keys_need_both_halves() {
        let mut c = AwsConfig {
            access_key: Some("AKIA".into()),
            ..Default::default()
        };
        assert!(static_credentials(&c).is_none());
        c.secret_key = Some(Secret::new("sk"));
        c.session_token = Some(Secret::new("st"));
        let creds = static_credentials(&c).unwrap();
        assert_eq!(creds.access_key_id(), "AKIA");
        assert_eq!(creds.secret_access_key(), "sk");
        assert_eq!(creds.session_token(), Some("st"));
        assert!(!format!("{creds:?}").contains("\"sk\""));
    }

    #[test]
    fn debug_of_config_and_token_source_hides_every_secret() {
        let config = AwsConfig {
            access_key: Some("AKIAVISIBLE".into()),
            secret_key: Some(Secret::new("secret-key-canary")),
            session_token: Some(Secret::new("session-token-canary")),
            assume_role_with_web_identity: Some(crate::aws::config::WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/visible".into(),
                web_identity_token: Some(Secret::new("web-token-canary")),
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = format!("{config:?} {config:#?}");
        assert!(
            text.contains("AKIAVISIBLE") && text.contains("role/visible"),
            "{text}"
        );
        for secret in [
            "secret-key-canary",
            "session-token-canary",
            "web-token-canary",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let source = TokenSource::Inline(Secret::new("web-token-canary"));
        assert!(!format!("{source:?}").contains("web-token-canary"));
        let creds = static_credentials(&config).unwrap();
        let text = format!("{creds:?}");
        assert!(!text.contains("secret-key-canary") && !text.contains("session-token-canary"));
    }
}
