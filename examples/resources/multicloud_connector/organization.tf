# Connect an AWS organization to Azure Arc, run with credentials of its management account: the
# connector takes the management account id and the member accounts to leave out; the trust
# deploys the roles of the connector's authentication template in the management account (a
# CloudFormation stack) and, with a service-managed StackSet under the name the connector
# prescribes (AzureArcMultiCloudStackset), in every other member account.
variable "tenant_id" {
  description = "The Entra ID tenant the Azure subscription belongs to."
  type        = string
}

variable "management_account_id" {
  description = "The AWS Organizations management account."
  type        = string
}

variable "excluded_account_ids" {
  description = "Member accounts that are not connected."
  type        = list(string)
  default     = []
}

resource "multicloud_connector" "org" {
  name                 = "aws-org"
  resource_group_name  = "rg-arc"
  location             = "eastus"
  aws_account_id       = var.management_account_id
  organization         = true
  excluded_account_ids = var.excluded_account_ids

  inventory {
    services = ["ec2", "s3", "iam"]
  }
}

resource "multicloud_aws_oidc_trust" "org" {
  tenant_id  = var.tenant_id
  roles      = multicloud_connector.org.aws_roles
  deployment = "cloudformation"
  stack_name = "AzureArcMultiCloud"

  organization {
    stack_set_name       = multicloud_connector.org.stack_set_name
    excluded_account_ids = var.excluded_account_ids
    # Turns on trusted access for CloudFormation StackSets if it is off, instead of failing.
    enable_trusted_access = true
  }
}

output "connected_member_account_ids" {
  value = multicloud_aws_oidc_trust.org.organization.member_account_ids
}
