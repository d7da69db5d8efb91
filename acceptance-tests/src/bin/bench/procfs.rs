//! Memory of running processes, read from `/proc`: the peak resident set of
//! one process, and the peak over the plugin processes a Terraform command
//! starts (Terraform may start a provider more than once per command).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often the plugin children of a running command are looked up.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// Peak resident set size (`VmHWM`) of a live process in KiB; NaN when the
/// process is gone (or a zombie, which has no memory left to report).
pub(crate) fn vm_hwm_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(f64::NAN)
}

/// Parent pid of a process, from `/proc/<pid>/stat` (the field after the
/// command name, which may itself hold spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The kernel's 15-character command name of every provider plugin (`terraform-provider-*`).
/// Plugins are found by it at any depth below a `terraform` command: Terraform runs itself again
/// as a child (to report its own crashes), so the plugins are its grandchildren, and that inner
/// `terraform` must not be taken for a plugin.
pub(crate) const PLUGIN_COMM: &str = "terraform-provi";

/// Live processes under `ancestor` (at any depth) whose command name starts with `prefix`
/// (the kernel keeps 15 characters of it).
pub(crate) fn descendants_named(ancestor: u32, prefix: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with(prefix))
        })
        .filter(|&pid| {
            let mut p = pid;
            // Bounded: a parent chain is short, and a racing exit could make it loop on 0.
            for _ in 0..64 {
                match parent_of(p) {
                    Some(q) if q == ancestor => return true,
                    Some(q) if q > 1 => p = q,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// CPU time (user + system, in milliseconds) of every child of this process that has been
/// waited for, and of their waited-for descendants: the `cutime` and `cstime` fields of
/// `/proc/self/stat`. The difference across one Terraform command is the CPU that command and
/// the plugins it started and reaped used, which, unlike wall time, does not grow when other
/// work on the machine delays it. NaN when `/proc` cannot be read.
pub(crate) fn reaped_children_cpu_ms() -> f64 {
    // Asked first: the first call runs `getconf`, a child whose CPU must not land between two
    // readings.
    let per_sec = clock_ticks_per_sec();
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| children_cpu_ticks(&stat))
        .map_or(f64::NAN, |ticks| ticks as f64 * 1000.0 / per_sec)
}

/// `cutime + cstime` from the text of a `/proc/<pid>/stat` file, in clock ticks. They are the
/// 16th and 17th fields; the command name (2nd) may hold spaces and parentheses, so fields are
/// counted from the last `)`.
fn children_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(13);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// The kernel's clock ticks per second for `/proc` times (`getconf CLK_TCK`), 100 when it
/// cannot be asked (the value on every common Linux configuration).
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// Outcome of [`run_sampling_plugins`].
pub(crate) struct Sampled {
    /// Exit code of the command (`None` when killed).
    pub(crate) code: Option<i32>,
    /// stdout and stderr, for failure messages.
    pub(crate) output: String,
    /// Highest `VmHWM` seen in any provider plugin the command started, in KiB.
    pub(crate) peak_plugin_kib: f64,
    /// How many distinct plugin processes were seen.
    pub(crate) plugins_seen: usize,
}

/// Runs `cmd` to completion, polling `/proc` every couple of milliseconds
/// for the provider plugins it starts (at any depth, see [`PLUGIN_COMM`]) and keeping the
/// highest `VmHWM` each reached. `VmHWM` is the kernel's own high-water
/// mark, so a sample taken any time after a peak sees it; only growth in
/// the last interval before a child exits can be missed. Killed after
/// `limit`.
pub(crate) fn run_sampling_plugins(cmd: &mut Command, limit: Duration) -> Sampled {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| super::fail(&format!("cannot start {cmd:?}: {e}")));
    let pid = child.id();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut peaks: BTreeMap<u32, f64> = BTreeMap::new();
    let status = loop {
        for c in descendants_named(pid, PLUGIN_COMM) {
            let hwm = vm_hwm_kib(c);
            if !hwm.is_nan() {
                let peak = peaks.entry(c).or_insert(0.0);
                *peak = peak.max(hwm);
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(SAMPLE_EVERY),
            Err(_) => break None,
        }
    };
    let output = format!(
        "{}\n{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    Sampled {
        code: status.and_then(|s| s.code()),
        output,
        peak_plugin_kib: peaks.values().copied().fold(f64::NAN, f64::max),
        plugins_seen: peaks.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_cpu_is_read_after_a_command_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime ...
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194304 10 20 0 0 7 8 150 25 20 0 1 0";
        assert_eq!(children_cpu_ticks(stat), Some(175));
    }

    #[test]
    fn a_truncated_stat_line_gives_nothing() {
        assert_eq!(
            children_cpu_ticks("4242 (x) S 1 4242 4242 0 -1 0 1 2 3 4 5 6 7"),
            None
        );
        assert_eq!(children_cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn waited_for_children_count_towards_this_process() {
        let before = reaped_children_cpu_ms();
        // A child that burns some CPU, then is reaped by `status()`.
        let status = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh runs");
        assert!(status.success());
        let after = reaped_children_cpu_ms();
        assert!(before.is_finite() && after.is_finite());
        assert!(after > before, "before {before} ms, after {after} ms");
    }
}
