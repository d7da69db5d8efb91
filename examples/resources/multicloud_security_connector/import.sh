# A security connector is imported by its ARM id.
terraform import multicloud_security_connector.prod /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-security/providers/Microsoft.Security/securityConnectors/aws-prod
