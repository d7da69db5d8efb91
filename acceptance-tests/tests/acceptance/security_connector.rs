//! `multicloud_security_connector` and `multicloud_security_connector_status` with the real
//! Terraform CLI against the ARM emulator: basic + import, update + import, requires-import,
//! an AWS account connected twice, drift and disappearance, plan-time rejections, and the
//! status data source.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use common::arm_api::{ArmApi, aws_connector_body};
use serde_json::{Value, json};

const ADDRESS: &str = "multicloud_security_connector.prod";
const RESOURCE_GROUP: &str = "rg-security";
const ACCOUNT: &str = "123456789012";

/// The registry example: a P1 plan set and the connector, role ARNs derived from the roles.
fn example() -> String {
    common::example("resources/multicloud_security_connector/resource.tf")
}

fn basic() -> String {
    common::config(&example())
}

/// The example with Servers Plan 2 (one more role: agentless scanning), another interval and tag.
fn updated() -> String {
    common::config(
        &example()
            .replace("plan = \"P1\"", "plan = \"P2\"")
            .replace("scan_interval_hours = 12", "scan_interval_hours = 24")
            .replace(
                "managed-by = \"terraform\"",
                "managed-by = \"terraform\"\n    team = \"sec\"",
            ),
    )
}

/// Emulators with the resource group the example names.
fn start() -> (Emulators, ArmApi) {
    let emulators = Emulators::start();
    let arm = ArmApi::new(&emulators);
    arm.resource_group(RESOURCE_GROUP, "westeurope");
    (emulators, arm)
}

fn offering<'a>(connector: &'a Value, kind: &str) -> &'a Value {
    connector["properties"]["offerings"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["offeringType"] == kind))
        .unwrap_or_else(|| panic!("no {kind} offering in {connector}"))
}

fn arm_writes(emulators: &Emulators) -> Vec<String> {
    emulators
        .arm_requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.contains("/oauth2/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn planned_actions(ws: &TerraformWorkspace) -> Vec<Value> {
    let plan = ws.plan_json();
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["address"] == ADDRESS)
        .map(|c| c["change"]["actions"].clone())
        .collect()
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

#[test]
fn acc_security_connector_basic_update_import() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let id = arm.connector_id(RESOURCE_GROUP, "aws-prod");
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    ws.apply();

    // What ARM holds: the account, the settings, and the plan set's offerings with real ARNs.
    let stored = arm.connector(&id).expect("connector created");
    let props = &stored["properties"];
    assert_eq!(props["hierarchyIdentifier"], ACCOUNT);
    assert_eq!(props["environmentName"], "AWS");
    assert_eq!(props["environmentData"]["scanInterval"], 12);
    assert_eq!(
        props["environmentData"]["regions"],
        json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(
        offering(&stored, "CspmMonitorAws")["nativeCloudConnection"]["cloudRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/CspmMonitorAws")
    );
    let servers = offering(&stored, "DefenderForServersAws");
    assert_eq!(servers["subPlan"]["type"], "P1");
    assert_eq!(
        servers["defenderForServers"]["cloudRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/DefenderForCloud-DefenderForServers")
    );
    assert!(!stored.to_string().contains("<role_arn:"), "{stored}");
    let values = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(values["id"], id.as_str());

    // A no-op plan only reads.
    emulators.arm().clear_requests();
    ws.plan_expect_empty();
    let writes = arm_writes(&emulators);
    assert!(writes.is_empty(), "a no-op plan wrote to ARM: {writes:?}");

    // Import reproduces the applied state, offerings placeholders and role map included.
    ws.import_verify(ADDRESS, &id, &[]);
    ws.plan_expect_empty();

    // Update in place: one write, the new plan and its extra role in the right field.
    emulators.arm().clear_requests();
    ws.write_config(&updated());
    assert_eq!(planned_actions(&ws), vec![json!(["update"])]);
    ws.apply();
    let writes = arm_writes(&emulators);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes[0].starts_with("PUT "), "{writes:?}");
    let stored = arm.connector(&id).expect("connector");
    let servers = offering(&stored, "DefenderForServersAws");
    assert_eq!(servers["subPlan"]["type"], "P2");
    assert_eq!(
        servers["vmScanners"]["cloudRoleArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/DefenderForCloud-AgentlessScanner")
    );
    assert_eq!(stored["properties"]["environmentData"]["scanInterval"], 24);
    assert_eq!(stored["tags"]["team"], "sec");
    ws.plan_expect_empty();
    ws.import_verify(ADDRESS, &id, &[]);
    ws.plan_expect_empty();

    // And back.
    ws.write_config(&basic());
    ws.apply();
    ws.plan_expect_empty();

    ws.destroy();
    // CheckDestroy: the connector is gone.
    assert!(arm.connector(&id).is_none());
}

