//! `deployment = "cloudformation"`: the trust as one stack, as the portal's template deploys
//! it. Providers that already exist outside the stack are used through the IAM API (AWS allows
//! one per URL), everything else is the stack's. After each stack operation the roles are read
//! back, and drift the stack cannot see (a policy edited in IAM) is repaired through IAM.

use std::collections::BTreeSet;

use crate::aws::cloudformation::{CloudFormationClient, NewStack};
use crate::aws::{AwsClients, AwsError, CallerIdentity};
use crate::onboarding::trust_template::Issuer;

use super::deploy_iam::{self, Outcome};
use super::iam::{
    StepError, ensure_provider, provider_arn, release_provider, step, update_provider,
};
use super::import;
use super::model::ProviderState;
use super::schema::{DEFAULT_STACK_NAME, Deployment, TrustConfig};
use super::stack_template::stack_template;
use super::state::Deployed;

fn stack_name(config: &TrustConfig) -> &str {
    config.stack_name.as_deref().unwrap_or(DEFAULT_STACK_NAME)
}

fn new_stack(config: &TrustConfig, body: String) -> NewStack {
    config
        .tags()
        .iter()
        .fold(NewStack::new(stack_name(config), body), |s, (k, v)| {
            s.with_tag(k, v)
        })
}

/// A provider the stack declares, as state records it.
fn stack_provider(deployed: &Deployed, url: String, audiences: &BTreeSet<String>) -> ProviderState {
    ProviderState {
        arn: provider_arn(&deployed.partition, &deployed.account_id, &url),
        url,
        client_ids: audiences.iter().cloned().collect(),
        created: true,
        added_client_ids: Vec::new(),
    }
}

/// Splits the providers `config` needs into those the stack declares and those that exist
/// outside it (found or extended through IAM, into `deployed.providers`); then records the
/// stack's own with their ARNs, so the template can name them.
async fn place_providers(
    cf_iam: &crate::aws::IamClient,
    config: &TrustConfig,
    deployed: &mut Deployed,
    explicit: Option<&str>,
) -> Result<BTreeSet<Issuer>, StepError> {
    let mut in_stack = BTreeSet::new();
    for (issuer, audiences) in config.required_providers() {
        let url = issuer.url(&config.tenant_id);
        if let Some(i) = deployed.providers.iter().position(|p| p.url == url) {
            let p = deployed.providers[i].clone();
            if p.created {
                in_stack.insert(issuer);
                deployed.providers[i] = stack_provider(deployed, url, &audiences);
            } else {
                deployed.providers[i] = update_provider(cf_iam, &p, &audiences).await?;
            }
            continue;
        }
        let explicit = explicit.filter(|_| issuer == Issuer::Microsoft);
        let exists = explicit.is_some()
            || step(
                format!("looking up the OIDC provider for {url}"),
                cf_iam.find_oidc_provider_by_url(&url).await,
            )?
            .is_some();
        if exists {
            let p = ensure_provider(cf_iam, &url, &audiences, explicit, config.tags()).await?;
            deployed.providers.push(p);
        } else {
            in_stack.insert(issuer);
            let p = stack_provider(deployed, url, &audiences);
            deployed.providers.push(p);
        }
    }
    Ok(in_stack)
}

fn template(
    config: &TrustConfig,
    deployed: &Deployed,
    in_stack: &BTreeSet<Issuer>,
) -> Result<String, StepError> {
    let values = deployed.values(&config.tenant_id, &config.roles);
    stack_template(config, in_stack, &values)
        .map_err(|e| StepError::rendering("rendering the stack template", &e))
}

fn stack_step(config: &TrustConfig, what: &str, e: AwsError) -> StepError {
    let name = stack_name(config);
    let step = match &e {
        AwsError::AlreadyExists { .. } => format!(
            "{what} stack {name}: a stack of that name exists; import it with \
             `terraform import <address> cloudformation:{name}` or choose another stack_name"
        ),
        _ => format!("{what} stack {name}"),
    };
    StepError {
        step,
        error: Box::new(e),
    }
}

/// Creates the stack (and extends providers that exist outside it). A failed create leaves
/// nothing: the rolled-back stack is deleted and the audiences added are removed again.
pub(crate) async fn create(
    aws: &AwsClients,
    config: &TrustConfig,
    caller: &CallerIdentity,
    explicit: Option<&str>,
) -> Outcome {
    let (iam, cf) = (aws.iam(), aws.cloudformation());
    let mut deployed = Deployed::empty(caller);
    let result = async {
        let in_stack = place_providers(&iam, config, &mut deployed, explicit).await?;
        let body = template(config, &deployed, &in_stack)?;
        let stack = cf
            .create_stack_and_wait(&new_stack(config, body))
            .await
            .map_err(|e| stack_step(config, "creating", e))?;
        deployed.stack_id = Some(stack.id);
        deployed.roles = config.roles.clone();
        for role in &config.roles {
            step(
                format!("waiting for role {} to be visible", role.name),
                iam.wait_role_visible(&role.name).await,
            )?;
        }
        Ok::<_, StepError>(())
    }
    .await;
    let Err(error) = result else {
        return Outcome {
            deployed: Some(deployed),
            error: None,
        };
    };
    if error.error.stack_failure().is_some()
        && let Err(e) = cf.delete_failed_create(stack_name(config)).await
    {
        tracing::warn!(stack = stack_name(config), error = %e, "could not delete the rolled-back stack");
    }
    for p in deployed.providers.iter().filter(|p| !p.created) {
        if let Err(e) = release_provider(&iam, p).await {
            tracing::warn!(provider = %p.arn, error = %e.error, "could not remove the audiences added");
        }
    }
    Outcome {
        deployed: None,
        error: Some(error),
    }
}

