//! Planning the `organization {}` block: what forces a new StackSet, the member accounts the
//! plan shows, and the trusted-access pre-flight, so its error comes before apply.
//!
//! The organization is walked only when the plan must show which accounts change: the targets
//! or exclusions of an existing StackSet changed. A new StackSet's accounts are known after
//! apply (CloudFormation resolves the OU targets), and an unchanged configuration keeps the
//! accounts the refresh read from the StackSet's instances, so neither waits for a walk
//! (over ten seconds at 1,000 accounts with Organizations' request rates).

use std::collections::BTreeSet;

use crate::aws::AwsError;
use crate::protocol::{AttrPath, Diagnostics, PlanContext, Value};

use super::super::clients::ProviderClients;
use super::organization::{targets, trusted_access_error};
use super::organization_schema::{BLOCK, OrgConfig, org_config};
use super::organization_targets::{check_exclusions, check_targets};

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
    let (prior_block, prior_org) = if replacing {
        (Value::Null, None)
    } else {
        (prior_block, prior_org)
    };
    let members = match &prior_org {
        // A new StackSet: cheap checks only; its accounts are known after apply.
        None => {
            precheck(clients, &org, diags).await;
            Value::Unknown
        }
        Some(prior) if targets_changed(prior, &org) => {
            match planned_members(clients, &org, diags).await {
                Some(m) => Value::string_list(m),
                None => Value::Unknown,
            }
        }
        // Failed instances are deployed again by the apply, which may add accounts.
        Some(_) if prior_block.get("in_sync").as_bool() != Some(true) => Value::Unknown,
        Some(_) => match prior_block.get("member_account_ids") {
            Value::Null => Value::Unknown,
            known => known.clone(),
        },
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

/// Whether the accounts the StackSet reaches may differ between `prior` and `now`. Order does
/// not count: an import reads the lists back sorted, and the configuration's own order then
/// plans a reorder that must not cost a walk of the organization or touch an instance.
pub(crate) fn targets_changed(prior: &OrgConfig, now: &OrgConfig) -> bool {
    fn set(ids: &[String]) -> BTreeSet<&str> {
        ids.iter().map(String::as_str).collect()
    }
    set(&prior.target_ou_ids) != set(&now.target_ou_ids)
        || set(&prior.excluded_account_ids) != set(&now.excluded_account_ids)
}

/// Plan-time checks of a new StackSet that cost a call per configured id: trusted access, and
/// that the configured OU ids and excluded accounts exist, all at once. Problems reading the
/// organization are left to apply.
async fn precheck(clients: Option<&ProviderClients>, org: &OrgConfig, diags: &mut Diagnostics) {
    let Some(clients) = clients else {
        return;
    };
    let Some(aws) = clients.aws(&mut Diagnostics::new()).await else {
        return;
    };
    if !org.enable_trusted_access
        && let Err(e @ AwsError::TrustedAccessDisabled { .. }) =
            aws.organizations().require_stacksets_trusted_access().await
    {
        trusted_access_error(diags, &e);
        return;
    }
    let mut exclusions = Diagnostics::new();
    tokio::join!(
        check_targets(aws, org, diags),
        check_exclusions(aws, org, &mut exclusions)
    );
    diags.extend(exclusions);
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
