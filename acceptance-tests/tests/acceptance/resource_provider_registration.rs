//! `multicloud_resource_provider_registration` with the real Terraform CLI against the ARM
//! emulator: basic + import, requires-import, disappears, and the API calls a no-op plan makes.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

const ADDRESS: &str = "multicloud_resource_provider_registration.security";
const NAMESPACE: &str = "Microsoft.Security";

fn body() -> String {
    common::config(&common::example(
        "resources/multicloud_resource_provider_registration/resource.tf",
    ))
}

fn id(emulators: &Emulators) -> String {
    format!(
        "/subscriptions/{}/providers/{NAMESPACE}",
        emulators.subscription_id()
    )
}

#[test]
fn acc_resource_provider_registration_basic() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    assert_eq!(emulators.arm().provider_state(NAMESPACE), "NotRegistered");
    let ws = TerraformWorkspace::new(&emulators, &body(), Install::DevOverrides);
    ws.apply();
    assert_eq!(emulators.arm().provider_state(NAMESPACE), "Registered");
    let values = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(values["id"], id(&emulators).as_str());
    assert_eq!(values["subscription_id"], emulators.subscription_id());
    assert_eq!(values["registration_state"], "Registered");

    // A no-op plan only reads: no write reaches ARM.
    emulators.arm().clear_requests();
    ws.plan_expect_empty();
    let writes: Vec<_> = emulators
        .arm_requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.contains("/oauth2/"))
        .collect();
    assert!(writes.is_empty(), "a no-op plan wrote to ARM: {writes:?}");

    ws.import_verify(ADDRESS, &id(&emulators), &[]);
    ws.plan_expect_empty();
    ws.destroy();
    // CheckDestroy: the namespace is no longer registered.
    assert_eq!(emulators.arm().provider_state(NAMESPACE), "NotRegistered");
}

#[test]
fn acc_resource_provider_registration_requires_import() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    emulators.arm().set_provider_state(NAMESPACE, "Registered");
    let ws = TerraformWorkspace::new(&emulators, &body(), Install::DevOverrides);
    ws.apply_expect_error(&format!(
        r#"A resource with the ID "{}" already exists - to be managed via Terraform this resource needs to be imported into the State\. Please see the resource documentation for "multicloud_resource_provider_registration""#,
        regex_escape(&id(&emulators))
    ));
    // Nothing half-written: the failed create left nothing in state.
    assert!(ws.resource_values(ADDRESS).is_none());
    ws.import(ADDRESS, &id(&emulators));
    ws.plan_expect_empty();
}

#[test]
fn acc_resource_provider_registration_disappears() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &body(), Install::DevOverrides);
    ws.apply();
    emulators
        .arm()
        .set_provider_state(NAMESPACE, "NotRegistered");
    let plan = ws.plan_json();
    let actions: Vec<_> = plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["address"] == ADDRESS)
        .map(|c| c["change"]["actions"].clone())
        .collect();
    assert_eq!(actions, vec![serde_json::json!(["create"])], "{plan}");
    ws.apply();
    assert_eq!(emulators.arm().provider_state(NAMESPACE), "Registered");
}

#[test]
fn acc_resource_provider_registration_invalid_namespace() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let body = common::config(
        r#"resource "multicloud_resource_provider_registration" "bad" { namespace = "Microsoft" }"#,
    );
    let ws = TerraformWorkspace::new(&emulators, &body, Install::DevOverrides);
    emulators.arm().clear_requests();
    ws.apply_expect_error(r#"Invalid namespace.*"Microsoft" is not a resource provider namespace; expected something like Microsoft\.Security"#);
    let arm_calls: Vec<_> = emulators
        .arm_requests()
        .into_iter()
        .filter(|r| !r.path.contains("/oauth2/"))
        .collect();
    assert!(
        arm_calls.is_empty(),
        "plan-time validation must not call ARM: {arm_calls:?}"
    );
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}
