//! The inventory solution's periodic sync: what it finds in the AWS account is written as ARM
//! resources in the resource group `aws_<account id>`, the way the real service projects it
//! (`Microsoft.AwsConnector/s3Buckets`, `Microsoft.AwsConnector/iamRoles`, and for EC2 an
//! Arc machine `Microsoft.HybridCompute/machines/<instance id>` with its
//! `Microsoft.AwsConnector/ec2Instances/default` extension), api-version `2024-12-01`.
//!
//! Behaviour, after Microsoft's documentation of the service:
//! * A sync runs only while the template's inventory role exists and trusts the tenant's issuer
//!   for the connector ([`super::permissions::check`]); otherwise the solution reports `Failed`
//!   with the missing permissions and the projection stays as it was.
//! * With periodic sync, each sync creates, updates and removes projected resources so they
//!   follow AWS; without it, the account is scanned once.
//! * Deleting the connector or the solution stops the syncs; the projected resources stay in
//!   Azure until someone deletes them (the documentation tells users to delete the
//!   `aws_<account id>` group).
//!
//! Emulator choices: syncs run lazily, before a read that could show their result (a sync
//! interval of hours is compressed to "before the next read"); projected resources are named
//! after the AWS resource (bucket name, role name, instance id); the AWS region is mapped to an
//! Azure region with the documented table, `eastus` for regions it does not name.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::inventory::{self, Item};
use super::permissions::{self, Scope};
use super::settings::INVENTORY;
use super::{CONNECTOR_TYPE, SOLUTION_TYPE};
use crate::security::aws::AwsClient;
use crate::server::Shared;
use crate::state::{Stored, World};

/// Who the projected resources say created them.
const CREATED_BY: &str = "Microsoft.HybridConnectivity";
/// Machine type EC2 instances are projected as.
pub(crate) const MACHINE_TYPE: &str = "Microsoft.HybridCompute/machines";

/// Whether a read of `path` (any casing) may show projected resources, so a sync is due first.
pub(crate) fn concerns(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("/providers/microsoft.awsconnector")
        || p.contains("/providers/microsoft.hybridcompute/")
        || p.contains("/resourcegroups/aws_")
}

/// The resource group a connector's account is projected into.
pub(crate) fn resource_group(account: &str) -> String {
    format!("aws_{account}")
}

/// The Azure region an AWS region's resources are placed in (Microsoft's published mapping).
pub(crate) fn azure_region(aws_region: &str) -> &'static str {
    match aws_region {
        "ap-southeast-1" | "ap-northeast-1" | "ap-northeast-3" | "ap-south-1" => "southeastasia",
        "ap-southeast-2" => "australiaeast",
        "eu-west-1" | "eu-central-1" | "eu-north-1" => "westeurope",
        "eu-west-2" => "uksouth",
        "sa-east-1" => "brazilsouth",
        _ => "eastus",
    }
}

/// The AWS region an ARN names; `us-east-1` (the global services' home) when it names none.
fn aws_region(arn: &str) -> &str {
    match arn.split(':').nth(3) {
        Some(r) if !r.is_empty() => r,
        _ => "us-east-1",
    }
}

/// The id of the Azure resource `item` is projected as (for EC2, the machine).
pub(crate) fn azure_id(subscription: &str, account: &str, item: &Item) -> String {
    let rg = resource_group(account);
    match item.cloud_native_type {
        "ec2" => format!(
            "/subscriptions/{subscription}/resourceGroups/{rg}/providers/{MACHINE_TYPE}/{}",
            item.name
        ),
        _ => format!(
            "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.AwsConnector/{}/{}",
            item.azure_type, item.name
        ),
    }
}

