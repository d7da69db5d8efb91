//! The CLI steps a test runs on a [`TerraformWorkspace`], as a user would run them, each
//! failing the test with Terraform's full output when it does not behave.

use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::TerraformWorkspace;
use super::error_match::{normalize_output, normalize_pattern};
use super::state_lookup::{attribute_diffs, find_resource};
use crate::cli_config::Install;
use crate::emulators::Emulators;
use crate::process::RunOutput;

impl TerraformWorkspace {
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

    pub(super) fn ensure_init(&self) {
        if self.install == Install::FilesystemMirror && self.lock_file().is_none() {
            self.init();
        }
    }
}
