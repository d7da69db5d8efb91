//! Compiles the protocol definitions in `proto/` with a pure-Rust protobuf
//! compiler, so building needs no `protoc` on the machine.

use std::env;
use std::error::Error;

const PROTOS: [&str; 3] = [
    "proto/tfplugin6.proto",
    "proto/grpc_controller.proto",
    "proto/grpc_stdio.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    non_pie_release();
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // Clients are generated too: the integration tests drive the server through them.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}

/// Links the release binary as a non-position-independent executable on Linux: the dynamic
/// loader then has no relative relocations to apply at start (a PIE of this size has tens of
/// thousands, read from the binary and written into pages that stay private to the process),
/// which lowers start-up memory. The cost is that the executable itself loads at a fixed
/// address. Debug builds (tests, CI) keep the toolchain's default.
fn non_pie_release() {
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
