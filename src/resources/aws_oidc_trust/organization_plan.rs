//! Planning the `organization {}` block: what forces a new StackSet, the member accounts the
//! targets reach (read from the organization, so an exclusion change or a failed account shows
//! in the plan), and the trusted-access pre-flight, so its error comes before apply.

use crate::aws::AwsError;
use crate::protocol::{AttrPath, Diagnostics, PlanContext, Value};

use super::super::clients::ProviderClients;
use super::organization::{targets, trusted_access_error};
use super::organization_schema::{BLOCK, INPUTS, OrgConfig, org_config};

/// Completes the planned block (computed attributes), after the rest of the plan.
pub(crate) async fn modify_plan(
    clients: Option<&ProviderClients>,
    plan: &mut PlanContext,
    diags: &mut Diagnostics,
) {
    if plan.planned.is_null() {
        return;
    }
    let Ok(Some(org)) = org_config(&plan.config, &mut Diagnostics::new()) else {
        return;
    };
    let prior_block = plan
        .prior
        .as_ref()
        .map_or(Value::Null, |p| p.get(BLOCK).clone());
    let prior_org = org_config(
        plan.prior.as_ref().unwrap_or(&Value::Null),
        &mut Diagnostics::new(),
    )
    .ok()
    .flatten();
    if let Some(prior) = &prior_org
        && (prior.stack_set_name != org.stack_set_name || prior.call_as != org.call_as)
    {
        for attr in ["stack_set_name", "call_as"] {
            let path = AttrPath::root(BLOCK).attr(attr);
            if !plan.requires_replace.contains(&path) {
                plan.requires_replace.push(path);
            }
        }
    }
    let replacing = !plan.requires_replace.is_empty();
    let prior_block = if replacing { Value::Null } else { prior_block };
    let members = planned_members(clients, &org, diags).await;
    let unchanged_inputs = !prior_block.is_null()
        && INPUTS
            .iter()
            .all(|a| prior_block.get(a) == plan.config.get(BLOCK).get(a));
    let members = match members {
        Some(m) => Value::string_list(m),
        None if unchanged_inputs => prior_block.get("member_account_ids").clone(),
        None => Value::Unknown,
    };
    let keep = |attr: &str| match prior_block.get(attr) {
        Value::String(s) => Value::from(s.as_str()),
        _ => Value::Unknown,
    };
    let (id, arn) = (keep("stack_set_id"), keep("stack_set_arn"));
    if let Some(block) = plan.planned.get_mut(BLOCK) {
        block.set_attr("stack_set_id", id);
        block.set_attr("stack_set_arn", arn);
        block.set_attr("member_account_ids", members);
        block.set_attr("in_sync", true);
    }
}

/// The member accounts the targets reach, when the organization can be read now; a
/// trusted-access problem and invalid targets are reported here, before apply.
async fn planned_members(
    clients: Option<&ProviderClients>,
    org: &OrgConfig,
    diags: &mut Diagnostics,
) -> Option<Vec<String>> {
    let clients = clients?;
    // Configuration problems are reported by apply, against the provider block.
    let aws = clients.aws(&mut Diagnostics::new()).await?;
    // Other answers (no permission to read it, say) are left to apply.
    if !org.enable_trusted_access
        && let Err(e @ AwsError::TrustedAccessDisabled { .. }) =
            aws.organizations().require_stacksets_trusted_access().await
    {
        trusted_access_error(diags, &e);
        return None;
    }
    let mut quiet = Diagnostics::new();
    let found = targets(aws, org, &mut quiet).await;
    // Target problems are the user's to fix; an unreadable organization is apply's to report.
    for d in quiet.iter().filter(|d| d.attribute.is_some()) {
        diags.add(d.clone());
    }
    found.map(|t| t.plan.member_accounts)
}
