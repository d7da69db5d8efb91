# Connect an AWS account to Azure Arc with the inventory solution, deploy the roles of the
# connector's authentication template through the IAM API, then count what the connector has
# synced: with wait_for_resources, the run fails unless AWS resources show up in Azure in time.
variable "tenant_id" {
  description = "The Entra ID tenant the Azure subscription belongs to."
  type        = string
}

resource "multicloud_connector" "prod" {
  name                = "aws-prod"
  resource_group_name = "rg-arc"
  location            = "eastus"
  aws_account_id      = "123456789012"

  inventory {
    services = ["ec2", "s3", "iam"]
    regions  = ["us-east-1", "eu-west-1"]
  }
}

resource "multicloud_aws_oidc_trust" "arc" {
  tenant_id  = var.tenant_id
  roles      = multicloud_connector.prod.aws_roles
  deployment = "iam"
}

data "multicloud_connector_inventory" "prod" {
  connector_id       = multicloud_connector.prod.id
  wait_for_resources = true
  wait_timeout       = "2h"

  # Read only once the template's roles are in AWS. With Terraform 1.2 or later, a
  # lifecycle postcondition on self.total_count can assert more.
  depends_on = [multicloud_aws_oidc_trust.arc]
}

output "inventory" {
  value = {
    for r in data.multicloud_connector_inventory.prod.resources : "${r.type}/${r.region}" => r.count
  }
}

output "aws_resource_group_name" {
  value = data.multicloud_connector_inventory.prod.aws_resource_group_name
}
