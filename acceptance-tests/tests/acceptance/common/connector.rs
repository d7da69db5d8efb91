//! What the `multicloud_connector` scenarios share: the emulators with the resource group the
//! connector examples use, the Hybrid Connectivity API version they read it back with, and
//! what of that provider is left in ARM.

use acceptance_tests::Emulators;

use super::arm_api::ArmApi;

/// The resource group of the connector examples.
pub(crate) const RESOURCE_GROUP: &str = "rg-arc";

/// The `Microsoft.HybridConnectivity` api-version the scenarios read the connector with.
pub(crate) const API: &str = "2024-12-01";

/// Both emulators, with [`RESOURCE_GROUP`] in `eastus`.
pub(crate) fn start() -> (Emulators, ArmApi) {
    let emulators = Emulators::start();
    let arm = ArmApi::new(&emulators);
    arm.resource_group(RESOURCE_GROUP, "eastus");
    (emulators, arm)
}

/// Ids of every `Microsoft.HybridConnectivity` resource the ARM emulator holds.
pub(crate) fn hybrid_resources(emulators: &Emulators) -> Vec<String> {
    emulators
        .arm_resources()
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .filter(|id| {
            id.to_ascii_lowercase()
                .contains("microsoft.hybridconnectivity")
        })
        .collect()
}
