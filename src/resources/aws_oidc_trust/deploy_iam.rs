//! `deployment = "iam"`: providers and roles through the IAM API, each change applied as the
//! smallest call that makes it, in an order IAM accepts (a role after what its trust names).
//! A failed create is rolled back; a failed update returns what it did so state stays true.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::CallerIdentity;
use crate::aws::iam::IamClient;
use crate::onboarding::trust_template::Issuer;

use super::iam::{
    StepError, creation_order, ensure_provider, read_provider, read_role, release_provider, step,
    update_provider, update_role,
};
use super::model::RoleSpec;
use super::schema::TrustConfig;
use super::state::Deployed;

/// The result of an apply step: the deployment as it now is, and the error that stopped it.
pub(crate) struct Outcome {
    /// What exists now; `None` when nothing does (a rolled-back create).
    pub deployed: Option<Deployed>,
    /// Why the apply stopped early.
    pub error: Option<StepError>,
}

impl Outcome {
    fn done(d: Deployed) -> Outcome {
        Outcome {
            deployed: Some(d),
            error: None,
        }
    }
}

/// Creates everything; on failure deletes what it created and returns the error.
pub(crate) async fn create(
    iam: &IamClient,
    config: &TrustConfig,
    caller: &CallerIdentity,
    explicit: Option<&str>,
) -> Outcome {
    let mut deployed = Deployed::empty(caller);
    let result = async {
        reconcile_providers(iam, config, &mut deployed, explicit).await?;
        let values = deployed.values(&config.tenant_id, &config.roles);
        for role in creation_order(&config.roles) {
            super::iam::create_role(iam, role, &values, config.tags()).await?;
            deployed.roles.push(role.clone());
        }
        for role in &config.roles {
            step(
                format!("waiting for role {} to be visible", role.name),
                iam.wait_role_visible(&role.name).await,
            )?;
        }
        Ok::<_, StepError>(())
    }
    .await;
    match result {
        Ok(()) => {
            deployed.roles = config.roles.clone();
            Outcome::done(deployed)
        }
        Err(error) => rolled_back(iam, deployed, error).await,
    }
}

/// Undoes a failed create. When the undo fails too, what is left is returned so that it lands
/// in state (tainted) and the next apply or destroy removes it.
async fn rolled_back(iam: &IamClient, deployed: Deployed, error: StepError) -> Outcome {
    match delete(iam, &deployed).await {
        Ok(()) => Outcome {
            deployed: None,
            error: Some(error),
        },
        Err(undo) => Outcome {
            deployed: Some(deployed),
            error: Some(StepError {
                step: format!(
                    "{} (and then {}, so some objects were left and are kept in state)",
                    error.step, undo.step
                ),
                error: error.error,
            }),
        },
    }
}

/// Reads providers and roles back; `None` when none of them exists any more.
pub(crate) async fn read(
    iam: &IamClient,
    config: &TrustConfig,
    prior: &Deployed,
) -> Result<Option<Deployed>, StepError> {
    let mut providers = Vec::new();
    for p in &prior.providers {
        providers.extend(read_provider(iam, p).await?);
    }
    // Placeholders render with the ARNs state knows, even for a provider deleted outside
    // Terraform, so a missing provider shows as one change, not as every trust policy.
    let values = prior.values(&config.tenant_id, &prior.roles);
    let mut roles = Vec::new();
    for r in &prior.roles {
        roles.extend(read_role(iam, r, &values).await?);
    }
    if providers.is_empty() && roles.is_empty() {
        return Ok(None);
    }
    Ok(Some(Deployed {
        providers,
        roles,
        ..prior.clone()
    }))
}

/// Finds, creates or extends the providers `config` needs and brings those `current` already
/// uses to its audiences. `explicit` is a configured provider for Microsoft's issuer. Providers
/// no longer needed are left for [`release_unneeded`], once the roles that use them are gone.
pub(crate) async fn reconcile_providers(
    iam: &IamClient,
    config: &TrustConfig,
    current: &mut Deployed,
    explicit: Option<&str>,
) -> Result<(), StepError> {
    let wanted = config.required_providers();
    for (issuer, audiences) in &wanted {
        let url = issuer.url(&config.tenant_id);
        match current.providers.iter().position(|p| p.url == url) {
            Some(i) => {
                current.providers[i] =
                    update_provider(iam, &current.providers[i], audiences).await?
            }
            None => {
                let explicit = explicit.filter(|_| *issuer == Issuer::Microsoft);
                let p = ensure_provider(iam, &url, audiences, explicit, config.tags()).await?;
                current.providers.push(p);
            }
        }
    }
    Ok(())
}

