//! The benchmark of `scripts/bench.sh` in short form, on the debug build: one start-up run, one
//! plan of a handful of plan sets next to as many `null_resource`s, and the quickstart's API
//! call count. Timings on a debug build mean nothing and are not checked; what is checked is
//! that the benchmark still runs end to end and reports a number for every row, that the plan
//! of applied resources is empty (the bench fails otherwise), and that the quickstart's no-op
//! plan writes nothing to either cloud.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use acceptance_tests::{Paths, run_with_limit, skip_unless_acc};

/// Small enough for the debug build, large enough to plan more than one resource of each.
const RESOURCES: &str = "5";

fn bench(paths: &Paths, args: &[&str]) -> String {
    let bin: PathBuf = paths.target_dir.join("bench");
    paths.require(&bin, "run `cargo build --workspace --bins` first");
    let out = run_with_limit(
        Command::new(&bin)
            .args(args)
            .env("MULTICLOUD_TARGET_DIR", &paths.target_dir)
            .env("MULTICLOUD_TOOLS_DIR", &paths.tools_dir),
        Duration::from_secs(900),
    );
    assert!(out.success(), "bench {args:?} failed\n{out}");
    out.stdout
}

/// The cells of the Markdown table row whose first cell is `name`.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no row {name:?} in\n{table}"));
    line.trim_matches('|').split('|').map(str::trim).collect()
}

/// The row's cells as numbers: median and minimum of each provider, then the ratio.
fn numbers(table: &str, name: &str) -> Vec<f64> {
    row(table, name)[1..]
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.trim_end_matches('x')
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{name}: {c:?} is not a number"))
        })
        .collect()
}

#[test]
fn acc_bench_short_startup_and_plan() {
    skip_unless_acc!();
    let paths = Paths::from_env();
    let provider = paths.provider_bin();
    let provider = provider.to_string_lossy();
    let table = bench(
        &paths,
        &[
            "--runs",
            "1",
            "--plan-runs",
            "1",
            "--rss-runs",
            "1",
            "--resources",
            RESOURCES,
            "--provider",
            &provider,
        ],
    );
    for name in [
        "start to handshake (ms)",
        "peak RSS at handshake (MiB)",
        "plugin start to handshake, in Terraform's log (ms)",
        "plugin start to `GetProviderSchema` answered, in Terraform's log (ms)",
        "plugin peak RSS over that life (MiB)",
        "`terraform providers schema -json` (ms)",
        "`terraform plan`, refresh included, no changes (ms)",
        "CPU of that plan, Terraform and its provider processes (ms)",
        "provider peak RSS during plan (MiB)",
    ] {
        let cells = numbers(&table, name);
        // Median and minimum for each of the two providers, and their ratio.
        assert_eq!(cells.len(), 5, "{name}: {cells:?}");
        // A ratio may round to 0.00x; a measured time or size cannot be 0.
        assert!(
            cells.iter().all(|n| n.is_finite() && *n >= 0.0),
            "{name}: {cells:?}"
        );
        assert!(cells[..4].iter().all(|n| *n > 0.0), "{name}: {cells:?}");
    }
    assert!(
        table.contains(&format!("Refresh + plan of {RESOURCES} applied resources")),
        "{table}"
    );
}

#[test]
fn acc_bench_short_quickstart_api_calls() {
    skip_unless_acc!();
    let paths = Paths::from_env();
    let table = bench(&paths, &["--api-calls"]);
    // phase | ARM reads | ARM writes (RP registrations) | ARM changed | AWS reads | AWS writes | AWS changed
    let noop = row(&table, "no-op plan");
    assert_eq!(noop.len(), 7, "{noop:?}");
    assert_eq!(noop[2], "0 (0)", "the no-op plan wrote to ARM: {noop:?}");
    assert_eq!(noop[5], "0", "the no-op plan wrote to AWS: {noop:?}");
    assert_eq!((noop[3], noop[6]), ("0", "0"), "{noop:?}");
    let apply = row(&table, "apply");
    let aws_writes: u64 = apply[5].parse().expect("a count");
    assert!(
        aws_writes > 0,
        "the quickstart's apply wrote nothing: {apply:?}"
    );
}
