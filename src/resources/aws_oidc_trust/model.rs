//! The typed values behind the trust's state: each role as configured or as read back from
//! IAM, and the OIDC providers with what this resource owns of them.

use std::collections::BTreeSet;

use crate::onboarding::trust_template::{self, Issuer};
use crate::protocol::{AttrPath, Diagnostics, Type, Value};

/// The object type of one `roles` element: the part of the plan set's `aws_roles` a trust uses.
pub(crate) fn role_type() -> Type {
    Type::object([
        ("key", Type::String),
        ("name", Type::String),
        ("trust", Type::String),
        ("audience", Type::String),
        ("managed_policy_arns", Type::list(Type::String)),
        ("inline_policy_name", Type::String),
        ("inline_policy", Type::String),
        ("trust_policy", Type::String),
    ])
}

/// One role, as configured or as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleSpec {
    pub key: String,
    pub name: String,
    pub trust: String,
    pub audience: Option<String>,
    pub managed_policy_arns: Vec<String>,
    pub inline_policy_name: Option<String>,
    pub inline_policy: Option<String>,
    /// Template with placeholders (see `onboarding::trust_template`).
    pub trust_policy: String,
}

impl RoleSpec {
    /// The provider the role federates through, if any.
    pub(crate) fn issuer(&self) -> Option<Issuer> {
        Issuer::of_trust_kind(&self.trust)
    }

    pub(crate) fn to_value(&self) -> Value {
        Value::object([
            ("key", Value::from(self.key.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("trust", Value::from(self.trust.as_str())),
            ("audience", Value::from(self.audience.clone())),
            (
                "managed_policy_arns",
                Value::string_list(self.managed_policy_arns.iter().cloned()),
            ),
            (
                "inline_policy_name",
                Value::from(self.inline_policy_name.clone()),
            ),
            ("inline_policy", Value::from(self.inline_policy.clone())),
            ("trust_policy", Value::from(self.trust_policy.as_str())),
        ])
    }
}

const TRUST_KINDS: [&str; 5] = [
    "web_identity",
    "web_identity_and_external_account",
    "aws_service",
    "customer_tenant_oidc",
    "assumed_by_role",
];

/// Terraform points a diagnostic inside a list of objects at the whole resource, so the detail
/// names the element itself.
fn role_error(
    diags: &mut Diagnostics,
    i: usize,
    attr: &str,
    summary: &str,
    detail: impl std::fmt::Display,
) {
    diags.attribute_error(
        AttrPath::root("roles").index(i as i64).attr(attr),
        summary,
        format!("roles[{i}].{attr}: {detail}"),
    );
}

fn json_ok(text: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("the policy must be a JSON object".to_owned()),
        Err(e) => Err(format!("the policy is not valid JSON: {e}")),
    }
}

/// Reads the `roles` list; problems are reported on `roles[i].<attribute>`. `None` when
/// something is invalid or not known yet.
pub(crate) fn roles_from_value(value: &Value, diags: &mut Diagnostics) -> Option<Vec<RoleSpec>> {
    if !value.is_fully_known() {
        return None;
    }
    let items = value.as_list()?;
    let before = diags.iter().count();
    let mut roles = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let text = |attr: &str| item.get(attr).as_str().map(str::to_owned);
        let required = |attr: &str, diags: &mut Diagnostics| {
            let v = text(attr);
            if v.as_deref().is_none_or(str::is_empty) {
                role_error(diags, i, attr, "Missing value", "must be set.");
            }
            v.unwrap_or_default()
        };
        let role = RoleSpec {
            key: required("key", diags),
            name: required("name", diags),
            trust: required("trust", diags),
            audience: text("audience"),
            managed_policy_arns: item.get("managed_policy_arns").as_string_vec(),
            inline_policy_name: text("inline_policy_name"),
            inline_policy: text("inline_policy"),
            trust_policy: required("trust_policy", diags),
        };
        if let Err(e) = crate::onboarding::plans::iam_role_name(&role.name) {
            role_error(diags, i, "name", "Invalid role name", e);
        }
        if !role.trust.is_empty() && !TRUST_KINDS.contains(&role.trust.as_str()) {
            role_error(
                diags,
                i,
                "trust",
                "Unsupported value",
                format!(
                    "trust {:?} is not one of {}.",
                    role.trust,
                    TRUST_KINDS.join(", ")
                ),
            );
        }
        if role.issuer().is_some() && role.audience.is_none() {
            role_error(
                diags,
                i,
                "audience",
                "Missing value",
                format!("a {} role needs the audience its tokens carry.", role.trust),
            );
        }
        if role.inline_policy_name.is_some() != role.inline_policy.is_some() {
            role_error(
                diags,
                i,
                "inline_policy",
                "Conflicting options",
                "inline_policy_name and inline_policy are set together or not at all.",
            );
        }
        if let Some(p) = &role.inline_policy
            && let Err(e) = json_ok(p)
        {
            role_error(diags, i, "inline_policy", "Invalid policy", e);
        }
        if !role.trust_policy.is_empty()
            && let Err(e) = json_ok(&role.trust_policy)
        {
            role_error(diags, i, "trust_policy", "Invalid policy", e);
        }
        for arn in &role.managed_policy_arns {
            let ok =
                arn.starts_with("arn:aws") && arn.contains(":iam::") && arn.contains(":policy/");
            if !ok {
                role_error(
                    diags,
                    i,
                    "managed_policy_arns",
                    "Invalid policy ARN",
                    format!(
                        "{arn:?} is not an IAM policy ARN (arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>)."
                    ),
                );
            }
        }
        roles.push(role);
    }
    check_unique(&roles, diags);
    check_references(&roles, diags);
    (diags.iter().count() == before).then_some(roles)
}

