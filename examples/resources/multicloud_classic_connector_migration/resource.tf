# Once the native connector (multicloud_security_connector.this) is healthy, remove the classic
# connector for the same AWS account and the role it assumed. Nothing is deleted before the
# native connector is healthy, and no role is deleted unless named here.
data "multicloud_classic_connectors" "all" {}

locals {
  classic = [
    for c in data.multicloud_classic_connectors.all.connectors : c
    if c.aws_account_id == multicloud_security_connector.this.aws_account_id
  ]
}

resource "multicloud_classic_connector_migration" "this" {
  count = length(local.classic)

  classic_connector_id  = local.classic[count.index].id
  security_connector_id = multicloud_security_connector.this.id
  delete_aws_role_name  = "AscConnectorRole"
  wait_timeout          = "30m"
}
