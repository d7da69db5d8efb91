//! The tfplugin6 gRPC server that Terraform drives: go-plugin handshake and
//! AutoMTLS, dynamic values, schemas, diagnostics, and the traits resources
//! implement. Knows nothing about clouds.

mod convert;
pub mod diagnostics;
mod error;
pub mod handshake;
pub mod json;
pub mod logging;
pub mod msgpack;
mod pb;
mod plan;
pub mod provider;
mod registry;
pub mod schema;
mod server;
mod service;
mod tls;
pub mod types;
pub mod value;

pub use diagnostics::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
pub use error::ProtocolError;
pub use handshake::HandshakeEnv;
pub use provider::{DataSource, PlanContext, Provider, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use server::{serve, serve_with};
pub use types::Type;
pub use value::{Number, Value};
