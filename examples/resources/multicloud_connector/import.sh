# A multicloud connector is imported by its ARM id; its solution configurations come with it.
terraform import multicloud_connector.prod /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-arc/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod
