# Connect an AWS account to Azure Arc with both solutions: the inventory of a few services, and
# Arc onboarding of the EC2 instances in two regions through a proxy.
resource "multicloud_connector" "prod" {
  name                = "aws-prod"
  resource_group_name = "rg-arc"
  location            = "eastus"
  aws_account_id      = "123456789012"

  inventory {
    services            = ["ec2", "s3", "lambda"]
    sync_interval_hours = 6
  }

  arc_onboarding {
    connectivity = "proxy"
    proxy_url    = "http://proxy.example.com:3128"
    regions      = ["us-east-1", "eu-west-1"]
  }

  tags = {
    managed-by = "terraform"
  }
}

# The CloudFormation template to deploy in the AWS account (as a stack; for an organization, also
# as the StackSet AzureArcMultiCloudStackset).
output "authentication_template" {
  value = multicloud_connector.prod.authentication_template
}

# Where the AWS resources appear in Azure.
output "aws_resource_group_name" {
  value = multicloud_connector.prod.aws_resource_group_name
}
