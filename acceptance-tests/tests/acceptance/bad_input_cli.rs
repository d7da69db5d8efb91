//! A slice of the bad-input corpus (`tests/bad_input/cases/` at the repository root, driven
//! in-process there) through the real Terraform CLI: `terraform validate` and `plan` must show
//! the provider's error with the offending line of configuration, which is how users see the
//! attribute path, and the fix. Nothing is created: the emulators only serve the provider block.

use crate::common;

use acceptance_tests::{Emulators, Install, TerraformWorkspace, skip_unless_acc};

/// (command, configuration, the line Terraform must quote, a fragment of the fix).
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "validate",
        r#"resource "multicloud_security_connector" "bad" {
  name                = "aws-prod"
  resource_group_name = "rg-defender"
  location            = "usgovvirginia"
  aws_account_id      = "123456789012"
  offerings           = "[]"
}"#,
        r#"location = "usgovvirginia""#,
        "choose a commercial region",
    ),
    (
        "validate",
        r#"resource "multicloud_security_connector" "bad" {
  name                = "aws-prod"
  resource_group_name = "rg-defender"
  location            = "westeurope"
  aws_account_id      = "12345678901"
  offerings           = "[]"
}"#,
        r#"aws_account_id = "12345678901""#,
        "exactly 12 digits",
    ),
    (
        "validate",
        r#"resource "multicloud_connector" "bad" {
  name                = "aws-inventory"
  resource_group_name = "rg-arc"
  location            = "westeurope"
  aws_account_id      = "123456789012"
  inventory {
    sync_interval_hours = 25
  }
}"#,
        "sync_interval_hours = 25",
        "from 1 to 24",
    ),
    (
        "validate",
        r#"resource "multicloud_defender_plan_set" "bad" {
  servers {
    plan = "P3"
  }
}"#,
        r#"plan = "P3""#,
        "is not one of",
    ),
    (
        "validate",
        r#"resource "multicloud_defender_plan_set" "bad" {
  containers {
    audit_log_retention_days = 0
  }
}"#,
        "audit_log_retention_days = 0",
        "between 1 and 3650",
    ),
    (
        "validate",
        r#"resource "multicloud_resource_provider_registration" "bad" {
  namespace = "Security"
}"#,
        r#"namespace = "Security""#,
        "Microsoft.Security",
    ),
    (
        "validate",
        r#"resource "multicloud_cloud_apps_aws_user" "bad" {
  user_name = "cloud apps"
}"#,
        r#"user_name = "cloud apps""#,
        "1 to 64 letters",
    ),
    (
        "validate",
        r#"resource "multicloud_classic_connector_migration" "bad" {
  classic_connector_id  = "aws-legacy"
  security_connector_id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Security/securityConnectors/aws"
}"#,
        r#"classic_connector_id = "aws-legacy""#,
        "Microsoft.Security/connectors/<name>",
    ),
    (
        "validate",
        r#"data "multicloud_security_connector_status" "bad" {
  security_connector_id = "aws-prod"
}"#,
        r#"security_connector_id = "aws-prod""#,
        "securityConnectors/<name>",
    ),
    (
        "validate",
        r#"data "multicloud_aws_organization" "bad" {
  parent_id = "123456789012"
}"#,
        r#"parent_id = "123456789012""#,
        "r-xxxx",
    ),
    (
        "plan",
        r#"resource "multicloud_aws_oidc_trust" "bad" {
  tenant_id  = "11111111-2222-3333-4444-555555555555"
  deployment = "terraform"
  roles      = []
}"#,
        r#"deployment = "terraform""#,
        "use \"iam\" or \"cloudformation\"",
    ),
];

/// Diagnostic framing and line wrapping removed, whitespace runs collapsed.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn acc_bad_input_errors_quote_the_attribute_and_the_fix() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let ws = TerraformWorkspace::new(&emulators, &common::config(""), Install::DevOverrides);
    let mut failures = Vec::new();
    for (command, body, line, fix) in CASES {
        ws.write_config(&common::config(body));
        // `validate` takes no `-input`.
        let out = if *command == "validate" {
            ws.run(&[command, "-no-color"])
        } else {
            ws.run(&[command, "-no-color", "-input=false"])
        };
        let text = flat(&out.combined());
        let ok = !out.success()
            && text.contains(&flat(line))
            && text.contains(&flat(fix))
            && !text.contains("panicked")
            && !text.contains("plugin crashed");
        if !ok {
            failures.push(format!("terraform {command} of\n{body}\n---\n{out}"));
        }
    }
    println!("bad input through the Terraform CLI: {} cases", CASES.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
