//! `organization {}`: the service-managed StackSet that puts the trust's roles in every member
//! account the targets reach, minus the exclusions. The management account keeps its own stack
//! (a StackSet never deploys to it); this module only handles the StackSet and its instances.
//!
//! Instances are changed by account: the OU targets with a `DIFFERENCE` filter that leaves out
//! every account but the ones to add (or remove), so an apply touches only what changed and a
//! failed account can be retried alone.

use std::collections::BTreeSet;

use crate::aws::cloudformation::{
    CloudFormationClient, StackInstance, StackSet, StackSetSpec, StackSetTargets,
};
use crate::aws::{AwsClients, AwsError};
use crate::onboarding::organization::{DeploymentPlan, TargetIssue};
use crate::protocol::{AttrPath, Diagnostics};

use super::super::errors;
use super::iam::{StepError, step};
use super::organization_schema::{BLOCK, OrgComputed, OrgConfig};
use super::organization_targets::deployment_ous;
use super::organization_template::member_template;
use super::schema::TrustConfig;

/// Where the StackSet goes, worked out from the organization before anything is created.
#[derive(Debug, Clone)]
pub(crate) struct Targets {
    pub plan: DeploymentPlan,
    /// Every account of the organization (the management account included).
    pub all_accounts: Vec<String>,
}

fn report(diags: &mut Diagnostics, e: &StepError) {
    errors::aws(diags, &format!("Failed {}", e.step), &e.error);
}

/// Checks that trusted access for CloudFormation StackSets is on (turning it on when
/// `enable_trusted_access` says so). `false` when it is off or cannot be checked (reported).
pub(crate) async fn preflight(aws: &AwsClients, org: &OrgConfig, diags: &mut Diagnostics) -> bool {
    let orgs = aws.organizations();
    match orgs.require_stacksets_trusted_access().await {
        Ok(()) => true,
        Err(AwsError::TrustedAccessDisabled { .. }) if org.enable_trusted_access => {
            tracing::info!(
                "enabling trusted access for CloudFormation StackSets in AWS Organizations"
            );
            match orgs.enable_stacksets_trusted_access().await {
                Ok(()) => true,
                Err(e) => {
                    errors::aws(
                        diags,
                        "Cannot enable trusted access for CloudFormation StackSets",
                        &e,
                    );
                    false
                }
            }
        }
        Err(e @ AwsError::TrustedAccessDisabled { .. }) => {
            trusted_access_error(diags, &e);
            false
        }
        // A delegated administrator may not read the organization's service access; the
        // StackSet calls themselves then say whether trusted access is on.
        Err(_) if org.call_as == crate::aws::cloudformation::CallAs::DelegatedAdmin => true,
        Err(e) => {
            errors::aws(
                diags,
                "Cannot check trusted access for CloudFormation StackSets",
                &e,
            );
            false
        }
    }
}

/// The trusted-access error, with the opt-in fix this resource offers.
pub(crate) fn trusted_access_error(diags: &mut Diagnostics, e: &AwsError) {
    diags.attribute_error(
        AttrPath::root(BLOCK),
        "Trusted access for CloudFormation StackSets is not enabled",
        format!(
            "{e}. Alternatively set organization.enable_trusted_access = true and this resource \
             enables it. Nothing was created."
        ),
    );
}

fn target_issue(diags: &mut Diagnostics, issue: &TargetIssue) {
    let path = AttrPath::root(BLOCK);
    let path = match issue {
        TargetIssue::UnknownTarget { index, .. } => path.attr("target_ou_ids").index(*index as i64),
        TargetIssue::NotInOrganization { index, .. }
        | TargetIssue::NotAnAccountId { index, .. } => {
            path.attr("excluded_account_ids").index(*index as i64)
        }
        TargetIssue::ExclusionsWithoutOrganization => path,
    };
    diags.attribute_error(path, "Invalid organization target", issue.to_string());
}

/// Reads the organization and computes the targets; target problems are reported on their
/// attributes, AWS errors as such.
pub(crate) async fn targets(
    aws: &AwsClients,
    org: &OrgConfig,
    diags: &mut Diagnostics,
) -> Option<Targets> {
    // The plan of this command read the same organization seconds ago: one walk serves both.
    let tree = match aws.organization_tree(crate::aws::TREE_REUSE).await {
        Ok(t) => t,
        Err(e) => {
            errors::aws(diags, "Cannot read the AWS organization", &e);
            return None;
        }
    };
    let shape = tree.shape();
    match shape.deployment_plan(&org.target_ou_ids, &org.excluded_account_ids) {
        Ok(plan) => {
            if !plan.exclusions_outside_targets.is_empty() {
                diags.attribute_warning(
                    AttrPath::root(BLOCK).attr("excluded_account_ids"),
                    "Exclusions outside the targets",
                    format!(
                        "{} are not in the target OUs: excluding them changes nothing.",
                        plan.exclusions_outside_targets.join(", ")
                    ),
                );
            }
            Some(Targets {
                plan,
                all_accounts: shape.accounts.keys().cloned().collect(),
            })
        }
        Err(issues) => {
            for i in &issues {
                target_issue(diags, i);
            }
            None
        }
    }
}