/// The stored resources (id, type, body) projecting `item` for `connector`.
pub(crate) fn projected(
    subscription: &str,
    connector: &str,
    account: &str,
    item: &Item,
    now: &str,
) -> Vec<(String, String, Value)> {
    let id = azure_id(subscription, account, item);
    let region = aws_region(&item.arn);
    let system = json!({
        "createdBy": CREATED_BY, "createdByType": "Application", "createdAt": now,
        "lastModifiedBy": CREATED_BY, "lastModifiedByType": "Application", "lastModifiedAt": now,
    });
    let aws_properties = match item.cloud_native_type {
        "ec2" => json!({"instanceId": item.name, "arn": item.arn}),
        "s3" => json!({"bucketName": item.name, "arn": item.arn}),
        _ => json!({"roleName": item.name, "arn": item.arn}),
    };
    let properties = json!({
        "publicCloudConnectorsResourceId": connector,
        "awsAccountId": account,
        "arn": item.arn,
        "publicCloudResourceName": item.name,
        "awsSourceSchema": item.cloud_native_type,
        "awsRegion": region,
        "awsTags": {},
        "awsProperties": aws_properties,
        "provisioningState": "Succeeded",
    });
    let location = azure_region(region);
    if item.cloud_native_type != "ec2" {
        let kind = format!("Microsoft.AwsConnector/{}", item.azure_type);
        let body = json!({
            "id": id, "name": item.name, "type": kind, "location": location, "tags": {},
            "systemData": system, "properties": properties,
        });
        return vec![(id, kind, body)];
    }
    let machine = json!({
        "id": id, "name": item.name, "type": MACHINE_TYPE, "location": location, "kind": "AWS",
        "tags": {}, "systemData": system,
        "properties": {
            "provisioningState": "Succeeded",
            "status": "Disconnected",
            "cloudMetadata": {"provider": "AWS"},
            "publicCloudConnectorsResourceId": connector,
        },
    });
    let ext_id = format!("{id}/providers/Microsoft.AwsConnector/ec2Instances/default");
    let ext_type = "Microsoft.AwsConnector/ec2Instances".to_string();
    let ext = json!({
        "id": ext_id, "name": "default", "type": ext_type,
        "systemData": system, "properties": properties,
    });
    vec![
        (id, MACHINE_TYPE.to_string(), machine),
        (ext_id, ext_type, ext),
    ]
}

/// A connector with an inventory solution, copied out of the store.
struct Due {
    connector: String,
    location: String,
    scope: Scope,
    solution_key: String,
    settings: Map<String, Value>,
    /// Periodic sync off and one sync done: nothing more to do.
    done: bool,
}

fn due(world: &World, tenant: &str) -> Vec<Due> {
    let mut out = Vec::new();
    for c in world
        .resources
        .values()
        .filter(|s| s.resource_type.eq_ignore_ascii_case(CONNECTOR_TYPE) && s.pending.is_none())
    {
        let text = |p: &str| {
            c.body
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let prefix = format!("{}/providers/", c.id.to_ascii_lowercase());
        let Some((key, solution)) = world.resources.iter().find(|(k, s)| {
            k.starts_with(&prefix)
                && s.resource_type.eq_ignore_ascii_case(SOLUTION_TYPE)
                && s.body
                    .pointer("/properties/solutionType")
                    .and_then(Value::as_str)
                    == Some(INVENTORY)
        }) else {
            continue;
        };
        let settings = solution
            .body
            .pointer("/properties/solutionSettings")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let periodic = settings.get("periodicSync").and_then(Value::as_str) != Some("false");
        let synced = solution.body.pointer("/properties/lastSyncTime").is_some();
        out.push(Due {
            connector: c.id.clone(),
            location: text("/location"),
            scope: Scope {
                account: text("/properties/awsCloudProfile/accountId"),
                tenant: tenant.to_string(),
                identifier: text("/properties/connectorPrimaryIdentifier"),
            },
            solution_key: key.clone(),
            settings,
            done: !periodic && synced,
        });
    }
    out
}

/// Records the outcome of a sync attempt on the solution configuration.
fn set_status(world: &mut World, key: &str, status: &str, details: &str, synced_at: Option<&str>) {
    if let Some(s) = world.resources.get_mut(key) {
        s.body["properties"]["status"] = json!(status);
        s.body["properties"]["statusDetails"] = json!(details);
        if let Some(at) = synced_at {
            s.body["properties"]["lastSyncTime"] = json!(at);
        }
    }
}

/// Writes the projection of one connector: creates the group when missing, upserts what was
/// found, removes what the connector projected before and AWS no longer has.
fn apply(world: &mut World, subscription: &str, d: &Due, items: &[Item], now: &str) {
    let rg = resource_group(&d.scope.account);
    let rg_key = rg.to_ascii_lowercase();
    if !world.resource_groups.contains_key(&rg_key) {
        let location = if d.location.is_empty() {
            "eastus"
        } else {
            &d.location
        };
        world.resource_groups.insert(
            rg_key.clone(),
            crate::arm::resource_group_body(subscription, &rg, location),
        );
    }
    let mut wanted = BTreeSet::new();
    for item in items {
        for (id, kind, mut body) in
            projected(subscription, &d.connector, &d.scope.account, item, now)
        {
            let key = id.to_ascii_lowercase();
            if let Some(created) = world
                .resources
                .get(&key)
                .and_then(|old| old.body.pointer("/systemData/createdAt"))
            {
                body["systemData"]["createdAt"] = created.clone();
            }
            wanted.insert(key.clone());
            world.resources.insert(
                key,
                Stored {
                    id,
                    resource_type: kind,
                    body,
                    pending: None,
                },
            );
        }
    }
    let group_prefix =
        format!("/subscriptions/{subscription}/resourcegroups/{rg_key}/").to_ascii_lowercase();
    let stale: Vec<String> = world
        .resources
        .iter()
        .filter(|(k, s)| {
            k.starts_with(&group_prefix) && !wanted.contains(*k) && owned_by(&s.body, &d.connector)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for key in stale {
        world.remove_tree(&key);
    }
}

/// Whether a stored body was projected for `connector`.
pub(crate) fn owned_by(body: &Value, connector: &str) -> bool {
    body.pointer("/properties/publicCloudConnectorsResourceId")
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case(connector))
}

/// Runs every sync that is due. AWS failures leave the projection as it was (the service
/// retries at the next interval).
pub(crate) async fn sync(shared: &Shared) {
    let (work, endpoint) = {
        let world = shared.world.lock();
        (
            due(&world, &shared.config.tenant_id),
            world.aws_endpoint.clone(),
        )
    };
    let Some(aws) = endpoint.as_deref().and_then(|e| AwsClient::new(e).ok()) else {
        return;
    };
    let subscription = shared.config.subscription_id.clone();
    for d in work.into_iter().filter(|d| !d.done) {
        let missing = match permissions::check(&aws, &d.scope, &[INVENTORY]).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("inventory sync of {}: {e}", d.connector);
                continue;
            }
        };
        if !missing.is_empty() {
            let details: Vec<String> = missing
                .iter()
                .map(|m| format!("Missing {}: {}", m.permission, m.detail))
                .collect();
            let mut world = shared.world.lock();
            set_status(
                &mut world,
                &d.solution_key,
                "Failed",
                &details.join(" "),
                None,
            );
            continue;
        }
        let items = match inventory::scan(&aws, &d.scope.account, &d.settings).await {
            Ok(items) => items,
            Err(e) => {
                eprintln!("inventory sync of {}: {e}", d.connector);
                continue;
            }
        };
        let now = crate::clock::rfc3339_now();
        let mut world = shared.world.lock();
        // The connector or its solution may have gone while AWS was read.
        if !world.resources.contains_key(&d.solution_key) {
            continue;
        }
        apply(&mut world, &subscription, &d, &items, &now);
        let details = format!("Synced {} resource(s).", items.len());
        set_status(
            &mut world,
            &d.solution_key,
            "Completed",
            &details,
            Some(&now),
        );
    }
}

