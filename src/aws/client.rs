//! `AwsClients`: one resolved `SdkConfig` and per-service clients with endpoint overrides.

use super::config::{
    ATTEMPT_TIMEOUT, AwsConfig, BULK_MAX_ATTEMPTS, CONNECT_TIMEOUT, FALLBACK_REGION,
};
use super::credential::{WebIdentityProvider, static_credentials};
use super::error::AwsError;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

/// Who the AWS credentials belong to (STS `GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// 12-digit account id.
    pub account_id: String,
    /// ARN of the calling principal.
    pub arn: String,
    /// Unique id of the calling principal.
    pub user_id: String,
}

/// AWS SDK configuration plus the endpoint overrides, ready to make service clients.
#[derive(Debug, Clone)]
pub struct AwsClients {
    sdk: SdkConfig,
    config: AwsConfig,
    /// The last organization tree read through [`AwsClients::organization_tree`], shared by
    /// clones (one provider process).
    pub(super) org_tree: super::org_tree_cache::TreeCache,
}

impl AwsClients {
    /// Resolves region and credentials providers. Credentials themselves are fetched lazily by
    /// the first call, so no network traffic is needed for configurations with static keys.
    pub async fn new(config: &AwsConfig) -> Result<Self, AwsError> {
        validate(config)?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(config.max_attempts()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(
                        crate::http::transport::request_timeout_override()
                            .unwrap_or(ATTEMPT_TIMEOUT),
                    )
                    .build(),
            );
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(creds) = static_credentials(config) {
            loader = loader.credentials_provider(creds);
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none() {
            sdk = sdk
                .into_builder()
                .region(Region::from_static(FALLBACK_REGION))
                .build();
        }
        if let Some(web) = &config.assume_role_with_web_identity {
            let provider = WebIdentityProvider::new(&sdk, config.endpoints.sts.as_deref(), web)
                .ok_or_else(|| AwsError::Config {
                    attribute: "aws.assume_role_with_web_identity.web_identity_token".into(),
                    message: "aws.assume_role_with_web_identity needs web_identity_token or \
                              web_identity_token_file (or TFC_WORKLOAD_IDENTITY_TOKEN)"
                        .into(),
                })?;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        if let Some(role) = &config.assume_role {
            let mut sts_conf = sdk.clone();
            if let Some(url) = &config.endpoints.sts {
                sts_conf = sts_conf.into_builder().endpoint_url(url).build();
            }
            let mut builder =
                AssumeRoleProvider::builder(role.role_arn.clone()).configure(&sts_conf);
            if let Some(name) = &role.session_name {
                builder = builder.session_name(name);
            }
            if let Some(id) = &role.external_id {
                builder = builder.external_id(id);
            }
            if let Some(d) = role.duration {
                builder = builder.session_length(d);
            }
            let provider = builder.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        Ok(Self {
            sdk,
            config: config.clone(),
            org_tree: Default::default(),
        })
    }

    /// The resolved SDK configuration (for building further service clients).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The configuration this was built from (endpoint overrides for further clients).
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The resolved region.
    pub fn region(&self) -> &str {
        self.sdk
            .region()
            .map(Region::as_ref)
            .unwrap_or(FALLBACK_REGION)
    }

    /// An STS client honouring `endpoints.sts`.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::config::Builder::from(&self.sdk);
        if let Some(url) = &self.config.endpoints.sts {
            b = b.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }

    /// An IAM client honouring `endpoints.iam`, with the default propagation budget.
    pub fn iam(&self) -> super::iam::IamClient {
        let mut b = aws_sdk_iam::config::Builder::from(&self.sdk);
        if let Some(url) = &self.config.endpoints.iam {
            b = b.endpoint_url(url);
        }
        let endpoint = self
            .config
            .endpoints
            .iam
            .clone()
            .unwrap_or_else(|| super::iam::DEFAULT_IAM_ENDPOINT.to_owned());
        super::iam::IamClient::new(aws_sdk_iam::Client::from_conf(b.build()), endpoint)
    }

    /// A CloudFormation client for the resolved region, honouring
    /// `endpoints.cloudformation`, with the default stack wait budget.
    pub fn cloudformation(&self) -> super::cloudformation::CloudFormationClient {
        let mut b = aws_sdk_cloudformation::config::Builder::from(&self.sdk);
        if let Some(url) = &self.config.endpoints.cloudformation {
            b = b.endpoint_url(url);
        }
        super::cloudformation::CloudFormationClient::new(
            aws_sdk_cloudformation::Client::from_conf(b.build()),
            self.cloudformation_endpoint(),
        )
    }

    /// Retry settings for clients that make thousands of calls (organization scale): more
    /// attempts, each throttled call backed off on its own (jittered, exponential). Not the
    /// SDK's adaptive mode: its client-side limiter cuts the send rate of every call after
    /// each throttling answer, so sporadic throttles (10% of calls, as the organization
    /// benchmark injects) slowed a walk of 1,000 accounts to about half a call per second and
    /// the apply from 66 s to 249 s; plain backoff rides the same throttles out in seconds.
    fn bulk_retry(&self) -> RetryConfig {
        let attempts = self
            .config
            .max_retries
            .map_or(BULK_MAX_ATTEMPTS, |_| self.config.max_attempts());
        RetryConfig::standard().with_max_attempts(attempts)
    }

    /// An Organizations client honouring `endpoints.organizations`, with the bulk retry.
    pub fn organizations(&self) -> super::organizations::OrganizationsClient {
        let mut b =
            aws_sdk_organizations::config::Builder::from(&self.sdk).retry_config(self.bulk_retry());
        if let Some(url) = &self.config.endpoints.organizations {
            b = b.endpoint_url(url);
        }
        let endpoint = self
            .config
            .endpoints
            .organizations
            .clone()
            .unwrap_or_else(|| super::organizations::DEFAULT_ORGANIZATIONS_ENDPOINT.to_owned());
        super::organizations::OrganizationsClient::new(
            aws_sdk_organizations::Client::from_conf(b.build()),
            endpoint,
        )
    }

    /// A CloudFormation client for StackSet work at organization scale: like
    /// [`cloudformation`](Self::cloudformation), with the bulk retry (more attempts).
    pub fn stacksets(&self) -> super::cloudformation::CloudFormationClient {
        let mut b = aws_sdk_cloudformation::config::Builder::from(&self.sdk)
            .retry_config(self.bulk_retry());
        if let Some(url) = &self.config.endpoints.cloudformation {
            b = b.endpoint_url(url);
        }
        super::cloudformation::CloudFormationClient::new(
            aws_sdk_cloudformation::Client::from_conf(b.build()),
            self.cloudformation_endpoint(),
        )
    }

    /// The CloudFormation endpoint in use, for error messages.
    pub fn cloudformation_endpoint(&self) -> String {
        self.config
            .endpoints
            .cloudformation
            .clone()
            .unwrap_or_else(|| format!("https://cloudformation.{}.amazonaws.com", self.region()))
    }

    /// The STS endpoint in use, for error messages.
    pub fn sts_endpoint(&self) -> String {
        self.config
            .endpoints
            .sts
            .clone()
            .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com", self.region()))
    }

    /// Account, ARN and user id of the credentials (STS `GetCallerIdentity`).
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        const OP: &str = "GetCallerIdentity";
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(&e, "sts", OP, &self.sts_endpoint()))?;
        let field = |v: Option<String>, name: &str| {
            v.ok_or_else(|| AwsError::MissingField {
                operation: OP.into(),
                field: name.into(),
            })
        };
        Ok(CallerIdentity {
            account_id: field(out.account, "Account")?,
            arn: field(out.arn, "Arn")?,
            user_id: field(out.user_id, "UserId")?,
        })
    }
}

fn validate(config: &AwsConfig) -> Result<(), AwsError> {
    let err = |attribute: &str, message: String| AwsError::Config {
        attribute: attribute.into(),
        message,
    };
    match (&config.access_key, &config.secret_key) {
        (Some(_), None) => {
            return Err(err(
                "aws.secret_key",
                "aws.access_key is set but aws.secret_key is not: set both or neither".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "aws.access_key",
                "aws.secret_key is set but aws.access_key is not: set both or neither".into(),
            ));
        }
        _ => {}
    }
    for (attr, url) in [
        ("aws.endpoints.iam", &config.endpoints.iam),
        ("aws.endpoints.sts", &config.endpoints.sts),
        (
            "aws.endpoints.cloudformation",
            &config.endpoints.cloudformation,
        ),
        (
            "aws.endpoints.organizations",
            &config.endpoints.organizations,
        ),
        ("aws.endpoints.s3", &config.endpoints.s3),
    ] {
        if let Some(u) = url {
            let parsed = url::Url::parse(u)
                .map_err(|e| err(attr, format!("{attr} is not a valid URL ({u:?}: {e})")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(err(
                    attr,
                    format!("{attr} must be an http(s) URL, got {u:?}"),
                ));
            }
        }
    }
    if let Some(role) = &config.assume_role
        && role.role_arn.trim().is_empty()
    {
        return Err(err(
            "aws.assume_role.role_arn",
            "aws.assume_role.role_arn is empty".into(),
        ));
    }
    if let Some(web) = &config.assume_role_with_web_identity
        && web.role_arn.trim().is_empty()
    {
        return Err(err(
            "aws.assume_role_with_web_identity.role_arn",
            "aws.assume_role_with_web_identity.role_arn is empty".into(),
        ));
    }
    Ok(())
}