/// Releases the providers `config` no longer needs.
pub(crate) async fn release_unneeded(
    iam: &IamClient,
    config: &TrustConfig,
    current: &mut Deployed,
) -> Result<(), StepError> {
    let urls: BTreeSet<String> = config
        .required_providers()
        .keys()
        .map(|i| i.url(&config.tenant_id))
        .collect();
    while let Some(i) = current
        .providers
        .iter()
        .position(|p| !urls.contains(&p.url))
    {
        release_provider(iam, &current.providers[i]).await?;
        current.providers.remove(i);
    }
    Ok(())
}

/// Applies the difference between what exists (`prior`, as last read) and `config`.
pub(crate) async fn update(
    iam: &IamClient,
    prior_config: &TrustConfig,
    prior: &Deployed,
    config: &TrustConfig,
) -> Outcome {
    let mut current = prior.clone();
    let result = update_steps(iam, prior_config, config, &mut current).await;
    Outcome {
        deployed: Some(current),
        error: result.err(),
    }
}

async fn update_steps(
    iam: &IamClient,
    prior_config: &TrustConfig,
    config: &TrustConfig,
    current: &mut Deployed,
) -> Result<(), StepError> {
    reconcile_providers(iam, config, current, None).await?;
    reconcile_roles(iam, prior_config, config, current).await?;
    release_unneeded(iam, config, current).await
}

/// Creates, changes and deletes roles so that `current.roles` becomes `config.roles`.
pub(crate) async fn reconcile_roles(
    iam: &IamClient,
    prior_config: &TrustConfig,
    config: &TrustConfig,
    current: &mut Deployed,
) -> Result<(), StepError> {
    let prior_values = current.values(&prior_config.tenant_id, &current.roles);
    let values = current.values(&config.tenant_id, &config.roles);
    let prior_tags = prior_config.tags();
    for role in creation_order(&config.roles) {
        let existing = current
            .roles
            .iter()
            .position(|r| r.key == role.key && r.name.eq_ignore_ascii_case(&role.name));
        match existing {
            Some(i) => {
                update_role(iam, &current.roles[i], &prior_values, role, &values).await?;
                retag(iam, &role.name, prior_tags, config.tags()).await?;
                current.roles[i] = role.clone();
            }
            None => {
                super::iam::create_role(iam, role, &values, config.tags()).await?;
                current.roles.push(role.clone());
                step(
                    format!("waiting for role {} to be visible", role.name),
                    iam.wait_role_visible(&role.name).await,
                )?;
            }
        }
    }
    // Roles no longer wanted (or renamed), dependents first.
    let stale: Vec<RoleSpec> = creation_order(&current.roles)
        .into_iter()
        .rev()
        .filter(|r| {
            !config
                .roles
                .iter()
                .any(|c| c.key == r.key && c.name.eq_ignore_ascii_case(&r.name))
        })
        .cloned()
        .collect();
    for role in stale {
        step(
            format!("deleting role {}", role.name),
            iam.delete_role(&role.name).await,
        )?;
        current.roles.retain(|r| r.name != role.name);
    }
    current
        .roles
        .sort_by_key(|r| config.roles.iter().position(|c| c.key == r.key));
    Ok(())
}

async fn retag(
    iam: &IamClient,
    role: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    if before == after {
        return Ok(());
    }
    let removed: Vec<String> = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    step(
        format!("untagging role {role}"),
        iam.untag_role(role, &removed).await,
    )?;
    step(
        format!("tagging role {role}"),
        iam.tag_role(role, after).await,
    )
}

/// Deletes the roles (dependents first), then releases the providers.
pub(crate) async fn delete(iam: &IamClient, deployed: &Deployed) -> Result<(), StepError> {
    for role in creation_order(&deployed.roles).into_iter().rev() {
        step(
            format!("deleting role {}", role.name),
            iam.delete_role(&role.name).await,
        )?;
    }
    for p in &deployed.providers {
        release_provider(iam, p).await?;
    }
    Ok(())
}