fn spec(config: &TrustConfig, org: &OrgConfig) -> Result<StackSetSpec, StepError> {
    let body = member_template(config)
        .map_err(|e| StepError::rendering("rendering the StackSet template", &e))?;
    let mut spec = StackSetSpec::new(&org.stack_set_name, body);
    spec.description = Some(
        "Microsoft Defender for Cloud: OIDC trust and IAM roles in member accounts (managed by Terraform)."
            .into(),
    );
    spec.auto_deployment = org.auto_deployment;
    spec.retain_stacks_on_account_removal = org.retain_stacks;
    spec.tags = config.tags().clone();
    spec.call_as = org.call_as;
    Ok(spec)
}

/// The OU targets narrowed to `accounts`: every other account of the organization is left out.
fn only(
    ous: Vec<String>,
    accounts: &BTreeSet<String>,
    all: &[String],
    regions: Vec<String>,
) -> StackSetTargets {
    StackSetTargets {
        organizational_unit_ids: ous,
        excluded_accounts: all
            .iter()
            .filter(|a| !accounts.contains(*a))
            .cloned()
            .collect(),
        regions,
    }
}

/// Runs one instance operation to its end, logging progress.
async fn instances_op(
    cf: &CloudFormationClient,
    org: &OrgConfig,
    what: &str,
    count: Option<usize>,
    op: Result<String, AwsError>,
) -> Result<(), StepError> {
    let name = org.stack_set_name.as_str();
    let op = step(format!("{what} stack instances of StackSet {name}"), op)?;
    // A create counts nothing beforehand: CloudFormation resolves the OU targets.
    tracing::info!(stack_set = name, operation = %op, accounts = ?count, "{what} stack instances");
    step(
        format!("{what} stack instances of StackSet {name}"),
        cf.wait_for_stack_set_operation(name, &op, org.call_as)
            .await,
    )?;
    tracing::info!(stack_set = name, operation = %op, "{what} stack instances: done");
    Ok(())
}

/// Creates the StackSet and its instances: one `CreateStackInstances` for the OU targets minus
/// the exclusions, resolved by CloudFormation (no walk of the organization). Whatever exists
/// afterwards is returned, with the first error reported.
pub(crate) async fn create(
    aws: &AwsClients,
    config: &TrustConfig,
    org: &OrgConfig,
    diags: &mut Diagnostics,
) -> OrgComputed {
    let cf = aws.stacksets();
    let result = async {
        let spec = spec(config, org)?;
        let name = &org.stack_set_name;
        let created = cf.create_stack_set(&spec).await;
        let what = match &created {
            Err(AwsError::AlreadyExists { .. }) => format!(
                "creating StackSet {name}: a StackSet of that name exists; delete it, or \
                 choose another organization.stack_set_name"
            ),
            _ => format!("creating StackSet {name}"),
        };
        step(what, created)?;
        let t = StackSetTargets {
            organizational_unit_ids: deployment_ous(aws, &org.target_ou_ids).await?,
            excluded_accounts: org.excluded_account_ids.clone(),
            regions: org.regions_or(aws.region()),
        };
        let op = cf
            .create_stack_instances(name, &t, &org.preferences, org.call_as)
            .await;
        instances_op(&cf, org, "creating", None, op).await?;
        Ok(())
    }
    .await;
    finish(&cf, config, org, result, diags).await
}

/// Reports `result`'s error and reads back what exists.
async fn finish(
    cf: &CloudFormationClient,
    config: &TrustConfig,
    org: &OrgConfig,
    result: Result<(), StepError>,
    diags: &mut Diagnostics,
) -> OrgComputed {
    if let Err(e) = &result {
        report(diags, e);
    }
    match observe(cf, config, org).await {
        Ok(c) => c,
        Err(e) => {
            report(diags, &e);
            OrgComputed::default()
        }
    }
}