fn check_unique(roles: &[RoleSpec], diags: &mut Diagnostics) {
    let mut keys = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, r) in roles.iter().enumerate() {
        if !keys.insert(r.key.as_str()) {
            role_error(
                diags,
                i,
                "key",
                "Duplicate role key",
                format!("key {:?} appears twice in roles.", r.key),
            );
        }
        // IAM role names are case-insensitive.
        if !names.insert(r.name.to_ascii_lowercase()) {
            role_error(
                diags,
                i,
                "name",
                "Duplicate role name",
                format!(
                    "role name {:?} appears twice in roles (IAM names are case-insensitive).",
                    r.name
                ),
            );
        }
    }
}

/// Every `<role_arn:KEY>` must name a role of this trust, and the customer tenant provider
/// placeholder needs a role that creates it.
fn check_references(roles: &[RoleSpec], diags: &mut Diagnostics) {
    let keys: BTreeSet<&str> = roles.iter().map(|r| r.key.as_str()).collect();
    for (i, r) in roles.iter().enumerate() {
        for key in trust_template::referenced_roles(&r.trust_policy) {
            if !keys.contains(key.as_str()) {
                role_error(
                    diags,
                    i,
                    "trust_policy",
                    "Unknown role reference",
                    format!(
                        "the trust policy of {:?} refers to <role_arn:{key}>, but roles has no role with key {key:?}.",
                        r.name
                    ),
                );
            }
        }
        let placeholders = trust_template::placeholders(&r.trust_policy);
        let known = [
            trust_template::OIDC_PROVIDER_ARN,
            trust_template::CUSTOMER_OIDC_PROVIDER_ARN,
            trust_template::ACCOUNT_ID,
            trust_template::CUSTOMER_TENANT_ID,
        ];
        for p in placeholders
            .iter()
            .filter(|p| !known.contains(&p.as_str()) && !p.starts_with("<role_arn:"))
        {
            role_error(
                diags,
                i,
                "trust_policy",
                "Unknown placeholder",
                format!(
                    "{p} is not a placeholder the trust fills in; use <oidc_provider_arn>, <customer_oidc_provider_arn>, <account_id>, <customer_tenant_id> or <role_arn:KEY>."
                ),
            );
        }
        let needs_customer = placeholders.contains(trust_template::CUSTOMER_OIDC_PROVIDER_ARN);
        if needs_customer && r.issuer() != Some(Issuer::CustomerTenant) {
            role_error(
                diags,
                i,
                "trust_policy",
                "Inconsistent trust",
                format!(
                    "the trust policy of {:?} uses <customer_oidc_provider_arn>, which only a customer_tenant_oidc role provides.",
                    r.name
                ),
            );
        }
    }
}

/// An OIDC provider the trust uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderState {
    pub url: String,
    pub arn: String,
    /// Audiences the provider lists (as last read, sorted).
    pub client_ids: Vec<String>,
    /// This resource created it (and deletes it on destroy).
    pub created: bool,
    /// Audiences this resource added to a provider it did not create.
    pub added_client_ids: Vec<String>,
}

impl ProviderState {
    pub(crate) fn to_value(&self) -> Value {
        Value::object([
            ("url", Value::from(self.url.as_str())),
            ("arn", Value::from(self.arn.as_str())),
            (
                "client_ids",
                Value::string_list(self.client_ids.iter().cloned()),
            ),
            ("created", Value::from(self.created)),
            (
                "added_client_ids",
                Value::string_list(self.added_client_ids.iter().cloned()),
            ),
        ])
    }

    pub(crate) fn from_value(v: &Value) -> Option<ProviderState> {
        Some(ProviderState {
            url: v.get("url").as_str()?.to_owned(),
            arn: v.get("arn").as_str()?.to_owned(),
            client_ids: v.get("client_ids").as_string_vec(),
            created: v.get("created").as_bool()?,
            added_client_ids: v.get("added_client_ids").as_string_vec(),
        })
    }
}

/// The providers recorded in a state value.
pub(crate) fn providers_from_value(v: &Value) -> Vec<ProviderState> {
    v.as_list()
        .unwrap_or_default()
        .iter()
        .filter_map(ProviderState::from_value)
        .collect()
}
