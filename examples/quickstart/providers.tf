# The provider for the quickstart. Works against real clouds as is; the variables only point it
# at the local emulated clouds in the demo (scripts/demo.sh) and the acceptance tests.

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
