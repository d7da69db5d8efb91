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

/// One AWS resource a solution configuration has synced (`InventoryResource`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryResource {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Name (an id the service gives the item).
    #[serde(default)]
    pub name: String,
    /// What was synced.
    #[serde(default)]
    pub properties: InventoryProperties,
}

/// `properties` of an [`InventoryResource`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryProperties {
    /// The AWS resource type (`ec2`, ...).
    #[serde(default)]
    pub cloud_native_type: Option<String>,
    /// The AWS resource, normally its ARN.
    #[serde(default)]
    pub cloud_native_resource_id: Option<String>,
    /// The Azure resource it is projected as.
    #[serde(default)]
    pub azure_resource_id: Option<String>,
    /// Sync status (`New`, `InProgress`, `Completed`, `Failed`).
    #[serde(default)]
    pub status: Option<String>,
    /// Details of the status.
    #[serde(default)]
    pub status_details: Option<String>,
}

/// The outcome of a connector operation (`OperationStatusResult`), as `testPermissions`
/// answers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// `Succeeded`, `Failed`, `Canceled` or a service-specific value.
    #[serde(default)]
    pub status: String,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<OperationError>,
}

/// An ARM error detail, with its nested details.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationError {
    /// Error code.
    #[serde(default)]
    pub code: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// What the error is about (for `testPermissions`, the solution type).
    #[serde(default)]
    pub target: Option<String>,
    /// Finer errors, such as one per missing permission.
    #[serde(default)]
    pub details: Vec<OperationError>,
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

    /// What the solution configuration `solution_id` (its ARM id) has synced.
    pub async fn solution_inventory(
        &self,
        solution_id: &str,
    ) -> Result<Vec<InventoryResource>, AzureError> {
        let path = format!("{}/inventory", solution_id.trim_end_matches('/'));
        self.list_all(&path, HYBRID_CONNECTIVITY).await
    }

    /// Asks the service whether it has the permissions the connector's solutions need in the
    /// cloud account (`testPermissions`, long-running).
    pub async fn test_connector_permissions(
        &self,
        connector_id: &str,
    ) -> Result<OperationStatus, AzureError> {
        let path = format!("{}/testPermissions", connector_id.trim_end_matches('/'));
        self.post(&path, HYBRID_CONNECTIVITY, None::<&Json>).await
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
