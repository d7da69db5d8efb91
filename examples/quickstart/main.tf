# Quickstart: onboard the AWS account of the provider's aws {} credentials into Microsoft
# Defender for Cloud, in one apply. The order follows from the references: the plan set, then
# the AWS trust (OIDC provider and roles), then the security connector in Azure, then its health.
# The provider is configured in providers.tf.

variable "resource_group_name" {
  description = "An existing resource group for the connector."
  type        = string
  default     = "rg-defender-aws"
}

variable "location" {
  type    = string
  default = "westeurope"
}

data "multicloud_caller_identity" "current" {}

resource "multicloud_defender_plan_set" "std" {
  defender_cspm {
    agentless_scanning {}
  }

  servers {
    plan = "P2"
  }
}

resource "multicloud_aws_oidc_trust" "this" {
  tenant_id = data.multicloud_caller_identity.current.azure_tenant_id
  roles     = multicloud_defender_plan_set.std.aws_roles
}

resource "multicloud_security_connector" "this" {
  name                = "aws-${data.multicloud_caller_identity.current.aws_account_id}"
  resource_group_name = var.resource_group_name
  location            = var.location
  aws_account_id      = data.multicloud_caller_identity.current.aws_account_id
  regions             = ["us-east-1", "eu-west-1"]
  scan_interval_hours = 12

  offerings = multicloud_defender_plan_set.std.offerings
  role_arns = multicloud_aws_oidc_trust.this.role_arns
}

# Waits until Defender for Cloud reports the connection healthy.
data "multicloud_security_connector_status" "this" {
  security_connector_id = multicloud_security_connector.this.id
  wait_for_healthy      = true
}

output "aws_account_id" {
  value = data.multicloud_caller_identity.current.aws_account_id
}

output "azure_tenant_id" {
  value = data.multicloud_caller_identity.current.azure_tenant_id
}

output "connector_id" {
  value = multicloud_security_connector.this.id
}

output "role_arns" {
  value = multicloud_aws_oidc_trust.this.role_arns
}

output "connector_status" {
  value = data.multicloud_security_connector_status.this.status
}
