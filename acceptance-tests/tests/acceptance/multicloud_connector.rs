//! `multicloud_connector` (Azure Arc multicloud connector) with the real Terraform CLI against
//! the ARM emulator: both solutions with a proxy, an empty plan, settings changed in place, a
//! solution removed, import, destroy; and plan-time rejections with attribute paths.

use crate::common;

use acceptance_tests::{Install, TerraformWorkspace, skip_unless_acc};
use common::arm_api::ArmApi;
use common::connector::{API, RESOURCE_GROUP, hybrid_resources, start};
use serde_json::Value;

const ADDRESS: &str = "multicloud_connector.prod";

fn example() -> String {
    common::example("resources/multicloud_connector/resource.tf")
}

fn connector_id(arm: &ArmApi) -> String {
    format!(
        "{}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod",
        arm.subscription_path()
    )
}

/// The connector's solution configurations by type: settings as ARM stores them.
fn solutions(arm: &ArmApi, id: &str) -> Vec<(String, Value)> {
    let (status, body) = arm.call(
        "GET",
        &format!("{id}/providers/Microsoft.HybridConnectivity/solutionConfigurations"),
        API,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let mut out: Vec<(String, Value)> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| {
            (
                s["properties"]["solutionType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                s["properties"]["solutionSettings"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn actions(ws: &TerraformWorkspace) -> Vec<Value> {
    ws.plan_json()["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["address"] == ADDRESS)
        .map(|c| c["change"]["actions"].clone())
        .collect()
}

#[test]
fn acc_multicloud_connector_lifecycle() {
    skip_unless_acc!();
    let (emulators, arm) = start();
    let id = connector_id(&arm);
    let ws = TerraformWorkspace::new(
        &emulators,
        &common::config(&example()),
        Install::DevOverrides,
    );
    ws.apply();

    // The connector and one solution configuration per block, settings as the API spells them.
    let (status, connector) = arm.call("GET", &id, API, None);
    assert_eq!(status, 200, "{connector}");
    let props = &connector["properties"];
    assert_eq!(props["hostType"], "AWS");
    assert_eq!(props["awsCloudProfile"]["accountId"], "123456789012");
    assert_eq!(props["provisioningState"], "Succeeded");
    let found = solutions(&arm, &id);
    assert_eq!(found.len(), 2, "{found:?}");
    let (arc_type, arc) = &found[1];
    assert_eq!(arc_type, "Microsoft.HybridCompute.Onboard");
    assert_eq!(arc["connectivityMethod"], "ProxyServer");
    assert_eq!(arc["proxyServerUrl"], "http://proxy.example.com:3128");
    assert_eq!(arc["cloudProviderRegions"], "eu-west-1,us-east-1");
    assert_eq!(arc["periodicSync"], "true");
    assert_eq!(arc["periodicSyncTime"], "1");
    let (inv_type, inv) = &found[0];
    assert_eq!(inv_type, "Microsoft.AssetManagement");
    assert_eq!(inv["cloudProviderServiceTypes"], "ec2,lambda,s3");
    assert_eq!(inv["periodicSyncTime"], "6");

    // State: the id, the projection group, and a template with the provider and both roles.
    let values = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(values["id"], id.as_str());
    assert_eq!(values["aws_resource_group_name"], "aws_123456789012");
    assert_eq!(values["arc_onboarding"]["periodic_sync"], true);
    let template: Value = serde_json::from_str(
        values["authentication_template"]
            .as_str()
            .expect("template"),
    )
    .expect("template is JSON");
    let types: Vec<&str> = template["Resources"]
        .as_object()
        .expect("Resources")
        .values()
        .filter_map(|r| r["Type"].as_str())
        .collect();
    assert!(types.contains(&"AWS::IAM::OIDCProvider"), "{types:?}");
    assert!(
        types.iter().filter(|t| **t == "AWS::IAM::Role").count() >= 3,
        "{types:?}"
    );
    assert_eq!(
        template["Parameters"]["ConnectorPrimaryIdentifier"]["Default"],
        values["connector_primary_identifier"]
    );
    ws.plan_expect_empty();

    // Settings changed in place: another interval, public endpoints, no periodic sync.
    let changed = example()
        .replace("sync_interval_hours = 6", "sync_interval_hours = 12")
        .replace(
            "connectivity = \"proxy\"\n    proxy_url    = \"http://proxy.example.com:3128\"",
            "connectivity = \"public\"\n    periodic_sync = false",
        );
    ws.write_config(&common::config(&changed));
    assert_eq!(actions(&ws), vec![serde_json::json!(["update"])]);
    ws.apply();
    ws.plan_expect_empty();
    let found = solutions(&arm, &id);
    assert_eq!(found[1].1["connectivityMethod"], "PublicEndpoint");
    assert!(found[1].1.get("proxyServerUrl").is_none(), "{:?}", found[1]);
    assert_eq!(found[1].1["periodicSync"], "false");
    assert_eq!(found[0].1["periodicSyncTime"], "12");
    let values = ws.resource_values(ADDRESS).expect("in state");
    assert_eq!(values["arc_onboarding"]["periodic_sync"], false);
    assert!(values["arc_onboarding"]["sync_interval_hours"].is_null());

    // Import brings back the same attributes.
    ws.import_verify(ADDRESS, &id, &[]);
    // The connector plans no change (outputs come back with the next apply).
    assert_eq!(actions(&ws), vec![serde_json::json!(["no-op"])]);

    // Removing a block removes that solution only; the template follows.
    let without_arc = {
        let start = changed.find("  arc_onboarding {").expect("arc block");
        let end = start + changed[start..].find("  }\n").expect("block end") + 4;
        format!("{}{}", &changed[..start], &changed[end..])
    };
    ws.write_config(&common::config(&without_arc));
    ws.apply();
    ws.plan_expect_empty();
    let found = solutions(&arm, &id);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "Microsoft.AssetManagement");
    let values = ws.resource_values(ADDRESS).expect("in state");
    let template = values["authentication_template"]
        .as_str()
        .expect("template");
    assert!(!template.contains("AzureArcForServerSSM"), "{template}");

    // Drift: a solution configuration deleted outside Terraform is planned back.
    let (status, _) = arm.call(
        "DELETE",
        &format!("{id}/providers/Microsoft.HybridConnectivity/solutionConfigurations/inventory"),
        API,
        None,
    );
    assert!(status == 200 || status == 204, "{status}");
    assert_eq!(actions(&ws), vec![serde_json::json!(["update"])]);
    ws.apply();
    assert_eq!(solutions(&arm, &id).len(), 1);

    ws.destroy();
    let left = hybrid_resources(&emulators);
    assert!(left.is_empty(), "{left:?}");
}

/// Diagnostic framing removed and whitespace runs collapsed, so line wrapping cannot break a
/// match.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn acc_multicloud_connector_rejects_bad_input_at_plan_time() {
    skip_unless_acc!();
    let (emulators, _arm) = start();
    // (configuration, the error, the configuration line Terraform quotes: the attribute).
    let cases = [
        (
            example().replace("http://proxy.example.com:3128", "proxy.example.com"),
            r"Invalid proxy URL.*is not a URL",
            r#"proxy_url = "proxy.example.com""#,
        ),
        (
            example().replace("sync_interval_hours = 6", "sync_interval_hours = 25"),
            r"Sync interval out of range.*Got 25; set a whole number from 1 to 24",
            "sync_interval_hours = 25",
        ),
        (
            example().replace("\"lambda\"", "\"lambada\""),
            r#"Unknown AWS service.*"lambada" is not an AWS service the inventory scans"#,
            r#"services = ["ec2", "s3", "lambada"]"#,
        ),
        (
            example().replace(
                "location            = \"eastus\"",
                "location            = \"westindia\"",
            ),
            r"Unsupported region.*westindia",
            r#"location = "westindia""#,
        ),
        (
            example().replace("    proxy_url    = \"http://proxy.example.com:3128\"\n", ""),
            r"Proxy URL required",
            r#"connectivity = "proxy""#,
        ),
    ];
    for (hcl, pattern, line) in cases {
        let ws = TerraformWorkspace::new(&emulators, &common::config(&hcl), Install::DevOverrides);
        // `terraform plan`: rejected before anything is planned, let alone created.
        let out = ws.run(&["plan", "-input=false", "-no-color"]);
        let text = flat(&out.combined());
        let re = regex::Regex::new(&flat(pattern)).expect("pattern");
        assert!(
            !out.success() && re.is_match(&text) && text.contains(&flat(line)),
            "expected {pattern:?} on `{line}`\n{out}"
        );
    }
    let left = hybrid_resources(&emulators);
    assert!(left.is_empty(), "{left:?}");
}