#[test]
fn acc_security_connector_organization() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let id = arm.connector_id(RESOURCE_GROUP, "aws-prod");
    let management = example().replace(
        "  tags = {",
        "  organization {\n    excluded_account_ids = [\"111111111111\", \"222222222222\"]\n    stackset_name        = \"MDC-Onboarding\"\n  }\n\n  tags = {",
    );
    let ws = TerraformWorkspace::new(
        &emulators,
        &common::config(&management),
        Install::DevOverrides,
    );
    ws.apply();
    let stored = arm.connector(&id).expect("connector");
    assert_eq!(
        stored["properties"]["environmentData"]["organizationalData"],
        json!({
            "organizationMembershipType": "Organization",
            "stacksetName": "MDC-Onboarding",
            "excludedAccountIds": ["111111111111", "222222222222"]
        })
    );
    ws.plan_expect_empty();
    ws.import_verify(ADDRESS, &id, &[]);
    ws.plan_expect_empty();
    // Back to a single account: an in-place update that drops the organizational data.
    ws.write_config(&basic());
    assert_eq!(planned_actions(&ws), vec![json!(["update"])]);
    ws.apply();
    ws.plan_expect_empty();
    let stored = arm.connector(&id).expect("connector");
    assert!(
        stored["properties"]["environmentData"]
            .get("organizationalData")
            .is_none(),
        "{stored}"
    );
    ws.destroy();
}

#[test]
fn acc_security_connector_requires_import() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    emulators
        .arm()
        .set_provider_state("Microsoft.Security", "Registered");
    let id = arm.connector_id(RESOURCE_GROUP, "aws-prod");
    arm.put_connector(&id, &aws_connector_body(ACCOUNT));
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    ws.apply_expect_error(&format!(
        r#"A resource with the ID "{id}" already exists - to be managed via Terraform this resource needs to be imported into the State\. Please see the resource documentation for "multicloud_security_connector" for more information\. Import it with: terraform import multicloud_security_connector\.<name> {id}"#,
        id = regex_escape(&id)
    ));
    assert!(ws.resource_values(ADDRESS).is_none());
    // The pre-existing connector was not touched.
    let stored = arm.connector(&id).expect("still there");
    assert_eq!(stored["properties"]["environmentData"]["scanInterval"], 4);
    // Imported, it is managed: the next apply converges it to the configuration.
    ws.import(ADDRESS, &id);
    ws.apply();
    ws.plan_expect_empty();
    let stored = arm.connector(&id).expect("still there");
    assert_eq!(stored["properties"]["environmentData"]["scanInterval"], 12);
}

#[test]
fn acc_security_connector_account_already_connected() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    emulators
        .arm()
        .set_provider_state("Microsoft.Security", "Registered");
    arm.resource_group("rg-legacy", "eastus");
    let other = arm.connector_id("rg-legacy", "legacy-aws");
    arm.put_connector(&other, &aws_connector_body(ACCOUNT));
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    ws.apply_expect_error(&format!(
        r#"AWS account already connected.*AWS account {ACCOUNT} is already connected to Defender for Cloud by the security connector "legacy-aws" \({}\)\. Defender for Cloud connects each AWS account only once"#,
        regex_escape(&other)
    ));
    assert!(
        arm.connector(&arm.connector_id(RESOURCE_GROUP, "aws-prod"))
            .is_none()
    );
}

