//! Running a child process to completion with captured output and a hard
//! time limit, so a hung provider fails the test instead of the whole run.

use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Captured result of one command.
#[derive(Clone)]
pub struct RunOutput {
    /// The command line, for messages.
    pub command: String,
    /// Exit code; `None` when killed by a signal or by the time limit.
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// True when the time limit killed the command.
    pub timed_out: bool,
    /// Wall time the command took.
    pub elapsed: Duration,
}

impl RunOutput {
    /// True when the command exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout followed by stderr.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.timed_out, self.code) {
            (true, _) => "killed after the time limit".to_string(),
            (false, Some(code)) => format!("exit code {code}"),
            (false, None) => "killed by a signal".to_string(),
        };
        write!(
            f,
            "`{}`: {status} after {:.1}s\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

impl fmt::Debug for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Runs `cmd` with closed stdin, capturing both streams; kills it (and its
/// process group) after `limit`. Panics only when the program cannot be
/// started at all.
pub fn run_with_limit(cmd: &mut Command, limit: Duration) -> RunOutput {
    run_with_kill_switch(cmd, limit, &|| false)
}

/// Like [`run_with_limit`], and also kills the command (SIGKILL to its whole process group, as
/// an out-of-memory killer or a lost CI runner would) as soon as `kill_now` returns true; it
/// is asked every 20 ms. `timed_out` is then true as well.
pub fn run_with_kill_switch(
    cmd: &mut Command,
    limit: Duration,
    kill_now: &dyn Fn() -> bool,
) -> RunOutput {
    let command = describe(cmd);
    let start = Instant::now();
    // Own process group, so the time limit also kills plugins it started.
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > limit || kill_now() => {
                timed_out = true;
                let _ = Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let join =
        |h: Option<thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    RunOutput {
        command,
        code: status.and_then(|s| s.code()),
        stdout: join(stdout),
        stderr: join(stderr),
        timed_out,
        elapsed: start.elapsed(),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_both_streams_and_exit_code() {
        let out = run_with_limit(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        );
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout.trim(), "out");
        assert_eq!(out.stderr.trim(), "err");
        assert!(!out.success());
    }

    #[test]
    fn kill_switch_stops_the_whole_group() {
        let asked = std::sync::atomic::AtomicU32::new(0);
        let out = run_with_kill_switch(
            Command::new("sh").args(["-c", "sleep 30 & exec sleep 30"]),
            Duration::from_secs(60),
            &|| asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 3,
        );
        assert!(out.timed_out);
        assert!(out.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn kills_commands_past_the_limit() {
        let out = run_with_limit(
            Command::new("sh").args(["-c", "sleep 30 & exec sleep 30"]),
            Duration::from_millis(200),
        );
        assert!(out.timed_out);
        assert!(out.elapsed < Duration::from_secs(10));
        assert!(out.to_string().contains("time limit"));
    }
}
