//! Where the harness finds the binaries it drives: the workspace's own build
//! output and the project-local tools installed by `scripts/tools.sh`.

use std::path::{Path, PathBuf};

/// Name of the provider binary (and package).
pub const PROVIDER_NAME: &str = "terraform-provider-multicloud";
/// Provider source address as users write it in `required_providers`.
pub const PROVIDER_SOURCE: &str = "multicloud/multicloud";
/// Fully qualified provider address, as used in mirrors and lock files.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/multicloud/multicloud";
/// Version of the Go `null` provider that `scripts/tools.sh` installs.
pub const NULL_PROVIDER_VERSION: &str = "2.1.2";

/// Locations of everything the harness runs. Defaults follow the repository
/// layout; `MULTICLOUD_TARGET_DIR` (a directory holding the built binaries)
/// and `MULTICLOUD_TOOLS_DIR` override them.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Workspace root (the directory holding the root `Cargo.toml`).
    pub root: PathBuf,
    /// Directory with the built binaries, usually `target/debug`.
    pub target_dir: PathBuf,
    /// Project-local tools directory, usually `.tools`.
    pub tools_dir: PathBuf,
}

impl Paths {
    /// Resolves the locations from the environment and the repository layout.
    pub fn from_env() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".."));
        let target_dir = match (
            std::env::var_os("MULTICLOUD_TARGET_DIR"),
            std::env::var_os("CARGO_TARGET_DIR"),
        ) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, Some(dir)) => PathBuf::from(dir).join("debug"),
            (None, None) => root.join("target").join("debug"),
        };
        let tools_dir = std::env::var_os("MULTICLOUD_TOOLS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".tools"));
        Self {
            root,
            target_dir,
            tools_dir,
        }
    }

    /// The provider binary under test.
    pub fn provider_bin(&self) -> PathBuf {
        self.target_dir.join(PROVIDER_NAME)
    }

    /// The ARM emulator binary.
    pub fn arm_emulator_bin(&self) -> PathBuf {
        self.target_dir.join("arm-emulator")
    }

    /// The Terraform CLI.
    pub fn terraform(&self) -> PathBuf {
        self.tools_dir.join("bin").join("terraform")
    }

    /// moto's server entry point.
    pub fn moto_server(&self) -> PathBuf {
        self.tools_dir.join("bin").join("moto_server")
    }

    /// Filesystem mirror holding the Go `null` provider.
    pub fn null_mirror(&self) -> PathBuf {
        self.tools_dir.join("null-mirror")
    }

    /// The Go `null` provider binary inside [`Paths::null_mirror`].
    pub fn null_provider_bin(&self) -> PathBuf {
        self.null_mirror()
            .join("registry.terraform.io/hashicorp/null")
            .join(NULL_PROVIDER_VERSION)
            .join("linux_amd64")
            .join(format!(
                "terraform-provider-null_v{NULL_PROVIDER_VERSION}_x4"
            ))
    }

    /// Panics with the command that fixes it when `path` does not exist.
    pub fn require(&self, path: &Path, how: &str) {
        assert!(path.exists(), "{} is missing; {how}", path.display());
    }

    /// Panics unless the Terraform CLI and moto are installed.
    pub fn require_tools(&self) {
        let how = "run `scripts/tools.sh` (or `scripts/test.sh`, which runs it)";
        self.require(&self.terraform(), how);
        self.require(&self.moto_server(), how);
    }
}

/// The provider version, read from the root `Cargo.toml` (`[package]`
/// `version`), which is what releases and mirrors are named after.
pub fn provider_version(paths: &Paths) -> String {
    let manifest = paths.root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    package_version(&text)
        .unwrap_or_else(|| panic!("no [package] version in {}", manifest.display()))
}

/// Finds `version = "..."` inside the `[package]` table of a manifest.
fn package_version(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some(rest) = line.strip_prefix("version") {
            let value = rest.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_version_ignores_other_tables() {
        let manifest = "[workspace]\nversion = \"9.9.9\"\n\n[package]\nname = \"x\"\nversion = \"0.1.0\"\n[dependencies]\nversion = \"1\"\n";
        assert_eq!(package_version(manifest).as_deref(), Some("0.1.0"));
        assert_eq!(package_version("[dependencies]\nversion = \"1\""), None);
    }

    #[test]
    fn root_manifest_has_a_version() {
        let v = provider_version(&Paths::from_env());
        assert!(v.split('.').count() == 3, "unexpected version {v}");
    }
}
