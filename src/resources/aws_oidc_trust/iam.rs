//! The trust's objects through the IAM API: providers found, created or extended, roles
//! created, changed minimally and read back for drift. Shared by both deployments: the
//! CloudFormation one uses the provider and read parts, and repairs drift with the role ones.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::AwsError;
use crate::aws::iam::{IamClient, NewOidcProvider, NewRole, policy_documents_equal};
use crate::onboarding::trust_template::{self, TrustValues};
use crate::onboarding::{STS_WINDOWS_THUMBPRINT, canonical_json};

use super::model::{ProviderState, RoleSpec};

/// A failure with what it was doing, for the diagnostic's summary.
#[derive(Debug)]
pub(crate) struct StepError {
    pub step: String,
    pub error: Box<AwsError>,
}

impl StepError {
    /// A template that could not be rendered (a placeholder without a value).
    pub(crate) fn rendering(
        step: impl Into<String>,
        e: &crate::onboarding::OnboardingError,
    ) -> Self {
        StepError {
            step: step.into(),
            error: Box::new(AwsError::MalformedPolicy {
                operation: "render".into(),
                code: "UnfilledPlaceholder".into(),
                message: e.to_string(),
                request_id: None,
            }),
        }
    }
}

pub(crate) type Step<T> = Result<T, StepError>;

pub(crate) fn step<T>(what: impl Into<String>, r: Result<T, AwsError>) -> Step<T> {
    r.map_err(|error| StepError {
        step: what.into(),
        error: Box::new(error),
    })
}

/// `arn:<partition>:iam::<account>:role/<name>`, the ARN IAM gives a role on path `/`.
pub(crate) fn role_arn(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{name}")
}

/// `arn:<partition>:iam::<account>:oidc-provider/<url without scheme>`.
pub(crate) fn provider_arn(partition: &str, account: &str, url: &str) -> String {
    let key = url.split_once("://").map_or(url, |(_, rest)| rest);
    format!("arn:{partition}:iam::{account}:oidc-provider/{key}")
}

/// The partition of an ARN (`aws`, `aws-cn`, ...).
pub(crate) fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

/// Finds or creates the provider for `url` and makes it list `audiences`. `explicit` is a
/// provider named in configuration: it must exist and is never owned.
pub(crate) async fn ensure_provider(
    iam: &IamClient,
    url: &str,
    audiences: &BTreeSet<String>,
    explicit: Option<&str>,
    tags: &BTreeMap<String, String>,
) -> Step<ProviderState> {
    let found = match explicit {
        Some(arn) => {
            let p = step(
                format!("reading OIDC provider {arn}"),
                iam.get_oidc_provider_opt(arn).await,
            )?;
            Some(p.ok_or_else(|| StepError {
                step: format!("reading OIDC provider {arn}"),
                error: Box::new(AwsError::NotFound {
                    operation: "GetOpenIDConnectProvider".into(),
                    code: "NoSuchEntity".into(),
                    message: format!(
                        "oidc_provider_arn {arn} does not exist in this account; create it, or leave \
                         oidc_provider_arn unset so the trust creates it"
                    ),
                    request_id: None,
                }),
            })?)
        }
        None => step(
            format!("looking up the OIDC provider for {url}"),
            iam.find_oidc_provider_by_url(url).await,
        )?,
    };
    let Some(existing) = found else {
        let created = NewOidcProvider {
            url: url.to_owned(),
            client_ids: audiences.iter().cloned().collect(),
            thumbprints: vec![STS_WINDOWS_THUMBPRINT.to_owned()],
            tags: tags.clone(),
        };
        let arn = step(
            format!("creating the OIDC provider for {url}"),
            iam.create_oidc_provider(&created).await,
        )?;
        return Ok(ProviderState {
            url: url.to_owned(),
            arn,
            client_ids: audiences.iter().cloned().collect(),
            created: true,
            added_client_ids: Vec::new(),
        });
    };
    let mut state = ProviderState {
        url: url.to_owned(),
        arn: existing.arn.clone(),
        client_ids: existing.client_ids.clone(),
        created: false,
        added_client_ids: Vec::new(),
    };
    add_missing(iam, &mut state, audiences).await?;
    Ok(state)
}

