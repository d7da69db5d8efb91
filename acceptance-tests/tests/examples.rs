//! Every example in `examples/` that can run against the emulated clouds is applied here with
//! the real Terraform CLI, so the documentation cannot show HCL that does not work.

mod common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

#[test]
fn acc_example_quickstart() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let hcl = format!(
        "{}\n{}",
        common::example("quickstart/providers.tf"),
        common::example("quickstart/main.tf")
    );
    let ws = TerraformWorkspace::new(&emulators, &hcl, Install::FilesystemMirror);
    ws.apply();
    ws.plan_expect_empty();
    let outputs = ws.output_json();
    assert_eq!(
        outputs["aws_account_id"]["value"],
        emulators.moto().account_id().as_str()
    );
    assert_eq!(outputs["azure_tenant_id"]["value"], emulators.tenant_id());
    assert_eq!(outputs["security_registration"]["value"], "Registered");
    ws.destroy();
    assert_eq!(
        emulators.arm().provider_state("Microsoft.Security"),
        "NotRegistered"
    );
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
