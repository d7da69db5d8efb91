//! Issue 6's done-when scenario with the real Terraform CLI: an AWS Organizations management
//! account onboarded in one configuration (plan set, OIDC trust with a service-managed StackSet,
//! organization connector, member connectors waited for) against moto with the project's
//! extension and the ARM emulator.
//!
//! The organization: root > prod > prod-eu, root > dev > dev-team (the targets are prod and
//! dev, nested OUs included) and an empty sandbox OU outside them; twenty member accounts over
//! the four target OUs, two excluded. Then an account created and moved into a target OU gets
//! the roles from auto-deployment with no Terraform run, the exclusions change, and destroy
//! leaves nothing behind.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;

use acceptance_tests::{Emulators, TerraformWorkspace, skip_unless_acc};
use common::arm_api::ArmApi;
use common::moto_alone::xml_values;
use common::organization::{Members, OrgSpec, Organization, ROOT};
use common::trust::{MICROSOFT_ISSUER, TRUST};
use serde_json::{Value, json};

const STACK_SET: &str = "MDCOnboardingStackSet";
const STACK: &str = "defender-trust";
const CONNECTOR: &str = "multicloud_security_connector.org";
const MEMBERS: &str = "data.multicloud_security_connector_members.org";
const MEMBER_COUNT: usize = 20;

const BODY: &str = r#"
variable "tenant_id" {
  type = string
}

variable "management_account_id" {
  type = string
}

variable "target_ou_ids" {
  type = list(string)
}

variable "excluded_account_ids" {
  type = list(string)
}

resource "multicloud_defender_plan_set" "std" {
  defender_cspm {}
}

resource "multicloud_aws_oidc_trust" "prod" {
  tenant_id  = var.tenant_id
  roles      = multicloud_defender_plan_set.std.aws_roles
  deployment = "cloudformation"
  stack_name = "defender-trust"

  organization {
    target_ou_ids        = var.target_ou_ids
    excluded_account_ids = var.excluded_account_ids
  }
}

resource "multicloud_security_connector" "org" {
  name                = "aws-org"
  resource_group_name = "rg-security"
  location            = "westeurope"
  aws_account_id      = var.management_account_id
  offerings           = multicloud_defender_plan_set.std.offerings
  role_arns           = multicloud_aws_oidc_trust.prod.role_arns

  organization {
    excluded_account_ids = var.excluded_account_ids
    stackset_name        = "MDCOnboardingStackSet"
  }
}

data "multicloud_security_connector_members" "org" {
  organization_connector_id = multicloud_security_connector.org.id
  wait_for_count            = 18
  wait_timeout              = "2m"
}
"#;

/// The organization in moto: root > prod > prod-eu, root > dev > dev-team, root > sandbox;
/// member account `i` is in `[prod, prod-eu, dev, dev-team][i % 4]`.
fn seed(emu: &Emulators) -> Organization {
    let spec = OrgSpec {
        ous: &[
            ("prod", ROOT),
            ("prod-eu", "prod"),
            ("dev", ROOT),
            ("dev-team", "dev"),
            ("sandbox", ROOT),
        ],
        members: Members::Seeded {
            count: MEMBER_COUNT,
            parents: &["prod", "prod-eu", "dev", "dev-team"],
        },
        trusted_access: true,
    };
    Organization::seed(emu, &spec)
}

fn set(items: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

/// Accounts with a stack instance of the StackSet, asked of moto directly.
fn instance_accounts(emu: &Emulators) -> BTreeSet<String> {
    let xml = emu.moto().query(
        "cloudformation",
        "ListStackInstances",
        &[("StackSetName", STACK_SET)],
    );
    set(xml_values(&xml, "Account"))
}

/// The federated roles of the trust (name per role), from state.
fn federated_roles(ws: &TerraformWorkspace) -> Vec<String> {
    let trust = ws.resource_values(TRUST).expect("trust in state");
    let roles: Vec<String> = trust["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|r| {
            r["trust"]
                .as_str()
                .unwrap_or_default()
                .starts_with("web_identity")
        })
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!roles.is_empty(), "no federated role in {trust}");
    roles
}

