//! `multicloud_aws_oidc_trust` with an `organization {}` block, with the real Terraform CLI
//! against moto and the project's extension (trusted access, OU targets with account filters,
//! failed instances reported as AWS reports them): an organization of two OUs and twelve
//! member accounts, the roles deployed to every member but the excluded one and never to the
//! management account by the StackSet, exclusions changed, a member account whose stack fails
//! named in the error and retried alone, trusted access off and an excluded account outside
//! the organization failing before anything exists, and destroy leaving no StackSet and no
//! instance.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use crate::common;

use acceptance_tests::{Emulators, TerraformWorkspace, skip_unless_acc};
use common::organization::{Members, OrgSpec, Organization, ROOT};
use common::trust::{TRUST, config, sorted, workspace};
use terraform_provider_multicloud::aws::cloudformation::CallAs;

const STACK_SET: &str = "MDCOnboardingStackSet";
const STACK: &str = "defender-trust";
const PLANS: &str = "  defender_cspm {}\n";
/// A well-formed account id that is no account of the seeded organization.
const OUTSIDER: &str = "999999999999";

/// An organization: root > prod (6 accounts, 2 of them in prod > eu), root > dev (5),
/// one account at the root. Trusted access as `trusted`.
fn seed(emu: &Emulators, trusted: bool) -> Organization {
    let parents = [
        "prod", "prod", "prod", "prod", "prod-eu", "prod-eu", "dev", "dev", "dev", "dev", "dev",
        ROOT,
    ];
    let spec = OrgSpec {
        ous: &[("prod", ROOT), ("prod-eu", "prod"), ("dev", ROOT)],
        members: Members::Created {
            prefix: "member",
            parents: &parents,
        },
        trusted_access: trusted,
    };
    Organization::seed(emu, &spec)
}

fn org_config(block: &str) -> String {
    let extra = format!(
        "  deployment = \"cloudformation\"\n  stack_name = \"{STACK}\"\n  organization {{\n{block}\n  }}"
    );
    config(PLANS, &extra)
}

fn excluding(accounts: &[&String]) -> String {
    let list: Vec<String> = accounts.iter().map(|a| format!("\"{a}\"")).collect();
    format!("    excluded_account_ids = [{}]", list.join(", "))
}

