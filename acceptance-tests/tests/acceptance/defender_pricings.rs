//! `multicloud_defender_plan_set` with `subscription_id`, against the ARM emulator's
//! `Microsoft.Security/pricings`: the Defender plans the AWS plans need are switched on, drift
//! shows in the plan and is fixed, what was found is put back on destroy, a plan already higher
//! is neither lowered nor claimed, and Arc auto-provisioning needs Owner at plan time.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::{Value, json};

const ADDRESS: &str = "multicloud_defender_plan_set.std";
const VM: &str = "VirtualMachines";
const SQL: &str = "SqlServerVirtualMachines";

fn plan_set(subscription_id: &str, blocks: &str) -> String {
    common::config(&format!(
        r#"
resource "multicloud_defender_plan_set" "std" {{
  subscription_id = "{subscription_id}"
{blocks}
}}
"#
    ))
}

fn tier(emulators: &Emulators, name: &str) -> (String, Option<String>) {
    emulators.arm().pricing_tier(name)
}

fn std(sub_plan: Option<&str>) -> (String, Option<String>) {
    ("Standard".into(), sub_plan.map(str::to_string))
}

fn free() -> (String, Option<String>) {
    ("Free".into(), None)
}

/// The one change planned for `ADDRESS`: (actions, before, after, after_unknown).
fn planned_change(plan: &Value) -> (Value, Value, Value, Value) {
    let change = plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == ADDRESS)
        .unwrap_or_else(|| panic!("no change for {ADDRESS}: {plan}"))["change"]
        .clone();
    (
        change["actions"].clone(),
        change["before"].clone(),
        change["after"].clone(),
        change["after_unknown"].clone(),
    )
}

fn pricing(name: &str, tier: &str, sub_plan: Option<&str>) -> Value {
    json!({"name": name, "tier": tier, "sub_plan": sub_plan})
}

fn previous(name: &str, found: (&str, Option<&str>), applied: (&str, Option<&str>)) -> Value {
    json!({"name": name, "tier": found.0, "sub_plan": found.1,
           "applied_tier": applied.0, "applied_sub_plan": applied.1})
}

/// PUTs to the pricings API since the request log was last cleared.
fn pricing_writes(emulators: &Emulators) -> u64 {
    emulators.arm().write_count(Some("/pricings/"))
}

#[test]
fn acc_defender_plan_set_pricings_lifecycle() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let sub = emulators.subscription_id().to_owned();
    let p2 = plan_set(&sub, "  servers { plan = \"P2\" }");
    let ws = TerraformWorkspace::new(&emulators, &p2, Install::DevOverrides);
    assert_eq!(tier(&emulators, VM), free());

    // Create: the pricings are known only after apply; everything else at plan time.
    let (actions, _, after, unknown) = planned_change(&ws.plan_json());
    assert_eq!(actions, json!(["create"]));
    assert_eq!(unknown["subscription_pricings"], true);
    assert_eq!(unknown["previous_pricings"], true);
    assert!(after["offerings"].is_string(), "{after}");
    ws.apply();
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    assert_eq!(
        emulators.arm().provider_state("Microsoft.Security"),
        "Registered"
    );
    let state = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(
        state["subscription_pricings"],
        json!([pricing(VM, "Standard", Some("P2"))])
    );
    assert_eq!(
        state["previous_pricings"],
        json!([previous(VM, ("Free", None), ("Standard", Some("P2")))])
    );

    // Second plan: empty, and made of reads only.
    emulators.arm().clear_requests();
    ws.plan_expect_empty();
    assert_eq!(pricing_writes(&emulators), 0);

    // Drift: someone switches the plan off; the plan shows it, apply switches it on again.
    emulators.arm().set_pricing(VM, "Free", None);
    let (actions, before, _, unknown) = planned_change(&ws.plan_json());
    assert_eq!(actions, json!(["update"]));
    assert_eq!(
        before["subscription_pricings"],
        json!([pricing(VM, "Free", None)])
    );
    assert_eq!(unknown["subscription_pricings"], true);
    emulators.arm().clear_requests();
    let out = ws.apply();
    assert!(
        out.combined().contains("changed outside Terraform"),
        "the drift is reported: {out}"
    );
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    assert_eq!(pricing_writes(&emulators), 1);
    ws.plan_expect_empty();

    // Update to P1: the plan set lowers only what it raised, and still puts back Free.
    ws.write_config(&plan_set(&sub, "  servers { plan = \"P1\" }"));
    ws.apply();
    assert_eq!(tier(&emulators, VM), std(Some("P1")));
    assert_eq!(
        ws.resource_values(ADDRESS).expect("in state")["previous_pricings"],
        json!([previous(VM, ("Free", None), ("Standard", Some("P1")))])
    );
    ws.plan_expect_empty();

    // Destroy puts back what was found.
    ws.destroy();
    assert_eq!(tier(&emulators, VM), free());
}