/// Every federated role is in `account` and trusts that account's provider for Microsoft's
/// issuer, for sessions of the customer's tenant only.
fn assert_member_has_roles(emu: &Emulators, account: &str, roles: &[String]) {
    let found = emu.moto().iam_roles_in(account);
    let provider = format!("arn:aws:iam::{account}:oidc-provider/{MICROSOFT_ISSUER}");
    for role in roles {
        let (_, trust) = found
            .iter()
            .find(|(name, _)| name == role)
            .unwrap_or_else(|| panic!("{account} lacks role {role}: {found:?}"));
        assert!(
            trust.contains(&provider),
            "{account}/{role} trusts another provider: {trust}"
        );
        assert!(trust.contains(emu.tenant_id()), "{account}/{role}: {trust}");
    }
}

fn assert_member_has_no_roles(emu: &Emulators, account: &str, roles: &[String]) {
    let names = emu.moto().iam_role_names_in(account);
    assert!(
        roles.iter().all(|r| !names.contains(r)),
        "{account} has roles {names:?}"
    );
}

/// Member connectors' accounts and how many are healthy, from the data source in state.
fn member_connectors(ws: &TerraformWorkspace) -> (BTreeSet<String>, i64) {
    let data = ws.resource_values(MEMBERS).expect("members in state");
    let accounts = set(data["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["aws_account_id"].as_str().unwrap().to_owned()));
    (
        accounts,
        data["healthy_count"].as_i64().expect("healthy_count"),
    )
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn string_set(v: &Value) -> BTreeSet<String> {
    set(v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned()))
}

/// Sorted, as import reads them back.
fn exclude(ws: &TerraformWorkspace, accounts: &[&String]) {
    ws.set_env(
        "TF_VAR_excluded_account_ids",
        &serde_json::to_string(&set(accounts.iter().map(|a| a.as_str()))).unwrap(),
    );
}

#[test]
fn acc_organization_onboarding_end_to_end() {
    skip_unless_acc!();
    let started = std::time::Instant::now();
    let emu = Emulators::start();
    ArmApi::new(&emu).resource_group("rg-security", "westeurope");
    let org = seed(&emu);
    let m = &org.members;
    let moto = emu.moto();
    let management = moto.account_id();
    let (x1, x2) = (&m[3], &m[9]);

    let ws = common::trust::workspace(&emu, &common::config(BODY));
    ws.set_env("TF_VAR_management_account_id", &management);
    ws.set_env(
        "TF_VAR_target_ou_ids",
        &serde_json::to_string(&set([org.ou("prod"), org.ou("dev")])).unwrap(),
    );
    exclude(&ws, &[x1, x2]);
    ws.apply();
    ws.plan_expect_empty();

    // Every member but the two excluded has the roles; the management account has its stack.
    let roles = federated_roles(&ws);
    let deployed: BTreeSet<String> = set(m.iter().filter(|a| *a != x1 && *a != x2).cloned());
    assert_eq!(deployed.len(), 18);
    assert_eq!(instance_accounts(&emu), deployed);
    for account in &deployed {
        assert_member_has_roles(&emu, account, &roles);
    }
    for account in [x1, x2] {
        assert_member_has_no_roles(&emu, account, &roles);
    }
    assert_eq!(moto.cloudformation_stack_names(), [STACK]);
    let trust = ws.resource_values(TRUST).expect("trust in state");
    assert_eq!(
        string_set(&trust["organization"]["member_account_ids"]),
        deployed
    );
    // Defender created a member connector per non-excluded account, each healthy.
    let (connectors, healthy) = member_connectors(&ws);
    assert_eq!(connectors, deployed);
    assert_eq!(healthy, 18);

    // An account created (at the root, outside the targets) and then moved into a nested
    // target OU gets the roles from auto-deployment, with no Terraform run. Terraform's next
    // plan is empty: with the configuration unchanged, `member_account_ids` is planned as
    // refreshed (the accounts with an instance, the joiner among them), without reading the
    // organization.
    let joiner = org.create_account("joiner");
    assert!(!instance_accounts(&emu).contains(&joiner));
    assert_member_has_no_roles(&emu, &joiner, &roles);
    org.move_account(&joiner, &org.root, org.ou("prod-eu"));
    assert!(instance_accounts(&emu).contains(&joiner));
    assert_member_has_roles(&emu, &joiner, &roles);
    let plan = ws.plan_json();
    for c in plan["resource_changes"].as_array().expect("changes") {
        let actions = &c["change"]["actions"];
        assert!(
            *actions == json!(["no-op"]) || *actions == json!(["read"]),
            "{}: {actions}",
            c["address"]
        );
    }
    let refreshed = plan["prior_state"]["values"]["root_module"]["resources"]
        .as_array()
        .expect("prior state")
        .iter()
        .find(|r| r["address"] == TRUST)
        .expect("trust in the refreshed state");
    assert!(
        string_set(&refreshed["values"]["organization"]["member_account_ids"]).contains(&joiner),
        "{refreshed}"
    );

    // Exclusions changed (x2 back in, m[0] out): both resources update in place on the
    // exclusion list, and apply makes exactly one create and one delete of instances.
    let x3 = &m[0];
    exclude(&ws, &[x1, x3]);
    let plan = ws.plan_json();
    for address in [TRUST, CONNECTOR] {
        let c = change(&plan, address);
        assert_eq!(c["change"]["actions"], json!(["update"]), "{address}: {c}");
        let before = string_set(&c["change"]["before"]["organization"]["excluded_account_ids"]);
        let after = string_set(&c["change"]["after"]["organization"]["excluded_account_ids"]);
        assert_eq!(before, set([x1.as_str(), x2.as_str()]), "{address}");
        assert_eq!(after, set([x1.as_str(), x3.as_str()]), "{address}");
        assert!(
            c["change"]["replace_paths"].is_null(),
            "{address} is not replaced: {c}"
        );
    }
    let planned =
        string_set(&change(&plan, TRUST)["change"]["after"]["organization"]["member_account_ids"]);
    assert!(planned.contains(x2) && !planned.contains(x3), "{planned:?}");

    moto.reset_calls();
    ws.apply();
    assert_eq!(moto.call_count("cloudformation", "CreateStackInstances"), 1);
    assert_eq!(moto.call_count("cloudformation", "DeleteStackInstances"), 1);
    for action in [
        "UpdateStackSet",
        "CreateStackSet",
        "DeleteStackSet",
        "UpdateStack",
    ] {
        assert_eq!(moto.call_count("cloudformation", action), 0, "{action}");
    }
    let mut now: BTreeSet<String> = deployed.clone();
    now.insert(joiner.clone());
    now.insert(x2.clone());
    now.remove(x3);
    assert_eq!(instance_accounts(&emu), now);
    assert_member_has_roles(&emu, x2, &roles);
    assert_member_has_no_roles(&emu, x3, &roles);
    let (connectors, healthy) = member_connectors(&ws);
    assert_eq!(
        connectors, now,
        "x2 got a member connector, x3 lost its own"
    );
    assert_eq!(healthy, 19);
    ws.plan_expect_empty();

    // Import by stack and StackSet name reads the organization block back (targets, exclusions)
    // as configured: nothing to ignore, and the plan stays empty.
    ws.import_verify(TRUST, &format!("cloudformation:{STACK}:{STACK_SET}"), &[]);
    ws.plan_expect_empty();

    // The new exclusion holds for auto-deployment: x3 moved to another target OU stays out.
    org.move_account(x3, org.ou("prod"), org.ou("dev"));
    assert!(!instance_accounts(&emu).contains(x3));
    assert_member_has_no_roles(&emu, x3, &roles);

    // Destroy: instances, StackSet, management stack, roles everywhere, connectors.
    ws.destroy();
    let (status, body) = moto.query_status(
        "cloudformation",
        "DescribeStackSet",
        &[("StackSetName", STACK_SET)],
    );
    assert_ne!(status, 200, "the StackSet is still there: {body}");
    assert!(moto.cloudformation_stack_names().is_empty());
    assert!(
        moto.iam_role_names().is_empty(),
        "{:?}",
        moto.iam_role_names()
    );
    for account in m.iter().chain([&joiner]) {
        assert_member_has_no_roles(&emu, account, &roles);
    }
    let left: Vec<Value> = emu
        .arm_resources()
        .into_iter()
        .filter(|r| r["type"] == "Microsoft.Security/securityConnectors")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    eprintln!(
        "organization onboarding: {} member accounts, {:.1} s",
        MEMBER_COUNT + 1,
        started.elapsed().as_secs_f64()
    );
}
