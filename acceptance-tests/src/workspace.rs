//! A Terraform working directory for one test: its configuration, its own CLI
//! config, home directory and TRACE log, and the CLI steps a user runs, each
//! failing the test with the full output when Terraform does not behave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;
use tempfile::TempDir;

use crate::cli_config::{CliConfig, Install, build_mirror};
use crate::emulators::Emulators;
use crate::paths::{Paths, provider_version};
use crate::process::{RunOutput, run_with_kill_switch};
use crate::secrets::{SecretHit, scan_for_secrets};

/// Default limit for one CLI command; `MULTICLOUD_TF_TIMEOUT_SECS` overrides.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Files larger than this are not scanned for secrets (provider binaries).
const MAX_SCAN_BYTES: u64 = 64 << 20;

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

    /// `terraform init`. With [`Install::DevOverrides`] this is skipped (see
    /// there) and returns a synthetic success; with the filesystem mirror it
    /// must succeed and write the lock file.
    pub fn init(&self) -> RunOutput {
        if self.install == Install::DevOverrides {
            return RunOutput {
                command: "terraform init (skipped: dev_overrides need no init)".into(),
                code: Some(0),
                stdout: String::new(),
                stderr: String::new(),
                timed_out: false,
                elapsed: Duration::ZERO,
            };
        }
        let out = self.expect_ok(&["init", "-input=false", "-no-color"]);
        assert!(
            self.lock_file().is_some(),
            "terraform init wrote no .terraform.lock.hcl\n{out}"
        );
        out
    }

    /// The dependency lock file, once `init` wrote it.
    pub fn lock_file(&self) -> Option<String> {
        std::fs::read_to_string(self.config_dir().join(".terraform.lock.hcl")).ok()
    }

    /// `terraform apply -auto-approve`; must succeed.
    pub fn apply(&self) -> RunOutput {
        self.ensure_init();
        self.expect_ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform apply` that must fail with output matching `pattern`.
    /// Matching is whitespace-tolerant: diagnostic framing (`│`) is removed
    /// and every whitespace run counts as one space, in both the output and
    /// the pattern, so line wrapping cannot break a match.
    pub fn apply_expect_error(&self, pattern: &str) -> RunOutput {
        self.ensure_init();
        let out = self.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert!(
            !out.success(),
            "apply was expected to fail but succeeded\n{out}"
        );
        let re = Regex::new(&normalize_pattern(pattern))
            .unwrap_or_else(|e| panic!("bad pattern {pattern:?}: {e}"));
        let text = normalize_output(&out.combined());
        assert!(
            re.is_match(&text),
            "apply failed, but not with an error matching {pattern:?}\n{out}"
        );
        out
    }

    /// `terraform plan -detailed-exitcode`; fails the test with the plan
    /// when it is not empty.
    pub fn plan_expect_empty(&self) -> RunOutput {
        self.ensure_init();
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        match out.code {
            Some(0) => out,
            Some(2) => panic!("expected an empty plan, but Terraform plans changes\n{out}"),
            _ => panic!("terraform plan failed\n{out}"),
        }
    }

    /// A saved plan as JSON (`plan -out` + `show -json`).
    pub fn plan_json(&self) -> Value {
        self.ensure_init();
        self.expect_ok(&["plan", "-input=false", "-no-color", "-out=acc.tfplan"]);
        self.json(&["show", "-json", "acc.tfplan"])
    }

    /// `terraform import ADDR ID`; must succeed.
    pub fn import(&self, address: &str, id: &str) -> RunOutput {
        self.ensure_init();
        self.expect_ok(&["import", "-input=false", "-no-color", address, id])
    }

    /// `terraform state rm ADDR`; must succeed.
    pub fn state_rm(&self, address: &str) -> RunOutput {
        self.expect_ok(&["state", "rm", "-no-color", address])
    }

    /// Import verification as Terraform's own test framework does it: the
    /// resource's attributes are read from state, it is removed from state,
    /// imported by `id`, and the imported attributes must equal the applied
    /// ones, except those named in `ignore` (values the API never returns,
    /// such as secrets and write-only fields).
    pub fn import_verify(&self, address: &str, id: &str, ignore: &[&str]) {
        let before = self
            .resource_values(address)
            .unwrap_or_else(|| panic!("{address} is not in state before import"));
        self.state_rm(address);
        self.import(address, id);
        let after = self
            .resource_values(address)
            .unwrap_or_else(|| panic!("{address} is not in state after import"));
        let diffs = attribute_diffs(&before, &after, ignore);
        assert!(
            diffs.is_empty(),
            "imported {address} differs from the applied one:\n{}",
            diffs.join("\n")
        );
    }

    /// The `values` of one resource instance in state (root or child
    /// modules), or `None` when it is not there.
    pub fn resource_values(&self, address: &str) -> Option<Value> {
        let state = self.state_json();
        find_resource(state.get("values")?.get("root_module")?, address)
    }

    /// Switches later commands to an OIDC (workload identity) Azure login
    /// with the emulators' federated app, removing the client secret.
    pub fn use_oidc_login(&self, emulators: &Emulators) {
        self.remove_env("ARM_CLIENT_SECRET");
        self.set_env("ARM_CLIENT_ID", emulators.oidc_client_id());
        self.set_env("ARM_USE_OIDC", "true");
        let token = emulators.oidc_token();
        self.add_secret(&token);
        self.set_env("ARM_OIDC_TOKEN", &token);
    }

    /// The state as JSON (`terraform show -json`).
    pub fn state_json(&self) -> Value {
        self.json(&["show", "-json"])
    }

    /// All outputs as JSON (`terraform output -json`).
    pub fn output_json(&self) -> Value {
        self.json(&["output", "-json"])
    }

    /// `terraform destroy -auto-approve`; must succeed.
    pub fn destroy(&self) -> RunOutput {
        self.ensure_init();
        self.expect_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Fails the test when any of `secrets` (raw, URL-encoded, JSON-escaped
    /// or base64) appears in any captured output, the TRACE log, or any
    /// other file of the workspace (state, backups, plans as text).
    pub fn assert_no_secrets(&self, secrets: &[&str]) {
        let log_size = std::fs::metadata(self.log_path())
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(
            log_size > 0,
            "no TF_LOG output to scan at {}",
            self.log_path().display()
        );
        let hits = self.secret_hits(secrets);
        assert!(hits.is_empty(), "secrets leaked: {hits:#?}");
    }

    /// Where any secret turns up: `extra`, the ones the harness injected and the ones added
    /// with [`TerraformWorkspace::add_secret`] anywhere at all; sensitive values from state
    /// anywhere but state, plan files and the output of `show` and `output`, which print them
    /// on purpose.
    pub fn secret_hits(&self, extra: &[&str]) -> Vec<SecretHit> {
        let mut strict: Vec<String> = self
            .secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        strict.extend(extra.iter().map(|s| s.to_string()));
        let from_state = self
            .state_secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let texts = self.scan_texts();
        let strict_refs: Vec<&str> = strict.iter().map(String::as_str).collect();
        let mut hits = scan_for_secrets(&texts, &strict_refs);
        let outside_state: Vec<(String, String)> = texts
            .into_iter()
            .filter(|(location, _)| !may_hold_state(location))
            .collect();
        let state_refs: Vec<&str> = from_state.iter().map(String::as_str).collect();
        hits.extend(
            scan_for_secrets(&outside_state, &state_refs)
                .into_iter()
                .map(|mut h| {
                    h.secret_index += strict_refs.len();
                    h
                }),
        );
        hits
    }

    /// Every captured output and workspace file, as `(location, text)`.
    fn scan_texts(&self) -> Vec<(String, String)> {
        let mut texts: Vec<(String, String)> = self
            .outputs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|o| (format!("output of `{}`", o.command), o.combined()))
            .collect();
        let mut files = Vec::new();
        collect_files(&self.root, &mut files);
        for file in files {
            if let Ok(bytes) = std::fs::read(&file) {
                texts.push((
                    file.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
        texts
    }

    /// Remembers every sensitive value the state holds now (it may be gone after destroy).
    fn collect_state_secrets(&self) {
        let Ok(text) = std::fs::read_to_string(self.config_dir().join("terraform.tfstate")) else {
            return;
        };
        let Ok(state) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        let found = sensitive_state_values(&state);
        if found.is_empty() {
            return;
        }
        let mut known = self.state_secrets.lock().unwrap_or_else(|p| p.into_inner());
        for value in found {
            if !known.contains(&value) {
                known.push(value);
            }
        }
    }

    fn ensure_init(&self) {
        if self.install == Install::FilesystemMirror && self.lock_file().is_none() {
            self.init();
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

/// True for the places where state's sensitive values are expected: state files, saved plans
/// (they embed state) and the output of commands that print state or outputs on purpose.
fn may_hold_state(location: &str) -> bool {
    let commands = [" show", " output", " state pull"];
    if location.starts_with("output of `") {
        return commands.iter().any(|c| location.contains(c));
    }
    location.ends_with(".tfstate")
        || location.ends_with(".tfstate.backup")
        || location.ends_with(".tfplan")
        || location.contains("terraform.tfstate")
}

