//! The `multicloud_aws_oidc_trust` schema, and its configuration read into typed values with
//! every problem reported on the attribute that holds it.

use std::collections::{BTreeMap, BTreeSet};

use crate::onboarding::trust_template::{self, Issuer};
use crate::protocol::{AttrPath, Attribute, Block, Diagnostics, Schema, Type, Value};

use super::super::validators;
use super::model::{RoleSpec, role_type};

/// How the AWS objects are deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deployment {
    /// Each object through the IAM API.
    Iam,
    /// One CloudFormation stack.
    CloudFormation,
}

impl Deployment {
    pub(crate) fn parse(text: &str) -> Option<Deployment> {
        match text {
            "iam" => Some(Deployment::Iam),
            "cloudformation" => Some(Deployment::CloudFormation),
            _ => None,
        }
    }
}

/// Stack name used when `stack_name` is not set.
pub(crate) const DEFAULT_STACK_NAME: &str = "DefenderForCloud-OidcTrust";

const DESCRIPTION: &str = "The AWS side of Microsoft Defender for Cloud's AWS connector: the IAM \
OpenID Connect provider for the Entra ID issuer Defender signs its tokens with (Microsoft's own \
tenant), listing the plans' audiences, and one IAM role per entry of `roles` (normally \
`multicloud_defender_plan_set.<name>.aws_roles`), each trusting that provider for its audience and \
for sessions named after the customer's tenant. With permissions management, a second provider \
for the customer's tenant.\n\n\
AWS allows one OIDC provider per issuer URL. When one already exists (another connector, \
Microsoft Sentinel, ...) it is reused: missing audiences are added, and on destroy only those \
audiences are removed; a provider this resource did not create is never deleted.\n\n\
`deployment = \"iam\"` manages each object through the IAM API, with minimal updates (a changed \
policy updates that policy, not the role). `deployment = \"cloudformation\"` deploys the same \
objects as one CloudFormation stack, as the portal's template does; a failed stack operation \
reports the failing resources' events.\n\n\
Import takes the OIDC provider's ARN (`iam`) or the stack name (`cloudformation:<stack name>`). \
Roles are recognised by Microsoft's default names or by a trust that names the provider. \
A trust imported by provider ARN does not own its providers (it cannot tell who created them): \
destroying it deletes the roles and keeps the providers. A stack's own providers go with the stack.\n\n\
From an AWS Organizations management account, the `organization` block also deploys the roles to \
the member accounts with a service-managed CloudFormation StackSet. Such a trust is imported by \
`cloudformation:<stack name>:<StackSet name>`: the block is read back from the StackSet (targets \
from its OUs, exclusions from the accounts they reach without an instance, auto-deployment and \
regions as deployed); operation preferences and `enable_trusted_access`, which AWS does not keep, \
are left unset.\n\n\
When some member accounts fail while the trust is created, the apply fails naming each account and \
the reason, and state keeps what exists: the StackSet, the accounts that succeeded in \
`organization.member_account_ids`, and `in_sync = false`. Terraform marks the trust tainted, so a \
plain next apply would destroy it and deploy every account again. Fix the cause, run `terraform \
untaint <address>`, then apply: the trust is updated in place and only the failed accounts are \
deployed again (one StackSet update narrowed to them); the accounts that succeeded are not \
touched.";

/// The resource schema.
pub(crate) fn schema() -> Schema {
    let computed = |a: Attribute| a.computed().use_state_for_unknown();
    Schema::new(
        Block::new()
            .description(DESCRIPTION)
            .attribute(computed(Attribute::string("id")).description(
                "The OIDC provider's ARN (`iam`), or `cloudformation:<stack name>`.",
            ))
            .attribute(Attribute::string("tenant_id").required().description(
                "The customer's Entra ID tenant (directory) id, the tenant the Azure subscriptions \
                 belong to. Each role only admits sessions named `MicrosoftDefenderForClouds_<tenant_id>`.",
            ))
            .attribute(Attribute::list("roles", role_type()).required().description(
                "The roles to create, normally `multicloud_defender_plan_set.<name>.aws_roles`. Each \
                 has `key` (unique; the key of `role_arns`), `name`, `trust` (`web_identity`, \
                 `web_identity_and_external_account`, `aws_service`, `customer_tenant_oidc` or \
                 `assumed_by_role`), `audience`, `managed_policy_arns`, `inline_policy_name`, \
                 `inline_policy` and `trust_policy` (a template; see the plan set). Other attributes \
                 of the plan set's roles are ignored.",
            ))
            .attribute(
                Attribute::string("deployment")
                    .optional()
                    .computed()
                    .force_new()
                    .description(
                        "`iam` (default): each object through the IAM API. `cloudformation`: one \
                         CloudFormation stack. Changing it replaces the trust.",
                    ),
            )
            .attribute(
                Attribute::string("stack_name")
                    .optional()
                    .computed()
                    .force_new()
                    .description(
                        "Name of the CloudFormation stack (`cloudformation` only). Defaults to \
                         `DefenderForCloud-OidcTrust`.",
                    ),
            )
            .attribute(
                Attribute::string("oidc_provider_arn")
                    .optional()
                    .computed()
                    .force_new()
                    .description(
                        "The OIDC provider for Microsoft's issuer (`https://sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/`). \
                         Set it to use a provider managed elsewhere (it must exist; its missing \
                         audiences are added). Otherwise the provider for that URL is found or \
                         created, and this is its ARN.",
                    ),
            )
            .attribute(Attribute::map("tags", Type::String).optional().description(
                "Tags for the roles and providers this resource creates (and the stack).",
            ))
            .attribute(computed(Attribute::string("account_id")).description(
                "The AWS account the trust is deployed in (the caller's).",
            ))
            .attribute(Attribute::string("customer_oidc_provider_arn").computed().description(
                "The OIDC provider for the customer's tenant, when a role needs it (permissions \
                 management); null otherwise.",
            ))
            .attribute(Attribute::map("role_arns", Type::String).computed().description(
                "ARN of each role, by key: what `multicloud_security_connector.role_arns` takes.",
            ))
            .attribute(
                Attribute::list(
                    "oidc_providers",
                    Type::object([
                        ("url", Type::String),
                        ("arn", Type::String),
                        ("client_ids", Type::list(Type::String)),
                        ("created", Type::Bool),
                        ("added_client_ids", Type::list(Type::String)),
                    ]),
                )
                .computed()
                .description(
                    "The OIDC providers the roles use: `url`, `arn`, `client_ids` (the audiences \
                     it lists), `created` (this resource created it, and deletes it on destroy) \
                     and `added_client_ids` (audiences this resource added to a provider it did \
                     not create, removed on destroy).",
                ),
            )
            .attribute(Attribute::string("stack_id").computed().description(
                "The CloudFormation stack id (`cloudformation` only).",
            ))
            .block(super::organization_schema::block()),
    )
}

