//! Checks one role the way Defender experiences it: the role exists in the connector's account,
//! the OIDC provider it federates through exists and lists the audience, its trust policy lets
//! the right principal in with the right conditions, and finally STS really hands out
//! credentials for a token shaped like Defender's. Each problem becomes an [`Issue`] with a
//! stable key tests and clients can match.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::expect::{
    DEFENDER_TOKEN_SUBJECT, Expect, MICROSOFT_TENANT_ID, RoleUse, SESSION_NAME_PREFIX,
};
use super::trust::{Finding, Principal, Request, evaluate};
use crate::security::aws::{AwsClient, AwsError};
use crate::security::semantics::parse_role_arn;

/// One problem with a role, as a health report issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    /// Stable key, e.g. `RoleNotFound`.
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: String,
    pub(crate) remediation: String,
    pub(crate) data: BTreeMap<String, String>,
}

fn issue(key: &'static str, name: &'static str, description: String, remediation: &str) -> Issue {
    Issue {
        key,
        name,
        description,
        remediation: remediation.to_string(),
        data: BTreeMap::new(),
    }
}

impl Issue {
    fn with(mut self, k: &str, v: impl Into<String>) -> Self {
        self.data.insert(k.to_string(), v.into());
        self
    }
}

/// What the checks need to know about the connector.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The connector's AWS account (its `hierarchyIdentifier`).
    pub(crate) account: String,
    /// The customer's Entra tenant (the emulator's tenant).
    pub(crate) customer_tenant: String,
}

impl Scope {
    fn session_name(&self) -> String {
        format!("{SESSION_NAME_PREFIX}{}", self.customer_tenant)
    }
}

fn aws_failure(e: &AwsError, arn: &str) -> Issue {
    issue(
        "AwsApiError",
        "AWS could not be queried",
        format!("Checking role {arn} failed: {e}."),
        "Retry later; if it persists, check that the AWS endpoint is reachable.",
    )
    .with("roleArn", arn)
}

/// Issues of one role; empty when Defender can use it.
pub(crate) async fn check_role(
    aws: &AwsClient,
    scope: &Scope,
    role: &RoleUse,
    providers: &mut HashMap<String, Result<Option<Vec<String>>, AwsError>>,
) -> Vec<Issue> {
    let arn = role.arn.as_str();
    let Some((partition, account, name)) = parse_role_arn(arn) else {
        return vec![
            issue(
                "RoleArnInvalid",
                "Role ARN is malformed",
                format!("'{arn}' is not an IAM role ARN."),
                "Use the ARN of an IAM role: arn:aws:iam::<account>:role/<name>.",
            )
            .with("roleArn", arn),
        ];
    };
    if account != scope.account {
        return vec![
            issue(
                "RoleInWrongAccount",
                "Role is in another AWS account",
                format!(
                    "Role {arn} is in account {account}, but the connector onboards account {}.",
                    scope.account
                ),
                "Create the role in the onboarded account and use its ARN.",
            )
            .with("roleArn", arn)
            .with("expectedAccount", &scope.account),
        ];
    }
    let mut issues = Vec::new();
    if role.needs_mdc_prefix && !name.starts_with("MDC") {
        issues.push(
            issue(
                "RoleNameInvalid",
                "Role name must start with MDC",
                format!("Defender only assumes the role for {} when its name starts with 'MDC'; '{name}' does not.", role.fields.join(", ")),
                "Rename the role so its name starts with MDC.",
            )
            .with("roleArn", arn),
        );
    }
    let trust = match aws.get_role(name).await {
        Ok(Some(r)) => r.trust_policy,
        Ok(None) => {
            issues.push(
                issue(
                    "RoleNotFound",
                    "Role does not exist",
                    format!("IAM has no role {name} in account {account}."),
                    "Create the role (for example with multicloud_aws_oidc_trust) or correct the ARN.",
                )
                .with("roleArn", arn),
            );
            return issues;
        }
        Err(e) => return vec![aws_failure(&e, arn)],
    };
    for expect in &role.expects {
        let (request, provider) = request_for(expect, scope, partition, account);
        if let Some((provider_arn, audience)) = &provider {
            match provider_issue(aws, providers, provider_arn, audience).await {
                Ok(Some(i)) => issues.push(i.with("roleArn", arn)),
                Ok(None) => {}
                Err(e) => return vec![aws_failure(&e, arn)],
            }
        }
        if let Err(findings) = evaluate(&trust, &request) {
            issues.extend(
                findings
                    .iter()
                    .map(|f| finding_issue(f, &request).with("roleArn", arn)),
            );
        }
    }
    if issues.is_empty() {
        for expect in &role.expects {
            if let Some(i) = confirm_with_sts(aws, scope, expect, arn).await {
                issues.push(i.with("roleArn", arn));
            }
        }
    }
    issues
}