#[test]
fn acc_defender_plan_set_pricings_no_longer_needed_are_put_back() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let sub = emulators.subscription_id().to_owned();
    let both = "  servers { plan = \"P2\" }\n  databases {}";
    let ws = TerraformWorkspace::new(&emulators, &plan_set(&sub, both), Install::DevOverrides);
    ws.apply();
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    assert_eq!(tier(&emulators, SQL), std(None));
    ws.plan_expect_empty();

    // Databases off: its plan goes back to Free, Servers stays.
    ws.write_config(&plan_set(&sub, "  servers { plan = \"P2\" }"));
    ws.apply();
    assert_eq!(tier(&emulators, SQL), free());
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    ws.plan_expect_empty();

    // Only posture management: nothing needed on the subscription, everything put back.
    ws.write_config(&plan_set(&sub, "  defender_cspm {}"));
    ws.apply();
    assert_eq!(tier(&emulators, VM), free());
    let state = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(state["subscription_pricings"], json!([]));
    assert_eq!(state["previous_pricings"], json!([]));
    ws.plan_expect_empty();
    emulators.arm().clear_requests();
    ws.destroy();
    assert_eq!(pricing_writes(&emulators), 0, "nothing left to put back");
}

#[test]
fn acc_defender_plan_set_pricings_a_higher_plan_is_kept() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let sub = emulators.subscription_id().to_owned();
    emulators.arm().set_pricing(VM, "Standard", Some("P2"));
    let blocks = "  servers { plan = \"P1\" }\n  databases {}";
    let hcl = plan_set(&sub, blocks);
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    let writes = emulators.arm().write_counts(Some("/pricings/"));
    assert!(
        writes["by_resource"]
            .as_object()
            .is_some_and(|m| m.keys().all(|k| !k.ends_with("/virtualmachines"))),
        "the P2 plan was written to: {writes}"
    );
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    assert_eq!(tier(&emulators, SQL), std(None));
    let state = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(
        state["subscription_pricings"],
        json!([
            pricing(VM, "Standard", Some("P2")),
            pricing(SQL, "Standard", None)
        ])
    );
    assert_eq!(
        state["previous_pricings"],
        json!([previous(SQL, ("Free", None), ("Standard", None))])
    );
    ws.plan_expect_empty();

    ws.destroy();
    assert_eq!(tier(&emulators, VM), std(Some("P2")), "never lowered");
    assert_eq!(
        tier(&emulators, SQL),
        free(),
        "what it switched on is put back"
    );

    // Import: the configuration as JSON; an imported plan set changed nothing, so it puts
    // nothing back (`previous_pricings` is the one attribute the import cannot know).
    ws.apply();
    let id = format!(r#"{{"subscription_id":"{sub}","servers":{{"plan":"P1"}},"databases":{{}}}}"#);
    ws.import_verify(ADDRESS, &id, &["previous_pricings"]);
    let imported = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(imported["previous_pricings"], json!([]));
    ws.plan_expect_empty();
    ws.destroy();
    assert_eq!(tier(&emulators, SQL), std(None));
}

#[test]
fn acc_defender_plan_set_pricings_arc_auto_provisioning_needs_owner() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let sub = emulators.subscription_id().to_owned();
    emulators.arm().set_caller_roles(&["Contributor"]);
    let ws = TerraformWorkspace::new(
        &emulators,
        &plan_set(&sub, "  servers { plan = \"P2\" }"),
        Install::DevOverrides,
    );
    ws.apply_expect_error(
        r"Azure Arc auto-provisioning needs Owner on the subscription.*arc_auto_provisioning.*set `arc_auto_provisioning = false`",
    );
    assert!(ws.resource_values(ADDRESS).is_none());
    assert_eq!(tier(&emulators, VM), free(), "nothing written at plan time");

    ws.write_config(&plan_set(
        &sub,
        "  servers {\n    plan                  = \"P2\"\n    arc_auto_provisioning = false\n  }",
    ));
    ws.apply();
    assert_eq!(tier(&emulators, VM), std(Some("P2")));
    ws.destroy();
    assert_eq!(tier(&emulators, VM), free());
}

#[test]
fn acc_defender_plan_set_pricings_invalid_subscription() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(
        &emulators,
        &plan_set("sub-1", "  servers {}"),
        Install::DevOverrides,
    );
    ws.apply_expect_error(r#"Invalid subscription_id.*subscription_id = "sub-1""#);
    assert!(ws.resource_values(ADDRESS).is_none());
}
