//! The CloudFormation authentication template a portal user would download: the OIDC provider
//! for Microsoft's tenant (and, with permissions management, one for the customer's tenant) and
//! every role the plan set needs with its trust and permissions. Two variants: a stack for one
//! account, and the StackSet that an organization's management account rolls out to members.

use serde_json::{Map, Value as Json, json};

use super::canonical_json;
use super::plans::PlanSet;
use super::roles::{
    AUDIENCE_CIEM, RoleKey, Trust, microsoft_audiences, needs_customer_tenant_provider,
    required_roles, role_name,
};
use super::trust::{SESSION_NAME_PREFIX, TrustRefs, document};
use super::{MICROSOFT_TENANT_ID, STS_WINDOWS_THUMBPRINT, issuer_url};

/// Which template to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// A stack in one account (also the management account of an organization).
    SingleAccount,
    /// The StackSet for member accounts: the same objects in each, no outputs (StackSet
    /// instances do not hand outputs back; each role's ARN follows from account and name).
    StackSet,
}

/// Name of the template parameter holding the customer's Entra ID tenant id.
pub const TENANT_PARAMETER: &str = "CustomerTenantId";
const MICROSOFT_PROVIDER: &str = "MicrosoftOidcProvider";
const CUSTOMER_PROVIDER: &str = "CustomerTenantOidcProvider";

/// Renders the template as canonical JSON. The customer tenant is the `CustomerTenantId`
/// parameter; `tenant_id`, when given, becomes its default so the template deploys as is.
pub fn cloudformation_template(
    plans: &PlanSet,
    kind: TemplateKind,
    tenant_id: Option<&str>,
) -> String {
    let roles = required_roles(plans);
    let mut parameter = json!({
        "Type": "String",
        "Description": "The Entra ID tenant (directory) id of the Azure tenant Defender for Cloud works for.",
        "AllowedPattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    });
    if let Some(t) = tenant_id {
        parameter["Default"] = Json::from(t);
    }
    let mut resources = Map::new();
    resources.insert(
        MICROSOFT_PROVIDER.into(),
        json!({
            "Type": "AWS::IAM::OIDCProvider",
            "Properties": {
                "Url": issuer_url(MICROSOFT_TENANT_ID),
                "ClientIdList": microsoft_audiences(&roles),
                "ThumbprintList": [STS_WINDOWS_THUMBPRINT],
            },
        }),
    );
    if needs_customer_tenant_provider(&roles) {
        resources.insert(
            CUSTOMER_PROVIDER.into(),
            json!({
                "Type": "AWS::IAM::OIDCProvider",
                "Properties": {
                    "Url": {"Fn::Sub": format!("https://sts.windows.net/${{{TENANT_PARAMETER}}}/")},
                    "ClientIdList": [AUDIENCE_CIEM],
                    "ThumbprintList": [STS_WINDOWS_THUMBPRINT],
                },
            }),
        );
    }
    let names = {
        let plans = plans.clone();
        move |k: RoleKey| role_name(&plans, k)
    };
    let mut outputs = Map::new();
    outputs.insert(
        "MicrosoftOidcProviderArn".into(),
        json!({"Value": {"Ref": MICROSOFT_PROVIDER}}),
    );
    for role in &roles {
        let logical = role.key.logical_id();
        let mut props = json!({
            "RoleName": role.name,
            "AssumeRolePolicyDocument": trust_document(role, names.clone()),
        });
        if !role.managed_policy_arns.is_empty() {
            props["ManagedPolicyArns"] = json!(role.managed_policy_arns);
        }
        if let (Some(name), Some(policy)) = (&role.inline_policy_name, &role.inline_policy) {
            let policy: Json =
                serde_json::from_str(policy).expect("inline policies are our own canonical JSON");
            props["Policies"] = json!([{"PolicyName": name, "PolicyDocument": policy}]);
        }
        let mut resource = json!({"Type": "AWS::IAM::Role", "Properties": props});
        // IAM checks that a principal exists when a trust policy names it.
        let depends: Vec<String> = match role.trust {
            Trust::AssumedByRole { role: from } => vec![from.logical_id()],
            Trust::CustomerTenantOidc { .. } => vec![CUSTOMER_PROVIDER.to_owned()],
            _ => Vec::new(),
        };
        if !depends.is_empty() {
            resource["DependsOn"] = json!(depends);
        }
        resources.insert(logical.clone(), resource);
        outputs.insert(
            format!("{logical}Arn"),
            json!({"Value": {"Fn::GetAtt": [logical, "Arn"]}}),
        );
    }
    let description = match kind {
        TemplateKind::SingleAccount => {
            "Microsoft Defender for Cloud: OIDC trust and IAM roles for the plans of this AWS account."
        }
        TemplateKind::StackSet => {
            "Microsoft Defender for Cloud: OIDC trust and IAM roles for the plans, in each member account of the organization."
        }
    };
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {TENANT_PARAMETER: parameter},
        "Resources": resources,
    });
    if kind == TemplateKind::SingleAccount {
        template["Outputs"] = Json::Object(outputs);
    }
    canonical_json(&template)
}

fn trust_document(
    role: &super::roles::AwsRole,
    names: impl Fn(RoleKey) -> String + Clone + 'static,
) -> Json {
    let microsoft_issuer = format!("sts.windows.net/{MICROSOFT_TENANT_ID}/");
    if matches!(role.trust, Trust::CustomerTenantOidc { .. }) {
        // Condition keys name the issuer, and so the tenant, but a JSON key cannot be an
        // intrinsic function: this one document is substituted as a whole string instead.
        let issuer = format!("sts.windows.net/${{{TENANT_PARAMETER}}}/");
        let refs = TrustRefs {
            microsoft_provider_arn: Json::Null,
            microsoft_issuer,
            customer_provider_arn: Json::from(format!(
                "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{issuer}"
            )),
            customer_issuer: issuer,
            session_name: Json::Null,
            account_id: Json::Null,
            role_arn: Box::new(|_| Json::Null),
            role_name: Box::new(names),
        };
        return json!({"Fn::Sub": canonical_json(&document(role, &refs))});
    }
    let refs = TrustRefs {
        microsoft_provider_arn: json!({"Ref": MICROSOFT_PROVIDER}),
        microsoft_issuer,
        customer_provider_arn: json!({"Ref": CUSTOMER_PROVIDER}),
        customer_issuer: String::new(),
        session_name: json!({"Fn::Sub": format!("{SESSION_NAME_PREFIX}${{{TENANT_PARAMETER}}}")}),
        account_id: json!({"Ref": "AWS::AccountId"}),
        role_arn: Box::new(
            |name| json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}")}),
        ),
        role_name: Box::new(names),
    };
    document(role, &refs)
}
