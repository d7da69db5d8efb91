# Quickstart: who am I in both clouds, and make the subscription ready for Defender for Cloud's
# AWS connector. The provider is configured in providers.tf.

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
