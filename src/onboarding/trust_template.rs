//! Trust policies as templates: the plan set cannot know the account, the OIDC provider ARNs or
//! the customer tenant a trust is deployed for, so each role's trust policy is published with
//! placeholders, and the trust resource renders it once it knows them. Rendering and the
//! reverse (turning a policy read from AWS back into a template, for import and drift) are pure
//! text substitution followed by canonicalisation, so a template and the policy it renders
//! compare byte for byte after a round trip.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use super::canonical_json;
use super::error::OnboardingError;
use super::offerings::role_arn_placeholder;
use super::roles::{AwsRole, RoleKey, Trust};
use super::trust::{SESSION_NAME_PREFIX, TrustRefs, document};
use super::{MICROSOFT_TENANT_ID, issuer_url};

/// Stands for the ARN of the OIDC provider for Microsoft's tenant.
pub const OIDC_PROVIDER_ARN: &str = "<oidc_provider_arn>";
/// Stands for the ARN of the OIDC provider for the customer's tenant.
pub const CUSTOMER_OIDC_PROVIDER_ARN: &str = "<customer_oidc_provider_arn>";
/// Stands for the 12-digit account the roles live in.
pub const ACCOUNT_ID: &str = "<account_id>";
/// Stands for the customer's Entra ID tenant id.
pub const CUSTOMER_TENANT_ID: &str = "<customer_tenant_id>";

/// The trust policy of `role` with placeholders (canonical JSON). Another role of the plan set
/// is named by `<role_arn:KEY>`.
pub fn trust_policy_template(role: &AwsRole) -> String {
    let refs = TrustRefs {
        microsoft_provider_arn: Json::from(OIDC_PROVIDER_ARN),
        microsoft_issuer: format!("sts.windows.net/{MICROSOFT_TENANT_ID}/"),
        customer_provider_arn: Json::from(CUSTOMER_OIDC_PROVIDER_ARN),
        customer_issuer: format!("sts.windows.net/{CUSTOMER_TENANT_ID}/"),
        session_name: Json::from(format!("{SESSION_NAME_PREFIX}{CUSTOMER_TENANT_ID}")),
        account_id: Json::from(ACCOUNT_ID),
        role_arn: Box::new(|_| Json::Null),
        role_name: Box::new(|_| String::new()),
    };
    let mut doc = document(role, &refs);
    // Role references are by key, not by name: a rename then shows as the renamed role's change.
    if let Trust::AssumedByRole { role: from } = role.trust {
        for statement in doc["Statement"].as_array_mut().into_iter().flatten() {
            statement["Principal"]["AWS"] = Json::from(role_arn_placeholder(from));
        }
    }
    canonical_json(&doc)
}

/// Which OIDC provider a role federates through, by its `trust` kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Issuer {
    /// Microsoft's own tenant, which signs Defender for Cloud's tokens.
    Microsoft,
    /// The customer's tenant (permissions management).
    CustomerTenant,
}

impl Issuer {
    /// The issuer a role of trust kind `trust` (as in the plan set's `aws_roles`) federates
    /// through, if any.
    pub fn of_trust_kind(trust: &str) -> Option<Issuer> {
        match trust {
            "web_identity" | "web_identity_and_external_account" => Some(Issuer::Microsoft),
            "customer_tenant_oidc" => Some(Issuer::CustomerTenant),
            _ => None,
        }
    }

    /// The issuer URL for a trust serving `customer_tenant_id`.
    pub fn url(self, customer_tenant_id: &str) -> String {
        match self {
            Issuer::Microsoft => issuer_url(MICROSOFT_TENANT_ID),
            Issuer::CustomerTenant => issuer_url(customer_tenant_id),
        }
    }

    /// The placeholder that stands for this provider's ARN.
    pub fn placeholder(self) -> &'static str {
        match self {
            Issuer::Microsoft => OIDC_PROVIDER_ARN,
            Issuer::CustomerTenant => CUSTOMER_OIDC_PROVIDER_ARN,
        }
    }
}

/// The OIDC providers a set of roles needs and the audiences each must list: `roles` gives each
/// role's trust kind and audience.
pub fn required_providers<'a>(
    roles: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> BTreeMap<Issuer, BTreeSet<String>> {
    let mut out: BTreeMap<Issuer, BTreeSet<String>> = BTreeMap::new();
    for (trust, audience) in roles {
        if let Some(issuer) = Issuer::of_trust_kind(trust) {
            let set = out.entry(issuer).or_default();
            set.extend(audience.map(str::to_owned));
        }
    }
    out
}

