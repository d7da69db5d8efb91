//! `Microsoft.Security/securityConnectors` (AWS connectors) and the `healthReports` Defender for
//! Cloud writes about them: typed bodies and the calls. Field names follow the api-versions in
//! [`super::api_versions`]; offerings stay JSON because the onboarding domain builds them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::api_versions::{HEALTH_REPORTS, SECURITY_CONNECTORS};
use super::client::ArmClient;
use super::error::AzureError;

/// `environmentName` of AWS connectors.
pub const ENVIRONMENT_AWS: &str = "AWS";
/// `environmentData.environmentType` of AWS connectors.
pub const ENVIRONMENT_TYPE_AWS_ACCOUNT: &str = "AwsAccount";
/// `organizationMembershipType` of a management (payer) account connector.
pub const MEMBERSHIP_ORGANIZATION: &str = "Organization";
/// `organizationMembershipType` of a member account connector the service created.
pub const MEMBERSHIP_MEMBER: &str = "Member";

/// A security connector as sent and as read. Read-only fields are skipped when sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityConnector {
    /// ARM id (read-only).
    #[serde(default, skip_serializing)]
    pub id: String,
    /// Name (read-only; it is in the path).
    #[serde(default, skip_serializing)]
    pub name: String,
    /// Azure region the connector resource lives in.
    #[serde(default)]
    pub location: String,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The connector's configuration.
    #[serde(default)]
    pub properties: SecurityConnectorProperties,
}

/// `properties` of a security connector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityConnectorProperties {
    /// The AWS account id (GCP project number for GCP connectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy_identifier: Option<String>,
    /// End of the trial of paid offerings (read-only).
    #[serde(default, skip_serializing)]
    pub hierarchy_identifier_trial_end_date: Option<String>,
    /// `AWS` for AWS connectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_name: Option<String>,
    /// AWS account data (other environments' data deserialises with their extra fields ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_data: Option<AwsEnvironmentData>,
    /// The offerings, discriminated by `offeringType`.
    #[serde(default)]
    pub offerings: Vec<Json>,
}

/// `environmentData` with `environmentType` `AwsAccount`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsEnvironmentData {
    /// The discriminator: `AwsAccount`.
    #[serde(default)]
    pub environment_type: String,
    /// Management or member account data; absent for a single account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_data: Option<AwsOrganizationalData>,
    /// AWS regions to scan; absent or empty means every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// The AWS account name (read-only).
    #[serde(default, skip_serializing)]
    pub account_name: Option<String>,
    /// Hours between scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_interval: Option<i64>,
}

/// `organizationalData`, discriminated by `organizationMembershipType`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsOrganizationalData {
    /// `Organization` (management account) or `Member`.
    #[serde(default)]
    pub organization_membership_type: String,
    /// Management account: the onboarding StackSet's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stackset_name: Option<String>,
    /// Management account: member accounts left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_account_ids: Option<Vec<String>>,
    /// Member account: the parent's hierarchy id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_hierarchy_id: Option<String>,
}

/// One health report (`Microsoft.Security/healthReports`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    /// ARM id of the report.
    #[serde(default)]
    pub id: String,
    /// Report name (a GUID naming the report type).
    #[serde(default)]
    pub name: String,
    /// The report.
    #[serde(default)]
    pub properties: HealthReportProperties,
}

/// `properties` of a health report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReportProperties {
    /// What the report is about.
    #[serde(default)]
    pub resource_details: HealthResourceDetails,
    /// Which component checked what.
    #[serde(default)]
    pub health_data_classification: HealthClassification,
    /// The verdict.
    #[serde(default)]
    pub status: HealthStatus,
    /// Defender plans an unhealthy report affects.
    #[serde(default)]
    pub affected_defenders_plans: Vec<String>,
    /// What is wrong and how to fix it.
    #[serde(default)]
    pub issues: Vec<HealthIssue>,
}

/// `resourceDetails` of a health report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthResourceDetails {
    /// `Aws`, `Gcp` or `Azure`.
    #[serde(default)]
    pub source: Option<String>,
    /// Azure id of the resource.
    #[serde(default)]
    pub id: Option<String>,
    /// The connector the report belongs to.
    #[serde(default)]
    pub connector_id: Option<String>,
}

/// `healthDataClassification` of a health report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthClassification {
    /// The agent or service that checked.
    #[serde(default)]
    pub component: Option<String>,
    /// The health scenario it checked.
    #[serde(default)]
    pub scenario: Option<String>,
    /// The resource scope of the report.
    #[serde(default)]
    pub scope: Option<String>,
}

/// `status` of a health report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatus {
    /// `Healthy`, `NotHealthy` or `NotApplicable`.
    #[serde(default)]
    pub code: Option<String>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the resource was last scanned.
    #[serde(default)]
    pub last_time_scanned_date: Option<String>,
    /// When the status last changed.
    #[serde(default)]
    pub status_change_date: Option<String>,
}

/// One issue of a health report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthIssue {
    /// The issue's unique key.
    #[serde(default)]
    pub issue_key: String,
    /// Short name.
    #[serde(default)]
    pub issue_name: Option<String>,
    /// What is wrong.
    #[serde(default)]
    pub issue_description: Option<String>,
    /// What to do about it.
    #[serde(default)]
    pub remediation_steps: Option<String>,
}

