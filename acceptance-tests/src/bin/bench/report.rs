//! The printed result: Markdown tables of medians, minimums and the ratio
//! ours / `null`, ready to paste into the performance notes.

use std::process::Command;
use std::time::Duration;

use acceptance_tests::{Paths, run_with_limit};

use super::{Args, Subject};

/// Prints every table for the measurements taken.
pub(crate) fn print(subjects: &[Subject], args: &Args) {
    println!("machine: {} CPUs, {}", nproc(), cpu_model());
    println!("terraform: {}\n", terraform_version());

    // `--runs 0` measures only the plan scenario.
    if args.runs > 0 {
        println!("## Start-up ({} runs each, alternating)\n", args.runs);
        header(subjects);
        row(subjects, "start to handshake (ms)", 1.0, |s| {
            &s.handshake_ms
        });
        row(subjects, "peak RSS at handshake (MiB)", MIB, |s| &s.rss_kib);
        row(
            subjects,
            "plugin start to handshake, in Terraform's log (ms)",
            1.0,
            |s| &s.span_handshake_ms,
        );
        row(
            subjects,
            "plugin start to `GetProviderSchema` answered, in Terraform's log (ms)",
            1.0,
            |s| &s.span_schema_ms,
        );
        row(subjects, "plugin peak RSS over that life (MiB)", MIB, |s| {
            &s.span_rss_kib
        });
        row(
            subjects,
            "`terraform providers schema -json` (ms)",
            1.0,
            |s| &s.schema_ms,
        );
        binary_sizes(subjects);
    }
    if let Some(secs) = &args.build_secs {
        println!("\n`cargo build --release` of the provider: {secs} s");
    }

    if args.plan_runs > 0 {
        println!(
            "\n## Refresh + plan of {} applied resources, empty body ({} timed runs each, alternating; RSS from {} further runs)\n",
            args.resources, args.plan_runs, args.rss_runs
        );
        header(subjects);
        row(
            subjects,
            "`terraform plan`, refresh included, no changes (ms)",
            1.0,
            |s| &s.plan_ms,
        );
        row(
            subjects,
            "CPU of that plan, Terraform and its provider processes (ms)",
            1.0,
            |s| &s.plan_cpu_ms,
        );
        if args.rss_runs > 0 {
            row(subjects, "provider peak RSS during plan (MiB)", MIB, |s| {
                &s.plan_rss_kib
            });
        }
        row(
            subjects,
            &format!("`terraform apply` of {} (ms, 1 run)", args.resources),
            1.0,
            |s| &s.apply_ms,
        );
    }
}

const MIB: f64 = 1.0 / 1024.0;

fn header(subjects: &[Subject]) {
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
}

fn row(subjects: &[Subject], name: &str, scale: f64, pick: impl Fn(&Subject) -> &[f64]) {
    let mut line = format!("| {name} |");
    let medians: Vec<f64> = subjects.iter().map(|s| median(pick(s)) * scale).collect();
    for (s, m) in subjects.iter().zip(&medians) {
        line.push_str(&format!(" {m:.1} | {:.1} |", min(pick(s)) * scale));
    }
    if let [a, b] = medians[..] {
        line.push_str(&format!(" {:.2}x |", a / b));
    }
    println!("{line}");
}

fn binary_sizes(subjects: &[Subject]) {
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
