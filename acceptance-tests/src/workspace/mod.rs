//! A Terraform working directory for one test: its configuration, its own CLI
//! config, home directory and TRACE log, and the CLI steps a user runs, each
//! failing the test with the full output when Terraform does not behave.
//!
//! This file holds the workspace itself (set-up, environment, running the CLI, the scan on
//! drop); the steps a test calls are in `steps`, the secret scan in `secret_scan`, and the
//! pure helpers they use in `state_lookup` and `error_match`.

mod error_match;
mod secret_scan;
mod state_lookup;
mod steps;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::cli_config::{CliConfig, Install, build_mirror};
use crate::emulators::Emulators;
use crate::paths::{Paths, provider_version};
use crate::process::{RunOutput, run_with_kill_switch};

/// Default limit for one CLI command; `MULTICLOUD_TF_TIMEOUT_SECS` overrides.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// A temp directory holding a Terraform configuration, driven by the real CLI.
/// Kept on disk (path printed) when the test panics, for its logs and state.
pub struct TerraformWorkspace {
    paths: Paths,
    dir: Option<TempDir>,
    root: PathBuf,
    install: Install,
    env: Mutex<BTreeMap<String, String>>,
    outputs: Mutex<Vec<RunOutput>>,
    timeout: Duration,
    /// Secrets the harness handed to Terraform (emulator credentials, OIDC tokens) and any a
    /// test added: they must appear nowhere, state included.
    secrets: Mutex<Vec<String>>,
    /// Sensitive values seen in state (keys a resource created): state and the commands that
    /// print state on purpose (`show`, `output`) may hold them, nothing else.
    state_secrets: Mutex<Vec<String>>,
}

impl TerraformWorkspace {
    /// Writes `hcl` as `main.tf` in a new temp directory, with a CLI config
    /// for `install` and the emulators' credentials and endpoints in the
    /// environment of every command.
    pub fn new(emulators: &Emulators, hcl: &str, install: Install) -> Self {
        let paths = emulators.paths().clone();
        paths.require_tools();
        let provider = paths.provider_bin();
        paths.require(
            &provider,
            "run `cargo build -p terraform-provider-multicloud` (scripts/test.sh does)",
        );
        let dir = tempfile::Builder::new()
            .prefix("multicloud-acc.")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let root = dir.path().to_path_buf();
        for sub in ["config", "home"] {
            mkdir(&root.join(sub));
        }
        let mirror_dir = root.join("mirror");
        if install == Install::FilesystemMirror {
            let version = provider_version(&paths);
            build_mirror(&mirror_dir, &provider, &version)
                .unwrap_or_else(|e| panic!("cannot build the provider mirror: {e}"));
        }
        let null_mirror = paths.null_mirror();
        let cli_config = CliConfig {
            install,
            build_dir: paths.target_dir.clone(),
            mirror_dir,
            null_mirror: null_mirror.exists().then_some(null_mirror),
        };
        write(&root.join("terraform.rc"), &cli_config.render());

        let mut env: BTreeMap<String, String> = emulators.terraform_env().into_iter().collect();
        let fixed = [
            ("TF_CLI_CONFIG_FILE", root.join("terraform.rc")),
            ("HOME", root.join("home")),
            ("TF_LOG_PATH", root.join("terraform.log")),
        ];
        for (k, v) in fixed {
            env.insert(k.into(), v.to_string_lossy().into_owned());
        }
        for (k, v) in [
            ("CHECKPOINT_DISABLE", "1"),
            ("TF_IN_AUTOMATION", "1"),
            ("TF_INPUT", "0"),
            ("TF_LOG", "TRACE"),
            ("NO_PROXY", "127.0.0.1,localhost"),
            ("no_proxy", "127.0.0.1,localhost"),
        ] {
            env.insert(k.into(), v.into());
        }
        if let Some(path) = std::env::var_os("PATH") {
            env.insert("PATH".into(), path.to_string_lossy().into_owned());
        }
        let timeout = std::env::var("MULTICLOUD_TF_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT);

        let ws = Self {
            paths,
            dir: Some(dir),
            root,
            install,
            env: Mutex::new(env),
            outputs: Mutex::new(Vec::new()),
            timeout,
            secrets: Mutex::new(emulators.secrets()),
            state_secrets: Mutex::new(Vec::new()),
        };
        ws.write_config(hcl);
        ws
    }

    /// The workspace root (holds `config/`, `terraform.rc`, `terraform.log`).
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The Terraform working directory (holds `main.tf` and the state).
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }

    /// The TF_LOG=TRACE file shared by every command of this workspace.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("terraform.log")
    }

    /// Replaces `main.tf` (for update steps).
    pub fn write_config(&self, hcl: &str) {
        write(&self.config_dir().join("main.tf"), hcl);
    }

    /// Sets an environment variable for later commands.
    pub fn set_env(&self, key: &str, value: &str) {
        self.env_map().insert(key.into(), value.into());
    }

    /// Removes an environment variable for later commands (for example
    /// `ARM_CLIENT_SECRET` in an OIDC login test).
    pub fn remove_env(&self, key: &str) {
        self.env_map().remove(key);
    }

    /// Runs `terraform <args>` in the config dir and records its output;
    /// never panics on a failing exit code.
    pub fn run(&self, args: &[&str]) -> RunOutput {
        self.run_killed_when(args, &|| false)
    }

    /// Runs `terraform <args>` like [`TerraformWorkspace::run`], but kills Terraform and its
    /// provider plugins with SIGKILL as soon as `kill_now` returns true (asked every 20 ms):
    /// a CI runner lost mid-apply. The output's `timed_out` tells whether it was killed.
    pub fn run_killed_when(&self, args: &[&str], kill_now: &dyn Fn() -> bool) -> RunOutput {
        let mut cmd = Command::new(self.paths.terraform());
        cmd.args(args)
            .current_dir(self.config_dir())
            .env_clear()
            .envs(self.env_map().iter());
        let out = run_with_kill_switch(&mut cmd, self.timeout, kill_now);
        self.outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(out.clone());
        self.collect_state_secrets();
        out
    }

    /// Adds a secret the test used (a key it created, a token it set) to the scan every
    /// workspace runs when it is dropped.
    pub fn add_secret(&self, secret: &str) {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
        }
    }

    fn expect_ok(&self, args: &[&str]) -> RunOutput {
        let out = self.run(args);
        assert!(out.success(), "terraform {} failed\n{out}", args.join(" "));
        out
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.expect_ok(args);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "terraform {} printed invalid JSON ({e})\n{out}",
                args.join(" ")
            )
        })
    }

    fn env_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.env.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for TerraformWorkspace {
    /// Every workspace is scanned for secrets when the test is done with it, so no scenario
    /// can forget to; a leak fails the test (and keeps the workspace for inspection).
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        let ran_any = !self
            .outputs
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        let hits = if panicking || !ran_any {
            Vec::new()
        } else {
            self.secret_hits(&[])
        };
        if (panicking || !hits.is_empty())
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!("kept the failed test's workspace: {}", kept.display());
        }
        assert!(
            hits.is_empty(),
            "secrets leaked (indexes into the harness's and the state's secrets): {hits:#?}"
        );
    }
}

fn mkdir(path: &Path) {
    std::fs::create_dir_all(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
