//! Trust policies: who may assume each role. Web-identity roles are bound to the role's audience
//! and to the session name `MicrosoftDefenderForClouds_<customer tenant>`, so only Defender for
//! Cloud working for that tenant gets in. The same builder serves concrete JSON (for the IAM API)
//! and CloudFormation (intrinsic functions instead of account, ARNs and tenant).

use serde_json::{Value as Json, json};

use super::canonical_json;
use super::error::OnboardingError;
use super::roles::{AwsRole, RoleKey, Trust};

/// Prefix of the role session name Defender for Cloud uses; the customer tenant id follows.
pub const SESSION_NAME_PREFIX: &str = "MicrosoftDefenderForClouds_";

/// The values a trust policy refers to, as JSON (plain strings, or CloudFormation intrinsics).
pub(crate) struct TrustRefs {
    /// ARN of the OIDC provider for Microsoft's tenant.
    pub microsoft_provider_arn: Json,
    /// Issuer host and path of that provider, the prefix of its condition keys.
    pub microsoft_issuer: String,
    /// ARN of the OIDC provider for the customer's tenant.
    pub customer_provider_arn: Json,
    /// Issuer host and path of that provider (`sts.windows.net/<tenant>/`).
    pub customer_issuer: String,
    /// `MicrosoftDefenderForClouds_<tenant>`.
    pub session_name: Json,
    /// The account the roles live in.
    pub account_id: Json,
    /// ARN of a role of the same account, by name.
    pub role_arn: Box<dyn Fn(&str) -> Json>,
    /// Name of a role of the plan set, by key.
    pub role_name: Box<dyn Fn(RoleKey) -> String>,
}

/// The trust policy document of `role`.
pub(crate) fn document(role: &AwsRole, refs: &TrustRefs) -> Json {
    let web = |audience: &str| {
        json!({
            "Sid": "DefenderForCloudWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": refs.microsoft_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {
                format!("{}:aud", refs.microsoft_issuer): audience,
                "sts:RoleSessionName": refs.session_name,
            }},
        })
    };
    let statements = match &role.trust {
        Trust::WebIdentity { audience } => vec![web(audience)],
        Trust::WebIdentityAndExternalAccount {
            audience,
            principal,
            external_id,
        } => vec![
            json!({
                "Sid": "DefenderForCloudCollector",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }),
            web(audience),
        ],
        Trust::Service {
            service,
            external_id_is_account,
        } => {
            let mut s = json!({
                "Sid": "AwsServicePipeline",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            });
            if *external_id_is_account {
                s["Condition"] = json!({"StringEquals": {"sts:ExternalId": refs.account_id}});
            }
            vec![s]
        }
        Trust::CustomerTenantOidc { audience, subject } => vec![json!({
            "Sid": "PermissionsManagementWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": refs.customer_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{}:aud", refs.customer_issuer): audience,
                format!("{}:sub", refs.customer_issuer): subject,
            }},
        })],
        Trust::AssumedByRole { role: from } => vec![json!({
            "Sid": "AssumedByPlanSetRole",
            "Effect": "Allow",
            "Principal": {"AWS": (refs.role_arn)(&(refs.role_name)(*from))},
            "Action": "sts:AssumeRole",
        })],
    };
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Parts of an OIDC provider ARN: `arn:<partition>:iam::<account>:oidc-provider/<issuer>`.
struct ProviderArn<'a> {
    partition: &'a str,
    account: &'a str,
    issuer: &'a str,
}

fn parse_provider_arn(arn: &str) -> Result<ProviderArn<'_>, OnboardingError> {
    let malformed = || OnboardingError::Malformed {
        what: "OIDC provider ARN",
        value: arn.to_owned(),
        expected: "arn:aws:iam::<12-digit account>:oidc-provider/<issuer host and path>",
    };
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_lit, partition, service, region, account, resource] = fields[..] else {
        return Err(malformed());
    };
    let issuer = resource
        .strip_prefix("oidc-provider/")
        .filter(|i| !i.is_empty())
        .ok_or_else(malformed)?;
    let ok = arn_lit == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return Err(malformed());
    }
    Ok(ProviderArn {
        partition,
        account,
        issuer,
    })
}

fn check_tenant(tenant: &str) -> Result<(), OnboardingError> {
    let groups: Vec<&str> = tenant.split('-').collect();
    let shaped = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if shaped {
        Ok(())
    } else {
        Err(OnboardingError::Malformed {
            what: "customer tenant id",
            value: tenant.to_owned(),
            expected: "a GUID such as 00000000-0000-0000-0000-000000000000",
        })
    }
}

/// The trust policy of `role` as canonical JSON, for roles in the account of
/// `oidc_provider_arn` (the provider for Microsoft's tenant) serving `customer_tenant_id`.
/// `role_name` names the plan set's other roles (for a role assumed by another).
pub fn trust_policy(
    role: &AwsRole,
    oidc_provider_arn: &str,
    customer_tenant_id: &str,
    role_name: impl Fn(RoleKey) -> String + 'static,
) -> Result<String, OnboardingError> {
    let provider = parse_provider_arn(oidc_provider_arn)?;
    check_tenant(customer_tenant_id)?;
    let prefix = format!("arn:{}:iam::{}:", provider.partition, provider.account);
    let customer_issuer = format!("sts.windows.net/{customer_tenant_id}/");
    let role_prefix = format!("{prefix}role/");
    let refs = TrustRefs {
        microsoft_provider_arn: Json::from(oidc_provider_arn),
        microsoft_issuer: provider.issuer.to_owned(),
        customer_provider_arn: Json::from(format!("{prefix}oidc-provider/{customer_issuer}")),
        customer_issuer,
        session_name: Json::from(format!("{SESSION_NAME_PREFIX}{customer_tenant_id}")),
        account_id: Json::from(provider.account),
        role_arn: Box::new(move |name| Json::from(format!("{role_prefix}{name}"))),
        role_name: Box::new(role_name),
    };
    Ok(canonical_json(&document(role, &refs)))
}
