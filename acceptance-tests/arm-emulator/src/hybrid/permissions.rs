//! What the connector's service can do in the AWS account, judged from what the AWS emulator
//! holds: the roles the generated template asks for the connector's solutions must exist in the
//! connector's account, trust the customer tenant's issuer for the connector (audience and
//! subject), and carry the template's policies. Each gap is one [`Missing`] naming the
//! permission, which `testPermissions` reports and which keeps the inventory from syncing.

use serde_json::Value;

use super::settings::{ARC_ONBOARDING, INVENTORY};
use super::template::{self, AUDIENCE};
use crate::security::aws::{AwsClient, AwsError, xml_values};

/// The connector as the checks need it.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The connector's AWS account.
    pub(crate) account: String,
    /// The customer's Entra tenant (the emulator's tenant): the issuer the roles must trust.
    pub(crate) tenant: String,
    /// The connector's `connectorPrimaryIdentifier`: the token subject the roles must require.
    pub(crate) identifier: String,
}

/// One permission the service lacks for a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    /// The solution type that needs it.
    pub(crate) solution_type: String,
    /// The permission, in the words of the seed's prerequisites where it has some.
    pub(crate) permission: String,
    /// What was found instead and how to fix it.
    pub(crate) detail: String,
}

/// The solution a template role serves.
fn solution_of(role_name: &str) -> &'static str {
    if role_name == template::INVENTORY_ROLE {
        INVENTORY
    } else {
        ARC_ONBOARDING
    }
}

/// What a managed policy grants, as the seed's prerequisites name it.
fn friendly(policy_arn: &str) -> String {
    match policy_arn.rsplit('/').next() {
        Some("ReadOnlyAccess") => format!("Global Read ({policy_arn})"),
        _ => policy_arn.to_string(),
    }
}

/// Whether a trust policy lets the connector in: web identity through the tenant's provider,
/// with the audience and the connector as subject.
fn trusts_connector(trust: &Value, provider_arn: &str, scope: &Scope) -> bool {
    let issuer = format!("sts.windows.net/{}/", scope.tenant);
    let statements = match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let matches = |v: &Value, want: &str| match v {
        Value::String(s) => s == want,
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some(want)),
        _ => false,
    };
    statements.iter().any(|s| {
        let conditions: Vec<&Value> = s["Condition"]
            .as_object()
            .map(|ops| ops.values().collect())
            .unwrap_or_default();
        let condition = |key: &str, want: &str| {
            conditions
                .iter()
                .any(|op| matches(&op[format!("{issuer}{key}")], want))
        };
        s["Effect"] == "Allow"
            && matches(&s["Principal"]["Federated"], provider_arn)
            && matches(&s["Action"], "sts:AssumeRoleWithWebIdentity")
            && condition(":aud", AUDIENCE)
            && condition(":sub", &scope.identifier)
    })
}

/// The account the AWS emulator's credentials are in.
pub(crate) async fn caller_account(aws: &AwsClient) -> Result<String, AwsError> {
    let xml = aws.call("sts", "GetCallerIdentity", &[]).await?;
    Ok(xml_values(&xml, "Account")
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// Everything missing for `solution_types`; empty when the service can work.
pub(crate) async fn check(
    aws: &AwsClient,
    scope: &Scope,
    solution_types: &[&str],
) -> Result<Vec<Missing>, AwsError> {
    let mut out = Vec::new();
    let caller = caller_account(aws).await?;
    if caller != scope.account {
        for t in solution_types {
            out.push(Missing {
                solution_type: (*t).to_string(),
                permission: format!("access to AWS account {}", scope.account),
                detail: format!(
                    "the AWS side answers for account {caller}, not the connector's account {}; connect the account the template was deployed in.",
                    scope.account
                ),
            });
        }
        return Ok(out);
    }
    let provider_arn = format!(
        "arn:aws:iam::{}:oidc-provider/sts.windows.net/{}/",
        scope.account, scope.tenant
    );
    let generated = template::generate(&scope.tenant, &scope.identifier, solution_types);
    let empty = serde_json::Map::new();
    let resources = generated["Resources"].as_object().unwrap_or(&empty);
    let mut provider_checked = false;
    for role in resources.values().filter(|r| r["Type"] == "AWS::IAM::Role") {
        let props = &role["Properties"];
        let name = props["RoleName"].as_str().unwrap_or_default();
        let solution_type = solution_of(name).to_string();
        let missing = |permission: String, detail: String| Missing {
            solution_type: solution_type.clone(),
            permission,
            detail,
        };
        let Some(found) = aws.get_role(name).await? else {
            out.push(missing(
                format!("IAM role {name}"),
                format!(
                    "the role {name} does not exist in account {}; deploy the connector's authentication template.",
                    scope.account
                ),
            ));
            continue;
        };
        let federated = props["AssumeRolePolicyDocument"]
            .to_string()
            .contains("AssumeRoleWithWebIdentity");
        if federated {
            if !provider_checked {
                provider_checked = true;
                let audiences = aws.oidc_client_ids(&provider_arn).await?;
                if !audiences.is_some_and(|a| a.iter().any(|x| x == AUDIENCE)) {
                    out.push(missing(
                        format!("OIDC provider {provider_arn} with audience {AUDIENCE}"),
                        "the IAM OpenID Connect provider for the tenant's issuer is missing or does not list the connector's audience.".to_string(),
                    ));
                }
            }
            if !trusts_connector(&found.trust_policy, &provider_arn, scope) {
                out.push(missing(
                    format!("sts:AssumeRoleWithWebIdentity on {name}"),
                    format!(
                        "the trust policy of {name} does not admit tokens of the tenant's issuer for audience {AUDIENCE} and subject {}.",
                        scope.identifier
                    ),
                ));
            }
        }
        let attached = xml_values(
            &aws.call("iam", "ListAttachedRolePolicies", &[("RoleName", name)])
                .await?,
            "PolicyArn",
        );
        for arn in props["ManagedPolicyArns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !attached.iter().any(|a| a == arn) {
                out.push(missing(
                    friendly(arn),
                    format!("the managed policy {arn} is not attached to {name}."),
                ));
            }
        }
        let inline = xml_values(
            &aws.call("iam", "ListRolePolicies", &[("RoleName", name)])
                .await?,
            "member",
        );
        for policy in props["Policies"].as_array().into_iter().flatten() {
            let policy_name = policy["PolicyName"].as_str().unwrap_or_default();
            if !inline.iter().any(|p| p == policy_name) {
                let actions = policy["PolicyDocument"]["Statement"][0]["Action"].to_string();
                out.push(missing(
                    format!("EC2 write ({policy_name}: {actions})"),
                    format!("the inline policy {policy_name} of {name} is missing."),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            tenant: "t".into(),
            identifier: "c".into(),
        }
    }

    #[test]
    fn only_a_trust_for_the_connector_counts() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/sts.windows.net/t/";
        let trust = |sub: &str| {
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"sts.windows.net/t/:aud": AUDIENCE,
                    "sts.windows.net/t/:sub": sub}}}]})
        };
        assert!(trusts_connector(&trust("c"), arn, &scope()));
        assert!(!trusts_connector(&trust("other"), arn, &scope()));
        assert!(!trusts_connector(
            &trust("c"),
            "arn:aws:iam::123456789012:oidc-provider/x/",
            &scope()
        ));
        assert_eq!(
            friendly("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            "Global Read (arn:aws:iam::aws:policy/ReadOnlyAccess)"
        );
    }
}