/// The stack's objects as they are; `None` when the stack is gone.
pub(crate) async fn read(
    aws: &AwsClients,
    config: &TrustConfig,
    prior: &Deployed,
) -> Result<Option<Deployed>, StepError> {
    let cf = aws.cloudformation();
    let Some(stack) = describe(&cf, config).await? else {
        return Ok(None);
    };
    let mut read = deploy_iam::read(&aws.iam(), config, prior)
        .await?
        .unwrap_or_else(|| Deployed {
            providers: Vec::new(),
            roles: Vec::new(),
            ..prior.clone()
        });
    read.stack_id = Some(stack.id);
    Ok(Some(read))
}

async fn describe(
    cf: &CloudFormationClient,
    config: &TrustConfig,
) -> Result<Option<crate::aws::cloudformation::Stack>, StepError> {
    step(
        format!("reading stack {}", stack_name(config)),
        cf.describe_stack_opt(stack_name(config)).await,
    )
}

/// Updates the stack from the new template, then repairs through IAM what the stack cannot see.
pub(crate) async fn update(
    aws: &AwsClients,
    _prior_config: &TrustConfig,
    prior: &Deployed,
    config: &TrustConfig,
) -> Outcome {
    let (iam, cf) = (aws.iam(), aws.cloudformation());
    let mut current = prior.clone();
    let result = async {
        let in_stack = place_providers(&iam, config, &mut current, None).await?;
        let body = template(config, &current, &in_stack)?;
        let update = cf
            .update_stack_and_wait(&new_stack(config, body))
            .await
            .map_err(|e| stack_step(config, "updating", e))?;
        current.stack_id = Some(update.stack.id);
        // The stack now holds exactly the configured roles and its own providers.
        let urls: BTreeSet<String> = config
            .required_providers()
            .keys()
            .map(|i| i.url(&config.tenant_id))
            .collect();
        current
            .providers
            .retain(|p| !p.created || urls.contains(&p.url));
        current.roles = config.roles.clone();
        deploy_iam::release_unneeded(&iam, config, &mut current).await?;
        // A policy edited in IAM is invisible to the stack: read back and repair.
        if let Some(mut actual) = deploy_iam::read(&iam, config, &current).await? {
            deploy_iam::reconcile_roles(&iam, config, config, &mut actual).await?;
            current.roles = actual.roles;
        }
        Ok::<_, StepError>(())
    }
    .await;
    Outcome {
        deployed: Some(current),
        error: result.err(),
    }
}

/// Deletes the stack, then removes the audiences added to providers outside it.
pub(crate) async fn delete(
    aws: &AwsClients,
    config: &TrustConfig,
    deployed: &Deployed,
) -> Result<(), StepError> {
    let iam = aws.iam();
    aws.cloudformation()
        .delete_stack_and_wait(stack_name(config))
        .await
        .map_err(|e| stack_step(config, "deleting", e))?;
    for p in deployed.providers.iter().filter(|p| !p.created) {
        release_provider(&iam, p).await?;
    }
    Ok(())
}

/// The trust of stack `name`: its roles and providers, as `import::from_provider` finds them,
/// limited to what the stack holds.
pub(crate) async fn import(
    aws: &AwsClients,
    name: &str,
) -> Result<Option<(TrustConfig, Deployed)>, StepError> {
    let (iam, cf) = (aws.iam(), aws.cloudformation());
    let Some(stack) = step(
        format!("reading stack {name}"),
        cf.describe_stack_opt(name).await,
    )?
    else {
        return Ok(None);
    };
    let resources = step(
        format!("listing the resources of stack {name}"),
        cf.list_stack_resources(name).await,
    )?;
    let physical = |ty: &str| -> Vec<String> {
        resources
            .iter()
            .filter(|r| r.resource_type == ty)
            .filter_map(|r| r.physical_id.clone())
            .collect()
    };
    let (roles, providers) = (
        physical("AWS::IAM::Role"),
        physical("AWS::IAM::OIDCProvider"),
    );
    let microsoft_key = Issuer::Microsoft.url("");
    let microsoft_key = microsoft_key.trim_start_matches("https://");
    let mut microsoft = providers
        .iter()
        .find(|a| a.ends_with(microsoft_key))
        .cloned();
    if microsoft.is_none() {
        for role in &roles {
            let Some(r) = step(format!("reading role {role}"), iam.get_role_opt(role).await)?
            else {
                continue;
            };
            if let Some(start) = r.trust_policy.find("arn:") {
                let arn: String = r.trust_policy[start..]
                    .chars()
                    .take_while(|c| *c != '"')
                    .collect();
                if arn.ends_with(microsoft_key) {
                    microsoft = Some(arn);
                    break;
                }
            }
        }
    }
    let Some(microsoft) = microsoft else {
        return Ok(None);
    };
    let Some((mut config, mut deployed)) =
        import::from_provider(&iam, &microsoft, Deployment::CloudFormation).await?
    else {
        return Ok(None);
    };
    config.roles.retain(|r| roles.contains(&r.name));
    deployed.roles.retain(|r| roles.contains(&r.name));
    for p in &mut deployed.providers {
        p.created = providers.contains(&p.arn);
    }
    config.stack_name = Some(name.to_owned());
    deployed.stack_id = Some(stack.id);
    Ok(Some((config, deployed)))
}