/// Accounts whose every instance is current, sorted.
fn current_accounts(instances: &[StackInstance]) -> Vec<String> {
    let all: BTreeSet<&String> = instances.iter().map(|i| &i.account).collect();
    let bad: BTreeSet<&String> = instances
        .iter()
        .filter(|i| i.status != "CURRENT")
        .map(|i| &i.account)
        .collect();
    all.difference(&bad).map(|a| (*a).clone()).collect()
}

fn settings_match(set: &StackSet, spec: &StackSetSpec) -> bool {
    set.template_body == spec.template_body
        && set.auto_deployment.unwrap_or(spec.auto_deployment) == spec.auto_deployment
        && set
            .retain_stacks_on_account_removal
            .unwrap_or(spec.retain_stacks_on_account_removal)
            == spec.retain_stacks_on_account_removal
}

/// The StackSet as it is: ids, accounts with current instances, and whether it matches the
/// configuration. A missing StackSet gives empty values (and `in_sync = false`).
pub(crate) async fn observe(
    cf: &CloudFormationClient,
    config: &TrustConfig,
    org: &OrgConfig,
) -> Result<OrgComputed, StepError> {
    let name = &org.stack_set_name;
    let Some(set) = step(
        format!("reading StackSet {name}"),
        cf.describe_stack_set(name, org.call_as).await,
    )?
    else {
        return Ok(OrgComputed::default());
    };
    let instances = step(
        format!("listing the stack instances of StackSet {name}"),
        cf.list_stack_instances(name, org.call_as).await,
    )?;
    let members = current_accounts(&instances);
    let in_sync = spec(config, org).is_ok_and(|s| settings_match(&set, &s))
        && instances.iter().all(|i| i.status == "CURRENT");
    Ok(OrgComputed {
        stack_set_id: Some(set.id),
        stack_set_arn: Some(set.arn).filter(|a| !a.is_empty()),
        member_account_ids: members,
        in_sync,
    })
}

/// Brings the StackSet to the configuration: new settings are rolled out to every instance;
/// with unchanged settings, only the instances that are not current (failed) are deployed
/// again. With `reach` (the organization walked because the targets or exclusions changed),
/// instances are then added for accounts that lack one and removed from accounts no longer
/// wanted; without it the accounts are left to CloudFormation (auto-deployment).
pub(crate) async fn update(
    aws: &AwsClients,
    config: &TrustConfig,
    org: &OrgConfig,
    reach: Option<&Targets>,
    diags: &mut Diagnostics,
) -> OrgComputed {
    let cf = aws.stacksets();
    let name = &org.stack_set_name;
    let set = match cf.describe_stack_set(name, org.call_as).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            tracing::info!(stack_set = %name, "StackSet missing: creating it again");
            return create(aws, config, org, diags).await;
        }
        Err(e) => {
            report(
                diags,
                &StepError {
                    step: format!("reading StackSet {name}"),
                    error: Box::new(e),
                },
            );
            return OrgComputed::default();
        }
    };
    let result = async {
        let spec = spec(config, org)?;
        let instances = step(
            format!("listing the stack instances of StackSet {name}"),
            cf.list_stack_instances(name, org.call_as).await,
        )?;
        let stale: Vec<&StackInstance> =
            instances.iter().filter(|i| i.status != "CURRENT").collect();
        if !settings_match(&set, &spec) {
            let op = step(
                format!("updating StackSet {name}"),
                cf.update_stack_set(&spec, &org.preferences).await,
            )?;
            tracing::info!(stack_set = %name, instances = instances.len(), "rolling the StackSet out again");
            step(
                format!("updating StackSet {name}"),
                cf.wait_for_stack_set_operation(name, &op, org.call_as).await,
            )?;
        } else if !stale.is_empty() {
            retry(aws, &cf, org, &spec, &set, &instances, &stale).await?;
        }
        let Some(reach) = reach else {
            return Ok(());
        };
        let have: BTreeSet<String> = instances.iter().map(|i| i.account.clone()).collect();
        let wanted: BTreeSet<String> = reach.plan.member_accounts.iter().cloned().collect();
        let regions = org.regions_or(aws.region());
        let remove: BTreeSet<String> = have.difference(&wanted).cloned().collect();
        if !remove.is_empty() {
            let ous = instance_ous(&set, &instances, &reach.plan.organizational_unit_ids);
            let t = only(ous, &remove, &reach.all_accounts, regions.clone());
            let op = cf
                .delete_stack_instances(name, &t, org.retain_stacks, &org.preferences, org.call_as)
                .await;
            instances_op(&cf, org, "deleting", Some(remove.len()), op).await?;
        }
        let add: BTreeSet<String> = wanted.difference(&have).cloned().collect();
        if !add.is_empty() {
            let ous = reach.plan.organizational_unit_ids.clone();
            let t = only(ous, &add, &reach.all_accounts, regions);
            let op = cf
                .create_stack_instances(name, &t, &org.preferences, org.call_as)
                .await;
            instances_op(&cf, org, "creating", Some(add.len()), op).await?;
        }
        Ok(())
    }
    .await;
    finish(&cf, config, org, result, diags).await
}