/// The values placeholders stand for in one deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustValues {
    /// ARN of the provider for Microsoft's tenant.
    pub oidc_provider_arn: Option<String>,
    /// ARN of the provider for the customer's tenant.
    pub customer_oidc_provider_arn: Option<String>,
    /// The account.
    pub account_id: String,
    /// The customer's tenant.
    pub customer_tenant_id: String,
    /// ARN of each role of the trust, by key.
    pub role_arns: BTreeMap<String, String>,
}

impl TrustValues {
    /// Every (placeholder, value) pair, longest placeholder first so none is a prefix problem.
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            (ACCOUNT_ID.to_owned(), self.account_id.clone()),
            (
                CUSTOMER_TENANT_ID.to_owned(),
                self.customer_tenant_id.clone(),
            ),
        ];
        if let Some(a) = &self.oidc_provider_arn {
            pairs.push((OIDC_PROVIDER_ARN.to_owned(), a.clone()));
        }
        if let Some(a) = &self.customer_oidc_provider_arn {
            pairs.push((CUSTOMER_OIDC_PROVIDER_ARN.to_owned(), a.clone()));
        }
        for (key, arn) in &self.role_arns {
            pairs.push((format!("<role_arn:{key}>"), arn.clone()));
        }
        pairs
    }
}

/// Parses a policy document: a JSON object (IAM rejects anything else).
fn parse_policy(text: &str, what: &'static str) -> Result<Json, OnboardingError> {
    match serde_json::from_str::<Json>(text) {
        Ok(v @ Json::Object(_)) => Ok(v),
        _ => Err(OnboardingError::Malformed {
            what,
            value: text.chars().take(200).collect(),
            expected: "a JSON policy document (an object)",
        }),
    }
}

fn canonicalise(text: &str, what: &'static str) -> Result<String, OnboardingError> {
    parse_policy(text, what).map(|v| canonical_json(&v))
}

/// Replaces each value by its placeholder inside the document's strings (keys included), never
/// in its structure: an account id that also appears as a bare number stays a number.
fn templatize_strings(v: &mut Json, pairs: &[(String, String)]) {
    let replace = |s: &str| {
        let mut out = s.to_owned();
        for (placeholder, value) in pairs {
            if !value.is_empty() {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    };
    match v {
        Json::String(s) => *s = replace(s),
        Json::Array(items) => items.iter_mut().for_each(|i| templatize_strings(i, pairs)),
        Json::Object(map) => {
            for (key, mut value) in std::mem::take(map) {
                templatize_strings(&mut value, pairs);
                map.insert(replace(&key), value);
            }
        }
        _ => {}
    }
}

/// The placeholders (`<...>` made of lowercase letters, digits, `_` and `:`) left in `text`.
pub fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let tail = &rest[start + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('>') && end > 0 {
            out.insert(format!("<{}>", &tail[..end]));
        }
        rest = tail;
    }
    out
}

/// Renders a trust policy template with `values`, as canonical JSON. Fails, naming it, when a
/// placeholder has no value.
pub fn render_trust_policy(
    template: &str,
    values: &TrustValues,
) -> Result<String, OnboardingError> {
    let mut text = template.to_owned();
    for (placeholder, value) in values.pairs() {
        text = text.replace(&placeholder, &value);
    }
    if let Some(missing) = placeholders(&text).into_iter().next() {
        return Err(OnboardingError::Malformed {
            what: "trust policy template",
            value: missing,
            expected: "only placeholders of this trust: <oidc_provider_arn>, \
                       <customer_oidc_provider_arn> (with a customer_tenant_oidc role), \
                       <account_id>, <customer_tenant_id> and <role_arn:KEY> of one of its roles",
        });
    }
    canonicalise(&text, "rendered trust policy")
}

/// Turns a policy read from AWS back into the template that renders it (canonical JSON).
pub fn templatize_trust_policy(
    policy: &str,
    values: &TrustValues,
) -> Result<String, OnboardingError> {
    let mut doc = parse_policy(policy, "trust policy")?;
    // ARNs contain the account id, so they go first.
    let mut pairs = values.pairs();
    pairs.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
    templatize_strings(&mut doc, &pairs);
    Ok(canonical_json(&doc))
}

/// The role keys a template refers to with `<role_arn:KEY>`: those roles must exist first.
pub fn referenced_roles(template: &str) -> BTreeSet<String> {
    placeholders(template)
        .into_iter()
        .filter_map(|p| {
            p.strip_prefix("<role_arn:")
                .and_then(|k| k.strip_suffix('>'))
                .map(str::to_owned)
        })
        .collect()
}

/// The key Microsoft's templates' role `name` plays, when it is one of the default names.
pub fn key_of_default_name(name: &str) -> Option<RoleKey> {
    RoleKey::ALL.into_iter().find(|k| k.default_name() == name)
}
