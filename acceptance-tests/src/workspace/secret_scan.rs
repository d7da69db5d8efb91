//! The secret scan every workspace runs: the secrets the harness handed to Terraform must
//! appear nowhere, and the sensitive values state holds nowhere but where state is printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::TerraformWorkspace;
use crate::secrets::{SecretHit, scan_for_secrets};

/// Files larger than this are not scanned for secrets (provider binaries).
const MAX_SCAN_BYTES: u64 = 64 << 20;

impl TerraformWorkspace {
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
    pub(super) fn collect_state_secrets(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{mkdir, write};

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
