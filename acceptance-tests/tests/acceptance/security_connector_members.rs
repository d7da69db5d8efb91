//! `multicloud_security_connector_members` with the real Terraform CLI: an AWS organization in
//! moto whose members got the plan set's roles from a service-managed StackSet (one member
//! left out of it), the management account onboarded with an organization connector excluding
//! one account, and the member connectors the emulated Defender creates listed with their
//! health: the excluded account has none, the account without roles is not healthy.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use acceptance_tests::{Emulators, skip_unless_acc};
use common::arm_api::ArmApi;
use common::organization::{Members, OrgSpec, Organization, ROOT};
use serde_json::Value;
use terraform_provider_multicloud::aws::cloudformation::{
    OperationPreferences, StackSetSpec, StackSetTargets, StackWait,
};
use terraform_provider_multicloud::onboarding::{PlanSet, TemplateKind, cloudformation_template};

const RESOURCE_GROUP: &str = "rg-security";
const REGION: &str = "us-east-1";
const STACK_SET: &str = "MDCOnboardingStackSet";
const CONNECTOR: &str = "data.multicloud_security_connector_members.org";

const BODY: &str = r#"
variable "tenant_id" {
  type = string
}

variable "management_account_id" {
  type = string
}

variable "excluded_account_id" {
  type = string
}

resource "multicloud_defender_plan_set" "std" {}

# The management account's own roles; the member accounts get theirs from the StackSet.
resource "multicloud_aws_oidc_trust" "management" {
  tenant_id = var.tenant_id
  roles     = multicloud_defender_plan_set.std.aws_roles
}

resource "multicloud_security_connector" "org" {
  name                = "aws-org"
  resource_group_name = "rg-security"
  location            = "westeurope"
  aws_account_id      = var.management_account_id
  offerings           = multicloud_defender_plan_set.std.offerings
  role_arns           = multicloud_aws_oidc_trust.management.role_arns

  organization {
    excluded_account_ids = [var.excluded_account_id]
    stackset_name        = "MDCOnboardingStackSet"
  }
}

data "multicloud_security_connector_members" "org" {
  organization_connector_id = multicloud_security_connector.org.id
  wait_for_count            = 3
  wait_timeout              = "2m"
}
"#;

/// An organization with four members in one OU; the StackSet deploys the plan set's roles to
/// the first two. Returns the member ids in creation order.
fn organization(emulators: &Emulators) -> Vec<String> {
    let spec = OrgSpec {
        ous: &[("workloads", ROOT)],
        members: Members::Seeded {
            count: 4,
            parents: &["workloads"],
        },
        trusted_access: true,
    };
    let org = Organization::seed(emulators, &spec);
    let members = org.members.clone();
    let wait = StackWait::new(Duration::from_secs(120))
        .with_delays(Duration::from_millis(20), Duration::from_millis(200));
    let cfn = org.cfn.clone().with_wait(wait);
    org.rt.block_on(async {
        let template = cloudformation_template(
            &PlanSet::foundational(),
            TemplateKind::StackSet,
            Some(emulators.tenant_id()),
        );
        let spec = StackSetSpec::new(STACK_SET, template);
        cfn.create_stack_set(&spec).await.unwrap();
        let targets = StackSetTargets {
            organizational_unit_ids: vec![org.ou("workloads").to_owned()],
            excluded_accounts: members[2..].to_vec(),
            regions: vec![REGION.into()],
        };
        let op = cfn
            .create_stack_instances(
                STACK_SET,
                &targets,
                &OperationPreferences::default(),
                spec.call_as,
            )
            .await
            .unwrap();
        cfn.wait_for_stack_set_operation(STACK_SET, &op, spec.call_as)
            .await
            .unwrap();
    });
    members
}

fn member_of<'a>(data: &'a Value, account: &str) -> Option<&'a Value> {
    data["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["aws_account_id"] == account)
}

#[test]
fn acc_security_connector_members_data_source() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let arm = ArmApi::new(&emulators);
    arm.resource_group(RESOURCE_GROUP, "westeurope");
    let members = organization(&emulators);
    let (deployed, without_roles, excluded) = (&members[..2], &members[2], &members[3]);

    let ws = common::trust::workspace(&emulators, &common::config(BODY));
    ws.set_env(
        "TF_VAR_management_account_id",
        &emulators.moto().account_id(),
    );
    ws.set_env("TF_VAR_excluded_account_id", excluded);
    ws.apply();
    let data = ws.resource_values(CONNECTOR).expect("data source in state");
    assert_eq!(
        data["aws_account_id"],
        emulators.moto().account_id(),
        "{data}"
    );
    let mut expected: Vec<&str> = vec![&deployed[0], &deployed[1], without_roles];
    expected.sort();
    assert_eq!(
        data["member_account_ids"],
        serde_json::json!(expected),
        "{data}"
    );
    assert!(member_of(&data, excluded).is_none(), "{data}");
    for account in deployed {
        let m = member_of(&data, account).unwrap();
        assert_eq!(m["status"], "Healthy", "{m}");
        assert_eq!(m["healthy"], true, "{m}");
        assert!(m["problems"].is_null(), "{m}");
        assert!(
            m["name"].as_str().unwrap().contains(account.as_str()),
            "{m}"
        );
        assert!(
            m["aws_account_name"]
                .as_str()
                .unwrap()
                .starts_with("member-"),
            "{m}"
        );
        // The member connector itself, as ARM serves it.
        let stored = arm.connector(m["id"].as_str().unwrap()).unwrap();
        assert_eq!(
            stored["properties"]["environmentData"]["organizationalData"],
            serde_json::json!({"organizationMembershipType": "Member",
                "parentHierarchyId": emulators.moto().account_id()}),
            "{stored}"
        );
    }
    let m = member_of(&data, without_roles).unwrap();
    assert_eq!(m["status"], "NotHealthy", "{m}");
    assert!(m["problems"].as_str().unwrap().contains("Role"), "{m}");
    assert_eq!(data["healthy_count"], 2, "{data}");
    ws.plan_expect_empty();

    // Waiting for more members than the organization has fails with the count it saw.
    ws.write_config(&common::config(
        &BODY
            .replace(
                "wait_for_count            = 3",
                "wait_for_count            = 4",
            )
            .replace("\"2m\"", "\"1s\""),
    ));
    ws.apply_expect_error("Member connectors missing.*aws-org has 3 member connectors");

    // Deleting the organization connector takes its members with it.
    ws.write_config(&common::config(BODY));
    ws.destroy();
    let left: Vec<Value> = emulators
        .arm_resources()
        .into_iter()
        .filter(|r| r["type"] == "Microsoft.Security/securityConnectors")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