async fn add_missing(
    iam: &IamClient,
    p: &mut ProviderState,
    audiences: &BTreeSet<String>,
) -> Step<()> {
    for aud in audiences {
        if p.client_ids.contains(aud) {
            continue;
        }
        step(
            format!("adding audience {aud} to {}", p.arn),
            iam.add_oidc_client_id(&p.arn, aud).await,
        )?;
        p.client_ids.push(aud.clone());
        if !p.created {
            p.added_client_ids.push(aud.clone());
        }
    }
    p.client_ids.sort();
    p.added_client_ids.sort();
    Ok(())
}

/// Brings a provider the trust already uses to `audiences`: an owned provider lists exactly
/// them; a shared one keeps its other audiences and loses only those this trust added.
pub(crate) async fn update_provider(
    iam: &IamClient,
    prior: &ProviderState,
    audiences: &BTreeSet<String>,
) -> Step<ProviderState> {
    let mut p = prior.clone();
    let removable: Vec<String> = if p.created {
        p.client_ids.clone()
    } else {
        p.added_client_ids.clone()
    };
    for aud in removable.iter().filter(|a| !audiences.contains(*a)) {
        step(
            format!("removing audience {aud} from {}", p.arn),
            iam.remove_oidc_client_id(&p.arn, aud).await,
        )?;
        p.client_ids.retain(|a| a != aud);
        p.added_client_ids.retain(|a| a != aud);
    }
    add_missing(iam, &mut p, audiences).await?;
    Ok(p)
}

/// Undoes what the trust did to a provider: deletes it when it created it, otherwise removes
/// only the audiences it added.
pub(crate) async fn release_provider(iam: &IamClient, p: &ProviderState) -> Step<()> {
    if p.created {
        step(
            format!("deleting OIDC provider {}", p.arn),
            iam.delete_oidc_provider(&p.arn).await,
        )?;
        return Ok(());
    }
    for aud in &p.added_client_ids {
        let r = iam.remove_oidc_client_id(&p.arn, aud).await;
        match r {
            Err(e) if e.is_not_found() => return Ok(()),
            r => step(format!("removing audience {aud} from {}", p.arn), r)?,
        }
    }
    Ok(())
}

/// Reads a provider back; `None` when it is gone.
pub(crate) async fn read_provider(
    iam: &IamClient,
    p: &ProviderState,
) -> Step<Option<ProviderState>> {
    let found = step(
        format!("reading OIDC provider {}", p.arn),
        iam.get_oidc_provider_opt(&p.arn).await,
    )?;
    Ok(found.map(|actual| {
        let mut client_ids = actual.client_ids;
        client_ids.sort();
        ProviderState {
            added_client_ids: p
                .added_client_ids
                .iter()
                .filter(|a| client_ids.contains(a))
                .cloned()
                .collect(),
            client_ids,
            ..p.clone()
        }
    }))
}

fn render(role: &RoleSpec, values: &TrustValues) -> Step<String> {
    trust_template::render_trust_policy(&role.trust_policy, values).map_err(|e| {
        StepError::rendering(
            format!("rendering the trust policy of role {}", role.name),
            &e,
        )
    })
}

/// Roles in an order where each comes after the roles its trust refers to.
pub(crate) fn creation_order(roles: &[RoleSpec]) -> Vec<&RoleSpec> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < roles.len() {
        let before = out.len();
        for r in roles {
            if done.contains(r.key.as_str()) {
                continue;
            }
            let refs = trust_template::referenced_roles(&r.trust_policy);
            if refs
                .iter()
                .all(|k| done.contains(k.as_str()) || k == &r.key)
            {
                done.insert(&r.key);
                out.push(r);
            }
        }
        if out.len() == before {
            // A reference cycle (validation rejects unknown keys, not cycles): IAM will say which.
            out.extend(roles.iter().filter(|r| !done.contains(r.key.as_str())));
        }
    }
    out
}

/// Creates a role with its policies; nothing is left behind when a step fails.
pub(crate) async fn create_role(
    iam: &IamClient,
    role: &RoleSpec,
    values: &TrustValues,
    tags: &BTreeMap<String, String>,
) -> Step<()> {
    let new = NewRole {
        name: role.name.clone(),
        path: None,
        description: Some(format!("Microsoft Defender for Cloud: {}", role.key)),
        trust_policy: render(role, values)?,
        tags: tags.clone(),
        max_session_duration: None,
    };
    let inline: BTreeMap<String, String> = role
        .inline_policy_name
        .clone()
        .zip(role.inline_policy.clone())
        .into_iter()
        .collect();
    step(
        format!("creating role {}", role.name),
        iam.create_role_with_policies(&new, &inline, &role.managed_policy_arns)
            .await,
    )?;
    Ok(())
}

