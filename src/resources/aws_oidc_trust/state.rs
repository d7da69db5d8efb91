//! The trust as deployed: account, providers and roles, read from and written to state.

use std::collections::BTreeMap;

use crate::onboarding::trust_template::{Issuer, TrustValues};
use crate::protocol::Value;

use super::iam::{partition_of, role_arn};
use super::model::{ProviderState, RoleSpec, providers_from_value, roles_from_value};
use super::schema::{Deployment, TrustConfig};

/// What exists in AWS for one trust.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deployed {
    pub account_id: String,
    pub partition: String,
    pub providers: Vec<ProviderState>,
    pub roles: Vec<RoleSpec>,
    pub stack_id: Option<String>,
}

impl Deployed {
    /// Nothing deployed yet, in the caller's account.
    pub(crate) fn empty(caller: &crate::aws::CallerIdentity) -> Deployed {
        Deployed {
            account_id: caller.account_id.clone(),
            partition: partition_of(&caller.arn).to_owned(),
            providers: Vec::new(),
            roles: Vec::new(),
            stack_id: None,
        }
    }

    /// The provider serving `issuer` for `tenant_id`.
    pub(crate) fn provider(&self, issuer: Issuer, tenant_id: &str) -> Option<&ProviderState> {
        let url = issuer.url(tenant_id);
        self.providers.iter().find(|p| p.url == url)
    }

    /// The values placeholders stand for, for `roles` in this deployment.
    pub(crate) fn values(&self, tenant_id: &str, roles: &[RoleSpec]) -> TrustValues {
        TrustValues {
            oidc_provider_arn: self
                .provider(Issuer::Microsoft, tenant_id)
                .map(|p| p.arn.clone()),
            customer_oidc_provider_arn: self
                .provider(Issuer::CustomerTenant, tenant_id)
                .map(|p| p.arn.clone()),
            account_id: self.account_id.clone(),
            customer_tenant_id: tenant_id.to_owned(),
            role_arns: role_arns(&self.partition, &self.account_id, roles),
        }
    }

    /// The state value: the configuration with the deployed facts.
    pub(crate) fn to_state(&self, config: &TrustConfig) -> Value {
        let stack_name = config.stack_name.as_deref();
        let microsoft = self
            .provider(Issuer::Microsoft, &config.tenant_id)
            .map(|p| p.arn.clone());
        let customer = self
            .provider(Issuer::CustomerTenant, &config.tenant_id)
            .map(|p| p.arn.clone());
        let id = match (config.deployment, stack_name) {
            (Deployment::CloudFormation, Some(name)) => format!("cloudformation:{name}"),
            _ => microsoft.clone().unwrap_or_else(|| self.account_id.clone()),
        };
        let (deployment, stack_name) = match config.deployment {
            Deployment::Iam => ("iam", None),
            Deployment::CloudFormation => ("cloudformation", stack_name.map(str::to_owned)),
        };
        Value::object([
            ("id", Value::from(id)),
            ("tenant_id", Value::from(config.tenant_id.as_str())),
            (
                "roles",
                Value::list(self.roles.iter().map(RoleSpec::to_value)),
            ),
            ("deployment", Value::from(deployment)),
            ("stack_name", Value::from(stack_name)),
            ("oidc_provider_arn", Value::from(microsoft)),
            (
                "tags",
                match &config.tags {
                    None => Value::Null,
                    Some(tags) => Value::map(
                        tags.iter()
                            .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
                    ),
                },
            ),
            ("account_id", Value::from(self.account_id.as_str())),
            ("customer_oidc_provider_arn", Value::from(customer)),
            (
                "role_arns",
                Value::map(
                    role_arns(&self.partition, &self.account_id, &self.roles)
                        .into_iter()
                        .map(|(k, v)| (k, Value::from(v))),
                ),
            ),
            (
                "oidc_providers",
                Value::list(self.providers.iter().map(ProviderState::to_value)),
            ),
            ("stack_id", Value::from(self.stack_id.clone())),
            // The organization part is added by the resource when configured.
            (super::organization_schema::BLOCK, Value::Null),
        ])
    }

    /// The deployment a state value records (`None` for a malformed state).
    pub(crate) fn from_state(state: &Value) -> Option<Deployed> {
        let account_id = state.get("account_id").as_str()?.to_owned();
        let providers = providers_from_value(state.get("oidc_providers"));
        let partition = providers
            .first()
            .map_or("aws", |p| partition_of(&p.arn))
            .to_owned();
        let mut ignored = crate::protocol::Diagnostics::new();
        let roles = roles_from_value(state.get("roles"), &mut ignored).unwrap_or_default();
        Some(Deployed {
            account_id,
            partition,
            providers,
            roles,
            stack_id: state.get("stack_id").as_str().map(str::to_owned),
        })
    }
}

/// The ARN of each role, by key (roles live on path `/`).
pub(crate) fn role_arns(
    partition: &str,
    account: &str,
    roles: &[RoleSpec],
) -> BTreeMap<String, String> {
    roles
        .iter()
        .map(|r| (r.key.clone(), role_arn(partition, account, &r.name)))
        .collect()
}
