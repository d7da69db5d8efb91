//! The template the StackSet deploys to member accounts: the management stack's objects
//! (the same roles, byte for byte the same policies), but with the account-specific parts left
//! to CloudFormation (`${AWS::AccountId}`, `${AWS::Partition}`), since one template serves every
//! account. Each member account declares its own OIDC providers.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use crate::onboarding::trust_template::{Issuer, TrustValues};
use crate::onboarding::{OnboardingError, canonical_json};

use super::schema::TrustConfig;
use super::stack_template::{role_logical_id, stack_template};
use super::state::role_arns;

const ACCOUNT: &str = "${AWS::AccountId}";
const PARTITION: &str = "${AWS::Partition}";

/// The member-account template (canonical JSON).
pub(crate) fn member_template(config: &TrustConfig) -> Result<String, OnboardingError> {
    // A `${` already in a trust policy is IAM's, not CloudFormation's: escaped for Fn::Sub.
    let mut config = config.clone();
    for role in &mut config.roles {
        role.trust_policy = role.trust_policy.replace("${", "${!");
    }
    let providers: BTreeSet<Issuer> = config.required_providers().into_keys().collect();
    let provider_arn = |issuer: Issuer| {
        let url = issuer.url(&config.tenant_id);
        format!(
            "arn:{PARTITION}:iam::{ACCOUNT}:oidc-provider/{}",
            url.trim_start_matches("https://")
        )
    };
    let values = TrustValues {
        oidc_provider_arn: Some(provider_arn(Issuer::Microsoft)),
        customer_oidc_provider_arn: Some(provider_arn(Issuer::CustomerTenant)),
        account_id: ACCOUNT.to_owned(),
        customer_tenant_id: config.tenant_id.clone(),
        role_arns: role_arns(PARTITION, ACCOUNT, &config.roles),
    };
    let single: Json =
        serde_json::from_str(&stack_template(&config, &providers, &values)?).unwrap_or(Json::Null);
    let mut template = single;
    if let Some(resources) = template["Resources"].as_object_mut() {
        for role in &config.roles {
            if let Some(props) = resources
                .get_mut(&role_logical_id(&role.key))
                .and_then(|r| r.get_mut("Properties"))
            {
                let doc = canonical_json(&props["AssumeRolePolicyDocument"]);
                props["AssumeRolePolicyDocument"] = json!({ "Fn::Sub": doc });
            }
        }
    }
    if let Some(t) = template.as_object_mut() {
        // StackSet instances hand no outputs back; each role's ARN follows from its account.
        t.remove("Outputs");
        t.insert(
            "Description".into(),
            Json::from(
                "Microsoft Defender for Cloud: the OIDC trust and IAM roles of its AWS connector, \
                 in each member account of the organization (managed by Terraform).",
            ),
        );
    }
    Ok(canonical_json(&template))
}
