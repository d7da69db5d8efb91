data "multicloud_caller_identity" "current" {}

output "aws_account_id" {
  value = data.multicloud_caller_identity.current.aws_account_id
}

output "azure_tenant_id" {
  value = data.multicloud_caller_identity.current.azure_tenant_id
}

# Only AWS: no Azure credentials needed.
data "multicloud_caller_identity" "aws_only" {
  clouds = ["aws"]
}
