//! Every example in `examples/` that can run against the emulated clouds is applied here with
//! the real Terraform CLI, so the documentation cannot show HCL that does not work.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

#[test]
fn acc_example_quickstart() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    emulators
        .arm()
        .create_resource_group("rg-defender-aws", "westeurope");
    let hcl = format!(
        "{}\n{}",
        common::example("quickstart/providers.tf"),
        common::example("quickstart/main.tf")
    );
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::FilesystemMirror);
    ws.apply();
    ws.plan_expect_empty();
    let outputs = ws.output_json();
    let account = emulators.moto().account_id();
    assert_eq!(outputs["aws_account_id"]["value"], account.as_str());
    assert_eq!(outputs["azure_tenant_id"]["value"], emulators.tenant_id());
    assert_eq!(outputs["connector_status"]["value"], "Healthy");
    let connector_id = outputs["connector_id"]["value"]
        .as_str()
        .expect("connector id");
    assert!(connector_id.ends_with(&format!("/securityConnectors/aws-{account}")));
    assert_eq!(
        emulators.connector_health(connector_id)["status"],
        "Healthy"
    );
    assert!(!emulators.moto().iam_role_names().is_empty());
    ws.destroy();
    assert!(emulators.moto().iam_role_names().is_empty());
    assert!(emulators.moto().iam_oidc_provider_arns().is_empty());
    let left: Vec<String> = emulators
        .arm_resources()
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .filter(|id| id.to_ascii_lowercase().contains("securityconnectors"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn acc_example_caller_identity_data_source() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let hcl = common::config(&common::example(
        "data-sources/multicloud_caller_identity/data-source.tf",
    ));
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::DevOverrides);
    ws.apply();
    ws.plan_expect_empty();
    assert_eq!(
        ws.output_json()["aws_account_id"]["value"],
        emulators.moto().account_id().as_str()
    );
}
