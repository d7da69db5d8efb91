//! The plugin binary Terraform starts: handshake, then serve the `multicloud` provider.

use std::process::ExitCode;

use terraform_provider_multicloud::{protocol, resources::MulticloudProvider};

#[tokio::main]
async fn main() -> ExitCode {
    protocol::serve(MulticloudProvider).await
}
