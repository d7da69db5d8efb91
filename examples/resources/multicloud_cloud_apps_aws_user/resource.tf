# The IAM user Defender for Cloud Apps' "Security auditing" connection reads the account with.
# The apply fails, naming the permission, if the key could not pass the portal's Test API.
resource "multicloud_cloud_apps_aws_user" "cloud_apps" {
  user_name = "defender-cloud-apps"

  # Change this value to rotate the key: the new key is created and verified before the old
  # one is deleted. Then paste the new pair into the portal's connector (Edit settings).
  rotation = "2026-01"
}

# What the portal asks for: Settings > Cloud Apps > App Connectors > Connect an app >
# Amazon Web Services > Security auditing; paste both values and select Test API.
output "cloud_apps_access_key_id" {
  value = multicloud_cloud_apps_aws_user.cloud_apps.access_key_id
}

output "cloud_apps_secret_access_key" {
  value     = multicloud_cloud_apps_aws_user.cloud_apps.secret_access_key
  sensitive = true
}

# Where secrets must not be kept in state: the key pair goes only to a file (mode 0600, the
# AWS console's CSV layout) on the machine running the apply, and `secret_access_key` is null.
resource "multicloud_cloud_apps_aws_user" "no_secret_in_state" {
  user_name              = "defender-cloud-apps-audit"
  security_configuration = true
  secret_file            = "${path.root}/cloud-apps-credentials.csv"
}