fn provider_arn(partition: &str, account: &str, tenant: &str) -> String {
    format!("arn:{partition}:iam::{account}:oidc-provider/sts.windows.net/{tenant}/")
}

/// The request Defender (or the AWS service) makes for `expect`, and the OIDC provider plus
/// audience it needs, for web identity.
fn request_for(
    expect: &Expect,
    scope: &Scope,
    partition: &str,
    account: &str,
) -> (Request, Option<(String, String)>) {
    let web = |tenant: &str, audience: &str, subject: &str| {
        let issuer = format!("sts.windows.net/{tenant}/");
        let provider = provider_arn(partition, account, tenant);
        let request = Request {
            action: "sts:AssumeRoleWithWebIdentity",
            principal: Principal::Federated(provider.clone()),
            context: vec![
                (format!("{issuer}:aud"), audience.to_string()),
                (format!("{issuer}:sub"), subject.to_string()),
                ("sts:RoleSessionName".to_string(), scope.session_name()),
            ],
        };
        (request, Some((provider, audience.to_string())))
    };
    let assume = |principal, context| {
        let request = Request {
            action: "sts:AssumeRole",
            principal,
            context,
        };
        (request, None)
    };
    let external_id = |v: &str| vec![("sts:ExternalId".to_string(), v.to_string())];
    match expect {
        Expect::MicrosoftWebIdentity { audience } => {
            web(MICROSOFT_TENANT_ID, audience, DEFENDER_TOKEN_SUBJECT)
        }
        Expect::CustomerWebIdentity { audience, subject } => {
            web(&scope.customer_tenant, audience, subject)
        }
        Expect::ExternalAccount {
            principal,
            external_id: id,
        } => assume(Principal::Aws((*principal).to_string()), external_id(id)),
        Expect::Service {
            service,
            external_id_is_account,
        } => assume(
            Principal::Service((*service).to_string()),
            if *external_id_is_account {
                external_id(account)
            } else {
                Vec::new()
            },
        ),
        Expect::AssumedByRole { role_arn } => assume(Principal::Aws(role_arn.clone()), Vec::new()),
    }
}

/// A missing OIDC provider, or one that does not list `audience` (STS then rejects the token
/// before it reads the trust policy). Looked up once per provider per health evaluation.
async fn provider_issue(
    aws: &AwsClient,
    cache: &mut HashMap<String, Result<Option<Vec<String>>, AwsError>>,
    provider: &str,
    audience: &str,
) -> Result<Option<Issue>, AwsError> {
    if !cache.contains_key(provider) {
        let found = aws.oidc_client_ids(provider).await;
        cache.insert(provider.to_string(), found);
    }
    let client_ids = match cache.get(provider) {
        Some(Ok(ids)) => ids.clone(),
        Some(Err(e)) => return Err(e.clone()),
        None => None,
    };
    let issuer = provider.split_once("oidc-provider/").map_or("", |(_, i)| i);
    Ok(match client_ids {
        None => Some(
            issue(
                "OidcProviderNotFound",
                "OIDC identity provider missing",
                format!("The account has no OpenID Connect provider for https://{issuer}, so STS rejects every token from it."),
                "Create the OIDC identity provider for that issuer (multicloud_aws_oidc_trust does).",
            )
            .with("oidcProviderArn", provider),
        ),
        Some(ids) if !ids.iter().any(|c| c == audience) => Some(
            issue(
                "OidcProviderAudienceMissing",
                "OIDC provider does not accept the audience",
                format!(
                    "The OIDC provider for https://{issuer} does not list '{audience}' among its client ids ({}), so STS rejects the token.",
                    if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
                ),
                "Add the audience to the provider's client id list.",
            )
            .with("oidcProviderArn", provider)
            .with("expectedAudience", audience),
        ),
        Some(_) => None,
    })
}

