//! Planning: defaults, what can be known before apply (the account and so every role's ARN,
//! which lets a connector downstream plan with real ARNs), and when a provider must change.

use std::collections::BTreeSet;

use crate::onboarding::Issuer;
use crate::protocol::{AttrPath, Diagnostics, PlanContext, Value};

use super::super::clients::ProviderClients;
use super::iam::partition_of;
use super::model::{ProviderState, providers_from_value};
use super::schema::{DEFAULT_STACK_NAME, Deployment, TrustConfig, trust_config};
use super::state::{Deployed, role_arns};

pub(crate) async fn modify_plan(
    clients: Option<&ProviderClients>,
    plan: &mut PlanContext,
    diags: &mut Diagnostics,
) {
    if plan.planned.is_null() {
        return;
    }
    let Some(config) = trust_config(&plan.config, diags) else {
        return;
    };
    let prior = plan.prior.clone().unwrap_or(Value::Null);
    let planned = &mut plan.planned;
    let deployment = match config.deployment {
        Deployment::Iam => "iam",
        Deployment::CloudFormation => "cloudformation",
    };
    planned.set_attr("deployment", deployment);
    let stack_name = match config.deployment {
        Deployment::Iam => Value::Null,
        Deployment::CloudFormation => Value::from(
            config
                .stack_name
                .clone()
                .unwrap_or_else(|| DEFAULT_STACK_NAME.to_owned()),
        ),
    };
    planned.set_attr("stack_name", stack_name);
    if !prior.is_null() {
        // Defaults are computed, so the generic plan cannot see these switches.
        // (A configured oidc_provider_arn is force_new, which the generic plan handles.)
        for attr in ["deployment", "stack_name"] {
            let path = AttrPath::root(attr);
            if planned.get(attr) != prior.get(attr) && !plan.requires_replace.contains(&path) {
                plan.requires_replace.push(path);
            }
        }
    }
    let replacing = !plan.requires_replace.is_empty();
    let prior = if replacing { Value::Null } else { prior };
    let planned = &mut plan.planned;

    let (account, partition) = match Deployed::from_state(&prior) {
        Some(d) => (Some(d.account_id), d.partition),
        None => account_at_plan(clients).await,
    };
    match &account {
        Some(account) => {
            planned.set_attr("account_id", account.as_str());
            planned.set_attr(
                "role_arns",
                Value::map(
                    role_arns(&partition, account, &config.roles)
                        .into_iter()
                        .map(|(k, v)| (k, Value::from(v))),
                ),
            );
        }
        None => {
            planned.set_attr("account_id", Value::Unknown);
            planned.set_attr("role_arns", Value::Unknown);
        }
    }
    plan_providers(&config, &prior, planned);
    let stack_id = match config.deployment {
        Deployment::Iam => Value::Null,
        Deployment::CloudFormation => match prior.get("stack_id") {
            Value::String(s) => Value::from(s.as_str()),
            _ => Value::Unknown,
        },
    };
    planned.set_attr("stack_id", stack_id);
    let id = match (&config.deployment, prior.get("id")) {
        (_, Value::String(id)) => Value::from(id.as_str()),
        (Deployment::CloudFormation, _) => Value::from(format!(
            "cloudformation:{}",
            planned.get("stack_name").as_str().unwrap_or_default()
        )),
        // Without a role federated through Microsoft's issuer there is no such provider.
        (Deployment::Iam, _) if config.required_providers().contains_key(&Issuer::Microsoft) => {
            planned.get("oidc_provider_arn").clone()
        }
        (Deployment::Iam, _) => planned.get("account_id").clone(),
    };
    planned.set_attr("id", id);
}

/// The account (and partition) the configured AWS credentials are in, when they can be
/// asked now; otherwise it is known after apply.
async fn account_at_plan(clients: Option<&ProviderClients>) -> (Option<String>, String) {
    let Some(clients) = clients else {
        return (None, "aws".into());
    };
    // Configuration problems are reported by apply, against the provider block.
    let mut quiet = Diagnostics::new();
    let Some(aws) = clients.aws(&mut quiet).await else {
        return (None, "aws".into());
    };
    match aws.caller_identity().await {
        Ok(c) => (Some(c.account_id), partition_of(&c.arn).to_owned()),
        Err(_) => (None, "aws".into()),
    }
}

/// Providers stay as they are when they already serve the roles exactly; otherwise they are
/// known after apply.
fn plan_providers(config: &TrustConfig, prior: &Value, planned: &mut Value) {
    let wanted = config.required_providers();
    let providers = providers_from_value(prior.get("oidc_providers"));
    let serves = |p: &ProviderState, audiences: &BTreeSet<String>| {
        let have: BTreeSet<&String> = p.client_ids.iter().collect();
        let removable: Vec<&String> = if p.created {
            p.client_ids.iter().collect()
        } else {
            p.added_client_ids.iter().collect()
        };
        audiences.iter().all(|a| have.contains(a))
            && removable.iter().all(|a| audiences.contains(*a))
    };
    let unchanged = !prior.is_null()
        && providers.len() == wanted.len()
        && wanted.iter().all(|(issuer, audiences)| {
            let url = issuer.url(&config.tenant_id);
            providers
                .iter()
                .any(|p| p.url == url && serves(p, audiences))
        });
    let arn_of = |issuer: Issuer| {
        let url = issuer.url(&config.tenant_id);
        match providers.iter().find(|p| p.url == url) {
            Some(p) if wanted.contains_key(&issuer) => Value::from(p.arn.as_str()),
            _ if !wanted.contains_key(&issuer) => Value::Null,
            _ => Value::Unknown,
        }
    };
    let microsoft = match &config.oidc_provider_arn {
        Some(arn) => Value::from(arn.as_str()),
        None => arn_of(Issuer::Microsoft),
    };
    planned.set_attr("oidc_provider_arn", microsoft);
    planned.set_attr("customer_oidc_provider_arn", arn_of(Issuer::CustomerTenant));
    if unchanged {
        planned.set_attr("oidc_providers", prior.get("oidc_providers").clone());
    } else {
        planned.set_attr("oidc_providers", Value::Unknown);
    }
}
