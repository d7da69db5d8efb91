//! `Microsoft.HybridConnectivity`: the multicloud connector enabled by Azure Arc (public cloud
//! connectors), its solution configurations and the AWS authentication template the service
//! generates for them. Field names follow [`super::api_versions::HYBRID_CONNECTIVITY`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api_versions::HYBRID_CONNECTIVITY;
use super::client::ArmClient;
use super::error::AzureError;

/// `hostType` of AWS connectors.
pub const HOST_TYPE_AWS: &str = "AWS";

/// A public cloud connector as sent and as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicCloudConnector {
    /// ARM id (read-only).
    #[serde(default, skip_serializing)]
    pub id: String,
    /// Azure region of the connector resource.
    #[serde(default)]
    pub location: String,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The connector's configuration.
    #[serde(default)]
    pub properties: ConnectorProperties,
}

/// `properties` of a public cloud connector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorProperties {
    /// `AWS` (immutable).
    #[serde(default)]
    pub host_type: String,
    /// The AWS account or organization connected.
    #[serde(default)]
    pub aws_cloud_profile: AwsCloudProfile,
    /// Read-only.
    #[serde(default, skip_serializing)]
    pub provisioning_state: Option<String>,
    /// Read-only: the identifier the AWS template's trust names.
    #[serde(default, skip_serializing)]
    pub connector_primary_identifier: Option<String>,
}

/// `awsCloudProfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsCloudProfile {
    /// The account id (immutable).
    #[serde(default)]
    pub account_id: String,
    /// Member accounts left out of an organization connection.
    #[serde(default)]
    pub excluded_accounts: Vec<String>,
    /// Whether the account is an organization's management account (immutable).
    #[serde(default)]
    pub is_organizational_account: bool,
}

/// A solution configuration (an extension resource of the connector).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionConfiguration {
    /// ARM id (read-only).
    #[serde(default, skip_serializing)]
    pub id: String,
    /// Name (read-only; it is in the path).
    #[serde(default, skip_serializing)]
    pub name: String,
    /// The solution and its settings.
    #[serde(default)]
    pub properties: SolutionProperties,
}

/// `properties` of a solution configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionProperties {
    /// The solution type, e.g. `Microsoft.AssetManagement`.
    #[serde(default)]
    pub solution_type: String,
    /// Settings; the API types every value as a string.
    #[serde(default)]
    pub solution_settings: BTreeMap<String, String>,
    /// Read-only sync status (`New`, `InProgress`, `Completed`, `Failed`).
    #[serde(default, skip_serializing)]
    pub status: Option<String>,
}

/// One entry of the template request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionTypeSettings {
    /// The solution type.
    pub solution_type: String,
    /// Its settings.
    pub solution_settings: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GenerateRequest<'a> {
    connector_id: &'a str,
    solution_types: &'a [SolutionTypeSettings],
}

fn solutions_path(connector_id: &str) -> String {
    format!(
        "{}/providers/Microsoft.HybridConnectivity/solutionConfigurations",
        connector_id.trim_end_matches('/')
    )
}

impl ArmClient {
    /// Reads a connector; `None` when it does not exist.
    pub async fn public_cloud_connector(
        &self,
        id: &str,
    ) -> Result<Option<PublicCloudConnector>, AzureError> {
        self.get_opt(id, HYBRID_CONNECTIVITY).await
    }

    /// Creates or replaces a connector (long-running) and returns it as stored.
    pub async fn put_public_cloud_connector(
        &self,
        id: &str,
        connector: &PublicCloudConnector,
    ) -> Result<PublicCloudConnector, AzureError> {
        self.put(id, HYBRID_CONNECTIVITY, connector).await
    }

    /// Deletes a connector; already gone is success.
    pub async fn delete_public_cloud_connector(&self, id: &str) -> Result<(), AzureError> {
        self.delete(id, HYBRID_CONNECTIVITY).await
    }

    /// The connector's solution configurations.
    pub async fn solution_configurations(
        &self,
        connector_id: &str,
    ) -> Result<Vec<SolutionConfiguration>, AzureError> {
        self.list_all(&solutions_path(connector_id), HYBRID_CONNECTIVITY)
            .await
    }

    /// Creates or replaces the solution configuration `name` of a connector.
    pub async fn put_solution_configuration(
        &self,
        connector_id: &str,
        name: &str,
        solution: &SolutionConfiguration,
    ) -> Result<SolutionConfiguration, AzureError> {
        let path = format!("{}/{name}", solutions_path(connector_id));
        self.put(&path, HYBRID_CONNECTIVITY, solution).await
    }

    /// Deletes a solution configuration by its ARM id; already gone is success.
    pub async fn delete_solution_configuration(&self, id: &str) -> Result<(), AzureError> {
        self.delete(id, HYBRID_CONNECTIVITY).await
    }

    /// The CloudFormation template the service generates for a connector and its solutions.
    pub async fn generate_aws_template(
        &self,
        connector_id: &str,
        solutions: &[SolutionTypeSettings],
    ) -> Result<Json, AzureError> {
        let sub = connector_id
            .split('/')
            .nth(2)
            .unwrap_or(self.subscription_id())
            .to_owned();
        let path = format!(
            "/subscriptions/{sub}/providers/Microsoft.HybridConnectivity/generateAwsTemplate"
        );
        let request = GenerateRequest {
            connector_id,
            solution_types: solutions,
        };
        self.post(&path, HYBRID_CONNECTIVITY, Some(&request)).await
    }
}
