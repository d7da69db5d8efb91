# List the member account connectors Defender for Cloud created under an organization connector,
# waiting until every member account that is not excluded has one.
data "multicloud_aws_organization" "org" {}

data "multicloud_security_connector_members" "org" {
  organization_connector_id = multicloud_security_connector.org.id
  wait_for_count = length(setsubtract(
    data.multicloud_aws_organization.org.member_account_ids,
    ["210987654321"], # the organization block's excluded_account_ids
  ))
  wait_timeout = "30m"
}

output "unhealthy_members" {
  value = {
    for m in data.multicloud_security_connector_members.org.members :
    m.aws_account_id => m.problems if !m.healthy
  }
}
