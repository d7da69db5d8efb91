//! Refresh + plan at scale: a configuration of `--resources` resources of one
//! provider, applied once, then `terraform plan` (which refreshes every
//! resource through the provider) timed run by run, alternating providers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use acceptance_tests::{Paths, run_with_limit};

use super::Subject;
use super::procfs::{reaped_children_cpu_ms, run_sampling_plugins};

/// Resources in the configuration by default, as the benchmark asks.
pub(crate) const RESOURCES: usize = 200;

/// Generous: 200 resources take seconds, not minutes.
const LIMIT: Duration = Duration::from_secs(600);

/// The configuration: `resources` copies of the subject's resource with an
/// empty body, so the provider's own work per resource is what differs.
fn config(subject: &Subject, resources: usize) -> String {
    format!(
        "{}\nresource \"{}\" \"bench\" {{\n  count = {resources}\n}}\n",
        subject.required_providers(),
        subject.resource_type
    )
}

/// Writes the configuration next to the subject's other ones, initialises
/// it and applies it once; returns the directory and the apply's wall time
/// in milliseconds (one run, reported for scale, not compared as a median).
pub(crate) fn prepare(subject: &Subject, paths: &Paths, resources: usize) -> (PathBuf, f64) {
    let dir = subject.workdir.join("plan");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| super::fail(&e.to_string()));
    super::write(&dir.join("main.tf"), &config(subject, resources));
    subject.init(paths, &dir);
    let out = run_with_limit(
        &mut subject.terraform(
            paths,
            &dir,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        ),
        LIMIT,
    );
    if !out.success() {
        super::fail(&format!(
            "applying {resources} resources with {} failed\n{out}",
            subject.label
        ));
    }
    (dir, out.elapsed.as_secs_f64() * 1000.0)
}

fn plan_args() -> [&'static str; 5] {
    // Exit code 0 with -detailed-exitcode: refreshed, and nothing to change.
    [
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        "-lock=false",
    ]
}

/// One timed `terraform plan`; fails the bench unless it plans no change. Returns the wall
/// time and the CPU time (user + system) of Terraform and the provider processes it started,
/// both in milliseconds.
pub(crate) fn timed_plan(subject: &Subject, paths: &Paths, dir: &Path) -> (f64, f64) {
    let cpu_before = reaped_children_cpu_ms();
    let out = run_with_limit(&mut subject.terraform(paths, dir, &plan_args()), LIMIT);
    let cpu = reaped_children_cpu_ms() - cpu_before;
    if out.code != Some(0) {
        super::fail(&format!(
            "plan of the applied resources with {} was not empty\n{out}",
            subject.label
        ));
    }
    (out.elapsed.as_secs_f64() * 1000.0, cpu)
}

/// One untimed `terraform plan` with the provider's memory sampled; returns
/// the peak `VmHWM` in KiB over the provider processes Terraform started.
pub(crate) fn sampled_plan(subject: &Subject, paths: &Paths, dir: &Path) -> f64 {
    let run = run_sampling_plugins(&mut subject.terraform(paths, dir, &plan_args()), LIMIT);
    if run.code != Some(0) {
        super::fail(&format!(
            "plan of the applied resources with {} was not empty\n{}",
            subject.label, run.output
        ));
    }
    if run.plugins_seen == 0 {
        super::fail(&format!(
            "no provider process of {} was seen during plan: sampling too slow?",
            subject.label
        ));
    }
    run.peak_plugin_kib
}
