//! Generated protobuf and gRPC code; the only place it is included.
//! Nothing here leaves `crate::protocol`.

#![allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rustdoc::all
)]

/// Terraform plugin protocol 6.
pub(crate) mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's controller and stdio services.
pub(crate) mod plugin {
    tonic::include_proto!("plugin");
}
