# The classic AWS connectors still present in the provider's subscription.
data "multicloud_classic_connectors" "all" {}

output "classic_aws_connectors" {
  value = {
    for c in data.multicloud_classic_connectors.all.connectors :
    c.name => "${c.aws_account_id} (${c.authentication_type})"
  }
}