/// Deploys the `stale` instances again (an `UpdateStackSet` narrowed to their accounts and
/// regions), leaving the current ones alone: after a partly failed create, an apply deploys
/// only the accounts that failed.
async fn retry(
    aws: &AwsClients,
    cf: &CloudFormationClient,
    org: &OrgConfig,
    spec: &StackSetSpec,
    set: &StackSet,
    instances: &[StackInstance],
    stale: &[&StackInstance],
) -> Result<(), StepError> {
    let name = &org.stack_set_name;
    let accounts: BTreeSet<String> = stale.iter().map(|i| i.account.clone()).collect();
    let regions: BTreeSet<String> = stale.iter().map(|i| i.region.clone()).collect();
    let (accounts, regions): (Vec<String>, Vec<String>) = (
        accounts.into_iter().collect(),
        regions.into_iter().collect(),
    );
    let mut ous = instance_ous(set, instances, &[]);
    if ous.is_empty() {
        ous = deployment_ous(aws, &org.target_ou_ids).await?;
    }
    tracing::info!(stack_set = %name, accounts = %accounts.join(","), "deploying the failed stack instances again");
    let op = step(
        format!("deploying the failed stack instances of StackSet {name} again"),
        cf.update_stack_set_accounts(spec, &org.preferences, &ous, &accounts, &regions)
            .await,
    )?;
    step(
        format!("deploying the failed stack instances of StackSet {name} again"),
        cf.wait_for_stack_set_operation(name, &op, org.call_as)
            .await,
    )?;
    Ok(())
}

/// The OUs the instances were deployed through (as CloudFormation reports them), else
/// `fallback`.
pub(crate) fn instance_ous(
    set: &StackSet,
    instances: &[StackInstance],
    fallback: &[String],
) -> Vec<String> {
    let mut ous: BTreeSet<String> = set.organizational_unit_ids.iter().cloned().collect();
    ous.extend(
        instances
            .iter()
            .filter_map(|i| i.organizational_unit_id.clone()),
    );
    if ous.is_empty() {
        fallback.to_vec()
    } else {
        ous.into_iter().collect()
    }
}

/// Deletes every instance (keeping the stacks with `retain_stacks_on_account_removal`), then
/// the StackSet. A StackSet already gone is not an error.
pub(crate) async fn delete(aws: &AwsClients, org: &OrgConfig) -> Result<(), StepError> {
    let cf = aws.stacksets();
    let name = &org.stack_set_name;
    let Some(set) = step(
        format!("reading StackSet {name}"),
        cf.describe_stack_set(name, org.call_as).await,
    )?
    else {
        return Ok(());
    };
    let instances = step(
        format!("listing the stack instances of StackSet {name}"),
        cf.list_stack_instances(name, org.call_as).await,
    )?;
    if !instances.is_empty() {
        let mut ous = instance_ous(&set, &instances, &[]);
        if ous.is_empty() {
            ous = deployment_ous(aws, &org.target_ou_ids).await?;
        }
        let regions: BTreeSet<String> = instances.iter().map(|i| i.region.clone()).collect();
        let t = StackSetTargets {
            organizational_unit_ids: ous,
            excluded_accounts: Vec::new(),
            regions: regions.into_iter().collect(),
        };
        let op = cf
            .delete_stack_instances(name, &t, org.retain_stacks, &org.preferences, org.call_as)
            .await;
        instances_op(&cf, org, "deleting", Some(instances.len()), op).await?;
        let left = step(
            format!("listing the stack instances of StackSet {name}"),
            cf.list_stack_instances(name, org.call_as).await,
        )?;
        if !left.is_empty() {
            let accounts: Vec<String> = left.iter().map(|i| i.account.clone()).collect();
            return Err(StepError {
                step: format!("deleting the stack instances of StackSet {name}"),
                error: Box::new(AwsError::Conflict {
                    operation: "DeleteStackInstances".into(),
                    code: "StackInstancesRemain".into(),
                    message: format!(
                        "instances remain in accounts {} (outside the StackSet's OUs?); delete \
                         them in the CloudFormation console, then destroy again",
                        accounts.join(", ")
                    ),
                    request_id: None,
                }),
            });
        }
    }
    step(
        format!("deleting StackSet {name}"),
        cf.delete_stack_set(name, org.call_as).await,
    )
}
