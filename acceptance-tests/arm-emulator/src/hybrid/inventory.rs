//! What the inventory solution scans in the AWS emulator: EC2 instances (per region), S3
//! buckets and IAM roles, limited to the services and regions of the inventory solution's
//! settings; and the items `Inventory_ListBySolutionConfiguration` lists for what the sync
//! projected ([`super::projection`]). Other services of the catalogue sync nothing here. The spec's `cloudNativeType`
//! enum names only `ec2` but is open (`modelAsString`); `s3` and `iam` follow its spelling.

use serde_json::{Map, Value, json};

use crate::security::aws::{AwsClient, AwsError, xml_values};

/// The services the emulator can list from the AWS emulator cheaply.
const SCANNED: &[&str] = &["ec2", "s3", "iam"];

/// One synced AWS resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// `ec2`, `s3` or `iam`.
    pub(crate) cloud_native_type: &'static str,
    /// The resource's ARN.
    pub(crate) arn: String,
    /// `Microsoft.AwsConnector` type the service projects it as.
    pub(crate) azure_type: &'static str,
    /// The projected resource's name.
    pub(crate) name: String,
}

fn listed(settings: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    settings.get(key).and_then(Value::as_str).map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Every resource the settings ask for, sorted by ARN.
pub(crate) async fn scan(
    aws: &AwsClient,
    account: &str,
    settings: &Map<String, Value>,
) -> Result<Vec<Item>, AwsError> {
    let services = listed(settings, "cloudProviderServiceTypes")
        .unwrap_or_else(|| SCANNED.iter().map(|s| (*s).to_string()).collect());
    let wants = |s: &str| services.iter().any(|x| x == s);
    let mut out = Vec::new();
    if wants("ec2") {
        let regions = match listed(settings, "cloudProviderRegions") {
            Some(r) => r,
            None => xml_values(
                &aws.call_in("ec2", "us-east-1", "DescribeRegions", &[])
                    .await?,
                "regionName",
            ),
        };
        for region in regions {
            let xml = aws
                .call_in(
                    "ec2",
                    &region,
                    "DescribeInstances",
                    &[
                        ("Filter.1.Name", "instance-state-name"),
                        ("Filter.1.Value.1", "pending"),
                        ("Filter.1.Value.2", "running"),
                        ("Filter.1.Value.3", "stopping"),
                        ("Filter.1.Value.4", "stopped"),
                    ],
                )
                .await?;
            for id in xml_values(&xml, "instanceId") {
                out.push(Item {
                    cloud_native_type: "ec2",
                    arn: format!("arn:aws:ec2:{region}:{account}:instance/{id}"),
                    azure_type: "ec2Instances",
                    name: id,
                });
            }
        }
    }
    if wants("s3") {
        for bucket in xml_values(&aws.rest_get_root("s3").await?, "Name") {
            out.push(Item {
                cloud_native_type: "s3",
                arn: format!("arn:aws:s3:::{bucket}"),
                azure_type: "s3Buckets",
                name: bucket,
            });
        }
    }
    if wants("iam") {
        let xml = aws
            .call("iam", "ListRoles", &[("MaxItems", "1000")])
            .await?;
        for (name, arn) in xml_values(&xml, "RoleName")
            .into_iter()
            .zip(xml_values(&xml, "Arn"))
        {
            out.push(Item {
                cloud_native_type: "iam",
                arn,
                azure_type: "iamRoles",
                name,
            });
        }
    }
    out.sort_by(|a, b| a.arn.cmp(&b.arn));
    out.dedup_by(|a, b| a.arn == b.arn);
    Ok(out)
}

/// The `InventoryResource` under the solution configuration `solution_id` for an AWS resource
/// (`cloud_native_type`, its ARN) projected as the Azure resource `azure_id`.
pub(crate) fn resource(
    solution_id: &str,
    cloud_native_type: &str,
    arn: &str,
    azure_id: &str,
) -> Value {
    let name = crate::ids::stable_guid("inventory", arn);
    json!({
        "id": format!("{solution_id}/inventory/{name}"),
        "name": name,
        "type": "Microsoft.HybridConnectivity/solutionConfigurations/inventory",
        "properties": {
            "cloudNativeType": cloud_native_type,
            "cloudNativeResourceId": arn,
            "azureResourceId": azure_id,
            "status": "Completed",
            "statusDetails": "Synced.",
            "provisioningState": "Succeeded",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_lists_are_split_and_trimmed() {
        let settings = json!({"cloudProviderServiceTypes": "ec2, s3,", "x": 1});
        let map = settings.as_object().cloned().unwrap_or_default();
        assert_eq!(
            listed(&map, "cloudProviderServiceTypes"),
            Some(vec!["ec2".to_string(), "s3".to_string()])
        );
        assert_eq!(listed(&map, "cloudProviderRegions"), None);
        let item = Item {
            cloud_native_type: "ec2",
            arn: "arn:aws:ec2:us-east-1:123456789012:instance/i-1".into(),
            azure_type: "ec2Instances",
            name: "i-1".into(),
        };
        let azure = super::super::projection::azure_id("s", "123456789012", &item);
        let r = resource("/sc", item.cloud_native_type, &item.arn, &azure);
        assert_eq!(
            r["properties"]["azureResourceId"],
            "/subscriptions/s/resourceGroups/aws_123456789012/providers/Microsoft.HybridCompute/machines/i-1"
        );
        assert!(
            r["id"]
                .as_str()
                .is_some_and(|i| i.starts_with("/sc/inventory/"))
        );
    }
}
