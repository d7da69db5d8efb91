//! Start-up benchmark: this provider next to the Go `null` provider, both
//! measured in the same run on the same machine, alternating so drift (other
//! load, CPU frequency) hits both alike. Run through `scripts/bench.sh`.
//!
//! Measures, per provider: (a) time from spawn to the go-plugin handshake
//! line and the peak RSS (VmHWM) at that point, spawning the binary directly
//! as Terraform does; (b) wall time of `terraform providers schema -json` in
//! a configuration that uses only that provider, installed from a
//! filesystem mirror.

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
    workdir: PathBuf,
    handshake_ms: Vec<f64>,
    rss_kib: Vec<f64>,
    schema_ms: Vec<f64>,
}

struct Args {
    runs: usize,
    reference_only: bool,
    provider: Option<PathBuf>,
    build_secs: Option<String>,
}

fn main() {
    let args = parse_args();
    let paths = Paths::from_env();
    paths.require_tools();
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
        ));
    }
    subjects.push(Subject::new(
        "null 2.1.2 (Go)",
        null,
        "5",
        "hashicorp/null",
        "null",
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
        eprint!(".");
    }
    eprintln!();
    report(&subjects, &args);
}

impl Subject {
    fn new(
        label: &'static str,
        binary: PathBuf,
        protocol: &'static str,
        source: &'static str,
        local_name: &'static str,
    ) -> Self {
        Self {
            label,
            binary,
            protocol,
            source,
            local_name,
            workdir: PathBuf::new(),
            handshake_ms: Vec::new(),
            rss_kib: Vec::new(),
            schema_ms: Vec::new(),
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
        write(
            &config.join("main.tf"),
            &format!(
                "terraform {{\n  required_providers {{\n    {} = {{ source = \"{}\" }}\n  }}\n}}\n",
                self.local_name, self.source
            ),
        );
        self.workdir = root;
        let out = run_with_limit(
            &mut self.terraform(paths, &["init", "-input=false", "-no-color"]),
            Duration::from_secs(120),
        );
        if !out.success() {
            fail(&format!("terraform init for {} failed\n{out}", self.label));
        }
    }

    fn terraform(&self, paths: &Paths, args: &[&str]) -> Command {
        let mut cmd = Command::new(paths.terraform());
        cmd.args(args)
            .current_dir(self.workdir.join("config"))
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
        let rss = vm_hwm_kib(child.id());
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

    fn schema(&self, paths: &Paths) -> f64 {
        let out = run_with_limit(
            &mut self.terraform(paths, &["providers", "schema", "-json"]),
            Duration::from_secs(120),
        );
        if !out.success() || !out.stdout.contains("provider_schemas") {
            fail(&format!(
                "providers schema for {} failed\n{out}",
                self.label
            ));
        }
        out.elapsed.as_secs_f64() * 1000.0
    }
}

/// Peak resident set size of a live process, from /proc.
fn vm_hwm_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(f64::NAN)
}

fn report(subjects: &[Subject], args: &Args) {
    println!(
        "## Start-up benchmark ({} runs each, alternating)\n",
        args.runs
    );
    println!("machine: {} CPUs, {}", nproc(), cpu_model());
    println!("terraform: {}\n", terraform_version());
    let mut header = String::from("| metric |");
    let mut rule = String::from("|---|");
    for s in subjects {
        header.push_str(&format!(" {} median | min |", s.label));
        rule.push_str("---:|---:|");
    }
    if subjects.len() == 2 {
        header.push_str(" ratio (medians) |");
        rule.push_str("---:|");
    }
    println!("{header}\n{rule}");
    let row = |name: &str, scale: f64, pick: &dyn Fn(&Subject) -> &[f64]| {
        let mut line = format!("| {name} |");
        let medians: Vec<f64> = subjects.iter().map(|s| median(pick(s)) * scale).collect();
        for (s, m) in subjects.iter().zip(&medians) {
            line.push_str(&format!(" {m:.1} | {:.1} |", min(pick(s)) * scale));
        }
        if let [a, b] = medians[..] {
            line.push_str(&format!(" {:.2}x |", a / b));
        }
        println!("{line}");
    };
    row("start to handshake (ms)", 1.0, &|s| &s.handshake_ms);
    row("peak RSS at handshake (MiB)", 1.0 / 1024.0, &|s| &s.rss_kib);
    row("`terraform providers schema -json` (ms)", 1.0, &|s| {
        &s.schema_ms
    });
    let sizes: Vec<f64> = subjects
        .iter()
        .map(|s| {
            std::fs::metadata(&s.binary)
                .map(|m| m.len() as f64 / 1_048_576.0)
                .unwrap_or(f64::NAN)
        })
        .collect();
    let mut line = String::from("| binary size (MiB) |");
    for size in &sizes {
        line.push_str(&format!(" {size:.1} | |"));
    }
    if let [a, b] = sizes[..] {
        line.push_str(&format!(" {:.2}x |", a / b));
    }
    println!("{line}");
    if let Some(secs) = &args.build_secs {
        println!("\n`cargo build --release` of the provider: {secs} s");
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn nproc() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn terraform_version() -> String {
    let paths = Paths::from_env();
    let out = run_with_limit(
        Command::new(paths.terraform())
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1"),
        Duration::from_secs(30),
    );
    out.stdout.lines().next().unwrap_or("unknown").to_string()
}

fn parse_args() -> Args {
    let mut args = Args {
        runs: 9,
        reference_only: false,
        provider: None,
        build_secs: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--runs" => {
                args.runs = value("--runs")
                    .parse()
                    .unwrap_or_else(|_| fail("--runs takes a number"));
            }
            "--provider" => args.provider = Some(PathBuf::from(value("--provider"))),
            "--build-secs" => args.build_secs = Some(value("--build-secs")),
            "--reference-only" => args.reference_only = true,
            "-h" | "--help" => {
                println!(
                    "usage: bench [--runs N] [--provider PATH] [--build-secs S] [--reference-only]\n\n\
                     Compares this provider with the Go null provider {NULL_PROVIDER_VERSION}.\n\
                     --reference-only measures only the null provider (a check of tools and machine)."
                );
                std::process::exit(0);
            }
            other => fail(&format!("unknown argument {other}; see --help")),
        }
    }
    if args.runs == 0 {
        fail("--runs must be at least 1");
    }
    args
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
}

fn fail(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(1)
}
