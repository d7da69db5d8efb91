# Quickstart: who am I in both clouds, and make the subscription ready for Defender for Cloud's
# AWS connector. Works against real clouds as is; the variables only point it at the local
# emulated clouds in the demo (scripts/demo.sh).

terraform {
  required_providers {
    multicloud = {
      source = "multicloud/multicloud"
    }
  }
}

variable "azure_resource_manager_endpoint" {
  type    = string
  default = null
}

variable "azure_active_directory_endpoint" {
  type    = string
  default = null
}

variable "azure_ca_cert_file" {
  type    = string
  default = null
}

variable "aws_endpoint" {
  type    = string
  default = null
}

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

data "multicloud_caller_identity" "current" {}

resource "multicloud_resource_provider_registration" "security" {
  namespace = "Microsoft.Security"
}

output "aws_account_id" {
  value = data.multicloud_caller_identity.current.aws_account_id
}

output "aws_arn" {
  value = data.multicloud_caller_identity.current.aws_arn
}

output "azure_tenant_id" {
  value = data.multicloud_caller_identity.current.azure_tenant_id
}

output "azure_object_id" {
  value = data.multicloud_caller_identity.current.azure_object_id
}

output "security_registration" {
  value = multicloud_resource_provider_registration.security.registration_state
}