fn state_members(ws: &TerraformWorkspace) -> Vec<String> {
    let state = ws.resource_values(TRUST).expect("trust in state");
    state["organization"]["member_account_ids"]
        .as_array()
        .expect("member_account_ids")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn first_role(ws: &TerraformWorkspace) -> String {
    let state = ws.resource_values(TRUST).expect("trust in state");
    state["roles"][0]["name"].as_str().unwrap().to_owned()
}

fn without(all: &[String], out: &[&String]) -> Vec<String> {
    all.iter().filter(|a| !out.contains(a)).cloned().collect()
}

#[test]
fn acc_oidc_trust_organization_lifecycle() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let org = seed(&emu, true);
    let m = &org.sorted_members();
    let ws = workspace(&emu, &org_config(&excluding(&[&m[0]])));
    ws.apply();
    ws.plan_expect_empty();

    // Every member but the excluded one; never the management account (it has the stack).
    let expected = without(m, &[&m[0]]);
    assert_eq!(org.instance_accounts(STACK_SET), expected);
    assert!(!org.instance_accounts(STACK_SET).contains(&org.management));
    assert_eq!(state_members(&ws), expected);
    assert_eq!(emu.moto().cloudformation_stack_names(), [STACK]);
    let role = first_role(&ws);
    assert!(
        org.member_has_role(&m[5], &role),
        "nested OU member has the roles"
    );
    assert!(
        !org.member_has_role(&m[0], &role),
        "the excluded account has none"
    );

    // Another exclusion: one instance added, one removed, nothing else touched.
    emu.moto().reset_calls();
    ws.write_config(&org_config(&excluding(&[&m[1]])));
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(org.instance_accounts(STACK_SET), without(m, &[&m[1]]));
    assert!(org.member_has_role(&m[0], &role));
    assert!(
        !org.member_has_role(&m[1], &role),
        "its stack went with the instance"
    );
    let moto = emu.moto();
    assert_eq!(moto.call_count("cloudformation", "CreateStackInstances"), 1);
    assert_eq!(moto.call_count("cloudformation", "DeleteStackInstances"), 1);
    assert_eq!(moto.call_count("cloudformation", "UpdateStackSet"), 0);

    // A role of that name already in m[1]: its stack fails; the apply names the account, the
    // others stay in state, and once the role is gone the next apply deploys it alone.
    org.put_member_role(&m[1], &role);
    ws.write_config(&org_config(""));
    ws.apply_expect_error(&format!("account {} in us-east-1: FAILED", m[1]));
    assert_eq!(state_members(&ws), without(m, &[&m[1]]));
    org.delete_member_role(&m[1], &role);
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(org.instance_accounts(STACK_SET), *m);
    assert_eq!(state_members(&ws), *m);
    assert!(org.member_has_role(&m[1], &role));

    ws.destroy();
    assert!(!org.stack_set_exists(STACK_SET));
    assert!(org.instance_accounts_or_none(STACK_SET).is_empty());
    assert!(emu.moto().cloudformation_stack_names().is_empty());
    assert!(emu.moto().iam_role_names().is_empty());
    assert!(!org.member_has_role(&m[2], &role));
    let secrets = emu.secrets();
    ws.assert_no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The organization example, as documented, with the opt-in trusted-access fix left out or in.
fn example(opt_in: bool) -> String {
    let hcl = common::example("resources/multicloud_aws_oidc_trust/organization.tf");
    let hcl = if opt_in {
        hcl
    } else {
        hcl.replace("enable_trusted_access = true", "")
    };
    common::config(&hcl)
}

#[test]
fn acc_oidc_trust_organization_trusted_access() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let org = seed(&emu, false);
    let members = org.sorted_members();
    let ws = workspace(&emu, &example(false));
    ws.set_env(
        "TF_VAR_excluded_account_ids",
        &format!("[\"{}\"]", members[3]),
    );
    ws.apply_expect_error(
        "You must enable organizations access to operate a service managed stack set.*\
         enable-aws-service-access --service-principal \
         member.org.stacksets.cloudformation.amazonaws.com.*enable_trusted_access = true",
    );
    // Nothing was created: no stack, no StackSet, no role, no provider.
    let moto = emu.moto();
    assert!(moto.cloudformation_stack_names().is_empty());
    assert!(!org.stack_set_exists(STACK_SET));
    assert!(moto.iam_role_names().is_empty());
    assert!(moto.iam_oidc_provider_arns().is_empty());
    assert_eq!(moto.call_count("cloudformation", "CreateStack"), 0);
    assert_eq!(moto.call_count("cloudformation", "CreateStackSet"), 0);

    // An excluded account that is not in the organization is caught by the plan, before
    // anything exists: one DescribeAccount per excluded id, no walk of the organization.
    ws.write_config(&example(true));
    ws.set_env(
        "TF_VAR_excluded_account_ids",
        &format!("[\"{}\", \"{OUTSIDER}\"]", members[3]),
    );
    moto.reset_calls();
    ws.apply_expect_error(&format!(
        "Invalid organization exclusion.*Account {OUTSIDER} is not an account of this \
         organization.*remove it, or correct the id"
    ));
    assert_eq!(moto.call_count("organizations", "DescribeAccount"), 2);
    assert_eq!(moto.call_count("organizations", "ListAccountsForParent"), 0);
    assert_eq!(
        moto.call_count("organizations", "EnableAWSServiceAccess"),
        0
    );
    assert_eq!(moto.call_count("cloudformation", "CreateStack"), 0);
    assert_eq!(moto.call_count("cloudformation", "CreateStackSet"), 0);
    assert!(!org.trusted(), "the plan failed, so nothing was turned on");
    ws.set_env(
        "TF_VAR_excluded_account_ids",
        &format!("[\"{}\"]", members[3]),
    );

    // The example as documented: the resource enables trusted access and deploys.
    ws.apply();
    ws.plan_expect_empty();
    assert!(org.trusted());
    let expected = without(&members, &[&members[3]]);
    assert_eq!(org.instance_accounts(STACK_SET), expected);
    let outputs = ws.output_json();
    let listed: Vec<String> = outputs["member_account_ids"]["value"]
        .as_array()
        .expect("member_account_ids output")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected);
    ws.destroy();
    assert!(!org.stack_set_exists(STACK_SET));
    assert!(moto.cloudformation_stack_names().is_empty());
}

