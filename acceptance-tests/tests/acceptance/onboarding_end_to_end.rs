//! The whole onboarding with the real Terraform CLI: plan set, AWS trust and security connector
//! in one apply from an empty account (the quickstart), the connector reported Healthy by the
//! emulated Defender, a plan change carried to both clouds, import of both remote resources,
//! destroy leaving nothing anywhere; with a Terraform Cloud style OIDC login, and again under
//! ARM throttling and a 5xx burst without a failed apply or a duplicated write.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::Value;

const CONNECTOR: &str = "multicloud_security_connector.this";
const TRUST: &str = "multicloud_aws_oidc_trust.this";

fn quickstart() -> String {
    format!(
        "{}\n{}",
        common::example("quickstart/providers.tf"),
        common::example("quickstart/main.tf")
    )
}

/// The quickstart with Containers added to the plans.
fn with_containers() -> String {
    quickstart().replace(
        "  servers {\n    plan = \"P2\"\n  }\n",
        "  servers {\n    plan = \"P2\"\n  }\n\n  containers {}\n",
    )
}

fn start() -> Emulators {
    let emu = Emulators::start();
    emu.arm()
        .create_resource_group("rg-defender-aws", "westeurope");
    emu
}

fn connector_body(emu: &Emulators, ws: &TerraformWorkspace) -> Value {
    let id = ws.resource_values(CONNECTOR).expect("connector in state")["id"]
        .as_str()
        .expect("id")
        .to_ascii_lowercase();
    emu.arm_resources()
        .into_iter()
        .find(|r| {
            r["id"]
                .as_str()
                .is_some_and(|i| i.to_ascii_lowercase() == id)
        })
        .unwrap_or_else(|| panic!("{id} is not in the emulator"))["body"]
        .clone()
}

fn offering_types(connector: &Value) -> Vec<String> {
    let mut types: Vec<String> = connector["properties"]["offerings"]
        .as_array()
        .unwrap_or_else(|| panic!("no offerings in {connector}"))
        .iter()
        .filter_map(|o| o["offeringType"].as_str().map(str::to_owned))
        .collect();
    types.sort();
    types
}

fn status(ws: &TerraformWorkspace) -> Value {
    ws.output_json()["connector_status"]["value"].clone()
}

fn assert_nothing_left(emu: &Emulators) {
    let moto = emu.moto();
    assert!(
        moto.iam_role_names().is_empty(),
        "{:?}",
        moto.iam_role_names()
    );
    assert!(moto.iam_oidc_provider_arns().is_empty());
    let connectors: Vec<Value> = emu
        .arm_resources()
        .into_iter()
        .filter(|r| {
            r["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Security/securityConnectors"))
        })
        .collect();
    assert!(connectors.is_empty(), "{connectors:?}");
}

#[test]
fn acc_onboarding_end_to_end_with_oidc_login() {
    skip_unless_acc!();
    let emu = start();
    let ws = TerraformWorkspace::new(&emu, &quickstart(), Install::DevOverrides);
    ws.use_oidc_login(&emu);
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(status(&ws), "Healthy");
    let connector = connector_body(&emu, &ws);
    assert_eq!(
        offering_types(&connector),
        ["CspmMonitorAws", "DefenderCspmAws", "DefenderForServersAws"]
    );
    // Every ARN the connector holds is a role the trust created.
    let arns = ws.resource_values(TRUST).expect("trust")["role_arns"].clone();
    let text = connector["properties"]["offerings"].to_string();
    for (key, arn) in arns.as_object().expect("role_arns") {
        assert!(
            text.contains(arn.as_str().unwrap_or_default()),
            "{key} not in {text}"
        );
    }

    // A plan change reaches both clouds in one apply, and Defender still gets in.
    ws.write_config(&with_containers());
    ws.apply();
    ws.plan_expect_empty();
    assert!(
        offering_types(&connector_body(&emu, &ws)).contains(&"DefenderForContainersAws".to_owned())
    );
    assert!(
        emu.moto()
            .iam_role_names()
            .contains(&"DefenderForCloud-Containers-K8s".to_owned())
    );
    assert_eq!(status(&ws), "Healthy");

    // Both remote resources import to the state they were applied with.
    let connector_id = ws.resource_values(CONNECTOR).expect("connector")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ws.import_verify(CONNECTOR, &connector_id, &[]);
    let provider = ws.resource_values(TRUST).expect("trust")["oidc_provider_arn"]
        .as_str()
        .expect("provider arn")
        .to_owned();
    ws.import_verify(TRUST, &provider, &["oidc_providers"]);

    let imported: Vec<String> = ws.resource_values(TRUST).expect("trust")["oidc_providers"]
        .as_array()
        .expect("oidc_providers")
        .iter()
        .filter_map(|p| p["arn"].as_str().map(str::to_owned))
        .collect();
    ws.destroy();
    // Providers adopted by import are kept on destroy (the trust did not create them).
    let mut left = emu.moto().iam_oidc_provider_arns();
    left.sort();
    let mut expected = imported.clone();
    expected.sort();
    assert_eq!(left, expected);
    for arn in &imported {
        emu.moto().query(
            "iam",
            "DeleteOpenIDConnectProvider",
            &[("OpenIDConnectProviderArn", arn)],
        );
    }
    assert_nothing_left(&emu);
    let secrets = emu.secrets();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    ws.assert_no_secrets(&secrets);
}

#[test]
fn acc_onboarding_survives_arm_throttling_and_5xx() {
    skip_unless_acc!();
    let emu = start();
    let arm = emu.arm();
    // A burst of two 503s, then one ARM call in five answered 429 with Retry-After (the
    // emulator applies the first live rule that matches).
    arm.add_fault(serde_json::json!({"path_contains": "/subscriptions/", "skip": 3, "count": 2, "status": 503}));
    arm.add_fault(serde_json::json!({"path_contains": "/subscriptions/", "every": 5, "status": 429, "retry_after": "1"}));
    let ws = TerraformWorkspace::new(&emu, &quickstart(), Install::DevOverrides);
    ws.apply();
    assert_eq!(status(&ws), "Healthy");
    let fired: u64 = arm
        .faults()
        .iter()
        .filter_map(|f| f["fired"].as_u64())
        .sum();
    assert!(fired >= 3, "faults fired: {:?}", arm.faults());
    // Retries re-send only what failed: each object written once.
    let counts = emu.arm_write_counts(None);
    for (resource, methods) in counts["by_resource"].as_object().expect("by_resource") {
        for (method, n) in methods.as_object().expect("methods") {
            assert_eq!(n, 1, "{method} {resource} written {n} times: {counts}");
        }
    }
    let before = emu.arm_write_counts(None)["total"].as_u64().unwrap_or(0);
    ws.plan_expect_empty();

    // A plan change: exactly one more ARM write, the connector's.
    ws.write_config(&with_containers());
    ws.apply();
    let after = emu.arm_write_counts(None);
    assert_eq!(after["total"].as_u64().unwrap_or(0), before + 1, "{after}");
    ws.plan_expect_empty();
    ws.destroy();
    assert_nothing_left(&emu);
}
