//! Every acceptance scenario in one test binary, one module per scenario (the module names
//! are the test filters: `cargo test -p acceptance-tests --test acceptance fault_matrix`).
//! One binary links once instead of once per scenario, and the test harness runs long
//! scenarios next to short ones instead of one binary after another. The scenarios share the
//! process, so none of them may change its environment or current directory: each Terraform
//! workspace and emulator gets its own through the harness.

mod common;

mod arm_emulator_security;
mod aws_cloudformation_client;
mod aws_iam_client;
mod aws_oidc_trust;
mod aws_oidc_trust_cloudformation;
mod aws_oidc_trust_organization;
mod aws_organization;
mod aws_organization_stackset;
mod bad_input_cli;
mod bench_provider_short;
mod bench_short;
mod caller_identity;
mod classic_connector_migration;
mod cloud_apps_aws_user;
mod defender_plan_set;
mod defender_pricings;
mod examples;
mod fault_matrix;
mod moto_extension;
mod moto_extension_autodeploy;
mod moto_start;
mod multicloud_connector;
mod multicloud_connector_inventory;
mod multicloud_connector_organization;
mod onboarding_end_to_end;
mod organization_onboarding;
mod provider_config;
mod resource_provider_registration;
mod security_connector;
mod security_connector_members;
