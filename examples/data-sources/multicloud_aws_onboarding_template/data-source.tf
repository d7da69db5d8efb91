variable "tenant_id" {
  type        = string
  description = "The Entra ID tenant Defender for Cloud works for."
  default     = "00000000-0000-0000-0000-000000000000"
}

# The template for Foundational CSPM plus Defender for Servers P1, ready to deploy with the
# tenant filled in.
data "multicloud_aws_onboarding_template" "servers" {
  tenant_id = var.tenant_id

  servers {
    plan = "P1"
  }
}

output "template" {
  value = data.multicloud_aws_onboarding_template.servers.cloudformation_template
}
