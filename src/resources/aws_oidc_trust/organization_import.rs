//! Import of the `organization {}` block, with the import id
//! `cloudformation:<stack name>:<StackSet name>`: the StackSet is read back and the block
//! rebuilt from it (targets from its OUs, exclusions from the accounts those OUs reach without
//! an instance, auto-deployment and regions as deployed). Settings AWS does not keep (operation
//! preferences, `enable_trusted_access`) and settings equal to their defaults are left unset,
//! as a configuration that leaves them out has them.

use std::collections::BTreeSet;

use crate::aws::cloudformation::CallAs;
use crate::aws::{AwsClients, AwsError};
use crate::protocol::{Diagnostics, Value};

use super::iam::{StepError, step};
use super::organization::{instance_ous, observe};
use super::organization_schema::{BLOCK, DEFAULT_STACK_SET_NAME, INPUTS, org_config, state_block};
use super::schema::TrustConfig;

/// Splits `<stack name>:<StackSet name>` (neither name can hold a colon).
pub(crate) fn split_id(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once(':') {
        Some((stack, set)) => (stack, Some(set)),
        None => (rest, None),
    }
}

fn not_found(name: &str) -> StepError {
    StepError {
        step: format!("importing the organization part from StackSet {name}"),
        error: Box::new(AwsError::NotFound {
            operation: "DescribeStackSet".into(),
            code: "StackSetNotFoundException".into(),
            message: format!(
                "no StackSet named {name} (as the management account); import with \
                 cloudformation:<stack name> alone if the trust has no organization block"
            ),
            request_id: None,
        }),
    }
}

fn list_or_null(items: Vec<String>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::string_list(items)
    }
}

/// The block as a configuration that produced StackSet `name` would hold it, with the
/// computed attributes read as a refresh reads them.
pub(crate) async fn block(
    aws: &AwsClients,
    config: &TrustConfig,
    state: &Value,
    name: &str,
) -> Result<Value, StepError> {
    let cf = aws.stacksets();
    let call_as = CallAs::ManagementAccount;
    let set = step(
        format!("reading StackSet {name}"),
        cf.describe_stack_set(name, call_as).await,
    )?
    .ok_or_else(|| not_found(name))?;
    let instances = step(
        format!("listing the stack instances of StackSet {name}"),
        cf.list_stack_instances(name, call_as).await,
    )?;
    let tree = step(
        "reading the AWS organization".to_owned(),
        aws.organizations().tree().await,
    )?;
    let shape = tree.shape();
    let mut targets = instance_ous(&set, &instances, &[]);
    targets.sort();
    let reached = match shape.deployment_plan(&targets, &[]) {
        Ok(plan) => plan.member_accounts,
        // A target that is gone reaches nothing.
        Err(_) => Vec::new(),
    };
    let have: BTreeSet<&String> = instances.iter().map(|i| &i.account).collect();
    let excluded: Vec<String> = reached.into_iter().filter(|a| !have.contains(a)).collect();
    let regions: Vec<String> = instances
        .iter()
        .map(|i| i.region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let regions = if regions == [aws.region()] {
        Vec::new()
    } else {
        regions
    };
    let targets = if targets.is_empty() || targets == [shape.root_id.clone()] {
        Vec::new()
    } else {
        targets
    };
    let mut block = Value::object(INPUTS.iter().map(|a| (*a, Value::Null)));
    if name != DEFAULT_STACK_SET_NAME {
        block.set_attr("stack_set_name", name);
    }
    block.set_attr("target_ou_ids", list_or_null(targets));
    block.set_attr("excluded_account_ids", list_or_null(excluded));
    if set.auto_deployment == Some(false) {
        block.set_attr("auto_deployment", false);
    }
    if set.retain_stacks_on_account_removal == Some(true) {
        block.set_attr("retain_stacks_on_account_removal", true);
    }
    block.set_attr("regions", list_or_null(regions));
    let mut with_block = state.clone();
    with_block.set_attr(BLOCK, block.clone());
    let Ok(Some(org)) = org_config(&with_block, &mut Diagnostics::new()) else {
        return Err(not_found(name));
    };
    let computed = observe(&cf, config, &org).await?;
    Ok(state_block(&block, &computed))
}
