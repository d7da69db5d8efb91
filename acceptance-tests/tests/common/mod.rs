//! What every scenario shares: the provider block pointed at the emulators through the
//! `TF_VAR_*` variables the harness sets, exactly as `examples/quickstart` does it.

#![allow(dead_code)]

use std::path::PathBuf;

/// Variables and provider block; credentials come from the `ARM_*` / `AWS_*` environment.
pub(crate) const PROVIDER: &str = r#"
terraform {
  required_providers {
    multicloud = { source = "multicloud/multicloud" }
  }
}

variable "azure_resource_manager_endpoint" { type = string }
variable "azure_active_directory_endpoint" { type = string }
variable "azure_ca_cert_file" { type = string }
variable "aws_endpoint" { type = string }

provider "multicloud" {
  azure {
    ca_cert_file = var.azure_ca_cert_file
    endpoints {
      resource_manager = var.azure_resource_manager_endpoint
      active_directory = var.azure_active_directory_endpoint
    }
  }
  aws {
    region = "us-east-1"
    endpoints {
      iam            = var.aws_endpoint
      sts            = var.aws_endpoint
      cloudformation = var.aws_endpoint
      organizations  = var.aws_endpoint
      s3             = var.aws_endpoint
    }
  }
}
"#;

/// The provider block followed by `body`.
pub(crate) fn config(body: &str) -> String {
    format!("{PROVIDER}\n{body}")
}

/// An example file from the repository's `examples/` folder.
pub(crate) fn example(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
