//! Acceptance-test harness: drives the real Terraform CLI against the locally
//! built provider and the emulated clouds (moto for AWS, the project's ARM
//! emulator for Azure).
//!
//! A test starts [`Emulators`], writes HCL into a [`TerraformWorkspace`] and
//! runs the same steps a user would (init, apply, plan, import, destroy),
//! then checks the emulators directly. Tests that need the CLI or the
//! emulators start with [`skip_unless_acc!`], so plain `cargo test` stays
//! hermetic; `scripts/test.sh` sets `TF_ACC=1` and installs the tools.
//!
//! ```no_run
//! use acceptance_tests::{skip_unless_acc, Emulators, Install, TerraformWorkspace};
//!
//! fn acc_caller_identity_basic() {
//!     skip_unless_acc!();
//!     let emulators = Emulators::start();
//!     let ws = TerraformWorkspace::new(&emulators, "data \"multicloud_caller_identity\" \"me\" {}", Install::DevOverrides);
//!     ws.apply();
//!     ws.plan_expect_empty();
//!     let outputs = ws.output_json();
//!     ws.use_oidc_login(&emulators); // same steps again with a workload-identity login
//!     ws.plan_expect_empty();
//!     ws.destroy();
//!     assert!(emulators.moto().iam_role_names().is_empty());
//!     ws.assert_no_secrets(&[emulators.arm_client_secret()]);
//! }
//! ```

mod arm;
mod cli_config;
mod emulators;
mod moto;
mod moto_org;
mod paths;
mod process;
mod secrets;
#[cfg(test)]
mod selftest;
mod workspace;

pub use arm::{ArmEmulator, ArmRequest};
pub use cli_config::{CliConfig, Install, build_mirror};
pub use emulators::{EmulatorOptions, Emulators, OIDC_AUDIENCE};
pub use moto::{Moto, web_identity_token};
pub use moto_org::{SeededAccount, SeededAccounts};
pub use paths::{
    NULL_PROVIDER_VERSION, PROVIDER_ADDRESS, PROVIDER_NAME, PROVIDER_SOURCE, Paths,
    provider_version,
};
pub use process::{RunOutput, run_with_kill_switch, run_with_limit};
pub use secrets::{SecretHit, scan_for_secrets, secret_forms};
pub use workspace::TerraformWorkspace;

/// Environment variable that enables acceptance tests, as in Terraform's
/// own provider test tooling.
pub const TF_ACC: &str = "TF_ACC";

/// True when acceptance tests should run (`TF_ACC` set to anything but
/// empty or `0`).
pub fn acc_enabled() -> bool {
    std::env::var(TF_ACC).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Returns early from the calling test, printing why, unless `TF_ACC` is
/// set. Keeps plain `cargo test` hermetic while `scripts/test.sh` runs
/// everything.
#[macro_export]
macro_rules! skip_unless_acc {
    () => {
        if !$crate::acc_enabled() {
            eprintln!(
                "skipped: set TF_ACC=1 to run acceptance tests (scripts/test.sh does, after installing Terraform and moto into .tools/)"
            );
            return;
        }
    };
}
