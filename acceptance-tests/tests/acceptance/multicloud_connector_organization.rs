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
use common::connector::{self, API};
use common::organization::{Members, OrgSpec, Organization, ROOT};
use serde_json::Value;

const STACK_SET: &str = "AzureArcMultiCloudStackset";
const STACK: &str = "AzureArcMultiCloud";
const INVENTORY_ROLE: &str = "AzureArcMultiCloudInventory";
const CONNECTOR: &str = "multicloud_connector.org";
const TRUST: &str = "multicloud_aws_oidc_trust.org";

/// An organization in moto: root > prod (2 accounts), root > dev (1), one account at the root.
fn seed(emu: &Emulators) -> Organization {
    let spec = OrgSpec {
        ous: &[("prod", ROOT), ("dev", ROOT)],
        members: Members::Created {
            prefix: "arc-member",
            parents: &["prod", "prod", "dev", ROOT],
        },
        trusted_access: false,
    };
    Organization::seed(emu, &spec)
}

/// The trust policy of `role` in a member account (through the role Organizations creates
/// in every account), parsed; `None` when the role does not exist.
fn member_trust(org: &Organization, account: &str, role: &str) -> Option<Value> {
    let iam = org.member_iam(account);
    org.rt
        .block_on(iam.get_role_opt(role))
        .unwrap()
        .map(|r| serde_json::from_str(&r.trust_policy).unwrap())
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
    let (emu, arm) = connector::start();
    let org = seed(&emu);
    let m = &org.sorted_members();
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
    assert!(org.stack_set_exists(STACK_SET));
    let expected: Vec<String> = m[1..].to_vec();
    assert_eq!(org.instance_accounts_or_none(STACK_SET), expected);
    assert!(
        !org.instance_accounts_or_none(STACK_SET)
            .contains(&org.management)
    );
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
        let trust = member_trust(&org, account, INVENTORY_ROLE)
            .unwrap_or_else(|| panic!("{account} has no {INVENTORY_ROLE}"));
        assert!(
            trusts_connector(&trust, account, emu.tenant_id(), &audience, &identifier),
            "{account}: {trust}"
        );
    }
    assert!(
        member_trust(&org, excluded, INVENTORY_ROLE).is_none(),
        "the excluded account has no roles"
    );

    // The connector's service sees its roles in the management account.
    let (status, result) = arm.call("POST", &format!("{id}/testPermissions"), API, None);
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "Succeeded", "{result}");

    ws.destroy();
    assert!(!org.stack_set_exists(STACK_SET));
    assert!(org.instance_accounts_or_none(STACK_SET).is_empty());
    assert!(emu.moto().cloudformation_stack_names().is_empty());
    assert!(emu.moto().iam_role_names().is_empty());
    assert!(emu.moto().iam_oidc_provider_arns().is_empty());
    assert!(member_trust(&org, &m[1], INVENTORY_ROLE).is_none());
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