/// Attribute names whose string values are secrets even where state does not mark them
/// (Terraform 1.0 records only marks from expressions in `sensitive_attributes`).
const SECRET_NAME_PARTS: [&str; 4] = ["secret", "token", "password", "private_key"];

/// Sensitive values in a state file: what `sensitive_attributes` points at, values of
/// attributes whose names say they are secret, and sensitive outputs. Short strings are left
/// out (they cannot be told apart from ordinary words).
fn sensitive_state_values(state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for instance in state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["instances"].as_array().into_iter().flatten())
    {
        let attributes = &instance["attributes"];
        for path in instance["sensitive_attributes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut at = attributes;
            for step in path.as_array().into_iter().flatten() {
                at = match &step["value"] {
                    Value::String(k) => &at[k.as_str()],
                    Value::Number(n) => &at[n.as_u64().unwrap_or(u64::MAX) as usize],
                    _ => &Value::Null,
                };
            }
            strings_in(at, &mut out);
        }
        if let Some(map) = attributes.as_object() {
            for (name, value) in map {
                let names_a_reference = ["_file", "_path", "_version", "_id", "_name"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix));
                if !names_a_reference && SECRET_NAME_PARTS.iter().any(|p| name.contains(p)) {
                    strings_in(value, &mut out);
                }
            }
        }
    }
    for output in state["outputs"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
    {
        if output["sensitive"] == Value::Bool(true) {
            strings_in(&output["value"], &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.len() >= 16 => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// Searches a `show -json` module tree for a resource by address.
fn find_resource(module: &Value, address: &str) -> Option<Value> {
    let own = module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(address))
        .and_then(|r| r.get("values").cloned());
    own.or_else(|| {
        module
            .get("child_modules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|m| find_resource(m, address))
    })
}

/// Top-level attributes whose values differ, one line each.
fn attribute_diffs(before: &Value, after: &Value, ignore: &[&str]) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !ignore.contains(&k.as_str()))
        .filter_map(|k| {
            let (x, y) = (
                b.get(k).unwrap_or(&Value::Null),
                a.get(k).unwrap_or(&Value::Null),
            );
            (x != y).then(|| format!("  {k}: applied {x}, imported {y}"))
        })
        .collect()
}

/// Removes Terraform's diagnostic framing and collapses whitespace.
fn normalize_output(text: &str) -> String {
    let unframed: String = text
        .chars()
        .map(|c| {
            if matches!(c, '│' | '╷' | '╵') {
                ' '
            } else {
                c
            }
        })
        .collect();
    unframed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lets every whitespace run in a pattern match any whitespace run.
fn normalize_pattern(pattern: &str) -> String {
    pattern.split_whitespace().collect::<Vec<_>>().join(r"\s+")
}

/// Regular files under `dir`, skipping symlinks (provider binaries), the
/// plugin cache, the CLI config and `.tf` sources (a test may put secrets
/// into HCL on purpose).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            if name != "providers" && name != "mirror" {
                collect_files(&path, out);
            }
        } else if meta.is_file()
            && meta.len() <= MAX_SCAN_BYTES
            && !name.ends_with(".tf")
            && name != "terraform.rc"
        {
            out.push(path);
        }
    }
}

