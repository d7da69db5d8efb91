//! Benchmark: this provider next to the Go `null` provider, both measured in
//! the same run on the same machine, alternating so drift (other load, CPU
//! frequency) hits both alike. Run through `scripts/bench.sh`.
//!
//! Measures, per provider: (a) time from spawn to the go-plugin handshake
//! line and the peak RSS (VmHWM) at that point, spawning the binary directly
//! as Terraform does; (b) wall time of `terraform providers schema -json` in
//! a configuration that uses only that provider, installed from a
//! filesystem mirror, and from Terraform's debug log of a further run the
//! plugin's own span in it, start to handshake to schema answered (see
//! `bench/schema_span.rs`); (c) `terraform plan` (refresh included) of 200 applied
//! resources with an empty body, and the provider's peak RSS during it.
//! With `--api-calls` it instead counts the quickstart's cloud API calls per
//! phase against the emulated clouds (see `bench/api_calls.rs`); with `--org` it onboards an
//! AWS organization's management account with its member accounts against emulators that
//! enforce a rate-limit model (see `bench/org.rs`).

#[path = "bench/api_calls.rs"]
mod api_calls;
#[path = "bench/org.rs"]
mod org;
#[path = "bench/org_model.rs"]
mod org_model;
#[path = "bench/org_report.rs"]
mod org_report;
#[path = "bench/plan.rs"]
mod plan;
#[path = "bench/procfs.rs"]
mod procfs;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/schema_span.rs"]
mod schema_span;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use acceptance_tests::{
    CliConfig, Install, NULL_PROVIDER_VERSION, Paths, build_mirror, provider_version,
    run_with_limit,
};

/// go-plugin's magic cookie for Terraform providers (a public constant of
/// the plugin protocol, not a secret).
const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct Subject {
    label: &'static str,
    binary: PathBuf,
    protocol: &'static str,
    source: &'static str,
    local_name: &'static str,
    /// The resource the refresh + plan scenario declares.
    resource_type: &'static str,
    workdir: PathBuf,
    handshake_ms: Vec<f64>,
    rss_kib: Vec<f64>,
    schema_ms: Vec<f64>,
    /// From Terraform's log: plugin start to handshake, and to the schema answer.
    span_handshake_ms: Vec<f64>,
    span_schema_ms: Vec<f64>,
    /// Peak RSS of the plugin over its life during `providers schema -json`.
    span_rss_kib: Vec<f64>,
    plan_dir: PathBuf,
    apply_ms: Vec<f64>,
    plan_ms: Vec<f64>,
    /// CPU time of each timed plan: Terraform and the provider processes it started.
    plan_cpu_ms: Vec<f64>,
    plan_rss_kib: Vec<f64>,
}

struct Args {
    runs: usize,
    plan_runs: usize,
    rss_runs: usize,
    /// Resources in the refresh + plan scenario.
    resources: usize,
    api_calls: bool,
    org: Option<org_report::OrgOptions>,
    reference_only: bool,
    provider: Option<PathBuf>,
    build_secs: Option<String>,
}

