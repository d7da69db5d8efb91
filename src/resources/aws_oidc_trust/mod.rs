//! `multicloud_aws_oidc_trust`: the IAM OIDC provider Defender for Cloud federates through and
//! the roles its plans need, deployed through the IAM API or as one CloudFormation stack.

mod cloudformation;
mod deploy_iam;
mod iam;
mod import;
mod model;
mod organization;
mod organization_import;
mod organization_plan;
mod organization_schema;
mod organization_targets;
mod organization_template;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod organization_tests;
mod plan;
mod schema;
mod stack_template;
mod state;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

use async_trait::async_trait;

use crate::protocol::{Diagnostics, PlanContext, Resource, Schema, Value};

use super::clients::ProviderClients;
use super::errors;
use deploy_iam::Outcome;
use iam::StepError;
use organization_schema::{BLOCK, OrgComputed, org_config, state_block};
use schema::{Deployment, TrustConfig, trust_config};
use state::Deployed;

/// The `multicloud_aws_oidc_trust` resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct AwsOidcTrustResource;

const TYPE_NAME: &str = "multicloud_aws_oidc_trust";

fn report(diags: &mut Diagnostics, e: &StepError) {
    errors::aws(diags, &format!("Failed {}", e.step), &e.error);
}

/// The state after an apply step, and its error if it stopped early.
fn finish(outcome: Outcome, config: &TrustConfig, diags: &mut Diagnostics) -> Option<Value> {
    if let Some(e) = &outcome.error {
        report(diags, e);
    }
    outcome.deployed.map(|d| d.to_state(config))
}

