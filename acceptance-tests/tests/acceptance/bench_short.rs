//! The organization benchmark in short form, as CI runs it: `bench --org` at 50 member
//! accounts, with the rate-limit model enforced by both emulators and a short modelled stack
//! time. Timing is not asserted (the machine decides it); what is: no operation failed, and the
//! calls by kind are what onboarding an organization needs, whatever its size: one StackSet,
//! one deployment operation and one removal, one management stack, one connector written and
//! deleted, and no walk of the organization (a few calls whatever its size, plus one per
//! excluded account in each plan).

// Test code: a failed call should fail the test with its error, which unwrap prints.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use acceptance_tests::{Paths, run_with_limit, skip_unless_acc};
use serde_json::Value;

const ACCOUNTS: u64 = 50;
/// Members the benchmark's trust excludes.
const EXCLUDED: u64 = 2;

fn count(calls: &Value, key: &str) -> u64 {
    calls[key].as_u64().unwrap_or(0)
}

/// Sum of the calls whose key starts with `prefix`.
fn count_prefix(calls: &Value, prefix: &str) -> u64 {
    calls
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, n)| n.as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn acc_bench_org_short() {
    skip_unless_acc!();
    let paths = Paths::from_env();
    let bench = paths.target_dir.join("bench");
    paths.require(&bench, "run `cargo build --workspace --bins`");
    let out = run_with_limit(
        Command::new(&bench).args([
            "--org-accounts",
            &ACCOUNTS.to_string(),
            "--org-random-throttle",
            "0",
            "--org-rss-sizes",
            "",
            "--stack-seconds",
            "2",
        ]),
        Duration::from_secs(300),
    );
    assert!(out.success(), "{out}");
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ORG_BENCH_JSON "))
        .unwrap_or_else(|| panic!("no ORG_BENCH_JSON line\n{out}"));
    let runs: Value = serde_json::from_str(line).unwrap();
    let run = &runs[0];
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(run["accounts"], ACCOUNTS);
    assert_eq!(run["excluded"], EXCLUDED);
    for phase in ["apply", "destroy"] {
        let p = &run[phase];
        assert_eq!(p["command_failed"], false, "{phase}: {p}");
        assert_eq!(p["failed_results"], 0, "{phase}: {p}");
        assert_eq!(p["failed_operations"], 0, "{phase}: {p}");
        assert!(p["floor_s"].as_f64().unwrap() > 0.0, "{phase}: {p}");
        assert!(
            p["wall_s"].as_f64().unwrap() >= p["floor_s"].as_f64().unwrap(),
            "{phase} beat the modelled floor: {p}"
        );
    }
    assert!(run["peak_rss_kib"].as_f64().unwrap() > 0.0, "{run}");

    let apply = &run["apply"]["aws_calls"];
    assert_eq!(count(apply, "cloudformation:CreateStackSet"), 1, "{apply}");
    assert_eq!(
        count(apply, "cloudformation:CreateStackInstances"),
        1,
        "{apply}"
    );
    assert_eq!(count(apply, "cloudformation:CreateStack"), 1, "{apply}");
    assert_eq!(
        count(apply, "cloudformation:DeleteStackInstances"),
        0,
        "{apply}"
    );
    assert_eq!(count(apply, "cloudformation:UpdateStackSet"), 0, "{apply}");
    // The organization is never walked: the plan and the apply's re-plan check trusted
    // access (one call each) and that each excluded account is a member (one call per id
    // each), the create checks trusted access again before creating anything and reads the
    // root it targets; CloudFormation resolves the accounts.
    for (action, n) in [
        ("ListAWSServiceAccessForOrganization", 3),
        ("DescribeAccount", 2 * EXCLUDED),
        ("ListRoots", 1),
        ("ListAccountsForParent", 0),
        ("ListOrganizationalUnitsForParent", 0),
        ("DescribeOrganization", 0),
    ] {
        assert_eq!(
            count(apply, &format!("organizations:{action}")),
            n,
            "{action}: {apply}"
        );
    }
    assert_eq!(
        count_prefix(apply, "organizations:"),
        4 + 2 * EXCLUDED,
        "{apply}"
    );
    let arm = &run["apply"]["arm_calls"];
    assert_eq!(
        count(arm, "PUT Microsoft.Security/securityConnectors"),
        1,
        "{arm}"
    );

    let destroy = &run["destroy"]["aws_calls"];
    assert_eq!(
        count(destroy, "cloudformation:DeleteStackInstances"),
        1,
        "{destroy}"
    );
    assert_eq!(
        count(destroy, "cloudformation:DeleteStackSet"),
        1,
        "{destroy}"
    );
    assert_eq!(count(destroy, "cloudformation:DeleteStack"), 1, "{destroy}");
    assert_eq!(
        count(destroy, "cloudformation:CreateStackSet"),
        0,
        "{destroy}"
    );
    // Neither the refresh before destroy nor the delete reads the organization: the
    // instances to delete are listed from the StackSet. The one `ListAccounts` is the ARM
    // emulator's (the member connectors Defender keeps), not the provider's.
    assert_eq!(
        count_prefix(destroy, "organizations:") - count(destroy, "organizations:ListAccounts"),
        0,
        "{destroy}"
    );
    let arm = &run["destroy"]["arm_calls"];
    assert_eq!(
        count(arm, "DELETE Microsoft.Security/securityConnectors"),
        1,
        "{arm}"
    );
}