#[test]
fn acc_security_connector_drift_and_disappearance() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let id = arm.connector_id(RESOURCE_GROUP, "aws-prod");
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    ws.apply();

    // Someone switches the account to Plan 2 and another interval in the portal.
    let mut stored = arm.connector(&id).expect("connector");
    stored["properties"]["environmentData"]["scanInterval"] = json!(4);
    for o in stored["properties"]["offerings"]
        .as_array_mut()
        .expect("offerings")
    {
        if o["offeringType"] == "DefenderForServersAws" {
            o["subPlan"]["type"] = json!("P2");
        }
    }
    arm.put_connector(&id, &stored);
    let plan = ws.plan_json();
    let change = plan["resource_changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["address"] == ADDRESS))
        .expect("a change")["change"]
        .clone();
    assert_eq!(change["actions"], json!(["update"]), "{plan}");
    assert_eq!(change["before"]["scan_interval_hours"], 4);
    assert_eq!(change["after"]["scan_interval_hours"], 12);
    let before = change["before"]["offerings"].as_str().expect("offerings");
    assert!(
        before.contains(r#""subPlan":{"type":"P2"}"#),
        "the drift shows in the plan: {before}"
    );
    assert!(
        before.contains("<role_arn:defender_for_servers>"),
        "drift is shown with placeholders, not every ARN: {before}"
    );
    ws.apply();
    ws.plan_expect_empty();
    let stored = arm.connector(&id).expect("connector");
    assert_eq!(
        offering(&stored, "DefenderForServersAws")["subPlan"]["type"],
        "P1"
    );

    // Deleted outside Terraform: the plan is a create, and apply brings it back.
    arm.delete_connector(&id);
    assert_eq!(planned_actions(&ws), vec![json!(["create"])]);
    ws.apply();
    assert!(arm.connector(&id).is_some());
    // Deleted again before destroy: the refresh drops it and destroy succeeds.
    arm.delete_connector(&id);
    ws.destroy();
}

#[test]
fn acc_security_connector_plan_time_rejections() {
    skip_unless_acc!();
    let (emulators, _arm) = start();
    let missing_role = example().replace(
        "role.key => \"arn:aws:iam::${local.aws_account_id}:role/${role.name}\"",
        "role.key => \"arn:aws:iam::${local.aws_account_id}:role/${role.name}\" if role.key != \"defender_for_servers\"",
    );
    let cases = [
        (
            missing_role,
            r#"Missing role ARN.*The enabled offering DefenderForServersAws needs the ARN of the role "defender_for_servers""#,
        ),
        (
            example().replace("\"westeurope\"", "\"usgovvirginia\""),
            r#"National clouds are not supported.*"usgovvirginia" is a region of Azure Government"#,
        ),
        (
            example().replace("scan_interval_hours = 12", "scan_interval_hours = 8"),
            r#"Invalid scan interval.*every 4, 6, 12 or 24 hours"#,
        ),
        (
            example().replace("\"123456789012\"", "\"12345\""),
            r#"Invalid AWS account id.*exactly 12 digits"#,
        ),
        (
            example().replace("\"eu-west-1\"", "\"cn-north-1\""),
            r#"Invalid region.*AWS public cloud only"#,
        ),
    ];
    for (hcl, pattern) in cases {
        let ws = TerraformWorkspace::new(&emulators, &common::config(&hcl), Install::DevOverrides);
        emulators.arm().clear_requests();
        ws.apply_expect_error(pattern);
        let writes = arm_writes(&emulators);
        assert!(
            writes.is_empty(),
            "{pattern}: rejected input reached ARM: {writes:?}"
        );
    }
}

#[test]
fn acc_security_connector_import_of_a_malformed_id() {
    skip_unless_acc!();
    let (emulators, _arm) = start();
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    let out = ws.run(&["import", "-input=false", "-no-color", ADDRESS, "aws-prod"]);
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(
        text.contains("is not a security connector id")
            && text.contains("terraform import multicloud_security_connector.prod /subscriptions/"),
        "{out}"
    );
}

#[test]
fn acc_security_connector_status_data_source() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let hcl = format!(
        "{}\n{}",
        basic(),
        common::example("data-sources/multicloud_security_connector_status/data-source.tf")
    );
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    ws.plan_expect_empty();
    let outputs = ws.output_json();
    let status = outputs["connector_status"]["value"]
        .as_str()
        .expect("status")
        .to_owned();
    assert!(
        ["Healthy", "NotHealthy", "NotApplicable", "Unknown"].contains(&status.as_str()),
        "{status}"
    );
    let data = ws
        .resource_values("data.multicloud_security_connector_status.prod")
        .expect("data source in state");
    assert_eq!(data["aws_account_id"], ACCOUNT);
    assert_eq!(data["healthy"], json!(status == "Healthy"));
    assert_eq!(
        data["security_connector_id"],
        arm.connector_id(RESOURCE_GROUP, "aws-prod").as_str()
    );

    // Waiting for health: it either is healthy, or the read fails with the status it saw.
    let waiting = hcl.replace(
        "security_connector_id = multicloud_security_connector.prod.id",
        "security_connector_id = multicloud_security_connector.prod.id\n  wait_for_healthy      = true\n  wait_timeout          = \"1s\"",
    );
    ws.write_config(&waiting);
    if status == "Healthy" {
        ws.apply();
    } else {
        ws.apply_expect_error(&format!(
            r#"Security connector not healthy.*aws-prod is {status} after"#
        ));
    }
    ws.write_config(&hcl);
    ws.destroy();
}

