//! What `multicloud_connector`'s destroy removes besides the connector: the Azure
//! representations of AWS resources its inventory projected into `aws_<account id>`.
//!
//! The service keeps them when the connector or its inventory solution is deleted (syncs stop;
//! Microsoft's documentation tells users to delete the `aws_<account id>` group themselves), so
//! an unattended destroy would leave stale copies of the AWS account in Azure. Unless
//! `delete_inventory_on_destroy = false`, the resources the inventory lists are deleted before
//! the solutions (a sync cannot recreate them in between, and a failed destroy retried later
//! still finds them listed), and the group afterwards when nothing else is left in it.

use crate::azure::hybrid_connectivity::SolutionConfiguration;
use crate::azure::{ArmClient, AzureError};
use crate::protocol::{Diagnostics, Value};

use super::errors;
use super::multicloud_connector_model::{INVENTORY, aws_resource_group};

/// The attribute that turns the cleanup off.
pub(crate) const ATTRIBUTE: &str = "delete_inventory_on_destroy";

/// Whether destroy deletes the projected resources (default `true`).
pub(crate) fn enabled(current: &Value) -> bool {
    current.get(ATTRIBUTE).as_bool().unwrap_or(true)
}

/// The Azure ids the inventory solutions of `solutions` list, deduplicated, in a stable order.
async fn projected_ids(
    arm: &ArmClient,
    solutions: &[SolutionConfiguration],
) -> Result<Vec<String>, AzureError> {
    let mut ids = Vec::new();
    for s in solutions
        .iter()
        .filter(|s| s.properties.solution_type.eq_ignore_ascii_case(INVENTORY))
    {
        for item in arm.solution_inventory(&s.id).await? {
            if let Some(id) = item.properties.azure_resource_id.filter(|i| !i.is_empty()) {
                ids.push(id);
            }
        }
    }
    ids.sort_by_key(|i| i.to_ascii_lowercase());
    ids.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    Ok(ids)
}

/// Deletes what the connector's inventory projected. `false` (with the error reported) when
/// something could not be deleted: the connector must then stay, so a retry finds them again.
pub(crate) async fn delete_projection(
    arm: &ArmClient,
    solutions: &[SolutionConfiguration],
    diags: &mut Diagnostics,
) -> bool {
    let ids = match projected_ids(arm, solutions).await {
        Ok(ids) => ids,
        Err(e) => {
            errors::azure(
                diags,
                "Cannot list what the connector's inventory synced",
                &e,
            );
            return false;
        }
    };
    for id in &ids {
        if let Err(e) = arm.delete_projected_resource(id).await {
            errors::azure(
                diags,
                &format!(
                    "Cannot delete {id}, the Azure representation of an AWS resource the \
                     connector synced (set {ATTRIBUTE} = false to keep them)"
                ),
                &e,
            );
            return false;
        }
    }
    true
}

/// Deletes the account's `aws_<account id>` group once nothing is left in it; a group that
/// still holds resources (another connector's, or the user's) is kept. Runs after the
/// connector is gone, so a failure here is a warning: an error would keep the deleted
/// connector in state.
pub(crate) async fn delete_empty_group(arm: &ArmClient, current: &Value, diags: &mut Diagnostics) {
    let Some(account) = current.get("aws_account_id").as_str() else {
        return;
    };
    let group = aws_resource_group(account);
    let failed = match arm.resource_group_resources(&group).await {
        Ok(Some(left)) if left.is_empty() => arm.delete_resource_group(&group).await.err(),
        Ok(Some(left)) => {
            tracing::info!(
                group = %group,
                left = left.len(),
                "keeping the projection resource group: it holds other resources"
            );
            None
        }
        Ok(None) => None,
        Err(e) => Some(e),
    };
    if let Some(e) = failed {
        diags.warning(
            format!("The resource group {group} was left behind"),
            format!(
                "The connector is deleted, but its empty projection group could not be removed: \
                 {e}\n\nDelete it yourself once it holds nothing you need: \
                 az group delete --name {group}"
            ),
        );
    }
}
