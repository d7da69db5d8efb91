//! `multicloud_connector` for an AWS organization with the real Terraform CLI, as the
//! organization example documents it: the connector for the management account (one member
//! excluded) and `multicloud_aws_oidc_trust` deploying the connector's template roles as a
//! CloudFormation stack in the management account and as the StackSet
//! `AzureArcMultiCloudStackset` in every other member account; a second plan is empty, and
//! destroy leaves nothing in either cloud.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use common::arm_api::ArmApi;
use serde_json::Value;
use terraform_provider_multicloud::aws::cloudformation::{CallAs, CloudFormationClient};
use terraform_provider_multicloud::aws::{AssumeRole, AwsClients, AwsConfig, AwsEndpoints};
use terraform_provider_multicloud::secret::Secret;

const STACK_SET: &str = "AzureArcMultiCloudStackset";
const STACK: &str = "AzureArcMultiCloud";
const INVENTORY_ROLE: &str = "AzureArcMultiCloudInventory";
const CONNECTOR: &str = "multicloud_connector.org";
const TRUST: &str = "multicloud_aws_oidc_trust.org";
const API: &str = "2024-12-01";

fn aws_config(emu: &Emulators) -> AwsConfig {
    let url = emu.moto_url().to_owned();
    AwsConfig {
        region: Some("us-east-1".into()),
        access_key: Some(emu.aws_access_key_id().into()),
        secret_key: Some(Secret::new(emu.aws_secret_access_key())),
        endpoints: AwsEndpoints {
            iam: Some(url.clone()),
            sts: Some(url.clone()),
            cloudformation: Some(url.clone()),
            organizations: Some(url),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// An organization in moto: root > prod (2 accounts), root > dev (1), one account at the root.
struct Org {
    rt: tokio::runtime::Runtime,
    cfn: CloudFormationClient,
    config: AwsConfig,
    management: String,
    /// Member accounts, sorted.
    members: Vec<String>,
}

impl Org {
    fn seed(emu: &Emulators) -> Org {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = aws_config(emu);
        let (cfn, management, members) = rt.block_on(async {
            let aws = AwsClients::new(&config).await.unwrap();
            let orgs = aws.organizations();
            orgs.sdk().create_organization().send().await.unwrap();
            let root = orgs.root().await.unwrap().id;
            let mut parents = Vec::new();
            for name in ["prod", "dev"] {
                let out = orgs
                    .sdk()
                    .create_organizational_unit()
                    .parent_id(&root)
                    .name(name)
                    .send()
                    .await
                    .unwrap();
                parents.push(out.organizational_unit.unwrap().id.unwrap());
            }
            let placement = [&parents[0], &parents[0], &parents[1], &root];
            let mut members = Vec::new();
            for (n, parent) in placement.into_iter().enumerate() {
                let out = orgs
                    .sdk()
                    .create_account()
                    .account_name(format!("arc-member-{n}"))
                    .email(format!("arc-member-{n}@example.test"))
                    .send()
                    .await
                    .unwrap();
                let id = out.create_account_status.unwrap().account_id.unwrap();
                if *parent != root {
                    orgs.sdk()
                        .move_account()
                        .account_id(&id)
                        .source_parent_id(&root)
                        .destination_parent_id(parent)
                        .send()
                        .await
                        .unwrap();
                }
                members.push(id);
            }
            members.sort();
            let management = orgs
                .describe_organization()
                .await
                .unwrap()
                .management_account_id;
            (aws.stacksets(), management, members)
        });
        Org {
            rt,
            cfn,
            config,
            management,
            members,
        }
    }

    fn stack_set_exists(&self) -> bool {
        self.rt
            .block_on(
                self.cfn
                    .describe_stack_set(STACK_SET, CallAs::ManagementAccount),
            )
            .unwrap()
            .is_some()
    }

    /// Accounts with a stack instance, sorted; empty once the StackSet is gone.
    fn instance_accounts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rt
            .block_on(
                self.cfn
                    .list_stack_instances(STACK_SET, CallAs::ManagementAccount),
            )
            .map(|l| l.into_iter().map(|i| i.account).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The trust policy of `role` in a member account (through the role Organizations creates
    /// in every account), parsed; `None` when the role does not exist.
    fn member_trust(&self, account: &str, role: &str) -> Option<Value> {
        let mut config = self.config.clone();
        config.assume_role = Some(AssumeRole {
            role_arn: format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"),
            ..Default::default()
        });
        self.rt.block_on(async {
            let iam = AwsClients::new(&config).await.unwrap().iam();
            iam.get_role_opt(role)
                .await
                .unwrap()
                .map(|r| serde_json::from_str(&r.trust_policy).unwrap())
        })
    }
}

/// Whether `trust` admits web identity tokens of the tenant's issuer through the provider in
/// `account`, for the connector's audience and the connector as subject.
fn trusts_connector(trust: &Value, account: &str, tenant: &str, audience: &str, sub: &str) -> bool {
    let issuer = format!("sts.windows.net/{tenant}/");
    let provider = format!("arn:aws:iam::{account}:oidc-provider/{issuer}");
    let statements = trust["Statement"].as_array().cloned().unwrap_or_default();
    statements.iter().any(|s| {
        let condition = &s["Condition"]["StringEquals"];
        s["Effect"] == "Allow"
            && s["Principal"]["Federated"] == provider.as_str()
            && s["Action"] == "sts:AssumeRoleWithWebIdentity"
            && condition[format!("{issuer}:aud")] == audience
            && condition[format!("{issuer}:sub")] == sub
    })
}

fn hcl() -> String {
    common::config(&common::example(
        "resources/multicloud_connector/organization.tf",
    ))
}

#[test]
fn acc_multicloud_connector_organization_stackset() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let arm = ArmApi::new(&emu);
    arm.resource_group("rg-arc", "eastus");
    let org = Org::seed(&emu);
    let m = &org.members;
    let excluded = &m[0];
    let ws = TerraformWorkspace::new(&emu, &hcl(), Install::DevOverrides);
    ws.set_env("TF_VAR_tenant_id", emu.tenant_id());
    ws.set_env("TF_VAR_management_account_id", &org.management);
    ws.set_env("TF_VAR_excluded_account_ids", &format!("[\"{excluded}\"]"));
    ws.apply();
    ws.plan_expect_empty();

    // Azure: an organization connector without the excluded account; the StackSet name it
    // prescribes went to the trust.
    let connector = ws.resource_values(CONNECTOR).expect("connector in state");
    let id = connector["id"].as_str().unwrap().to_owned();
    let identifier = connector["connector_primary_identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(connector["stack_set_name"], STACK_SET);
    let (status, body) = arm.call("GET", &id, API, None);
    assert_eq!(status, 200, "{body}");
    let profile = &body["properties"]["awsCloudProfile"];
    assert_eq!(profile["accountId"], org.management.as_str());
    assert_eq!(profile["isOrganizationalAccount"], true);
    assert_eq!(profile["excludedAccounts"], serde_json::json!([excluded]));
    let trust = ws.resource_values(TRUST).expect("trust in state");
    assert_eq!(trust["organization"]["stack_set_name"], STACK_SET);

    // AWS: the StackSet reaches every member but the excluded one, never the management
    // account, which has the stack.
    assert!(org.stack_set_exists());
    let expected: Vec<String> = m[1..].to_vec();
    assert_eq!(org.instance_accounts(), expected);
    assert!(!org.instance_accounts().contains(&org.management));
    assert_eq!(emu.moto().cloudformation_stack_names(), [STACK]);
    let management_roles = emu.moto().iam_role_names();
    assert!(
        management_roles.iter().any(|r| r == INVENTORY_ROLE),
        "{management_roles:?}"
    );

    // Each connected member's inventory role trusts the tenant's issuer through its own OIDC
    // provider, for the connector's audience and identifier, as the template asks.
    let template: Value =
        serde_json::from_str(connector["authentication_template"].as_str().unwrap()).unwrap();
    let audience =
        template["Resources"]["AzureArcMultiCloudOidcProvider"]["Properties"]["ClientIdList"][0]
            .as_str()
            .unwrap()
            .to_owned();
    for account in &expected {
        let trust = org
            .member_trust(account, INVENTORY_ROLE)
            .unwrap_or_else(|| panic!("{account} has no {INVENTORY_ROLE}"));
        assert!(
            trusts_connector(&trust, account, emu.tenant_id(), &audience, &identifier),
            "{account}: {trust}"
        );
    }
    assert!(
        org.member_trust(excluded, INVENTORY_ROLE).is_none(),
        "the excluded account has no roles"
    );

    // The connector's service sees its roles in the management account.
    let (status, result) = arm.call("POST", &format!("{id}/testPermissions"), API, None);
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "Succeeded", "{result}");

    ws.destroy();
    assert!(!org.stack_set_exists());
    assert!(org.instance_accounts().is_empty());
    assert!(emu.moto().cloudformation_stack_names().is_empty());
    assert!(emu.moto().iam_role_names().is_empty());
    assert!(emu.moto().iam_oidc_provider_arns().is_empty());
    assert!(org.member_trust(&m[1], INVENTORY_ROLE).is_none());
    let left: Vec<String> = emu
        .arm_resources()
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .filter(|id| {
            let id = id.to_ascii_lowercase();
            id.contains("microsoft.hybridconnectivity") || id.contains("/resourcegroups/aws_")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
