//! The protocol layer's error type.

use thiserror::Error;

use super::diagnostics::AttrPath;

/// Errors raised by the protocol layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A DynamicValue's msgpack bytes did not match the expected type.
    #[error("msgpack value: {0}")]
    Msgpack(String),
    /// Stored JSON state did not match the schema.
    #[error("JSON value: {0}")]
    Json(String),
    /// A value (msgpack or JSON) did not have the type its schema gives the attribute at `path`.
    #[error("{format} value: {}: {expected} required", shown_path(path))]
    WrongType {
        /// `msgpack` or `JSON`.
        format: &'static str,
        /// Where in the value; empty for the value itself.
        path: AttrPath,
        /// The type the schema asks for there.
        expected: String,
    },
    /// A type's JSON encoding was not understood.
    #[error("type: {0}")]
    Type(String),
    /// The plugin was started outside of Terraform or with an incompatible handshake.
    #[error("{0}")]
    Handshake(String),
    /// TLS set-up failed (certificate generation or parsing).
    #[error("TLS: {0}")]
    Tls(String),
    /// Socket or stdout I/O failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn shown_path(path: &AttrPath) -> String {
    if path.steps().is_empty() {
        "value".to_owned()
    } else {
        path.to_string()
    }
}
