//! The Terraform CLI configuration (`TF_CLI_CONFIG_FILE`) that makes the CLI
//! use the locally built provider, and the filesystem-mirror layout that
//! `terraform init` installs from as it would from a registry.

use std::path::{Path, PathBuf};

use crate::paths::{PROVIDER_ADDRESS, PROVIDER_NAME, PROVIDER_SOURCE};

/// How the CLI finds the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// `dev_overrides` pointing at the build directory. `terraform init` is
    /// skipped: Terraform would still query the public registry for the
    /// overridden provider, and plan/apply work without it.
    DevOverrides,
    /// An unpacked `filesystem_mirror` holding the binary; `terraform init`
    /// installs from it and writes `.terraform.lock.hcl`, as for a real user.
    FilesystemMirror,
}

/// A CLI configuration, rendered to HCL by [`CliConfig::render`].
#[derive(Debug, Clone)]
pub struct CliConfig {
    /// How the provider is found.
    pub install: Install,
    /// Directory holding the provider binary (`DevOverrides`).
    pub build_dir: PathBuf,
    /// Root of the provider's filesystem mirror (`FilesystemMirror`).
    pub mirror_dir: PathBuf,
    /// Root of the Go `null` provider's mirror, offered to configurations
    /// that also use `hashicorp/null` (`FilesystemMirror` only: with
    /// `dev_overrides` there is no `init` to install it).
    pub null_mirror: Option<PathBuf>,
}

impl CliConfig {
    /// The configuration file's text.
    pub fn render(&self) -> String {
        match self.install {
            Install::DevOverrides => format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = {}\n  }}\n  direct {{}}\n}}\n",
                hcl_string(&self.build_dir)
            ),
            Install::FilesystemMirror => {
                let mut out = format!(
                    "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"{PROVIDER_ADDRESS}\"]\n  }}\n",
                    hcl_string(&self.mirror_dir)
                );
                if let Some(null) = &self.null_mirror {
                    out.push_str(&format!(
                        "  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/hashicorp/null\"]\n  }}\n",
                        hcl_string(null)
                    ));
                }
                out.push_str("}\n");
                out
            }
        }
    }
}

/// Lays out the unpacked mirror `<mirror>/registry.terraform.io/multicloud/
/// multicloud/<version>/linux_amd64/terraform-provider-multicloud_v<version>`
/// as a symlink to `binary`, returning the binary's path inside the mirror.
pub fn build_mirror(mirror: &Path, binary: &Path, version: &str) -> std::io::Result<PathBuf> {
    let dir = mirror
        .join(PROVIDER_ADDRESS)
        .join(version)
        .join("linux_amd64");
    std::fs::create_dir_all(&dir)?;
    let link = dir.join(format!("{PROVIDER_NAME}_v{version}"));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(binary, &link)?;
    Ok(link)
}

/// A quoted HCL string literal for a path (escapes quotes, backslashes and
/// template sequences).
pub(crate) fn hcl_string(path: &Path) -> String {
    let s = path.to_string_lossy();
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(install: Install) -> CliConfig {
        CliConfig {
            install,
            build_dir: PathBuf::from("/b/target/debug"),
            mirror_dir: PathBuf::from("/w/mirror"),
            null_mirror: Some(PathBuf::from("/t/null-mirror")),
        }
    }

    #[test]
    fn dev_overrides_point_at_the_build_dir() {
        let text = config(Install::DevOverrides).render();
        assert!(
            text.contains("dev_overrides {\n    \"multicloud/multicloud\" = \"/b/target/debug\"")
        );
        assert!(text.contains("direct {}"));
        assert!(!text.contains("filesystem_mirror"));
    }

    #[test]
    fn filesystem_mirror_scopes_each_mirror_to_its_provider() {
        let text = config(Install::FilesystemMirror).render();
        assert!(text.contains("path    = \"/w/mirror\"\n    include = [\"registry.terraform.io/multicloud/multicloud\"]"));
        assert!(text.contains(
            "path    = \"/t/null-mirror\"\n    include = [\"registry.terraform.io/hashicorp/null\"]"
        ));
        assert!(!text.contains("dev_overrides"));
        assert!(
            !text.contains("direct"),
            "offline: nothing may fall through to the registry"
        );
    }

    #[test]
    fn hcl_strings_are_escaped() {
        assert_eq!(
            hcl_string(Path::new("/a \"b\"/${c}")),
            "\"/a \\\"b\\\"/$${c}\""
        );
    }

    #[test]
    fn mirror_layout_matches_what_terraform_expects() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let bin = tmp.path().join("provider");
        std::fs::write(&bin, b"#!/bin/sh\n").expect("write fake binary");
        let link = build_mirror(&tmp.path().join("m"), &bin, "1.2.3").expect("mirror");
        assert_eq!(
            link,
            tmp.path().join(
                "m/registry.terraform.io/multicloud/multicloud/1.2.3/linux_amd64/terraform-provider-multicloud_v1.2.3"
            )
        );
        assert_eq!(std::fs::read_link(&link).expect("symlink"), bin);
    }
}