/// The configuration, typed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrustConfig {
    pub tenant_id: String,
    pub roles: Vec<RoleSpec>,
    pub deployment: Deployment,
    pub stack_name: Option<String>,
    pub oidc_provider_arn: Option<String>,
    /// `None` when not configured (kept null in state).
    pub tags: Option<BTreeMap<String, String>>,
}

impl TrustConfig {
    /// The tags to put on created objects.
    pub(crate) fn tags(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.tags.as_ref().unwrap_or(&EMPTY)
    }

    /// The providers the roles need, with their audiences.
    pub(crate) fn required_providers(&self) -> BTreeMap<Issuer, BTreeSet<String>> {
        trust_template::required_providers(
            self.roles
                .iter()
                .map(|r| (r.trust.as_str(), r.audience.as_deref())),
        )
    }
}

fn err(diags: &mut Diagnostics, path: AttrPath, summary: &str, detail: impl Into<String>) {
    diags.attribute_error(path, summary, detail);
}

/// Reads and checks `value` (a configuration or planned value). `None` when something is
/// invalid (reported) or not known yet (not reported).
pub(crate) fn trust_config(value: &Value, diags: &mut Diagnostics) -> Option<TrustConfig> {
    let before = diags.iter().count();
    let tenant_id = value.get("tenant_id").as_str().map(str::to_owned);
    if let Some(t) = &tenant_id
        && let Err(e) = validators::guid(t)
    {
        err(diags, AttrPath::root("tenant_id"), "Invalid tenant id", e);
    }
    let deployment = match value.get("deployment") {
        Value::Null => Some(Deployment::Iam),
        v => v.as_str().and_then(|d| {
            let parsed = Deployment::parse(d);
            if parsed.is_none() {
                err(
                    diags,
                    AttrPath::root("deployment"),
                    "Unsupported value",
                    format!(
                        "deployment {d:?} is not supported; use \"iam\" or \"cloudformation\"."
                    ),
                );
            }
            parsed
        }),
    };
    let stack_name = value.get("stack_name").as_str().map(str::to_owned);
    if let Some(name) = &stack_name {
        if deployment == Some(Deployment::Iam) && !value.get("deployment").is_null() {
            err(
                diags,
                AttrPath::root("stack_name"),
                "Conflicting options",
                "stack_name only applies to deployment = \"cloudformation\"; remove it or set deployment.",
            );
        }
        if let Err(e) = stack_name_ok(name) {
            err(diags, AttrPath::root("stack_name"), "Invalid stack name", e);
        }
    }
    let oidc_provider_arn = value.get("oidc_provider_arn").as_str().map(str::to_owned);
    if let Some(arn) = &oidc_provider_arn {
        let expected = format!(
            ":oidc-provider/{}",
            trust_template::Issuer::Microsoft
                .url("")
                .trim_start_matches("https://")
        );
        if !(arn.starts_with("arn:aws") && arn.contains(":iam::") && arn.ends_with(&expected)) {
            err(
                diags,
                AttrPath::root("oidc_provider_arn"),
                "Invalid OIDC provider ARN",
                format!(
                    "{arn:?} is not the ARN of the OIDC provider for Microsoft's issuer; expected \
                     arn:aws:iam::<account>{expected}"
                ),
            );
        }
    }
    let roles = super::model::roles_from_value(value.get("roles"), diags);
    crate::resources::value_checks::check_iam_tags(value.get("tags"), diags);
    let tags: Option<BTreeMap<String, String>> = value.get("tags").as_map().map(|m| {
        m.iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect()
    });
    if diags.iter().count() > before {
        return None;
    }
    let known = ["tags", "stack_name", "deployment"]
        .iter()
        .all(|a| value.get(a).is_fully_known());
    if !known {
        return None;
    }
    Some(TrustConfig {
        tenant_id: tenant_id?,
        roles: roles?,
        deployment: deployment?,
        stack_name,
        oidc_provider_arn,
        tags,
    })
}

/// CloudFormation's stack name rule.
fn stack_name_ok(name: &str) -> Result<(), String> {
    let ok = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid stack name: it must start with a letter, hold only letters, \
             digits and hyphens, and be at most 128 characters."
        ))
    }
}