fn finding_issue(finding: &Finding, request: &Request) -> Issue {
    let who = match &request.principal {
        Principal::Federated(p) => format!("web identity through {p}"),
        Principal::Service(s) => format!("the AWS service {s}"),
        Principal::Aws(a) => a.clone(),
    };
    match finding {
        Finding::ExplicitDeny => issue(
            "TrustPolicyDenies",
            "Trust policy denies the request",
            format!(
                "A Deny statement of the trust policy matches {} by {who}.",
                request.action
            ),
            "Remove the Deny statement that matches Defender's request.",
        ),
        Finding::PrincipalMissing { trusted } => issue(
            "TrustPolicyPrincipalMissing",
            "Trust policy does not trust the expected principal",
            format!(
                "No Allow statement of the trust policy grants {} to {who}; for that action it trusts: {}.",
                request.action,
                if trusted.is_empty() {
                    "nobody".to_string()
                } else {
                    trusted.join(", ")
                }
            ),
            "Add a statement allowing the action for that principal.",
        ),
        Finding::Condition {
            operator,
            key,
            policy_values,
            request_value,
        } => {
            let lower = key.to_ascii_lowercase();
            let (code, name) = if lower.ends_with(":aud") {
                (
                    "TrustPolicyAudienceMismatch",
                    "Trust policy expects another audience",
                )
            } else if lower == "sts:rolesessionname" {
                (
                    "TrustPolicySessionNameMismatch",
                    "Trust policy expects another session name (tenant)",
                )
            } else if lower.ends_with(":sub") {
                (
                    "TrustPolicySubjectMismatch",
                    "Trust policy expects another token subject",
                )
            } else if lower == "sts:externalid" {
                (
                    "TrustPolicyExternalIdMismatch",
                    "Trust policy expects another external id",
                )
            } else {
                (
                    "TrustPolicyConditionNotMet",
                    "Trust policy condition not met",
                )
            };
            let actual = request_value.as_deref().unwrap_or("(absent)");
            let mut i = issue(
                code,
                name,
                format!(
                    "Condition {operator} {key} allows {} but the request carries '{actual}'.",
                    policy_values.join(", ")
                ),
                "Change the condition to the value Defender presents.",
            )
            .with("conditionKey", key)
            .with("allowedValues", policy_values.join(","));
            if let Some(v) = request_value {
                i = i.with("expectedValue", v);
            }
            i
        }
    }
}

/// A token shaped like Defender's (issuer, audience, subject, lifetime). Unsigned: the AWS
/// emulator cannot fetch Entra's keys, so it checks the claims only.
fn token(tenant: &str, audience: &str, subject: &str) -> String {
    let now = crate::clock::now_secs();
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(json!({"alg": "RS256", "typ": "JWT"})),
        part(json!({
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "aud": audience, "sub": subject,
            "iat": now, "nbf": now, "exp": now + 3600,
        })),
        URL_SAFE_NO_PAD.encode(b"emulated-signature")
    )
}

/// Asks STS itself, for web-identity expectations whose checks all passed.
async fn confirm_with_sts(
    aws: &AwsClient,
    scope: &Scope,
    expect: &Expect,
    arn: &str,
) -> Option<Issue> {
    let jwt = match expect {
        Expect::MicrosoftWebIdentity { audience } => {
            token(MICROSOFT_TENANT_ID, audience, DEFENDER_TOKEN_SUBJECT)
        }
        Expect::CustomerWebIdentity { audience, subject } => {
            token(&scope.customer_tenant, audience, subject)
        }
        _ => return None,
    };
    match aws
        .assume_role_with_web_identity(arn, &scope.session_name(), &jwt)
        .await
    {
        Ok(()) => None,
        Err(AwsError::Service { code, message, .. }) => Some(
            issue(
                "RoleAssumptionFailed",
                "STS refused to issue credentials",
                format!("AssumeRoleWithWebIdentity failed: {code}: {message}"),
                "Check the role's trust policy and the OIDC provider.",
            )
            .with("stsErrorCode", code),
        ),
        Err(e) => Some(aws_failure(&e, arn)),
    }
}
