//! `multicloud_aws_organization` with the real Terraform CLI against moto: an organization
//! with nested OUs read whole and by subtree, trusted access seen turning on, and the same
//! data source over 1,000 accounts with the apply timed.

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Instant;

use crate::common::organization::{create_account_in, create_ou};
use acceptance_tests::{Emulators, Install, Moto, TerraformWorkspace, skip_unless_acc};
use serde_json::Value;
use terraform_provider_multicloud::aws::{AwsClients, AwsConfig, AwsEndpoints};
use terraform_provider_multicloud::secret::Secret;

/// Organizations larger than this are seeded through the moto extension in one request.
const SEED_ABOVE: usize = 50;

const BODY: &str = r#"
variable "parent_id" {
  type    = string
  default = null
}

data "multicloud_aws_organization" "org" {}

data "multicloud_aws_organization" "sub" {
  parent_id        = var.parent_id
  account_statuses = ["ACTIVE"]
}

output "org" { value = data.multicloud_aws_organization.org }
output "sub" { value = data.multicloud_aws_organization.sub }
"#;

/// An organization in moto's default account: root > prod > prod-eu, root > dev, with
/// `accounts` members spread over the root and the three OUs (member `n` in parent `n % 4`).
/// Small organizations are built with CreateAccount + MoveAccount as a user would; large ones
/// are seeded in one request through the moto extension. Returns the id of prod.
fn organization(moto: &Moto, rt: &tokio::runtime::Runtime, accounts: usize) -> String {
    let (orgs, parents) = rt.block_on(async {
        let config = AwsConfig {
            region: Some("us-east-1".into()),
            access_key: Some("AKIAORGSDATASOURCE".into()),
            secret_key: Some(Secret::new("orgs-data-source-secret")),
            endpoints: AwsEndpoints {
                organizations: Some(moto.url().to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        let orgs = AwsClients::new(&config).await.unwrap().organizations();
        orgs.sdk().create_organization().send().await.unwrap();
        let root = orgs.root().await.unwrap().id;
        let prod = create_ou(&orgs, &root, "prod").await;
        let prod_eu = create_ou(&orgs, &prod, "prod-eu").await;
        let dev = create_ou(&orgs, &root, "dev").await;
        (orgs, [root, prod, prod_eu, dev])
    });
    if accounts > SEED_ABOVE {
        let parent_ids: Vec<&str> = parents.iter().map(String::as_str).collect();
        let seeded = moto.seed_accounts(accounts, &parent_ids);
        assert_eq!(seeded.accounts.len(), accounts);
        return parents[1].clone();
    }
    rt.block_on(async {
        let root = &parents[0];
        for n in 0..accounts {
            let parent = &parents[n % parents.len()];
            create_account_in(&orgs, root, parent, &format!("member-{n}")).await;
        }
    });
    parents[1].clone()
}

fn enable_trusted_access(moto_url: &str, rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let config = AwsConfig {
            region: Some("us-east-1".into()),
            access_key: Some("AKIAORGSDATASOURCE".into()),
            secret_key: Some(Secret::new("orgs-data-source-secret")),
            endpoints: AwsEndpoints {
                organizations: Some(moto_url.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        let orgs = AwsClients::new(&config).await.unwrap().organizations();
        orgs.enable_stacksets_trusted_access().await.unwrap();
    });
}

fn list_len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

#[test]
fn acc_aws_organization_data_source() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let prod = organization(emulators.moto(), &rt, 24);
    let ws = TerraformWorkspace::new(&emulators, &common::config(BODY), Install::DevOverrides);
    ws.set_env("TF_VAR_parent_id", &prod);
    ws.apply();
    let out = ws.output_json();
    let org = &out["org"]["value"];
    let management = emulators.moto().account_id();
    assert_eq!(org["management_account_id"], management.as_str(), "{org}");
    assert!(org["id"].as_str().unwrap().starts_with("o-"), "{org}");
    assert!(org["root_id"].as_str().unwrap().starts_with("r-"), "{org}");
    assert_eq!(org["feature_set"], "ALL");
    assert_eq!(org["stacksets_trusted_access"], false);
    assert_eq!(list_len(&org["organizational_units"]), 3, "{org}");
    assert_eq!(list_len(&org["accounts"]), 25, "{org}");
    assert_eq!(list_len(&org["member_account_ids"]), 24, "{org}");
    assert!(
        !org["member_account_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == management.as_str())
    );
    let prod_eu = org["organizational_units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "prod-eu")
        .unwrap();
    assert_eq!(prod_eu["parent_id"], prod.as_str());
    // prod and prod-eu hold members 1, 2, 5, 6, ... (two of every four).
    let sub = &out["sub"]["value"];
    assert_eq!(list_len(&sub["organizational_units"]), 1, "{sub}");
    assert_eq!(list_len(&sub["accounts"]), 12, "{sub}");
    assert!(
        sub["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "ACTIVE")
    );

    enable_trusted_access(emulators.moto_url(), &rt);
    ws.apply();
    let out = ws.output_json();
    assert_eq!(out["org"]["value"]["stacksets_trusted_access"], true);
    ws.destroy();
}

#[test]
fn acc_aws_organization_data_source_errors() {
    skip_unless_acc!();
    let emulators = Emulators::start();
    // No organization at all: the error says which credentials are needed.
    let ws = TerraformWorkspace::new(
        &emulators,
        &common::config("data \"multicloud_aws_organization\" \"org\" {}\n"),
        Install::DevOverrides,
    );
    ws.apply_expect_error("Cannot read the AWS organization.*management account");
    // A malformed parent id fails at plan time, naming the attribute.
    let ws = TerraformWorkspace::new(
        &emulators,
        &common::config(
            "data \"multicloud_aws_organization\" \"org\" {\n  parent_id = \"123\"\n}\n",
        ),
        Install::DevOverrides,
    );
    ws.apply_expect_error("Invalid parent_id");
}

/// The data source over 1,000 member accounts in four parents: the real Terraform CLI reads
/// the whole organization; prints the accounts, the Organizations calls and pages, and the
/// wall time.
#[test]
fn acc_aws_organization_data_source_1000_accounts() {
    skip_unless_acc!();
    const ACCOUNTS: usize = 1000;
    let emulators = Emulators::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    organization(emulators.moto(), &rt, ACCOUNTS);
    let seeded = started.elapsed();
    let ws = TerraformWorkspace::new(
        &emulators,
        &common::config(
            "data \"multicloud_aws_organization\" \"org\" {}\noutput \"n\" { value = length(data.multicloud_aws_organization.org.member_account_ids) }\n",
        ),
        Install::DevOverrides,
    );
    emulators.moto().reset_calls();
    let started = Instant::now();
    ws.apply();
    let applied = started.elapsed();
    let calls = organizations_calls(emulators.moto());
    let total: u64 = calls.values().sum();
    println!(
        "organization scale: {ACCOUNTS} member accounts seeded in {:.2} s; terraform apply reading \
         them through multicloud_aws_organization: {:.2} s wall, {total} Organizations calls {calls:?}",
        seeded.as_secs_f64(),
        applied.as_secs_f64(),
    );
    assert_eq!(ws.output_json()["n"]["value"], ACCOUNTS);
    // One read: four parents (root, prod, prod-eu, dev) hold 250 accounts each, 13 pages of
    // at most 20; every parent's OU list fits one page.
    let pages = |kind: &str| calls.get(kind).copied().unwrap_or(0);
    assert_eq!(pages("ListAccountsForParent"), 4 * 13, "{calls:?}");
    assert_eq!(pages("ListOrganizationalUnitsForParent"), 4, "{calls:?}");
}

/// Organizations calls received by moto, by action.
fn organizations_calls(moto: &Moto) -> std::collections::BTreeMap<String, u64> {
    moto.calls()
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("organizations:")?.to_owned(), v.as_u64()?)))
        .collect()
}
