# Connect one AWS account to Defender for Cloud with Foundational CSPM and Defender for Servers P1.
locals {
  aws_account_id = "123456789012"
}

resource "multicloud_defender_plan_set" "servers" {
  servers {
    plan = "P1"
  }
}

resource "multicloud_security_connector" "prod" {
  name                = "aws-prod"
  resource_group_name = "rg-security" # an existing resource group
  location            = "westeurope"
  aws_account_id      = local.aws_account_id
  regions             = ["us-east-1", "eu-west-1"]
  scan_interval_hours = 12

  offerings = multicloud_defender_plan_set.servers.offerings

  # The ARNs of the roles the plans need, by role key. With the roles deployed by this
  # configuration, pass multicloud_aws_oidc_trust.<name>.role_arns instead; this map suits roles
  # created from the plan set's CloudFormation template under their default names.
  role_arns = {
    for role in multicloud_defender_plan_set.servers.aws_roles :
    role.key => "arn:aws:iam::${local.aws_account_id}:role/${role.name}"
  }

  tags = {
    managed-by = "terraform"
  }
}
