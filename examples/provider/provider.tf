terraform {
  required_providers {
    multicloud = {
      source = "multicloud/multicloud"
    }
  }
}

# Credentials come from the environment (ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET or
# ARM_USE_OIDC + ARM_OIDC_TOKEN_FILE_PATH, ARM_SUBSCRIPTION_ID; the standard AWS chain).
provider "multicloud" {
  azure {
    subscription_id = "00000000-0000-0000-0000-000000000000"
    use_oidc        = true
  }

  aws {
    region = "us-east-1"

    assume_role {
      role_arn = "arn:aws:iam::123456789012:role/onboarding"
    }
  }
}