#[async_trait]
impl Resource<ProviderClients> for AwsOidcTrustResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let _ = trust_config(config, diags);
        let _ = org_config(config, diags);
    }

    async fn modify_plan(
        &self,
        clients: Option<&ProviderClients>,
        plan: &mut PlanContext,
        diags: &mut Diagnostics,
    ) {
        plan::modify_plan(clients, plan, diags).await;
        organization_plan::modify_plan(clients, plan, diags).await;
    }

    async fn create(
        &self,
        clients: &ProviderClients,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let config = trust_config(planned, diags)?;
        let org = org_config(planned, diags).ok()?;
        let aws = clients.aws(diags).await?;
        // Trusted access is checked before anything is created (the plan checked the
        // targets); the organization is not walked: CloudFormation resolves the OU targets.
        if let Some(org) = &org
            && !organization::preflight(aws, org, diags).await
        {
            return None;
        }
        let caller = match aws.caller_identity().await {
            Ok(c) => c,
            Err(e) => {
                errors::aws(diags, "Cannot tell which AWS account to deploy to", &e);
                return None;
            }
        };
        let explicit = planned.get("oidc_provider_arn").as_str();
        let result = match config.deployment {
            Deployment::Iam => deploy_iam::create(&aws.iam(), &config, &caller, explicit).await,
            Deployment::CloudFormation => {
                cloudformation::create(aws, &config, &caller, explicit).await
            }
        };
        let mut state = finish(result, &config, diags)?;
        let block = match &org {
            Some(org) if !diags.has_errors() => {
                let computed = organization::create(aws, &config, org, diags).await;
                state_block(planned.get(BLOCK), &computed)
            }
            Some(_) => state_block(planned.get(BLOCK), &OrgComputed::default()),
            None => Value::Null,
        };
        state.set_attr(BLOCK, block);
        Some(state)
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        current: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let aws = clients.aws(diags).await?;
        let Some(config) = trust_config(current, &mut Diagnostics::new()) else {
            diags.error(
                "Unreadable state",
                "The state of this multicloud_aws_oidc_trust is incomplete; remove it with \
                 `terraform state rm` and import the trust again.",
            );
            return None;
        };
        let prior = Deployed::from_state(current)?;
        let result = match config.deployment {
            Deployment::Iam => deploy_iam::read(&aws.iam(), &config, &prior).await,
            Deployment::CloudFormation => cloudformation::read(aws, &config, &prior).await,
        };
        let org = org_config(current, &mut Diagnostics::new()).ok().flatten();
        match result {
            Ok(Some(deployed)) => {
                let mut state = deployed.to_state(&config);
                let block = match &org {
                    None => Value::Null,
                    Some(org) => {
                        match organization::observe(&aws.stacksets(), &config, org).await {
                            Ok(computed) => state_block(current.get(BLOCK), &computed),
                            Err(e) => {
                                report(diags, &e);
                                current.get(BLOCK).clone()
                            }
                        }
                    }
                };
                state.set_attr(BLOCK, block);
                Some(state)
            }
            Ok(None) => None,
            Err(e) => {
                report(diags, &e);
                Some(current.clone())
            }
        }
    }

    async fn update(
        &self,
        clients: &ProviderClients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let config = trust_config(planned, diags)?;
        let prior_config = trust_config(prior, &mut Diagnostics::new())?;
        let deployed = Deployed::from_state(prior)?;
        let org = org_config(planned, diags).ok()?;
        let prior_org = org_config(prior, &mut Diagnostics::new()).ok().flatten();
        let aws = clients.aws(diags).await?;
        // The organization is walked only when the targets or exclusions changed: the
        // accounts to add or remove are the difference (the plan showed them).
        let reach = match (&org, &prior_org) {
            (Some(org), None) => {
                if !organization::preflight(aws, org, diags).await {
                    return None;
                }
                None
            }
            (Some(org), Some(prior)) if organization_plan::targets_changed(prior, org) => {
                Some(organization::targets(aws, org, diags).await?)
            }
            _ => None,
        };
        let result = match config.deployment {
            // Only the organization block changed: the management account's roles or stack
            // are left alone (no empty stack update).
            _ if config == prior_config => Outcome {
                deployed: Some(deployed.clone()),
                error: None,
            },
            Deployment::Iam => {
                deploy_iam::update(&aws.iam(), &prior_config, &deployed, &config).await
            }
            Deployment::CloudFormation => {
                cloudformation::update(aws, &prior_config, &deployed, &config).await
            }
        };
        // Whatever was done is real: it is recorded, so the next plan shows only the rest.
        let mut state = finish(result, &config, diags)?;
        // The id is chosen at create (a later plan may add or drop the provider it names).
        state.set_attr("id", prior.get("id").clone());
        let block = match (&org, &prior_org) {
            (Some(org), None) if !diags.has_errors() => {
                let computed = organization::create(aws, &config, org, diags).await;
                state_block(planned.get(BLOCK), &computed)
            }
            (Some(org), Some(_)) if !diags.has_errors() => {
                let computed = organization::update(aws, &config, org, reach.as_ref(), diags).await;
                state_block(planned.get(BLOCK), &computed)
            }
            (Some(_), _) => prior.get(BLOCK).clone(),
            (None, Some(prior_org)) => match organization::delete(aws, prior_org).await {
                Ok(()) => Value::Null,
                Err(e) => {
                    report(diags, &e);
                    prior.get(BLOCK).clone()
                }
            },
            (None, None) => Value::Null,
        };
        state.set_attr(BLOCK, block);
        Some(state)
    }

    async fn delete(&self, clients: &ProviderClients, state: &Value, diags: &mut Diagnostics) {
        let Some(aws) = clients.aws(diags).await else {
            return;
        };
        let (Some(config), Some(deployed)) = (
            trust_config(state, &mut Diagnostics::new()),
            Deployed::from_state(state),
        ) else {
            return;
        };
        // Member accounts first: the management stack goes last, as it came first.
        if let Some(org) = org_config(state, &mut Diagnostics::new()).ok().flatten()
            && let Err(e) = organization::delete(aws, &org).await
        {
            report(diags, &e);
            return;
        }
        let result = match config.deployment {
            Deployment::Iam => deploy_iam::delete(&aws.iam(), &deployed).await,
            Deployment::CloudFormation => cloudformation::delete(aws, &config, &deployed).await,
        };
        if let Err(e) = result {
            report(diags, &e);
        }
    }

    async fn import(
        &self,
        clients: &ProviderClients,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let aws = clients.aws(diags).await?;
        let mut state = import::import(aws, id, diags).await?;
        let stack_set = id
            .strip_prefix("cloudformation:")
            .and_then(|rest| organization_import::split_id(rest).1);
        let block = match stack_set {
            None => Value::Null,
            Some(name) => {
                let config = trust_config(&state, diags)?;
                match organization_import::block(aws, &config, &state, name).await {
                    Ok(block) => block,
                    Err(e) => {
                        report(diags, &e);
                        return None;
                    }
                }
            }
        };
        state.set_attr(BLOCK, block);
        Some(state)
    }
}
