//! `Microsoft.Security/pricings`: the Defender plans of a subscription (tier, sub-plan,
//! extensions). Subscription-scoped settings that always exist: a plan never switched on reads
//! as `Free`, so there is no create or delete, only GET and PUT (synchronous in the spec).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api_versions::PRICINGS as PRICINGS_API_VERSION;
use super::client::ArmClient;
use super::error::AzureError;

/// One pricing as the API returns it; the read-only fields are never sent back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// ARM id (read-only).
    #[serde(default, skip_serializing)]
    pub id: String,
    /// The plan name, e.g. `VirtualMachines` (read-only).
    #[serde(default, skip_serializing)]
    pub name: String,
    /// The settings.
    #[serde(default)]
    pub properties: PricingProperties,
}

/// `properties` of a [`Pricing`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingProperties {
    /// `Free` or `Standard` (required on PUT).
    pub pricing_tier: String,
    /// The sub-plan of a standard tier (`P1`/`P2` for `VirtualMachines`); none is the full plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_plan: Option<String>,
    /// `"True"` forces the setting on the subscription's descendants (subscription scope only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<String>,
    /// The plan's extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<PricingExtension>,
    /// Trial time left, ISO 8601 duration (read-only).
    #[serde(default, skip_serializing)]
    pub free_trial_remaining_time: Option<String>,
    /// When the tier last became `Standard` (read-only).
    #[serde(default, skip_serializing)]
    pub enablement_time: Option<String>,
    /// Whether the plan is deprecated (read-only).
    #[serde(default, skip_serializing)]
    pub deprecated: Option<bool>,
    /// The plans that replace a deprecated one (read-only).
    #[serde(default, skip_serializing)]
    pub replaced_by: Vec<String>,
}

/// One extension of a plan (`AgentlessVmScanning`, `MdeDesignatedSubscription`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingExtension {
    /// The extension name.
    pub name: String,
    /// `"True"` or `"False"`: the API models it as a string.
    pub is_enabled: String,
    /// Extension settings, e.g. `ExclusionTags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_extension_properties: Option<Map<String, Value>>,
    /// How enabling or disabling it went (read-only).
    #[serde(default, skip_serializing)]
    pub operation_status: Option<ExtensionStatus>,
}

/// `operationStatus` of an extension after a PUT.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionStatus {
    /// `Succeeded` or `Failed`.
    #[serde(default)]
    pub code: String,
    /// Why it failed.
    #[serde(default)]
    pub message: Option<String>,
}

impl Pricing {
    /// A PUT body for `tier` and `sub_plan`, keeping `extensions` (pass the current ones when
    /// raising a plan that is already on, so its extension choices survive).
    pub fn update(tier: &str, sub_plan: Option<&str>, extensions: Vec<PricingExtension>) -> Self {
        Pricing {
            properties: PricingProperties {
                pricing_tier: tier.to_owned(),
                sub_plan: sub_plan.map(str::to_owned),
                extensions,
                ..PricingProperties::default()
            },
            ..Pricing::default()
        }
    }

    /// Extensions the service reports it could not apply, as `name: message`.
    pub fn failed_extensions(&self) -> Vec<String> {
        self.properties
            .extensions
            .iter()
            .filter_map(|e| {
                let s = e.operation_status.as_ref()?;
                s.code
                    .eq_ignore_ascii_case("Failed")
                    .then(|| format!("{}: {}", e.name, s.message.as_deref().unwrap_or("failed")))
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
struct PricingList {
    #[serde(default)]
    value: Vec<Pricing>,
}

fn pricings_path(subscription_id: &str) -> String {
    format!("/subscriptions/{subscription_id}/providers/Microsoft.Security/pricings")
}

impl ArmClient {
    /// Every pricing of a subscription (`Pricings_List`; the list is not paged).
    pub async fn pricings(&self, subscription_id: &str) -> Result<Vec<Pricing>, AzureError> {
        let list: PricingList = self
            .get(&pricings_path(subscription_id), PRICINGS_API_VERSION)
            .await?;
        Ok(list.value)
    }

    /// One pricing; `None` when the service does not know the plan name.
    pub async fn pricing(
        &self,
        subscription_id: &str,
        name: &str,
    ) -> Result<Option<Pricing>, AzureError> {
        self.get_opt(
            &format!("{}/{name}", pricings_path(subscription_id)),
            PRICINGS_API_VERSION,
        )
        .await
    }

    /// Writes a pricing (`Pricings_Update`) and returns what the service made of it.
    pub async fn put_pricing(
        &self,
        subscription_id: &str,
        name: &str,
        body: &Pricing,
    ) -> Result<Pricing, AzureError> {
        self.put(
            &format!("{}/{name}", pricings_path(subscription_id)),
            PRICINGS_API_VERSION,
            body,
        )
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_only_fields_are_read_but_never_sent() {
        let read: Pricing = serde_json::from_value(json!({
            "id": "/subscriptions/s/providers/Microsoft.Security/pricings/VirtualMachines",
            "name": "VirtualMachines",
            "type": "Microsoft.Security/pricings",
            "properties": {
                "pricingTier": "Standard", "subPlan": "P2", "enforce": "False",
                "freeTrialRemainingTime": "PT0S", "enablementTime": "2024-01-01T00:00:00Z",
                "resourcesCoverageStatus": "FullyCovered", "deprecated": false,
                "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "True",
                    "additionalExtensionProperties": {"ExclusionTags": "[]"},
                    "operationStatus": {"code": "Failed", "message": "quota"}}]
            }
        }))
        .unwrap();
        assert_eq!(read.name, "VirtualMachines");
        assert_eq!(read.properties.sub_plan.as_deref(), Some("P2"));
        assert_eq!(read.failed_extensions(), ["AgentlessVmScanning: quota"]);
        let raised = Pricing::update("Standard", Some("P2"), read.properties.extensions.clone());
        assert_eq!(
            serde_json::to_value(&raised).unwrap(),
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P2",
                "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "True",
                    "additionalExtensionProperties": {"ExclusionTags": "[]"}}]}})
        );
        assert_eq!(
            serde_json::to_value(Pricing::update("Free", None, Vec::new())).unwrap(),
            json!({"properties": {"pricingTier": "Free"}})
        );
    }
}