fn connectors_path(subscription_id: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/Microsoft.Security/securityConnectors")
}

impl ArmClient {
    /// Reads a connector by ARM id; `None` when it does not exist.
    pub async fn security_connector(
        &self,
        id: &str,
    ) -> Result<Option<SecurityConnector>, AzureError> {
        self.get_opt(id, SECURITY_CONNECTORS).await
    }

    /// Creates or replaces a connector; returns it as ARM stored it.
    pub async fn put_security_connector(
        &self,
        id: &str,
        connector: &SecurityConnector,
    ) -> Result<SecurityConnector, AzureError> {
        self.put(id, SECURITY_CONNECTORS, connector).await
    }

    /// Deletes a connector; already gone is success.
    pub async fn delete_security_connector(&self, id: &str) -> Result<(), AzureError> {
        self.delete(id, SECURITY_CONNECTORS).await
    }

    /// Every connector in a subscription, all environments.
    pub async fn security_connectors_in_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<SecurityConnector>, AzureError> {
        self.list_all(&connectors_path(subscription_id), SECURITY_CONNECTORS)
            .await
    }

    /// The health reports Defender for Cloud keeps for a connector. A 404 on the list means no
    /// report exists yet (the connector itself is checked by the caller first).
    pub async fn connector_health_reports(
        &self,
        connector_id: &str,
    ) -> Result<Vec<HealthReport>, AzureError> {
        let path = format!(
            "{}/providers/Microsoft.Security/healthReports",
            connector_id.trim_end_matches('/')
        );
        match self.list_all(&path, HEALTH_REPORTS).await {
            Ok(reports) => Ok(reports),
            Err(AzureError::NotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The clock the client waits with (the retry policy's; tests inject a fake one).
    pub fn clock(&self) -> &std::sync::Arc<dyn crate::http::retry::Clock> {
        self.inner.retry.clock()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_body_has_the_api_field_names_and_no_read_only_fields() {
        let connector = SecurityConnector {
            id: "/subscriptions/s/x".into(),
            name: "x".into(),
            location: "westeurope".into(),
            tags: BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
            properties: SecurityConnectorProperties {
                hierarchy_identifier: Some("123456789012".into()),
                hierarchy_identifier_trial_end_date: Some("2030-01-01T00:00:00Z".into()),
                environment_name: Some(ENVIRONMENT_AWS.into()),
                environment_data: Some(AwsEnvironmentData {
                    environment_type: ENVIRONMENT_TYPE_AWS_ACCOUNT.into(),
                    organizational_data: Some(AwsOrganizationalData {
                        organization_membership_type: MEMBERSHIP_ORGANIZATION.into(),
                        stackset_name: Some("MDCStackSet".into()),
                        excluded_account_ids: Some(vec!["111111111111".into()]),
                        parent_hierarchy_id: None,
                    }),
                    regions: Some(vec!["eu-west-1".into()]),
                    account_name: Some("prod".into()),
                    scan_interval: Some(12),
                }),
                offerings: vec![json!({"offeringType": "CspmMonitorAws"})],
            },
        };
        assert_eq!(
            serde_json::to_value(&connector).unwrap(),
            json!({
                "location": "westeurope",
                "tags": {"env": "prod"},
                "properties": {
                    "hierarchyIdentifier": "123456789012",
                    "environmentName": "AWS",
                    "environmentData": {
                        "environmentType": "AwsAccount",
                        "organizationalData": {
                            "organizationMembershipType": "Organization",
                            "stacksetName": "MDCStackSet",
                            "excludedAccountIds": ["111111111111"]
                        },
                        "regions": ["eu-west-1"],
                        "scanInterval": 12
                    },
                    "offerings": [{"offeringType": "CspmMonitorAws"}]
                }
            })
        );
    }

    #[test]
    fn responses_with_extra_and_missing_fields_decode() {
        let body = json!({
            "id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Security/securityConnectors/c",
            "name": "c", "type": "Microsoft.Security/securityConnectors", "etag": "", "kind": "",
            "location": "westeurope",
            "properties": {"hierarchyIdentifier": "123456789012", "environmentName": "AWS",
                "environmentData": {"environmentType": "AwsAccount", "accountName": "prod"},
                "offerings": [], "provisioningState": "Succeeded"}
        });
        let c: SecurityConnector = serde_json::from_value(body).unwrap();
        assert!(c.tags.is_empty());
        let env = c.properties.environment_data.unwrap();
        assert_eq!(env.account_name.as_deref(), Some("prod"));
        assert_eq!(env.scan_interval, None);
        let report: HealthReport = serde_json::from_value(json!({
            "name": "2351eaac-f8e6-43d8-87c0-a7e2c3d197c0",
            "properties": {"status": {"code": "NotHealthy"}, "issues": [{"issueKey": "k"}]}
        }))
        .unwrap();
        assert_eq!(report.properties.status.code.as_deref(), Some("NotHealthy"));
        assert_eq!(report.properties.issues[0].issue_key, "k");
    }
}
