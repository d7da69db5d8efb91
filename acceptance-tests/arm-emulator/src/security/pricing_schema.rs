//! The `Pricing` resource body of `Microsoft.Security/pricings`, api-version `2024-01-01`,
//! encoded by hand from the facts of the official OpenAPI definition, and the catalogue of
//! Defender plans a subscription has.
//!
//! The definition types `subPlan` and the extension `name` as free strings; which sub-plans and
//! extensions each plan offers is the service's knowledge, written down here from the
//! definition's descriptions and examples (`VirtualMachines` P1/P2, `StorageAccounts`
//! `DefenderForStorageV2`, `KeyVaults` `PerKeyVault`, the extensions of `CloudPosture`,
//! `Containers` and `VirtualMachines`) and, for the rest, from Microsoft's documentation of the
//! plans.

use std::sync::LazyLock;

use crate::schema::{Field, Schema, array, field, object};

fn s(name: &'static str) -> Field {
    field(name, Schema::String)
}

/// The request and response body of one pricing.
pub(crate) static PRICING: LazyLock<Schema> = LazyLock::new(|| {
    let extension = object([
        s("name").required(),
        field("isEnabled", Schema::Enum(&["True", "False"])).required(),
        field("additionalExtensionProperties", Schema::FreeForm),
        field(
            "operationStatus",
            object([
                field("code", Schema::Enum(&["Succeeded", "Failed"])),
                s("message"),
            ]),
        )
        .read_only(),
    ]);
    object([
        s("id").read_only(),
        s("name").read_only(),
        s("type").read_only(),
        // Not in the definition (the envelope is the common `Resource`); the generic store adds
        // it before validation and the behaviour drops it.
        field("systemData", Schema::FreeForm).read_only(),
        field(
            "properties",
            object([
                field("pricingTier", Schema::Enum(&["Free", "Standard"])).required(),
                s("subPlan"),
                s("freeTrialRemainingTime").read_only(),
                field("enablementTime", Schema::DateTime).read_only(),
                field("enforce", Schema::Enum(&["False", "True"])),
                field("inherited", Schema::Enum(&["True", "False"])).read_only(),
                s("inheritedFrom").read_only(),
                field(
                    "resourcesCoverageStatus",
                    Schema::Enum(&["FullyCovered", "PartiallyCovered", "NotCovered"]),
                )
                .read_only(),
                field("extensions", array(extension)),
                field("deprecated", Schema::Bool).read_only(),
                field("replacedBy", array(Schema::String)).read_only(),
            ]),
        ),
    ])
});

/// One extension a plan offers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extension {
    pub(crate) name: &'static str,
    /// Whether switching the plan on without naming extensions switches this one on.
    pub(crate) on_by_default: bool,
    /// The sub-plans that include it; empty: every sub-plan.
    pub(crate) sub_plans: &'static [&'static str],
}

impl Extension {
    /// Whether sub-plan `sub_plan` (none: the full plan) includes this extension.
    pub(crate) fn in_sub_plan(&self, sub_plan: Option<&str>) -> bool {
        match sub_plan {
            None => true,
            Some(p) => self.sub_plans.is_empty() || self.sub_plans.contains(&p),
        }
    }
}

/// One Defender plan of a subscription.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// The pricing name, canonical casing.
    pub(crate) name: &'static str,
    /// The sub-plans it offers, lowest first; empty: none.
    pub(crate) sub_plans: &'static [&'static str],
    pub(crate) extensions: &'static [Extension],
    /// The plans replacing it, when deprecated.
    pub(crate) replaced_by: &'static [&'static str],
}

const fn ext(
    name: &'static str,
    on_by_default: bool,
    sub_plans: &'static [&'static str],
) -> Extension {
    Extension {
        name,
        on_by_default,
        sub_plans,
    }
}

const fn plan(
    name: &'static str,
    sub_plans: &'static [&'static str],
    extensions: &'static [Extension],
) -> Plan {
    Plan {
        name,
        sub_plans,
        extensions,
        replaced_by: &[],
    }
}

const fn deprecated(name: &'static str, replaced_by: &'static [&'static str]) -> Plan {
    Plan {
        name,
        sub_plans: &[],
        extensions: &[],
        replaced_by,
    }
}

/// Every plan a new subscription has, all `Free`, in the order the list answers them.
pub(crate) const PLANS: &[Plan] = &[
    plan(
        "VirtualMachines",
        &["P1", "P2"],
        &[
            ext("MdeDesignatedSubscription", false, &[]),
            ext("AgentlessVmScanning", true, &["P2"]),
            ext("FileIntegrityMonitoring", false, &["P2"]),
        ],
    ),
    plan("SqlServers", &[], &[]),
    plan("AppServices", &[], &[]),
    plan(
        "StorageAccounts",
        &["DefenderForStorageV2", "PerTransaction"],
        &[
            ext("OnUploadMalwareScanning", true, &["DefenderForStorageV2"]),
            ext("SensitiveDataDiscovery", true, &["DefenderForStorageV2"]),
        ],
    ),
    plan("SqlServerVirtualMachines", &[], &[]),
    plan("KeyVaults", &["PerKeyVault", "PerTransaction"], &[]),
    plan("Dns", &[], &[]),
    plan("Arm", &["PerSubscription", "PerApiCall"], &[]),
    plan("OpenSourceRelationalDatabases", &[], &[]),
    plan("CosmosDbs", &[], &[]),
    plan(
        "Containers",
        &[],
        &[
            ext("ContainerRegistriesVulnerabilityAssessments", true, &[]),
            ext("AgentlessDiscoveryForKubernetes", true, &[]),
            ext("ContainerSensor", true, &[]),
        ],
    ),
    plan(
        "CloudPosture",
        &[],
        &[
            ext("AgentlessVmScanning", true, &[]),
            ext("AgentlessDiscoveryForKubernetes", true, &[]),
            ext("SensitiveDataDiscovery", true, &[]),
            ext("ContainerRegistriesVulnerabilityAssessments", true, &[]),
            ext("EntraPermissionsManagement", true, &[]),
        ],
    ),
    plan("Api", &["P1", "P2", "P3", "P4", "P5"], &[]),
    plan("AI", &[], &[ext("AIPromptEvidence", false, &[])]),
    deprecated("KubernetesService", &["Containers"]),
    deprecated("ContainerRegistry", &["Containers"]),
];

/// Every plan name, for lists.
pub(crate) const PLAN_NAMES: &[&str] = &[
    "VirtualMachines",
    "SqlServers",
    "AppServices",
    "StorageAccounts",
    "SqlServerVirtualMachines",
    "KeyVaults",
    "Dns",
    "Arm",
    "OpenSourceRelationalDatabases",
    "CosmosDbs",
    "Containers",
    "CloudPosture",
    "Api",
    "AI",
    "KubernetesService",
    "ContainerRegistry",
];

/// The plan named `name`, ignoring case as ARM does for names in a path.
pub(crate) fn find(name: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_list_matches_the_catalogue() {
        let names: Vec<&str> = PLANS.iter().map(|p| p.name).collect();
        assert_eq!(names, PLAN_NAMES);
        assert_eq!(
            find("virtualmachines").map(|p| p.name),
            Some("VirtualMachines")
        );
        assert!(find("Servers").is_none());
    }
}