/// The accounts each `UPDATE` operation of the StackSet reached, oldest first.
fn update_operation_accounts(org: &Organization) -> Vec<Vec<String>> {
    org.rt.block_on(async {
        let out = org
            .cfn
            .sdk()
            .list_stack_set_operations()
            .stack_set_name(STACK_SET)
            .send()
            .await
            .unwrap();
        let mut ops: Vec<_> = out
            .summaries
            .unwrap_or_default()
            .into_iter()
            .filter(|o| o.action.as_ref().map(|a| a.as_str()) == Some("UPDATE"))
            .collect();
        ops.sort_by_key(|o| o.creation_timestamp);
        let mut reached = Vec::new();
        for op in ops {
            let results = org
                .cfn
                .list_stack_set_operation_results(
                    STACK_SET,
                    op.operation_id.as_deref().unwrap(),
                    CallAs::ManagementAccount,
                )
                .await
                .unwrap();
            reached.push(sorted(results.into_iter().map(|r| r.account).collect()));
        }
        reached
    })
}

/// A create that fails in one member account leaves the trust tainted, with the accounts that
/// succeeded in state. `terraform untaint` and apply then deploy the failed account alone: no
/// StackSet or instance is deleted or created, one update reaches that account only, and the
/// organization is not walked.
#[test]
fn acc_oidc_trust_organization_failed_create_untaint() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let org = seed(&emu, true);
    let m = &org.sorted_members();
    let ws = workspace(&emu, &org_config(""));
    let out = ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-target=multicloud_defender_plan_set.std",
    ]);
    assert!(out.success(), "{out}");
    let role = common::trust::planned_role_names(&ws)[0].clone();

    // A role of that name already in m[2]: its member stack fails.
    org.put_member_role(&m[2], &role);
    ws.apply_expect_error(&format!("account {} in us-east-1: FAILED", m[2]));
    let state = ws.state_json();
    let trust = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == TRUST)
        .expect("trust in state");
    assert_eq!(trust["tainted"], true, "{trust}");
    assert_eq!(state_members(&ws), without(m, &[&m[2]]));
    assert_eq!(trust["values"]["organization"]["in_sync"], false, "{trust}");

    org.delete_member_role(&m[2], &role);
    let out = ws.run(&["untaint", "-no-color", TRUST]);
    assert!(out.success(), "{out}");
    emu.moto().reset_calls();
    ws.apply();
    let moto = emu.moto();
    for action in [
        "CreateStackSet",
        "DeleteStackSet",
        "CreateStackInstances",
        "DeleteStackInstances",
        "CreateStack",
        "DeleteStack",
    ] {
        assert_eq!(moto.call_count("cloudformation", action), 0, "{action}");
    }
    assert_eq!(moto.call_count("cloudformation", "UpdateStackSet"), 1);
    assert_eq!(
        moto.call_count("organizations", "ListAccountsForParent"),
        0,
        "no walk"
    );
    assert_eq!(update_operation_accounts(&org), [vec![m[2].clone()]]);
    assert_eq!(org.instance_accounts(STACK_SET), *m);
    assert_eq!(state_members(&ws), *m);
    assert!(org.member_has_role(&m[2], &role));
    ws.plan_expect_empty();

    ws.destroy();
    assert!(!org.stack_set_exists(STACK_SET));
    assert!(emu.moto().cloudformation_stack_names().is_empty());
}
