//! The CloudFormation template `generateAwsTemplate` answers: the IAM OpenID Connect provider
//! for the issuer the connector's service signs with, and the roles the chosen solutions use
//! (read-only access for the inventory, EC2 write and SSM for Arc onboarding). Logical ids,
//! role names and the audience are the emulator's; the real service's are not published.

use serde_json::{Value, json};

use super::settings::{ARC_ONBOARDING, INVENTORY};

/// Audience the connector's tokens carry (the emulator's stand-in for the service's app).
pub(crate) const AUDIENCE: &str = "api://4b2b7d8e-6b4a-4a3f-9d51-1f3a8a1c0e52";
/// Thumbprint the template lists for the Entra ID issuer (the one seen in published templates).
const THUMBPRINT: &str = "626d44e704d1ceabe3bf0d53397464ac8080142c";
/// Role the inventory solution assumes.
pub(crate) const INVENTORY_ROLE: &str = "AzureArcMultiCloudInventory";
/// Role the Arc onboarding solution assumes.
pub(crate) const ONBOARDING_ROLE: &str = "AzureArcMultiCloudArcOnboarding";
/// Role attached to EC2 instances so SSM can install the Connected Machine agent.
pub(crate) const SSM_ROLE: &str = "AzureArcForServerSSM";

fn federated_trust(issuer_host: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": {"Ref": "AzureArcMultiCloudOidcProvider"}},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{issuer_host}:aud"): AUDIENCE,
                format!("{issuer_host}:sub"): {"Ref": "ConnectorPrimaryIdentifier"},
            }}
        }]
    })
}

fn role(name: &str, trust: Value, managed: &[&str], inline: Option<Value>) -> Value {
    let mut props = json!({
        "RoleName": name,
        "AssumeRolePolicyDocument": trust,
        "ManagedPolicyArns": managed,
    });
    if let Some(doc) = inline {
        props["Policies"] = json!([{"PolicyName": format!("{name}Policy"), "PolicyDocument": doc}]);
    }
    json!({"Type": "AWS::IAM::Role", "Properties": props})
}

/// The template for a connector (`connector_primary_identifier`) in `tenant` and the solution
/// types requested.
pub(crate) fn generate(
    tenant: &str,
    connector_primary_identifier: &str,
    solutions: &[&str],
) -> Value {
    let issuer_host = format!("sts.windows.net/{tenant}/");
    let mut resources = serde_json::Map::new();
    resources.insert(
        "AzureArcMultiCloudOidcProvider".into(),
        json!({"Type": "AWS::IAM::OIDCProvider", "Properties": {
            "Url": format!("https://{issuer_host}"),
            "ClientIdList": [AUDIENCE],
            "ThumbprintList": [THUMBPRINT],
        }}),
    );
    if solutions.contains(&INVENTORY) {
        resources.insert(
            "InventoryRole".into(),
            role(
                INVENTORY_ROLE,
                federated_trust(&issuer_host),
                &["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                None,
            ),
        );
    }
    if solutions.contains(&ARC_ONBOARDING) {
        let ec2_write = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations",
                       "ec2:AssociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation",
                       "iam:PassRole", "ssm:SendCommand", "ssm:GetCommandInvocation",
                       "ssm:DescribeInstanceInformation"],
            "Resource": "*"
        }]});
        resources.insert(
            "ArcOnboardingRole".into(),
            role(
                ONBOARDING_ROLE,
                federated_trust(&issuer_host),
                &[],
                Some(ec2_write),
            ),
        );
        let ec2_trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"
        }]});
        resources.insert(
            "ArcForServerSSMRole".into(),
            role(
                SSM_ROLE,
                ec2_trust,
                &["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
                None,
            ),
        );
        resources.insert(
            "ArcForServerSSMInstanceProfile".into(),
            json!({"Type": "AWS::IAM::InstanceProfile", "Properties": {
                "InstanceProfileName": "AzureArcForServerSSMInstanceProfile",
                "Roles": [{"Ref": "ArcForServerSSMRole"}],
            }}),
        );
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Connects this AWS account to Azure through the multicloud connector enabled by Azure Arc.",
        "Parameters": {"ConnectorPrimaryIdentifier": {
            "Type": "String",
            "Default": connector_primary_identifier,
            "Description": "The connector's primary identifier in Azure.",
        }},
        "Resources": resources,
    })
}
