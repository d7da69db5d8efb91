# Every plan on, least-privilege roles. Foundational CSPM is always on.
resource "multicloud_defender_plan_set" "std" {
  access = "least_privilege"

  defender_cspm {
    agentless_scanning {
      exclusion_tags = { DefenderCspmExclusion = "true" }
    }
  }

  servers {
    plan                     = "P2"
    vulnerability_assessment = "mdeTvm"
  }

  containers {
    audit_log_retention_days = 30
  }

  databases {
    rds = true
  }
}

# The role names the AWS side must create, and the connector's offerings.
output "role_names" {
  value = [for r in multicloud_defender_plan_set.std.aws_roles : r.name]
}

output "offerings" {
  value = jsondecode(multicloud_defender_plan_set.std.offerings)
}

# The CloudFormation templates for these plans (what a portal user would download) come from the
# data source, which takes the same blocks and attributes; the plan set does not store them.
data "multicloud_aws_onboarding_template" "std" {
  access = "least_privilege"

  defender_cspm {
    agentless_scanning {
      exclusion_tags = { DefenderCspmExclusion = "true" }
    }
  }

  servers {
    plan                     = "P2"
    vulnerability_assessment = "mdeTvm"
  }

  containers {
    audit_log_retention_days = 30
  }

  databases {
    rds = true
  }
}

output "cloudformation_template" {
  value = data.multicloud_aws_onboarding_template.std.cloudformation_template
}
