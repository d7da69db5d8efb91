//! What every scenario shares: the quickstart's provider block, pointed at the emulators through
//! the `TF_VAR_*` variables the harness sets.

#![allow(dead_code)]

use std::path::PathBuf;

pub(crate) mod arm_api;
pub(crate) mod cloud_apps;
pub(crate) mod connector;
pub(crate) mod fault_cells;
pub(crate) mod moto_alone;
pub(crate) mod organization;
pub(crate) mod trust;

/// The quickstart's provider block, exactly as users see it in the example.
pub(crate) fn provider() -> String {
    example("quickstart/providers.tf")
}

/// The provider block followed by `body`.
pub(crate) fn config(body: &str) -> String {
    format!("{}\n{body}", provider())
}

/// An example file from the repository's `examples/` folder.
pub(crate) fn example(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
