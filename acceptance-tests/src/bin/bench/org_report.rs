//! The organization benchmark's runs and printout: the main size with and without random
//! throttling, further sizes for the RSS-per-size table, Markdown tables for
//! `docs/performance.md`, and one JSON line (`ORG_BENCH_JSON {...}`) for the acceptance test
//! that runs the short form.

use std::collections::BTreeMap;

use acceptance_tests::Paths;
use serde_json::{Value, json};

use super::org::{OrgRun, Phase};
use super::org_model::Model;

/// What `bench --org` runs.
#[derive(Debug, Clone)]
pub(crate) struct OrgOptions {
    /// Member accounts of the main runs.
    pub(crate) accounts: usize,
    /// Shares of calls throttled at random, one main run each.
    pub(crate) random_throttle: Vec<f64>,
    /// Further sizes, run without random throttling, for peak RSS per size.
    pub(crate) rss_sizes: Vec<usize>,
    /// Modelled seconds of one wave of stack instances.
    pub(crate) stack_seconds: f64,
}

const MIB: f64 = 1024.0;

/// Runs everything, prints the tables and the JSON line; exits non-zero when an operation
/// failed.
pub(crate) fn run(paths: &Paths, opts: &OrgOptions) {
    let model = Model {
        stack_seconds: opts.stack_seconds,
    };
    let mut runs = Vec::new();
    for &share in &opts.random_throttle {
        runs.push(super::org::run(paths, opts.accounts, share, &model));
    }
    for &size in &opts.rss_sizes {
        if size != opts.accounts {
            runs.push(super::org::run(paths, size, 0.0, &model));
        }
    }
    print_tables(&runs, opts);
    println!("ORG_BENCH_JSON {}", to_json(&runs));
    let failures: u64 = runs
        .iter()
        .map(|r| r.apply.failures() + r.destroy.failures())
        .sum();
    if failures > 0 {
        super::fail(&format!("{failures} failed operation(s); see above"));
    }
}

fn print_tables(runs: &[OrgRun], opts: &OrgOptions) {
    println!(
        "\n## Organization scale ({} member accounts; modelled stack instance wave {} s)\n",
        opts.accounts, opts.stack_seconds
    );
    println!(
        "| accounts | random throttling | phase | wall (s) | floor (s) | floor set by | ratio | AWS calls (+ throttled) | ARM calls (+ 429) | failed operations | provider peak RSS (MiB) |"
    );
    println!("|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for r in runs {
        for (name, p) in [("apply", &r.apply), ("destroy", &r.destroy)] {
            println!(
                "| {} | {:.0}% | {name} | {:.1} | {:.1} | {} | {:.2}x | {} (+{}) | {} (+{}) | {} | {:.1} |",
                r.accounts,
                r.random_throttle * 100.0,
                p.wall_s,
                p.floor_s,
                p.floor_by,
                p.ratio(),
                p.aws_total(),
                p.aws_throttled.values().sum::<u64>(),
                p.arm_total(),
                p.arm_throttled,
                p.failures(),
                r.peak_rss_kib / MIB,
            );
        }
    }
    for r in runs.iter().filter(|r| r.accounts == opts.accounts) {
        for (name, p) in [("apply", &r.apply), ("destroy", &r.destroy)] {
            let ops: Vec<String> = p
                .operations
                .iter()
                .map(|(action, n, modelled, emulator)| {
                    format!("{action} of {n} instances: {modelled:.0} s modelled, moto {emulator:.1} s in the call")
                })
                .collect();
            println!(
                "\n{} accounts, {:.0}% random throttling, {name}: AWS [{}]; ARM [{}]; StackSet operations [{}]",
                r.accounts,
                r.random_throttle * 100.0,
                calls(&p.aws_calls, &p.aws_throttled),
                calls(&p.arm_calls, &BTreeMap::new()),
                ops.join("; "),
            );
        }
    }
    println!("\n| member accounts | provider peak RSS (MiB) |\n|---:|---:|");
    let mut sizes: Vec<&OrgRun> = runs.iter().filter(|r| r.random_throttle == 0.0).collect();
    sizes.sort_by_key(|r| r.accounts);
    for r in sizes {
        println!("| {} | {:.1} |", r.accounts, r.peak_rss_kib / MIB);
    }
}

fn calls(accepted: &BTreeMap<String, u64>, throttled: &BTreeMap<String, u64>) -> String {
    accepted
        .iter()
        .map(|(k, n)| match throttled.get(k) {
            Some(t) => format!("{k} x{n} (+{t} throttled)"),
            None => format!("{k} x{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn phase_json(p: &Phase) -> Value {
    json!({
        "wall_s": p.wall_s, "floor_s": p.floor_s, "floor_by": p.floor_by,
        "aws_calls": p.aws_calls, "aws_throttled": p.aws_throttled,
        "arm_calls": p.arm_calls, "arm_throttled": p.arm_throttled,
        "failed_results": p.failed_results, "failed_operations": p.failed_operations,
        "command_failed": p.command_failed,
    })
}

fn to_json(runs: &[OrgRun]) -> Value {
    Value::Array(
        runs.iter()
            .map(|r| {
                json!({
                    "accounts": r.accounts, "excluded": r.excluded,
                    "random_throttle": r.random_throttle,
                    "peak_rss_kib": r.peak_rss_kib,
                    "apply": phase_json(&r.apply), "destroy": phase_json(&r.destroy),
                })
            })
            .collect(),
    )
}
