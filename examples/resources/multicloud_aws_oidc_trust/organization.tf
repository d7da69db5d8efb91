# Organization onboarding, run with credentials of the AWS Organizations management account: the
# management account gets the CloudFormation stack, and a service-managed StackSet deploys the
# same roles to every member account except the excluded ones (and to accounts that join later).
variable "tenant_id" {
  description = "The Entra ID tenant the Azure subscriptions belong to."
  type        = string
}

variable "excluded_account_ids" {
  description = "Member accounts that get no roles."
  type        = list(string)
  default     = []
}

resource "multicloud_defender_plan_set" "org" {
  defender_cspm {}
}

resource "multicloud_aws_oidc_trust" "org" {
  tenant_id  = var.tenant_id
  roles      = multicloud_defender_plan_set.org.aws_roles
  deployment = "cloudformation"

  organization {
    excluded_account_ids = var.excluded_account_ids
    # Turns on trusted access for CloudFormation StackSets if it is off, instead of failing.
    enable_trusted_access = true
  }
}

output "member_account_ids" {
  value = multicloud_aws_oidc_trust.org.organization.member_account_ids
}