fn main() {
    let args = parse_args();
    let paths = Paths::from_env();
    paths.require_tools();
    if args.api_calls {
        api_calls::run(&paths);
        return;
    }
    if let Some(opts) = &args.org {
        org_report::run(&paths, opts);
        return;
    }
    let null = paths.null_provider_bin();
    paths.require(&null, "run `scripts/tools.sh`");

    let tmp = tempfile::Builder::new()
        .prefix("multicloud-bench.")
        .tempdir()
        .unwrap_or_else(|e| fail(&format!("cannot create a temp dir: {e}")));
    let client_cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .unwrap_or_else(|e| fail(&format!("cannot generate a client certificate: {e}")))
        .cert
        .pem();

    let mut subjects = Vec::new();
    if !args.reference_only {
        let provider = args
            .provider
            .clone()
            .unwrap_or_else(|| paths.provider_bin());
        paths.require(
            &provider,
            "build it first (scripts/bench.sh builds a release binary)",
        );
        subjects.push(Subject::new(
            "multicloud (Rust)",
            provider,
            "6",
            "multicloud/multicloud",
            "multicloud",
            "multicloud_defender_plan_set",
        ));
    }
    subjects.push(Subject::new(
        "null 2.1.2 (Go)",
        null,
        "5",
        "hashicorp/null",
        "null",
        "null_resource",
    ));
    let version = provider_version(&paths);
    for s in subjects.iter_mut() {
        s.prepare(&paths, tmp.path(), &version);
    }

    eprintln!("{} runs, alternating", args.runs);
    for run in 0..args.runs {
        // Rotate who goes first every run so no one always enjoys warm caches.
        let order: Vec<usize> = (0..subjects.len())
            .map(|i| (i + run) % subjects.len())
            .collect();
        for &i in &order {
            let (ms, rss) = subjects[i].handshake(&client_cert);
            subjects[i].handshake_ms.push(ms);
            subjects[i].rss_kib.push(rss);
        }
        for &i in &order {
            let ms = subjects[i].schema(&paths);
            subjects[i].schema_ms.push(ms);
        }
        for &i in &order {
            let span = schema_span::measure(&subjects[i], &paths, tmp.path());
            subjects[i].span_handshake_ms.push(span.handshake_ms);
            subjects[i].span_schema_ms.push(span.schema_ms);
            subjects[i].span_rss_kib.push(span.peak_rss_kib);
        }
        eprint!(".");
    }
    eprintln!();
    if args.plan_runs > 0 {
        run_plans(&mut subjects, &paths, &args);
    }
    report::print(&subjects, &args);
}

/// The refresh + plan scenario: apply once each, then timed plans and
/// (separately, so sampling `/proc` cannot slow the timed runs) plans with
/// the provider's memory sampled, alternating providers run by run.
fn run_plans(subjects: &mut [Subject], paths: &Paths, args: &Args) {
    eprintln!(
        "applying {} resources per provider, then {} timed and {} sampled plans, alternating",
        args.resources, args.plan_runs, args.rss_runs
    );
    for s in subjects.iter_mut() {
        let (dir, ms) = plan::prepare(s, paths, args.resources);
        s.plan_dir = dir;
        s.apply_ms.push(ms);
    }
    let n = subjects.len();
    for run in 0..args.plan_runs {
        for i in (0..n).map(|i| (i + run) % n) {
            let (ms, cpu_ms) = plan::timed_plan(&subjects[i], paths, &subjects[i].plan_dir);
            subjects[i].plan_ms.push(ms);
            subjects[i].plan_cpu_ms.push(cpu_ms);
        }
        eprint!(".");
    }
    for run in 0..args.rss_runs {
        for i in (0..n).map(|i| (i + run) % n) {
            let kib = plan::sampled_plan(&subjects[i], paths, &subjects[i].plan_dir);
            subjects[i].plan_rss_kib.push(kib);
        }
        eprint!(".");
    }
    eprintln!();
}

impl Subject {
    fn new(
        label: &'static str,
        binary: PathBuf,
        protocol: &'static str,
        source: &'static str,
        local_name: &'static str,
        resource_type: &'static str,
    ) -> Self {
        Self {
            label,
            binary,
            protocol,
            source,
            local_name,
            resource_type,
            workdir: PathBuf::new(),
            handshake_ms: Vec::new(),
            rss_kib: Vec::new(),
            schema_ms: Vec::new(),
            span_handshake_ms: Vec::new(),
            span_schema_ms: Vec::new(),
            span_rss_kib: Vec::new(),
            plan_dir: PathBuf::new(),
            apply_ms: Vec::new(),
            plan_ms: Vec::new(),
            plan_cpu_ms: Vec::new(),
            plan_rss_kib: Vec::new(),
        }
    }

