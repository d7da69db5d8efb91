//! `multicloud_caller_identity` with the real Terraform CLI against moto and the ARM emulator.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};
use serde_json::Value;

const BODY: &str = r#"
data "multicloud_caller_identity" "me" {}

output "aws_account_id" { value = data.multicloud_caller_identity.me.aws_account_id }
output "aws_arn" { value = data.multicloud_caller_identity.me.aws_arn }
output "aws_user_id" { value = data.multicloud_caller_identity.me.aws_user_id }
output "azure_tenant_id" { value = data.multicloud_caller_identity.me.azure_tenant_id }
output "azure_subscription_id" { value = data.multicloud_caller_identity.me.azure_subscription_id }
output "azure_client_id" { value = data.multicloud_caller_identity.me.azure_client_id }
output "azure_object_id" { value = data.multicloud_caller_identity.me.azure_object_id }
"#;

fn output(outputs: &Value, name: &str) -> String {
    outputs[name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("output {name} is not a string: {outputs}"))
        .to_string()
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
}

/// Checks the outputs against what the emulators know, for the Azure client `client_id`.
fn assert_identity(emulators: &Emulators, outputs: &Value, client_id: &str) {
    let account = emulators.moto().account_id();
    assert_eq!(output(outputs, "aws_account_id"), account);
    assert!(
        output(outputs, "aws_arn").starts_with(&"arn:aws:".to_string()),
        "{outputs}"
    );
    assert!(output(outputs, "aws_arn").contains(&account), "{outputs}");
    assert!(!output(outputs, "aws_user_id").is_empty());
    assert_eq!(output(outputs, "azure_tenant_id"), emulators.tenant_id());
    assert_eq!(
        output(outputs, "azure_subscription_id"),
        emulators.subscription_id()
    );
    assert_eq!(output(outputs, "azure_client_id"), client_id);
    assert!(is_guid(&output(outputs, "azure_object_id")), "{outputs}");
}

#[test]
fn acc_caller_identity_client_secret() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &common::config(BODY), Install::DevOverrides);
    ws.apply();
    ws.plan_expect_empty();
    assert_identity(&emulators, &ws.output_json(), emulators.arm_client_id());
    ws.destroy();
    // TF_LOG=TRACE carries the provider's own JSON log lines, and no secret.
    let log = std::fs::read_to_string(ws.log_path()).expect("TF_LOG_PATH file");
    assert!(
        log.contains("provider.terraform-provider-multicloud"),
        "no provider logs in TF_LOG output"
    );
    let secrets = emulators.secrets();
    ws.assert_no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn acc_caller_identity_oidc_token() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &common::config(BODY), Install::DevOverrides);
    ws.use_oidc_login(&emulators);
    ws.apply();
    ws.plan_expect_empty();
    assert_identity(&emulators, &ws.output_json(), emulators.oidc_client_id());
    let token = emulators.oidc_token();
    let mut secrets = emulators.secrets();
    secrets.push(token);
    ws.assert_no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn acc_caller_identity_oidc_token_file() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &common::config(BODY), Install::DevOverrides);
    ws.use_oidc_login(&emulators);
    // The token comes from a file (as Terraform Cloud hands it over), not the environment.
    ws.remove_env("ARM_OIDC_TOKEN");
    let token_file = ws.dir().join("oidc.jwt");
    std::fs::write(&token_file, emulators.oidc_token()).expect("write token file");
    ws.set_env("ARM_OIDC_TOKEN_FILE_PATH", &token_file.to_string_lossy());
    ws.apply();
    assert_identity(&emulators, &ws.output_json(), emulators.oidc_client_id());
}

#[test]
fn acc_caller_identity_aws_only_needs_no_azure_login() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let body = r#"
data "multicloud_caller_identity" "me" { clouds = ["aws"] }
output "aws_account_id" { value = data.multicloud_caller_identity.me.aws_account_id }
output "azure_tenant_id" { value = data.multicloud_caller_identity.me.azure_tenant_id }
"#;
    let ws = TerraformWorkspace::new(&emulators, &common::config(body), Install::DevOverrides);
    for var in [
        "ARM_TENANT_ID",
        "ARM_CLIENT_ID",
        "ARM_CLIENT_SECRET",
        "ARM_SUBSCRIPTION_ID",
    ] {
        ws.remove_env(var);
    }
    emulators.arm().clear_requests();
    ws.apply();
    let outputs = ws.output_json();
    assert_eq!(
        output(&outputs, "aws_account_id"),
        emulators.moto().account_id()
    );
    assert!(outputs["azure_tenant_id"]["value"].is_null(), "{outputs}");
    assert!(
        emulators.arm_requests().is_empty(),
        "Azure was contacted: {:?}",
        emulators.arm_requests()
    );
}

/// Installed like a user would from a registry: `terraform init` with a filesystem mirror
/// writes a lock file with the provider's checksum.
#[test]
fn acc_caller_identity_filesystem_mirror() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &common::config(BODY), Install::FilesystemMirror);
    ws.init();
    let lock = ws
        .lock_file()
        .expect("terraform init writes .terraform.lock.hcl");
    assert!(lock.contains("multicloud/multicloud"), "{lock}");
    assert!(lock.contains("h1:"), "{lock}");
    ws.apply();
    ws.plan_expect_empty();
    assert_identity(&emulators, &ws.output_json(), emulators.arm_client_id());
}
