//! Calls made with an access key the provider just created, not with the provider's own
//! credentials: the STS and IAM half of Defender for Cloud Apps' "Test API".

use super::client::{AwsClients, CallerIdentity};
use super::error::AwsError;
use super::iam::{IamClient, PropagationWait};
use crate::secret::Secret;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

/// Clients signing with one access key, on the provider's endpoints and region.
#[derive(Debug, Clone)]
pub struct KeyClients {
    sts: aws_sdk_sts::Client,
    iam: IamClient,
    sts_endpoint: String,
}

impl KeyClients {
    /// Clients for `key_id` / `secret`, otherwise configured as `base`.
    pub fn new(base: &AwsClients, key_id: &str, secret: &Secret) -> Self {
        let creds = Credentials::new(key_id, secret.expose(), None, None, "new-access-key");
        let sdk = base
            .sdk_config()
            .clone()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        let endpoints = &base.config().endpoints;
        let mut sts = aws_sdk_sts::config::Builder::from(&sdk);
        if let Some(url) = &endpoints.sts {
            sts = sts.endpoint_url(url);
        }
        let mut iam = aws_sdk_iam::config::Builder::from(&sdk);
        if let Some(url) = &endpoints.iam {
            iam = iam.endpoint_url(url);
        }
        let iam_endpoint = endpoints
            .iam
            .clone()
            .unwrap_or_else(|| super::iam::DEFAULT_IAM_ENDPOINT.to_owned());
        Self {
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            iam: IamClient::new(aws_sdk_iam::Client::from_conf(iam.build()), iam_endpoint),
            sts_endpoint: base.sts_endpoint(),
        }
    }

    /// The IAM client signing with the key.
    pub fn iam(&self) -> &IamClient {
        &self.iam
    }

    /// `GetCallerIdentity` with the key. A new key is refused with `InvalidClientTokenId`
    /// until IAM has propagated it (typically seconds); that refusal is waited out within
    /// `wait`'s budget and any other error returns at once.
    pub async fn caller_identity(
        &self,
        wait: &PropagationWait,
    ) -> Result<CallerIdentity, AwsError> {
        const OP: &str = "GetCallerIdentity";
        let out = wait
            .retry_while(
                "GetCallerIdentity with the new access key",
                || self.sts.get_caller_identity().send(),
                |e| matches!(e, AwsError::InvalidCredentials { .. }),
                |e| AwsError::from_sdk(&e, "sts", OP, &self.sts_endpoint),
            )
            .await?;
        let field = |v: Option<&str>, name: &str| {
            v.map(str::to_owned).ok_or_else(|| AwsError::MissingField {
                operation: OP.into(),
                field: name.into(),
            })
        };
        Ok(CallerIdentity {
            account_id: field(out.account(), "Account")?,
            arn: field(out.arn(), "Arn")?,
            user_id: field(out.user_id(), "UserId")?,
        })
    }
}