fn mkdir(path: &Path) {
    std::fs::create_dir_all(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_diagnostics_match_whitespace_tolerant_patterns() {
        let output = "╷\n│ Error: A resource with the ID \"/x\" already exists - to be managed\n│ via Terraform this resource needs to be imported into the State.\n╵\n";
        let re = Regex::new(&normalize_pattern(
            "to be managed via Terraform this resource needs to be imported",
        ))
        .expect("pattern");
        assert!(re.is_match(&normalize_output(output)));
        let other = Regex::new(&normalize_pattern("needs to be deleted")).expect("pattern");
        assert!(!other.is_match(&normalize_output(output)));
    }

    #[test]
    fn import_verification_compares_all_but_ignored_attributes() {
        let state = serde_json::json!({
            "resources": [{"address": "a.x", "values": {"id": "1"}}],
            "child_modules": [{"resources": [{"address": "module.m.a.y", "values": {"id": "2"}}]}]
        });
        assert_eq!(
            find_resource(&state, "a.x"),
            Some(serde_json::json!({"id": "1"}))
        );
        assert_eq!(
            find_resource(&state, "module.m.a.y"),
            Some(serde_json::json!({"id": "2"}))
        );
        assert_eq!(find_resource(&state, "a.z"), None);

        let before = serde_json::json!({"id": "1", "name": "n", "secret": "s"});
        let after = serde_json::json!({"id": "1", "name": "m", "secret": null});
        assert_eq!(
            attribute_diffs(&before, &after, &["secret"]),
            ["  name: applied \"n\", imported \"m\""]
        );
        assert!(attribute_diffs(&before, &before, &[]).is_empty());
    }

    #[test]
    fn sensitive_values_come_from_marks_names_and_outputs() {
        let state = serde_json::json!({
            "resources": [{"instances": [{
                "attributes": {
                    "secret_access_key": "key-secret-0123456789abcdef",
                    "secret_file": "/somewhere/credentials-file.csv",
                    "notes": {"inner": "marked-value-0123456789"},
                    "name": "an-ordinary-long-name-value"
                },
                "sensitive_attributes": [[
                    {"type": "get_attr", "value": "notes"},
                    {"type": "get_attr", "value": "inner"}
                ]]
            }]}],
            "outputs": {
                "pw": {"sensitive": true, "value": "output-secret-0123456789"},
                "plain": {"sensitive": false, "value": "output-plain-0123456789"}
            }
        });
        assert_eq!(
            sensitive_state_values(&state),
            [
                "key-secret-0123456789abcdef",
                "marked-value-0123456789",
                "output-secret-0123456789"
            ]
        );
    }

    #[test]
    fn state_values_may_appear_only_where_state_is_printed() {
        assert!(may_hold_state("/w/config/terraform.tfstate"));
        assert!(may_hold_state("/w/config/terraform.tfstate.backup"));
        assert!(may_hold_state("/w/config/acc.tfplan"));
        assert!(may_hold_state("output of `terraform show -json`"));
        assert!(may_hold_state("output of `terraform output -json`"));
        assert!(!may_hold_state("output of `terraform apply -auto-approve`"));
        assert!(!may_hold_state("/w/terraform.log"));
    }

    #[test]
    fn scan_skips_sources_links_and_provider_dirs() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path();
        mkdir(&root.join("config/.terraform/providers"));
        write(&root.join("config/main.tf"), "x");
        write(&root.join("config/terraform.tfstate"), "x");
        write(&root.join("config/.terraform/providers/bin"), "x");
        write(&root.join("terraform.log"), "x");
        std::os::unix::fs::symlink(root.join("terraform.log"), root.join("link")).expect("symlink");
        let mut files = Vec::new();
        collect_files(root, &mut files);
        files.sort();
        assert_eq!(
            files,
            [
                root.join("config/terraform.tfstate"),
                root.join("terraform.log")
            ]
        );
    }
}
