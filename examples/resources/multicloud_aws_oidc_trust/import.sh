# deployment = "iam": by the ARN of the OIDC provider for Microsoft's issuer.
terraform import multicloud_aws_oidc_trust.prod arn:aws:iam::123456789012:oidc-provider/sts.windows.net/33e01921-4d64-4f8c-a055-5bdaffd5e33d/

# deployment = "cloudformation": by stack name.
terraform import multicloud_aws_oidc_trust.prod cloudformation:DefenderForCloud-OidcTrust

# deployment = "cloudformation" with an organization block: by stack name and StackSet name, so
# the block (targets, exclusions, auto-deployment) is read back from the StackSet.
terraform import multicloud_aws_oidc_trust.prod cloudformation:DefenderForCloud-OidcTrust:MDCOnboardingStackSet
