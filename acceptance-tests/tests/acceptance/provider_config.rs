//! Bad provider configurations end in a Terraform error that names the attribute or variable
//! and the fix: never a panic, never a hang, never the secret.

use crate::common;

use std::time::{Duration, Instant};

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

const BODY: &str = r#"
data "multicloud_caller_identity" "me" { clouds = ["azure"] }
"#;

/// Unreachable or misconfigured endpoints must fail fast, not after minutes of retries.
const FAIL_FAST: Duration = Duration::from_secs(60);

fn workspace(emulators: &Emulators, body: &str) -> TerraformWorkspace {
    TerraformWorkspace::new(emulators, &common::config(body), Install::DevOverrides)
}

fn assert_no_panic(out: &acceptance_tests::RunOutput) {
    let text = out.combined();
    assert!(!text.contains("panicked"), "the provider panicked:\n{text}");
    assert!(
        !text.contains("plugin crashed"),
        "the provider crashed:\n{text}"
    );
}

#[test]
fn acc_provider_missing_tenant() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = workspace(&emulators, BODY);
    ws.remove_env("ARM_TENANT_ID");
    let out = ws.apply_expect_error(r"azure\.tenant_id is not set.*ARM_TENANT_ID");
    assert_no_panic(&out);
}

#[test]
fn acc_provider_wrong_client_secret() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = workspace(&emulators, BODY);
    let wrong = "wrong-secret-8f3a1c77d2";
    ws.set_env("ARM_CLIENT_SECRET", wrong);
    let out = ws.apply_expect_error(r"AADSTS7000215");
    assert_no_panic(&out);
    let mut secrets = emulators.secrets();
    secrets.push(wrong.to_owned());
    ws.assert_no_secrets(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn acc_provider_unreachable_endpoint() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = workspace(&emulators, BODY);
    // A loopback port nobody listens on: the connection is refused at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("https://127.0.0.1:{closed}/");
    ws.set_env("TF_VAR_azure_active_directory_endpoint", &url);
    let started = Instant::now();
    let out = ws.apply_expect_error(&format!(r"127\.0\.0\.1:{closed}"));
    assert!(
        started.elapsed() < FAIL_FAST,
        "took {:?}",
        started.elapsed()
    );
    assert_no_panic(&out);
}

#[test]
fn acc_provider_untrusted_certificate_fails_fast_with_the_cause() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let body = BODY.to_owned();
    let ws = workspace(&emulators, &body);
    // Without the emulator's CA the TLS handshake fails: say so, do not retry for a minute.
    let ca_path = ws.dir().join("other-ca.pem");
    std::fs::write(&ca_path, other_ca()).expect("write CA");
    ws.set_env("TF_VAR_azure_ca_cert_file", &ca_path.to_string_lossy());
    let started = Instant::now();
    let out =
        ws.apply_expect_error(r"invalid peer certificate: UnknownIssuer.*azure\.ca_cert_file");
    assert!(
        started.elapsed() < FAIL_FAST,
        "took {:?}",
        started.elapsed()
    );
    assert_no_panic(&out);
}

#[test]
fn acc_provider_plan_time_validation_names_the_attribute() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let cases = [
        (
            "azure {\n tenant_id = \"not-a-guid\"\n }",
            r#"Invalid azure\.tenant_id.*"not-a-guid" is not a GUID"#,
        ),
        (
            "aws {\n region = \"useast1\"\n }",
            r#"Invalid aws\.region.*"useast1" is not an AWS region name; expected something like us-east-1"#,
        ),
        (
            "azure {\n endpoints {\n resource_manager = \"http://management.azure.com/\"\n }\n }",
            r#"Invalid azure\.endpoints\.resource_manager.*is not an https URL"#,
        ),
        (
            "aws {\n access_key = \"AKIAEXAMPLE\"\n }",
            r"Incomplete AWS access key.*aws\.secret_key",
        ),
        (
            "aws {\n assume_role {\n role_arn = \"arn:aws:iam::123:role/x\"\n }\n }",
            r"Invalid aws\.assume_role\.role_arn.*is not an IAM role ARN",
        ),
    ];
    for (provider, expected) in cases {
        let body = format!(
            "provider \"multicloud\" {{\n alias = \"bad\"\n {provider}\n}}\n\
             data \"multicloud_caller_identity\" \"bad\" {{\n provider = multicloud.bad\n}}\n"
        );
        let ws = workspace(&emulators, &body);
        emulators.arm().clear_requests();
        let out = ws.apply_expect_error(expected);
        assert_no_panic(&out);
        assert!(
            emulators.arm_requests().is_empty(),
            "validation must not call Azure: {:?}",
            emulators.arm_requests()
        );
    }
}

#[test]
fn acc_provider_sovereign_cloud_rejected_with_reason() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = workspace(&emulators, BODY);
    ws.set_env(
        "TF_VAR_azure_resource_manager_endpoint",
        "https://management.usgovcloudapi.net/",
    );
    let out = ws.apply_expect_error(
        r"sovereign clouds are not supported by Defender for Cloud multicloud connectors",
    );
    assert_no_panic(&out);
}

/// A freshly made CA that signed nothing the emulator serves.
fn other_ca() -> String {
    rcgen::generate_simple_self_signed(vec!["other-ca.invalid".to_owned()])
        .expect("generate a CA")
        .cert
        .pem()
}
