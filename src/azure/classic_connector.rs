//! Defender for Cloud's classic multicloud connectors (`Microsoft.Security/connectors`, a
//! subscription-level resource): read to find them, deleted when migrating to the native
//! security connector. Only the fields migration needs are modelled.

use serde::Deserialize;

use super::api_versions::CLASSIC_CONNECTORS;
use super::{ArmClient, AzureError};

/// A classic connector as ARM returns it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ClassicConnector {
    /// ARM id.
    pub id: String,
    /// Connector name.
    pub name: String,
    /// Settings.
    #[serde(default)]
    pub properties: ClassicConnectorProperties,
}

/// `properties` of a classic connector.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClassicConnectorProperties {
    /// How Defender authenticates to the cloud account.
    #[serde(default)]
    pub authentication_details: Option<ClassicAuthentication>,
}

/// `authenticationDetails`: the union on `authenticationType` flattened to the AWS fields
/// (the secret access key is deliberately not modelled).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClassicAuthentication {
    /// `awsAssumeRole`, `awsCreds` or `gcpCredentials`.
    #[serde(default)]
    pub authentication_type: String,
    /// The cloud account (read-only, filled by the service).
    #[serde(default)]
    pub account_id: Option<String>,
    /// The role Defender assumes (`awsAssumeRole`).
    #[serde(default)]
    pub aws_assume_role_arn: Option<String>,
    /// The external id the role requires (`awsAssumeRole`): the subscription id.
    #[serde(default)]
    pub aws_external_id: Option<String>,
    /// The IAM user's access key (`awsCreds`).
    #[serde(default)]
    pub aws_access_key_id: Option<String>,
    /// `Valid`, `Invalid`, `Expired` or `IncorrectPolicy`.
    #[serde(default)]
    pub authentication_provisioning_state: Option<String>,
}

impl ClassicConnector {
    /// The AWS account: the service's `accountId`, else the account in the role ARN.
    pub fn aws_account_id(&self) -> Option<String> {
        let auth = self.properties.authentication_details.as_ref()?;
        auth.account_id.clone().or_else(|| {
            auth.aws_assume_role_arn
                .as_deref()
                .and_then(|arn| arn.split(':').nth(4))
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
        })
    }
}

impl ArmClient {
    /// Every classic connector of a subscription.
    pub async fn classic_connectors(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<ClassicConnector>, AzureError> {
        let path =
            format!("/subscriptions/{subscription_id}/providers/Microsoft.Security/connectors");
        self.list_all(&path, CLASSIC_CONNECTORS).await
    }

    /// One classic connector by ARM id; `None` when it does not exist.
    pub async fn classic_connector(
        &self,
        id: &str,
    ) -> Result<Option<ClassicConnector>, AzureError> {
        self.get_opt(id, CLASSIC_CONNECTORS).await
    }

    /// Deletes a classic connector; already gone is success.
    pub async fn delete_classic_connector(&self, id: &str) -> Result<(), AzureError> {
        self.delete(id, CLASSIC_CONNECTORS).await
    }
}
