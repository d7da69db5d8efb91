# Read with the management account's credentials.
data "multicloud_aws_organization" "org" {}

output "management_account_id" {
  value = data.multicloud_aws_organization.org.management_account_id
}

# Member accounts a StackSet would reach, and whether trusted access is on.
output "member_account_ids" {
  value = data.multicloud_aws_organization.org.member_account_ids
}

output "stacksets_trusted_access" {
  value = data.multicloud_aws_organization.org.stacksets_trusted_access
}

# Only the active accounts under one OU (at any depth).
data "multicloud_aws_organization" "prod" {
  parent_id        = "ou-ab12-prod0001"
  account_statuses = ["ACTIVE"]
}