/// A plan set without `subscription_id` leaves the subscription alone, so the connector looks at
/// it at plan time: a Defender plan its offerings need and the subscription lacks is a warning on
/// `offerings` that says what to enable; once the subscription has it, the warning is gone. A
/// no-op plan does not read the subscription.
#[test]
fn acc_security_connector_warns_about_missing_subscription_plans() {
    skip_unless_acc!();
    let (emulators, _arm) = start();
    let warning = "Defender for Servers Plan 1 is not enabled";
    let ws = TerraformWorkspace::new(&emulators, &basic(), Install::DevOverrides);
    let first = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let shown = format!("{}{}", first.stdout, first.stderr);
    assert!(
        shown.contains(warning),
        "no warning about the plan: {shown}"
    );
    assert!(
        shown.contains("offerings"),
        "warning not on `offerings`: {shown}"
    );
    assert!(
        shown.contains("VirtualMachines"),
        "warning names no pricing: {shown}"
    );
    assert!(
        shown.contains("subscription_id"),
        "warning gives no fix: {shown}"
    );

    // Someone enables the plan in the portal (which registers Microsoft.Security).
    emulators
        .arm()
        .set_provider_state("Microsoft.Security", "Registered");
    emulators
        .arm()
        .set_pricing("VirtualMachines", "Standard", Some("P1"));
    let applied = ws.apply();
    let shown = format!("{}{}", applied.stdout, applied.stderr);
    assert!(
        !shown.contains(warning),
        "warning with the plan on: {shown}"
    );

    // Plan 2 needs more than the subscription's P1.
    ws.write_config(&updated());
    let upgraded = ws.run(&["plan", "-no-color", "-input=false"]);
    let shown = format!("{}{}", upgraded.stdout, upgraded.stderr);
    assert!(
        shown.contains("Defender for Servers Plan 2 is not enabled"),
        "no warning for the higher plan: {shown}"
    );

    // Unchanged offerings: no pricings read.
    ws.write_config(&basic());
    emulators.arm().clear_requests();
    ws.plan_expect_empty();
    let reads = emulators.arm().requests_where(&[("method", "GET")]);
    assert!(
        reads.iter().all(|r| !r.path.contains("/pricings")),
        "a no-op plan read pricings: {reads:?}"
    );
}