/// The inventory items of a connector's projection, sorted by AWS ARN: one per projected
/// AWS resource (an EC2 instance counts once, by its extension).
pub(crate) fn items_of(world: &World, connector: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = world
        .resources
        .values()
        .filter(|s| {
            !s.resource_type.eq_ignore_ascii_case(MACHINE_TYPE) && owned_by(&s.body, connector)
        })
        .filter_map(|s| {
            let p = &s.body["properties"];
            let kind = p["awsSourceSchema"].as_str()?.to_string();
            let arn = p["arn"].as_str()?.to_string();
            let azure = match s.id.find("/providers/Microsoft.AwsConnector/ec2Instances/") {
                Some(i) => s.id[..i].to_string(),
                None => s.id.clone(),
            };
            Some((kind, arn, azure))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(kind: &'static str, azure_type: &'static str, arn: &str, name: &str) -> Item {
        Item {
            cloud_native_type: kind,
            arn: arn.into(),
            azure_type,
            name: name.into(),
        }
    }

    #[test]
    fn ec2_instances_are_machines_with_an_aws_connector_extension() {
        let i = item(
            "ec2",
            "ec2Instances",
            "arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
            "i-1",
        );
        let out = projected("s", "/c", "123456789012", &i, "t");
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].0,
            "/subscriptions/s/resourceGroups/aws_123456789012/providers/Microsoft.HybridCompute/machines/i-1"
        );
        assert_eq!(out[0].2["location"], "westeurope");
        assert_eq!(
            out[1].0,
            format!(
                "{}/providers/Microsoft.AwsConnector/ec2Instances/default",
                out[0].0
            )
        );
        assert_eq!(out[1].2["properties"]["awsRegion"], "eu-west-1");
        assert!(owned_by(&out[1].2, "/C"));
    }

    #[test]
    fn global_resources_land_in_the_home_region() {
        let b = item("s3", "s3Buckets", "arn:aws:s3:::logs", "logs");
        let out = projected("s", "/c", "123456789012", &b, "t");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, "Microsoft.AwsConnector/s3Buckets");
        assert_eq!(out[0].2["properties"]["awsRegion"], "us-east-1");
        assert_eq!(out[0].2["location"], "eastus");
        assert!(concerns(
            "/subscriptions/s/resourceGroups/AWS_123456789012/resources"
        ));
        assert!(!concerns(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridConnectivity/publicCloudConnectors/c"
        ));
    }
}
