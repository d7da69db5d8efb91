# By user name (the inline policy is DefenderForCloudAppsSecurityAuditing).
terraform import multicloud_cloud_apps_aws_user.cloud_apps defender-cloud-apps

# By user name and inline policy name.
terraform import multicloud_cloud_apps_aws_user.cloud_apps defender-cloud-apps:MyCloudAppsPolicy
