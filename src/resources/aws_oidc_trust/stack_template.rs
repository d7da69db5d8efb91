//! The stack a `cloudformation` trust deploys: the same objects the IAM deployment creates,
//! with every placeholder already filled (the account, the tenant and the providers' ARNs are
//! known before the stack is created), so the stack's roles are byte for byte what the IAM
//! deployment would create. Providers that already exist outside the stack are referred to,
//! not declared: AWS allows one per URL.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json, json};

use crate::onboarding::trust_template::{Issuer, TrustValues, render_trust_policy};
use crate::onboarding::{OnboardingError, STS_WINDOWS_THUMBPRINT, canonical_json};

use super::model::RoleSpec;
use super::schema::TrustConfig;

/// Logical id of a provider declared in the stack.
pub(crate) fn provider_logical_id(issuer: Issuer) -> &'static str {
    match issuer {
        Issuer::Microsoft => "MicrosoftOidcProvider",
        Issuer::CustomerTenant => "CustomerTenantOidcProvider",
    }
}

/// Logical id of a role: the plan set's (`CspmMonitorRole`, ...) for its keys, and the same
/// CamelCase rule for any other key.
pub(crate) fn role_logical_id(key: &str) -> String {
    crate::onboarding::roles::logical_id(key)
}

fn tags(config: &TrustConfig) -> Json {
    Json::Array(
        config
            .tags()
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// The template (canonical JSON). `in_stack` are the providers the stack declares; the others
/// exist already and `values` holds their ARNs.
pub(crate) fn stack_template(
    config: &TrustConfig,
    in_stack: &BTreeSet<Issuer>,
    values: &TrustValues,
) -> Result<String, OnboardingError> {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    for (issuer, audiences) in config.required_providers() {
        if !in_stack.contains(&issuer) {
            continue;
        }
        let mut props = json!({
            "Url": issuer.url(&config.tenant_id),
            "ClientIdList": audiences,
            "ThumbprintList": [STS_WINDOWS_THUMBPRINT],
        });
        if !config.tags().is_empty() {
            props["Tags"] = tags(config);
        }
        let logical = provider_logical_id(issuer);
        resources.insert(
            logical.into(),
            json!({"Type": "AWS::IAM::OIDCProvider", "Properties": props}),
        );
        outputs.insert(format!("{logical}Arn"), json!({"Value": {"Ref": logical}}));
    }
    for role in &config.roles {
        let logical = role_logical_id(&role.key);
        let trust: Json = serde_json::from_str(&render_trust_policy(&role.trust_policy, values)?)
            .unwrap_or(Json::Null);
        let mut props = json!({
            "RoleName": role.name,
            "Description": format!("Microsoft Defender for Cloud: {}", role.key),
            "AssumeRolePolicyDocument": trust,
        });
        if !role.managed_policy_arns.is_empty() {
            props["ManagedPolicyArns"] = json!(role.managed_policy_arns);
        }
        if let (Some(name), Some(doc)) = (&role.inline_policy_name, &role.inline_policy) {
            let doc: Json = serde_json::from_str(doc).unwrap_or(Json::Null);
            props["Policies"] = json!([{"PolicyName": name, "PolicyDocument": doc}]);
        }
        if !config.tags().is_empty() {
            props["Tags"] = tags(config);
        }
        let mut resource = json!({"Type": "AWS::IAM::Role", "Properties": props});
        let depends = depends_on(role, config, in_stack);
        if !depends.is_empty() {
            resource["DependsOn"] = json!(depends);
        }
        outputs.insert(
            format!("{logical}Arn"),
            json!({"Value": {"Fn::GetAtt": [logical, "Arn"]}}),
        );
        resources.insert(logical, resource);
    }
    Ok(canonical_json(&json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Microsoft Defender for Cloud: the OIDC trust and IAM roles of its AWS connector (managed by Terraform).",
        "Resources": resources,
        "Outputs": outputs,
    })))
}

/// IAM checks that a trust policy's principals exist, so a role waits for the provider it
/// federates through and for the roles its trust names.
fn depends_on(role: &RoleSpec, config: &TrustConfig, in_stack: &BTreeSet<Issuer>) -> Vec<String> {
    let mut out: Vec<String> = role
        .issuer()
        .filter(|i| in_stack.contains(i))
        .map(|i| provider_logical_id(i).to_owned())
        .into_iter()
        .collect();
    out.extend(
        crate::onboarding::trust_template::referenced_roles(&role.trust_policy)
            .into_iter()
            .filter(|k| config.roles.iter().any(|r| &r.key == k))
            .map(|k| role_logical_id(&k)),
    );
    out
}