    /// The `terraform` block requiring only this provider.
    fn required_providers(&self) -> String {
        format!(
            "terraform {{\n  required_providers {{\n    {} = {{ source = \"{}\" }}\n  }}\n}}\n",
            self.local_name, self.source
        )
    }

    /// `terraform init` of one configuration directory (not measured).
    fn init(&self, paths: &Paths, dir: &Path) {
        let out = run_with_limit(
            &mut self.terraform(paths, dir, &["init", "-input=false", "-no-color"]),
            Duration::from_secs(120),
        );
        if !out.success() {
            fail(&format!("terraform init for {} failed\n{out}", self.label));
        }
    }

    /// A configuration using only this provider, initialised once from a
    /// filesystem mirror (init is not part of the measurement).
    fn prepare(&mut self, paths: &Paths, tmp: &Path, version: &str) {
        let root = tmp.join(self.local_name);
        let config = root.join("config");
        std::fs::create_dir_all(&config).unwrap_or_else(|e| fail(&e.to_string()));
        std::fs::create_dir_all(root.join("home")).unwrap_or_else(|e| fail(&e.to_string()));
        let (mirror, null_mirror) = if self.local_name == "null" {
            (root.join("unused-mirror"), Some(paths.null_mirror()))
        } else {
            let mirror = root.join("mirror");
            build_mirror(&mirror, &self.binary, version).unwrap_or_else(|e| fail(&e.to_string()));
            (mirror, None)
        };
        let cli = CliConfig {
            install: Install::FilesystemMirror,
            build_dir: paths.target_dir.clone(),
            mirror_dir: mirror,
            null_mirror,
        };
        write(&root.join("terraform.rc"), &cli.render());
        write(&config.join("main.tf"), &self.required_providers());
        self.workdir = root;
        self.init(paths, &config);
    }

    /// The Terraform CLI in configuration directory `dir`, with this
    /// subject's CLI configuration and a clean environment.
    fn terraform(&self, paths: &Paths, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(paths.terraform());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.workdir.join("home"))
            .env("TF_CLI_CONFIG_FILE", self.workdir.join("terraform.rc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1");
        cmd
    }

    /// Spawns the plugin as Terraform does and times the handshake line;
    /// returns (milliseconds, VmHWM in KiB).
    fn handshake(&self, client_cert: &str) -> (f64, f64) {
        let start = Instant::now();
        let mut child = Command::new(&self.binary)
            .env_clear()
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", self.protocol)
            .env("PLUGIN_CLIENT_CERT", client_cert)
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot start {}: {e}", self.binary.display())));
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let elapsed = start.elapsed();
        let rss = procfs::vm_hwm_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let fields: Vec<&str> = line.trim().split('|').collect();
        if fields.len() < 5 || fields[1] != self.protocol {
            fail(&format!(
                "{} printed no protocol {} handshake line: {line:?}",
                self.label, self.protocol
            ));
        }
        (elapsed.as_secs_f64() * 1000.0, rss)
    }

    /// `terraform providers schema -json` in this provider's configuration.
    fn schema_command(&self, paths: &Paths) -> Command {
        self.terraform(
            paths,
            &self.workdir.join("config"),
            &["providers", "schema", "-json"],
        )
    }

    fn schema(&self, paths: &Paths) -> f64 {
        let out = run_with_limit(&mut self.schema_command(paths), Duration::from_secs(120));
        if !out.success() || !out.stdout.contains("provider_schemas") {
            fail(&format!(
                "providers schema for {} failed\n{out}",
                self.label
            ));
        }
        out.elapsed.as_secs_f64() * 1000.0
    }
}