/// Changes what differs between the role as it is (`prior`, read back) and as planned, and
/// nothing else.
pub(crate) async fn update_role(
    iam: &IamClient,
    prior: &RoleSpec,
    prior_values: &TrustValues,
    planned: &RoleSpec,
    values: &TrustValues,
) -> Step<()> {
    let name = &planned.name;
    let wanted_trust = render(planned, values)?;
    let current_trust = render(prior, prior_values)?;
    if !policy_documents_equal(&wanted_trust, &current_trust) {
        step(
            format!("updating the trust policy of role {name}"),
            iam.update_trust_policy(name, &wanted_trust).await,
        )?;
    }
    for arn in planned
        .managed_policy_arns
        .iter()
        .filter(|a| !prior.managed_policy_arns.contains(a))
    {
        step(
            format!("attaching {arn} to role {name}"),
            iam.attach_role_policy(name, arn).await,
        )?;
    }
    for arn in prior
        .managed_policy_arns
        .iter()
        .filter(|a| !planned.managed_policy_arns.contains(a))
    {
        step(
            format!("detaching {arn} from role {name}"),
            iam.detach_role_policy(name, arn).await,
        )?;
    }
    if let Some(old) = &prior.inline_policy_name
        && planned.inline_policy_name.as_ref() != Some(old)
    {
        step(
            format!("deleting inline policy {old} of role {name}"),
            iam.delete_role_policy(name, old).await,
        )?;
    }
    if let (Some(policy), Some(doc)) = (&planned.inline_policy_name, &planned.inline_policy) {
        let same = prior.inline_policy_name.as_ref() == Some(policy)
            && prior
                .inline_policy
                .as_deref()
                .is_some_and(|p| policy_documents_equal(p, doc));
        if !same {
            step(
                format!("putting inline policy {policy} of role {name}"),
                iam.put_role_policy(name, policy, doc).await,
            )?;
        }
    }
    Ok(())
}

/// The role as IAM has it, in the terms of `known` (the state's view): where IAM agrees with
/// `known` its text is kept, so only real differences show in a plan. `None` when it is gone.
pub(crate) async fn read_role(
    iam: &IamClient,
    known: &RoleSpec,
    values: &TrustValues,
) -> Step<Option<RoleSpec>> {
    let name = &known.name;
    let Some(actual) = step(format!("reading role {name}"), iam.get_role_opt(name).await)? else {
        return Ok(None);
    };
    let trust_policy = match trust_template::render_trust_policy(&known.trust_policy, values) {
        Ok(rendered) if policy_documents_equal(&rendered, &actual.trust_policy) => {
            known.trust_policy.clone()
        }
        _ => trust_template::templatize_trust_policy(&actual.trust_policy, values)
            .unwrap_or_else(|_| actual.trust_policy.clone()),
    };
    let attached: BTreeSet<String> = step(
        format!("listing the managed policies of role {name}"),
        iam.list_attached_role_policies(name).await,
    )?
    .into_iter()
    .map(|p| p.arn)
    .collect();
    let managed_policy_arns = if attached == known.managed_policy_arns.iter().cloned().collect() {
        known.managed_policy_arns.clone()
    } else {
        attached.into_iter().collect()
    };
    let (inline_policy_name, inline_policy) = match &known.inline_policy_name {
        Some(policy) => {
            let doc = step(
                format!("reading inline policy {policy} of role {name}"),
                iam.get_role_policy_opt(name, policy).await,
            )?;
            match doc {
                Some(doc)
                    if known
                        .inline_policy
                        .as_deref()
                        .is_some_and(|k| policy_documents_equal(k, &doc)) =>
                {
                    (Some(policy.clone()), known.inline_policy.clone())
                }
                Some(doc) => (Some(policy.clone()), Some(canonical(&doc))),
                None => (None, None),
            }
        }
        None => (None, None),
    };
    Ok(Some(RoleSpec {
        trust_policy,
        managed_policy_arns,
        inline_policy_name,
        inline_policy,
        ..known.clone()
    }))
}

/// A policy document in canonical form (kept as is when it is not JSON).
pub(crate) fn canonical(doc: &str) -> String {
    serde_json::from_str(doc)
        .map(|v| canonical_json(&v))
        .unwrap_or_else(|_| doc.to_owned())
}
