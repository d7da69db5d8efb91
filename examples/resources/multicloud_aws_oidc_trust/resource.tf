# The AWS side of a Defender for Cloud connector: the OIDC provider for Microsoft's issuer and
# the roles the plans need, created through the IAM API in the account the provider's aws {}
# credentials are in. Pass `role_arns` to multicloud_security_connector.
variable "tenant_id" {
  description = "The Entra ID tenant the Azure subscriptions belong to."
  type        = string
}

resource "multicloud_defender_plan_set" "std" {
  defender_cspm {
    agentless_scanning {}
  }

  servers {
    plan = "P2"
  }
}

resource "multicloud_aws_oidc_trust" "prod" {
  tenant_id = var.tenant_id
  roles     = multicloud_defender_plan_set.std.aws_roles

  tags = { owner = "platform-security" }
}

output "role_arns" {
  value = multicloud_aws_oidc_trust.prod.role_arns
}
