//! The connector's plan-time look at its subscription: the Defender plans its AWS offerings need
//! there (Defender for Servers for `DefenderForServersAws`, Defender for SQL servers on machines
//! for `DefenderForDatabasesAws`) and the Owner right Arc auto-provisioning needs.
//!
//! These are warnings, not errors: a `multicloud_defender_plan_set` with `subscription_id`
//! switches the plans on in the same apply, and the connector cannot tell from its own
//! configuration whether one does. The read happens only when the offerings are new or changed,
//! so a no-op plan costs no extra call.

use serde_json::Value as Json;

use crate::azure::{ArmClient, AzureError};
use crate::onboarding::{self, MissingPrerequisite};
use crate::protocol::{AttrPath, Diagnostics, PlanContext};

use super::clients::ProviderClients;
use super::defender_plan_set_pricings::subscription_pricings;
use super::ids::SecurityConnectorId;
use super::security_connector_offerings as offerings;

/// Warns about what the planned offerings need on the connector's subscription and lack.
pub(crate) async fn warn_missing(
    clients: &ProviderClients,
    plan: &PlanContext,
    diags: &mut Diagnostics,
) {
    let Some(text) = plan.planned.get("offerings").as_str() else {
        return;
    };
    let unchanged = plan
        .prior
        .as_ref()
        .and_then(|p| p.get("offerings").as_str().map(str::to_owned))
        .is_some_and(|prior| prior == text);
    if unchanged {
        return;
    }
    let Ok(items) = offerings::parse(text) else {
        // Invalid offerings are validation's error; nothing to add here.
        return;
    };
    let needs = onboarding::prerequisites_from_offerings(&Json::Array(items));
    if needs.pricings.is_empty() && needs.owner_options.is_empty() {
        return;
    }
    let Some(subscription_id) = subscription_of(clients, plan) else {
        return;
    };
    let mut ignored = Diagnostics::default();
    let Some(arm) = clients.azure(&mut ignored).await else {
        // The provider block's own diagnostics come from the check that runs before this one.
        return;
    };
    for missing in missing(arm, &needs, &subscription_id).await {
        diags.attribute_warning(
            AttrPath::root("offerings"),
            missing.summary,
            format!(
                "{} If a multicloud_defender_plan_set with `subscription_id` switches it on in \
                 this apply, nothing is left to do; otherwise Defender does not cover the \
                 connector's `{}` plan.",
                missing.detail, missing.block
            ),
        );
    }
}

/// The connector's subscription: the planned id's (an update, or a create whose id the provider
/// could compute), else the provider's default.
fn subscription_of(clients: &ProviderClients, plan: &PlanContext) -> Option<String> {
    plan.planned
        .get("id")
        .as_str()
        .and_then(|id| SecurityConnectorId::parse(id).ok())
        .map(|id| id.subscription_id)
        .or_else(|| clients.default_subscription_id())
}

async fn missing(
    arm: &ArmClient,
    needs: &onboarding::Prerequisites,
    subscription_id: &str,
) -> Vec<MissingPrerequisite> {
    // A subscription the caller cannot read pricings or role assignments of is not a reason to
    // fail a plan: the connector write itself reports a real permission problem.
    let pricings = match subscription_pricings(arm, subscription_id).await {
        Ok(p) => p,
        // Before Microsoft.Security is registered (the provider registers it at apply), no
        // Defender plan can be on: every pricing is free.
        Err(AzureError::MissingRegistration { .. }) => Vec::new(),
        Err(e) => {
            tracing::debug!(error = %e, "pricings not readable; prerequisites not checked");
            return Vec::new();
        }
    };
    let may_assign_roles = if needs.owner_options.is_empty() {
        None
    } else {
        arm.may_assign_roles(subscription_id).await.ok()
    };
    onboarding::missing_prerequisites(needs, subscription_id, &pricings, may_assign_roles)
}
