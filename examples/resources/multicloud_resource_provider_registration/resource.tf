# Defender for Cloud's AWS connectors live in Microsoft.Security.
resource "multicloud_resource_provider_registration" "security" {
  namespace = "Microsoft.Security"
}
