//! The Azure representations of AWS resources that the multicloud connector's inventory
//! projects into the resource group `aws_<account id>`: the service creates them and keeps
//! them when the connector is deleted, so whoever removes the connector removes them too.

use serde::Deserialize;

use super::api_versions::{AWS_CONNECTOR, HYBRID_COMPUTE, RESOURCE_GROUPS};
use super::client::ArmClient;
use super::error::AzureError;

/// One entry of a resource group's resource list (the generic resource shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GenericResource {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Full type, such as `Microsoft.AwsConnector/s3Buckets`.
    #[serde(default, rename = "type")]
    pub resource_type: String,
}

/// The api-version to address a projected resource with, by its namespace.
pub fn api_version_for(resource_id: &str) -> &'static str {
    if resource_id
        .to_ascii_lowercase()
        .contains("/providers/microsoft.hybridcompute/")
    {
        HYBRID_COMPUTE
    } else {
        AWS_CONNECTOR
    }
}

fn group_path(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{name}")
}

impl ArmClient {
    /// Deletes one projected resource by id; already gone is success.
    pub async fn delete_projected_resource(&self, resource_id: &str) -> Result<(), AzureError> {
        self.delete(resource_id, api_version_for(resource_id)).await
    }

    /// The top-level resources of a resource group of the client's subscription; `None` when
    /// the group does not exist.
    pub async fn resource_group_resources(
        &self,
        name: &str,
    ) -> Result<Option<Vec<GenericResource>>, AzureError> {
        let path = format!("{}/resources", group_path(self.subscription_id(), name));
        match self.list_all(&path, RESOURCE_GROUPS).await {
            Ok(items) => Ok(Some(items)),
            Err(AzureError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes a resource group of the client's subscription and waits until it is gone.
    pub async fn delete_resource_group(&self, name: &str) -> Result<(), AzureError> {
        self.delete(&group_path(self.subscription_id(), name), RESOURCE_GROUPS)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_and_aws_connector_resources_have_their_own_api_versions() {
        assert_eq!(
            api_version_for(
                "/subscriptions/s/resourceGroups/aws_1/providers/Microsoft.HybridCompute/machines/i-1"
            ),
            HYBRID_COMPUTE
        );
        assert_eq!(
            api_version_for(
                "/subscriptions/s/resourceGroups/aws_1/providers/Microsoft.AwsConnector/s3Buckets/b"
            ),
            AWS_CONNECTOR
        );
    }
}
