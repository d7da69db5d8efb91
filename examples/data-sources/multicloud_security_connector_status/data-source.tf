# Report the connector's health as Defender for Cloud sees it. Add wait_for_healthy = true to
# wait (up to wait_timeout) for a healthy connection, for example in an onboarding pipeline.
data "multicloud_security_connector_status" "prod" {
  security_connector_id = multicloud_security_connector.prod.id
}

output "connector_status" {
  value = data.multicloud_security_connector_status.prod.status
}

output "connector_issues" {
  value = flatten([
    for report in data.multicloud_security_connector_status.prod.reports : [
      for issue in report.issues : "${report.component}: ${issue.name} (${issue.remediation_steps})"
    ]
  ])
}
