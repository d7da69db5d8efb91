//! `multicloud_aws_oidc_trust` with `deployment = "cloudformation"`, with the real Terraform
//! CLI against moto and the project's extension (which makes stacks fail, roll back and report
//! events as AWS does): one stack with every plan's roles, plan and access-mode switches as stack updates, drift
//! repaired, import by stack name, a failing stack reported with its events and left nowhere,
//! a pre-existing provider kept outside the stack, destroy leaving nothing.

use crate::common;

use acceptance_tests::{Emulators, skip_unless_acc};
use common::trust::*;

const CFN: &str = "  deployment = \"cloudformation\"\n  stack_name = \"defender-trust\"";

#[test]
fn acc_oidc_trust_cloudformation_lifecycle() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let ws = workspace(&emu, &config(EVERY_PLAN, CFN).replace(ROLE_ARNS_OUTPUT, ""));
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(moto.cloudformation_stack_names(), ["defender-trust"]);
    let names = planned_role_names(&ws);
    assert_eq!(sorted(moto.iam_role_names()), names);
    let state = ws.resource_values(TRUST).expect("state");
    assert_eq!(state["id"], "cloudformation:defender-trust");
    assert!(
        state["stack_id"]
            .as_str()
            .is_some_and(|s| s.contains("defender-trust"))
    );
    let provider = microsoft_provider(&emu).expect("provider created by the stack");
    assert_eq!(state["oidc_provider_arn"], provider.as_str());
    defender_can_assume_every_role(&emu, &ws);

    // Fewer plans: one stack update, the dropped roles gone, nothing created through IAM.
    moto.reset_calls();
    ws.write_config(&config(&fewer_plans("P1", false, None), CFN).replace(ROLE_ARNS_OUTPUT, ""));
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(moto.call_count("cloudformation", "UpdateStack"), 1);
    assert_eq!(moto.call_count("cloudformation", "CreateStack"), 0);
    assert_eq!(
        moto.call_count("iam", "CreateRole"),
        0,
        "the stack does the work"
    );
    assert_eq!(sorted(moto.iam_role_names()), planned_role_names(&ws));

    // Least privilege: the same roles, other policies, through the stack.
    moto.reset_calls();
    ws.write_config(
        &config(&fewer_plans("P1", false, Some("least_privilege")), CFN)
            .replace(ROLE_ARNS_OUTPUT, ""),
    );
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(moto.call_count("cloudformation", "UpdateStack"), 1);
    assert_eq!(moto.call_count("iam", "DeleteRole"), 0, "roles are kept");
    assert_eq!(sorted(moto.iam_role_names()), planned_role_names(&ws));

    // A policy detached in IAM is invisible to the stack: the plan shows it, apply repairs it.
    assert_policy_drift_is_repaired(&emu, &ws);

    // Import by stack name gives the same state.
    ws.import_verify(TRUST, "cloudformation:defender-trust", &["oidc_providers"]);
    ws.plan_expect_empty();

    ws.destroy();
    assert!(moto.cloudformation_stack_names().is_empty());
    assert!(
        moto.iam_role_names().is_empty(),
        "{:?}",
        moto.iam_role_names()
    );
    assert!(moto.iam_oidc_provider_arns().is_empty());
}

#[test]
fn acc_oidc_trust_cloudformation_failure_reports_events_and_leaves_nothing() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let hcl = common::config(
        r#"
variable "tenant_id" {
  type = string
}

resource "multicloud_defender_plan_set" "std" {}

resource "multicloud_aws_oidc_trust" "prod" {
  tenant_id  = var.tenant_id
  deployment = "cloudformation"
  roles = [for r in multicloud_defender_plan_set.std.aws_roles :
    merge(r, { managed_policy_arns = ["arn:aws:iam::aws:policy/NoSuchPolicy"] })]
}
"#,
    );
    let ws = workspace(&emu, &hcl);
    let out = ws.apply_expect_error("CspmMonitorRole");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("ROLLBACK_COMPLETE"), "{text}");
    assert!(text.contains("NoSuchPolicy"), "{text}");
    assert!(
        moto.cloudformation_stack_names().is_empty(),
        "the rolled-back stack is deleted"
    );
    assert!(moto.iam_role_names().is_empty());
    assert!(ws.resource_values(TRUST).is_none(), "nothing in state");
}

#[test]
fn acc_oidc_trust_cloudformation_keeps_an_existing_provider_outside_the_stack() {
    skip_unless_acc!();
    let emu = Emulators::start();
    let moto = emu.moto();
    let existing = create_shared_provider(&emu);
    let ws = workspace(&emu, &config("", CFN));
    ws.apply();
    ws.plan_expect_empty();
    let audiences = moto.iam_oidc_client_ids(&existing);
    assert!(
        audiences.contains(&"api://4d8bed1f-eee7-4d8e-b0dc-8462049a4479".to_owned()),
        "{audiences:?}"
    );
    ws.destroy();
    assert!(moto.cloudformation_stack_names().is_empty());
    assert_eq!(
        moto.iam_oidc_provider_arns(),
        std::slice::from_ref(&existing)
    );
    assert_eq!(moto.iam_oidc_client_ids(&existing), ["api://sentinel"]);
}