fn parse_args() -> Args {
    let mut args = Args {
        runs: 9,
        plan_runs: 5,
        rss_runs: 3,
        resources: plan::RESOURCES,
        api_calls: false,
        org: None,
        reference_only: false,
        provider: None,
        build_secs: None,
    };
    let count = |name: &str, text: String| -> usize {
        text.parse()
            .unwrap_or_else(|_| fail(&format!("{name} takes a number")))
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--runs" => args.runs = count("--runs", value("--runs")),
            "--plan-runs" => args.plan_runs = count("--plan-runs", value("--plan-runs")),
            "--rss-runs" => args.rss_runs = count("--rss-runs", value("--rss-runs")),
            "--resources" => args.resources = count("--resources", value("--resources")),
            "--provider" => {
                // Absolute: the filesystem mirror links to it from elsewhere.
                let path = PathBuf::from(value("--provider"));
                args.provider = Some(std::fs::canonicalize(&path).unwrap_or(path));
            }
            "--build-secs" => args.build_secs = Some(value("--build-secs")),
            "--reference-only" => args.reference_only = true,
            "--api-calls" => args.api_calls = true,
            "--org" => args.org = Some(default_org()),
            "--org-accounts" => {
                org_options(&mut args).accounts = value("--org-accounts")
                    .parse()
                    .unwrap_or_else(|_| fail("--org-accounts takes a number"));
            }
            "--org-random-throttle" => {
                org_options(&mut args).random_throttle = numbers(&value("--org-random-throttle"));
            }
            "--org-rss-sizes" => {
                org_options(&mut args).rss_sizes = numbers(&value("--org-rss-sizes"));
            }
            "--stack-seconds" => {
                org_options(&mut args).stack_seconds = value("--stack-seconds")
                    .parse()
                    .unwrap_or_else(|_| fail("--stack-seconds takes a number"));
            }
            "-h" | "--help" => {
                println!(
                    "usage: bench [--runs N] [--plan-runs N] [--rss-runs N] [--resources N] [--provider PATH] [--build-secs S] [--reference-only]\n       bench --api-calls\n       bench --org [--org-accounts N] [--org-random-throttle S,S] [--org-rss-sizes N,N] [--stack-seconds S]\n\n\
                     Compares this provider with the Go null provider {NULL_PROVIDER_VERSION}.\n\
                     --runs: start-up runs per provider (default 9; 0 skips them: only the plan scenario).\n\
                     --plan-runs: timed plans of the applied resources per provider (default 5; 0 skips the scenario).\n\
                     --rss-runs: further plans with the provider's memory sampled (default 3).\n\
                     --resources: resources in the refresh + plan scenario (default {resources}; fewer for a quick check).\n\
                     --reference-only measures only the null provider (a check of tools and machine).\n\
                     --api-calls instead counts the quickstart's cloud API calls per phase against the emulators\n\
                     (the provider and arm-emulator from MULTICLOUD_TARGET_DIR).\n\
                     --org onboards an organization's management account with N member accounts (default 1000)\n\
                     against emulators enforcing the rate-limit model, once per share of calls throttled at random\n\
                     (default 0,0.1), then at each further size (default 100,300) for peak RSS per size;\n\
                     --stack-seconds is the modelled time of one wave of stack instances (default {stack}).",
                    stack = org_model::STACK_SECONDS,
                    resources = plan::RESOURCES,
                );
                std::process::exit(0);
            }
            other => fail(&format!("unknown argument {other}; see --help")),
        }
    }
    if args.resources == 0 {
        fail("--resources must be at least 1");
    }
    args
}

fn default_org() -> org_report::OrgOptions {
    org_report::OrgOptions {
        accounts: 1000,
        random_throttle: vec![0.0, 0.1],
        rss_sizes: vec![100, 300],
        stack_seconds: org_model::STACK_SECONDS,
    }
}

/// The organization options, `--org` implied by any of its flags.
fn org_options(args: &mut Args) -> &mut org_report::OrgOptions {
    args.org.get_or_insert_with(default_org)
}

/// A comma-separated list of numbers (`""` is none).
fn numbers<T: std::str::FromStr>(list: &str) -> Vec<T> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| fail(&format!("{s:?} is not a number")))
        })
        .collect()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

fn fail(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(1)
}
