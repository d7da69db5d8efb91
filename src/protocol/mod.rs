//! The tfplugin6 gRPC server: go-plugin handshake, values, schema, diagnostics.
//! Knows nothing about clouds.

mod pb;
