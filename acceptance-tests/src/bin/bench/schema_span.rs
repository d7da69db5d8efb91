//! The provider's own part of `terraform providers schema -json`, as Terraform sees it: from
//! the moment Terraform starts the plugin, through the go-plugin handshake, to the
//! `GetProviderSchema` answer. Read from Terraform's own debug log, so both providers are timed
//! by the same clock in the same process, and Terraform's start-up (configuration loading, its
//! own AutoMTLS key) is left out; the provider's peak RSS over that life is sampled from `/proc`.

use std::path::Path;
use std::time::Duration;

use acceptance_tests::Paths;

use super::Subject;
use super::procfs::run_sampling_plugins;

/// Logged by Terraform just before it spawns the plugin.
const STARTING: &str = "[DEBUG] provider: starting plugin:";
/// Logged once the handshake line has been read and the protocol chosen.
const HANDSHAKE: &str = "[DEBUG] provider: using plugin:";
/// Logged by Terraform once the `GetProviderSchema` answer is decoded (neither provider
/// declares a `provider_meta` schema).
const ANSWERED: &str = "No provider meta schema returned";

/// One traced run of the span.
pub(crate) struct Span {
    /// Plugin spawned to handshake read, in milliseconds.
    pub(crate) handshake_ms: f64,
    /// Plugin spawned to schema answered, in milliseconds.
    pub(crate) schema_ms: f64,
    /// Highest `VmHWM` of the plugin process over its life, in KiB.
    pub(crate) peak_rss_kib: f64,
}

/// Runs `terraform providers schema -json` once with Terraform's debug log in `log_dir`.
pub(crate) fn measure(subject: &Subject, paths: &Paths, log_dir: &Path) -> Span {
    let log = log_dir.join(format!("{}-schema.log", subject.local_name));
    let _ = std::fs::remove_file(&log);
    let mut cmd = subject.schema_command(paths);
    // Debug, not trace: every line the span needs is at debug, and a trace-level plugin writes
    // far more log, which would be timed too.
    cmd.env("TF_LOG", "DEBUG").env("TF_LOG_PATH", &log);
    let run = run_sampling_plugins(&mut cmd, Duration::from_secs(120));
    if run.code != Some(0) || run.plugins_seen == 0 {
        super::fail(&format!(
            "traced providers schema for {} failed or started no plugin\n{}",
            subject.label, run.output
        ));
    }
    let text = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| super::fail(&format!("cannot read {}: {e}", log.display())));
    let (handshake_ms, schema_ms) = span_in(&text).unwrap_or_else(|| {
        super::fail(&format!(
            "Terraform's log for {} lacks the plugin start, handshake or schema lines",
            subject.label
        ))
    });
    Span {
        handshake_ms,
        schema_ms,
        peak_rss_kib: run.peak_plugin_kib,
    }
}

/// (start → handshake, start → schema answered) in milliseconds, from the first plugin start
/// in a Terraform log; `None` when a line is missing or out of order.
fn span_in(log: &str) -> Option<(f64, f64)> {
    let mut lines = log.lines();
    let start = stamp_of(lines.find(|l| l.contains(STARTING))?)?;
    let handshake = stamp_of(lines.find(|l| l.contains(HANDSHAKE))?)?;
    let answered = stamp_of(lines.find(|l| l.contains(ANSWERED))?)?;
    let since = |t: f64| (t - start).rem_euclid(DAY_MS);
    Some((since(handshake), since(answered)))
}

const DAY_MS: f64 = 86_400_000.0;

/// Milliseconds since midnight of a line stamped `2026-11-29T01:43:37.105Z [LEVEL] ...`
/// (Terraform's log format; a run that crosses midnight wraps, which `span_in` undoes).
fn stamp_of(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split_once('T')?.1;
    let time = time.strip_suffix('Z').unwrap_or(time);
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(((h * 60.0 + m) * 60.0 + s) * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026-11-29T01:43:36.731Z [INFO]  provider: configuring client automatic mTLS
2026-11-29T01:43:37.105Z [DEBUG] provider: starting plugin: path=p args=[p]
2026-11-29T01:43:37.105Z [DEBUG] provider: plugin started: path=p pid=1
2026-11-29T01:43:37.319Z [DEBUG] provider: using plugin: version=5
2026-11-29T01:43:37.627Z [DEBUG] No provider meta schema returned
2026-11-29T01:43:37.629Z [DEBUG] provider: plugin exited
";

    #[test]
    fn the_span_runs_from_the_plugin_start_to_the_schema_answer() {
        let (handshake, schema) = span_in(LOG).expect("span");
        assert!((handshake - 214.0).abs() < 1e-6, "{handshake}");
        assert!((schema - 522.0).abs() < 1e-6, "{schema}");
    }

    #[test]
    fn a_span_across_midnight_stays_positive() {
        let log = LOG
            .replace("01:43:37.105", "23:59:59.900")
            .replace("01:43:37.319", "00:00:00.100")
            .replace("01:43:37.627", "00:00:00.400");
        let (handshake, schema) = span_in(&log).expect("span");
        assert!((handshake - 200.0).abs() < 1e-6, "{handshake}");
        assert!((schema - 500.0).abs() < 1e-6, "{schema}");
    }

    #[test]
    fn a_log_without_the_schema_answer_gives_nothing() {
        let log = LOG.replace(ANSWERED, "something else");
        assert!(span_in(&log).is_none());
    }

    #[test]
    fn an_answer_logged_before_the_plugin_started_does_not_count() {
        let log = format!(
            "2026-11-29T01:43:30.000Z [DEBUG] {ANSWERED}\n{}",
            LOG.replace(ANSWERED, "x")
        );
        assert!(span_in(&log).is_none());
    }
}
