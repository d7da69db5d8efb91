//! Compiles the protocol definitions in `proto/` with a pure-Rust protobuf
//! compiler, so building needs no `protoc` on the machine.

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
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // Clients are generated too: the integration tests drive the server through them.
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
