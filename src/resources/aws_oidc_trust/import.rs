//! Import: from the provider's ARN (`iam`) or `cloudformation:<stack name>`, find the trust's
//! roles and rebuild the configuration they came from, in the plan set's terms, so that an
//! import of what the plan set would create plans no changes.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::aws::AwsClients;
use crate::aws::iam::{IamClient, Role};
use crate::onboarding::trust::SESSION_NAME_PREFIX;
use crate::onboarding::trust_template::{self, Issuer, key_of_default_name};
use crate::onboarding::{MICROSOFT_TENANT_ID, RoleKey};
use crate::protocol::{Diagnostics, Value};

use super::iam::{StepError, canonical, partition_of, provider_arn, read_role, step};
use super::model::{ProviderState, RoleSpec};
use super::schema::{Deployment, TrustConfig};
use super::state::Deployed;

const USAGE: &str = "Import a multicloud_aws_oidc_trust by its OIDC provider's ARN, \
    e.g. arn:aws:iam::123456789012:oidc-provider/sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/, \
    or, for deployment = \"cloudformation\", by cloudformation:<stack name>, and with an \
    organization block by cloudformation:<stack name>:<StackSet name>.";

/// `<stack name>` or `<stack name>:<StackSet name>`, neither empty.
fn valid_stack_id(rest: &str) -> bool {
    match super::organization_import::split_id(rest) {
        (stack, None) => !stack.is_empty(),
        (stack, Some(set)) => !stack.is_empty() && !set.is_empty() && !set.contains(':'),
    }
}

pub(crate) async fn import(aws: &AwsClients, id: &str, diags: &mut Diagnostics) -> Option<Value> {
    let iam = aws.iam();
    let result = match id.strip_prefix("cloudformation:") {
        Some(rest) if valid_stack_id(rest) => {
            let (stack, _) = super::organization_import::split_id(rest);
            super::cloudformation::import(aws, stack).await
        }
        Some(_) => {
            diags.error("Invalid import id", USAGE);
            return None;
        }
        None => {
            let microsoft = trust_template::Issuer::Microsoft.url("");
            let key = microsoft.trim_start_matches("https://");
            if !(id.starts_with("arn:") && id.ends_with(&format!(":oidc-provider/{key}"))) {
                diags.error(
                    "Invalid import id",
                    format!(
                        "{id:?} is not the ARN of the OIDC provider for Microsoft's issuer. {USAGE}"
                    ),
                );
                return None;
            }
            from_provider(&iam, id, Deployment::Iam).await
        }
    };
    match result {
        Ok(Some((config, deployed))) => Some(deployed.to_state(&config)),
        Ok(None) => None,
        Err(e) => {
            super::report(diags, &e);
            None
        }
    }
}

/// The trust around the Microsoft provider `arn`: its roles, the customer tenant (from their
/// session-name condition) and the customer tenant's provider if a role uses it.
pub(crate) async fn from_provider(
    iam: &IamClient,
    arn: &str,
    deployment: Deployment,
) -> Result<Option<(TrustConfig, Deployed)>, StepError> {
    let Some(provider) = step(
        format!("reading OIDC provider {arn}"),
        iam.get_oidc_provider_opt(arn).await,
    )?
    else {
        return Ok(None);
    };
    let account = arn.split(':').nth(4).unwrap_or_default().to_owned();
    let partition = partition_of(arn).to_owned();
    let roles = step("listing roles".to_owned(), iam.list_roles("/").await)?;
    let Some(tenant) = roles.iter().find_map(|r| tenant_of(&r.trust_policy, arn)) else {
        return Err(StepError {
            step: format!("importing the trust of {arn}"),
            error: Box::new(crate::aws::AwsError::NotFound {
                operation: "ListRoles".into(),
                code: "NoTrustRoles".into(),
                message: format!(
                    "no role trusts {arn} for Defender for Cloud sessions (MicrosoftDefenderForClouds_<tenant>), so there is no trust to import"
                ),
                request_id: None,
            }),
        });
    };
    let customer_arn = provider_arn(&partition, &account, &Issuer::CustomerTenant.url(&tenant));
    let mut providers = vec![imported(
        with_scheme(&provider.url),
        provider.arn.clone(),
        provider.client_ids.clone(),
    )];
    let customer = step(
        format!("reading OIDC provider {customer_arn}"),
        iam.get_oidc_provider_opt(&customer_arn).await,
    )?;
    let mentions = |r: &Role| {
        r.trust_policy.contains(arn) || customer.is_some() && r.trust_policy.contains(&customer_arn)
    };
    let mut ours: Vec<&Role> = roles
        .iter()
        .filter(|r| mentions(r) || key_of_default_name(&r.name).is_some())
        .collect();
    // Roles assumed by one of ours (permissions management's discovery role) belong too.
    let names: BTreeSet<String> = ours.iter().map(|r| r.name.clone()).collect();
    let arns: BTreeSet<String> = ours.iter().map(|r| r.arn.clone()).collect();
    ours.extend(roles.iter().filter(|r| {
        !names.contains(&r.name) && arns.iter().any(|a| r.trust_policy.contains(a.as_str()))
    }));
    if let Some(c) = customer {
        providers.push(imported(
            with_scheme(&c.url),
            c.arn.clone(),
            c.client_ids.clone(),
        ));
    }
    let mut deployed = Deployed {
        account_id: account,
        partition,
        providers,
        roles: Vec::new(),
        stack_id: None,
    };
    let mut specs: Vec<RoleSpec> = Vec::new();
    for r in &ours {
        specs.push(spec_of(iam, r).await?);
    }
    specs.sort_by_key(|s| {
        (
            RoleKey::parse(&s.key).map_or(RoleKey::ALL.len(), |k| k as usize),
            s.key.clone(),
        )
    });
    let values = deployed.values(&tenant, &specs);
    for s in &mut specs {
        s.trust_policy = trust_template::templatize_trust_policy(&s.trust_policy, &values)
            .unwrap_or_else(|_| s.trust_policy.clone());
        // Read back through the same path as a refresh, so both agree on every text.
        if let Some(read) = read_role(iam, s, &values).await? {
            *s = read;
        }
    }
    deployed.roles = specs.clone();
    let config = TrustConfig {
        tenant_id: tenant,
        roles: specs,
        deployment,
        stack_name: None,
        oidc_provider_arn: None,
        tags: None,
    };
    Ok(Some((config, deployed)))
}

/// IAM reports a provider's URL without its scheme.
fn with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    }
}

/// An imported provider is not owned: destroying the trust keeps it, as with a reused one.
fn imported(url: String, arn: String, mut client_ids: Vec<String>) -> ProviderState {
    client_ids.sort();
    ProviderState {
        url,
        arn,
        client_ids,
        created: false,
        added_client_ids: Vec::new(),
    }
}

/// The customer tenant in a trust policy's session-name condition, when it names `provider`.
fn tenant_of(policy: &str, provider: &str) -> Option<String> {
    if !policy.contains(provider) {
        return None;
    }
    let start = policy.find(SESSION_NAME_PREFIX)? + SESSION_NAME_PREFIX.len();
    let tenant: String = policy[start..].chars().take(36).collect();
    (tenant.len() == 36 && tenant != MICROSOFT_TENANT_ID).then_some(tenant)
}

/// A role as the plan set would describe it: key, trust kind, audience, policies.
async fn spec_of(iam: &IamClient, r: &Role) -> Result<RoleSpec, StepError> {
    let doc: Json = serde_json::from_str(&r.trust_policy).unwrap_or(Json::Null);
    let statements: Vec<&Json> = doc["Statement"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let federated = statements
        .iter()
        .find_map(|s| s["Principal"]["Federated"].as_str());
    let has_aws = statements.iter().any(|s| s["Principal"]["AWS"].is_string());
    let has_service = statements
        .iter()
        .any(|s| s["Principal"]["Service"].is_string());
    let trust = match (federated, has_aws, has_service) {
        (Some(f), _, _) if f.contains(&format!("sts.windows.net/{MICROSOFT_TENANT_ID}/")) => {
            if has_aws {
                "web_identity_and_external_account"
            } else {
                "web_identity"
            }
        }
        (Some(_), _, _) => "customer_tenant_oidc",
        (None, _, true) => "aws_service",
        _ => "assumed_by_role",
    };
    let audience = statements.iter().find_map(|s| {
        ["StringEquals", "StringLike"].iter().find_map(|op| {
            s["Condition"][op].as_object().and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.ends_with(":aud"))
                    .and_then(|(_, v)| v.as_str().map(str::to_owned))
            })
        })
    });
    let managed: Vec<String> = step(
        format!("listing the managed policies of role {}", r.name),
        iam.list_attached_role_policies(&r.name).await,
    )?
    .into_iter()
    .map(|p| p.arn)
    .collect();
    let inline_names = step(
        format!("listing the inline policies of role {}", r.name),
        iam.list_role_policies(&r.name).await,
    )?;
    let (inline_policy_name, inline_policy) = match inline_names.first() {
        Some(name) => {
            let doc = step(
                format!("reading inline policy {name} of role {}", r.name),
                iam.get_role_policy_opt(&r.name, name).await,
            )?;
            (
                doc.as_ref().map(|_| name.clone()),
                doc.map(|d| canonical(&d)),
            )
        }
        None => (None, None),
    };
    Ok(RoleSpec {
        key: key_of_default_name(&r.name).map_or_else(|| r.name.clone(), |k| k.as_str().to_owned()),
        name: r.name.clone(),
        trust: trust.to_owned(),
        audience,
        managed_policy_arns: managed,
        inline_policy_name,
        inline_policy,
        trust_policy: canonical(&r.trust_policy),
    })
}
