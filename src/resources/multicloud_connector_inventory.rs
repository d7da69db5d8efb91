//! `multicloud_connector_inventory`: what a multicloud connector's inventory solution has
//! synced from AWS, counted by resource type and region, so a pipeline can assert that the
//! connection works. Before reading, the connector's own `testPermissions` operation is asked
//! whether the service has what the solutions need in AWS; a gap is reported with the missing
//! permission's name.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::azure::hybrid_connectivity::{InventoryResource, OperationStatus};
use crate::azure::{ArmClient, AzureError};
use crate::protocol::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

use super::clients::ProviderClients;
use super::multicloud_connector_model::{INVENTORY, aws_resource_group};
use super::waiting::{Cadence, Poll, WaitError, waited};
use super::{errors, validators};

/// The `multicloud_connector_inventory` data source.
#[derive(Debug, Default, Clone, Copy)]
pub struct MulticloudConnectorInventoryDataSource;

const TYPE_NAME: &str = "multicloud_connector_inventory";

/// How `wait_for_resources` waits: 30 minutes unless `wait_timeout` says otherwise, reading
/// after 15 s, then twice as long each time up to 2 minutes. The service syncs in minutes
/// (about an hour for a first scan), so polling faster only spends the read quota.
const CADENCE: Cadence = Cadence {
    default_timeout: Duration::from_secs(30 * 60),
    first_interval: Duration::from_secs(15),
    max_interval: Duration::from_secs(120),
};

/// Region of resources whose ARN names none (S3 buckets, IAM roles).
const GLOBAL: &str = "global";

const DESCRIPTION: &str = "What the inventory solution of a multicloud connector \
(`multicloud_connector`) has synced from AWS \
(`Microsoft.HybridConnectivity/.../solutionConfigurations/{name}/inventory`, api-version \
`2024-12-01`), counted by AWS resource type and region, so a pipeline can assert that the \
connection works (for example with a `postcondition` on `total_count`).\n\n\
First, unless `check_permissions = false`, the connector's `testPermissions` operation is asked \
whether the service has what the connector's solutions need in AWS (the roles of the \
authentication template, their trust and their policies); if not, reading fails with the \
missing permissions named. Deploy the template first (for example `multicloud_aws_oidc_trust` \
with `roles = multicloud_connector.<name>.aws_roles`, and `depends_on` it here).\n\n\
With `wait_for_resources`, reading (also during `terraform plan`) waits up to `wait_timeout` for \
the permissions and for at least one synced resource.";

fn count_type() -> Type {
    Type::object([
        ("type", Type::String),
        ("region", Type::String),
        ("count", Type::Number),
    ])
}

/// The region an ARN names (`arn:aws:ec2:us-east-1:...`); [`GLOBAL`] when it names none or the
/// id is not an ARN.
fn region_of(resource_id: &str) -> String {
    let parts: Vec<&str> = resource_id.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, _, region, ..] if !region.is_empty() => (*region).to_owned(),
        _ => GLOBAL.to_owned(),
    }
}

/// Counts by (type, region), in a stable order.
fn counts(items: &[InventoryResource]) -> BTreeMap<(String, String), i64> {
    let mut out = BTreeMap::new();
    for item in items {
        let p = &item.properties;
        let kind = p
            .cloud_native_type
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let region = region_of(p.cloud_native_resource_id.as_deref().unwrap_or_default());
        *out.entry((kind, region)).or_insert(0) += 1;
    }
    out
}

/// The missing permissions `testPermissions` reported, one line each; `None` when it
/// succeeded.
fn missing_permissions(status: &OperationStatus) -> Option<String> {
    if status.status.eq_ignore_ascii_case("Succeeded") {
        return None;
    }
    let mut lines = Vec::new();
    if let Some(e) = &status.error {
        for d in &e.details {
            let what = d.target.as_deref().filter(|t| !t.is_empty());
            let message = d.message.as_deref().unwrap_or("missing permission");
            lines.push(match what {
                Some(t) => format!("- {t}: {message}"),
                None => format!("- {message}"),
            });
        }
        if lines.is_empty() {
            lines.push(format!(
                "- {}",
                e.message.as_deref().unwrap_or("no reason given")
            ));
        }
    } else {
        lines.push(format!("- the check ended {}", status.status));
    }
    Some(lines.join("\n"))
}

/// One look at the connector: its inventory, or the reason to keep waiting (or to fail with).
/// An empty inventory is a reason too when `need_items`.
async fn look(
    arm: &ArmClient,
    connector_id: &str,
    solution_id: &str,
    check_permissions: bool,
    need_items: bool,
) -> Result<Poll<Vec<InventoryResource>, String>, AzureError> {
    if check_permissions {
        let status = arm.test_connector_permissions(connector_id).await?;
        if let Some(missing) = missing_permissions(&status) {
            return Ok(Poll::Pending(format!(
                "The connector's service lacks permissions in AWS (testPermissions):\n{missing}\n\n\
                 Deploy the connector's authentication_template in the AWS account, for example \
                 with multicloud_aws_oidc_trust and roles = multicloud_connector.<name>.aws_roles."
            )));
        }
    }
    let items = arm.solution_inventory(solution_id).await?;
    if need_items && items.is_empty() {
        return Ok(Poll::Pending(
            "The inventory solution has synced no resource yet.".to_owned(),
        ));
    }
    Ok(Poll::Ready(items))
}

/// Reports that `connector_id` names no multicloud connector.
fn connector_missing(diags: &mut Diagnostics, connector_id: &str) {
    diags.attribute_error(
        AttrPath::root("connector_id"),
        "Multicloud connector not found",
        format!("There is no multicloud connector {connector_id}."),
    );
}

/// The inventory solution configuration's id: the named one, or the connector's one of the
/// inventory type.
async fn solution_id(
    arm: &ArmClient,
    connector_id: &str,
    name: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<String> {
    let all = match arm.solution_configurations(connector_id).await {
        Ok(all) => all,
        Err(AzureError::NotFound(_)) => {
            connector_missing(diags, connector_id);
            return None;
        }
        Err(e) => {
            errors::azure(
                diags,
                "Cannot read the connector's solution configurations",
                &e,
            );
            return None;
        }
    };
    let found = all.iter().find(|s| match name {
        Some(n) => s.name.eq_ignore_ascii_case(n),
        None => s.properties.solution_type.eq_ignore_ascii_case(INVENTORY),
    });
    match (found, name) {
        (Some(s), _) => Some(s.id.clone()),
        (None, Some(n)) => {
            diags.attribute_error(
                AttrPath::root("solution_configuration_name"),
                "Solution configuration not found",
                format!("The connector has no solution configuration {n:?}."),
            );
            None
        }
        (None, None) => {
            diags.attribute_error(
                AttrPath::root("connector_id"),
                "No inventory solution",
                "The connector has no inventory solution; add an `inventory {}` block to the multicloud_connector.",
            );
            None
        }
    }
}

fn state(config: &Value, items: &[InventoryResource]) -> Value {
    let by_kind = counts(items);
    let mut out = config.clone();
    out.set_attr("total_count", items.len() as i64);
    out.set_attr(
        "resources",
        Value::list(by_kind.into_iter().map(|((kind, region), n)| {
            Value::object([
                ("type", Value::from(kind)),
                ("region", Value::from(region)),
                ("count", Value::from(n)),
            ])
        })),
    );
    if out.get("check_permissions").is_null() {
        out.set_attr("check_permissions", true);
    }
    out
}

#[async_trait]
impl DataSource<ProviderClients> for MulticloudConnectorInventoryDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description(DESCRIPTION)
                .attribute(Attribute::string("connector_id").required().description(
                    "The ARM id of the multicloud connector, for example `multicloud_connector.prod.id`.",
                ))
                .attribute(Attribute::string("solution_configuration_name").optional().description(
                    "The solution configuration whose inventory to read. Defaults to the connector's \
                     inventory solution (`Microsoft.AssetManagement`).",
                ))
                .attribute(Attribute::bool("check_permissions").optional().computed().description(
                    "Ask the connector's `testPermissions` operation first and fail, naming the missing \
                     permissions, when the service lacks any in AWS. Defaults to `true`.",
                ))
                .attribute(Attribute::bool("wait_for_resources").optional().description(
                    "Wait until the permissions are in place and at least one resource is synced, \
                     failing after `wait_timeout`. Defaults to `false`: report the inventory as it is.",
                ))
                .attribute(Attribute::string("wait_timeout").optional().description(
                    "How long `wait_for_resources` waits, as a duration such as `90s`, `10m` or \
                     `1h30m`. Defaults to `30m` (a first scan takes about an hour in Azure; raise it \
                     for a fresh connector).",
                ))
                .attribute(Attribute::string("aws_resource_group_name").computed().description(
                    "The resource group (`aws_<account id>`) the synced resources are projected into.",
                ))
                .attribute(Attribute::int("total_count").computed().description(
                    "How many AWS resources are synced.",
                ))
                .attribute(Attribute::list("resources", count_type()).computed().description(
                    "Synced resources counted by `type` (the AWS resource type, such as `ec2`, `s3`, \
                     `iam`) and `region` (`global` for resources without one, such as S3 buckets and \
                     IAM roles), with their `count`; sorted by type and region.",
                )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(id) = config.get("connector_id").as_str()
            && let Err(detail) = super::multicloud_connector::parse_id(id)
        {
            diags.attribute_error(
                AttrPath::root("connector_id"),
                "Invalid multicloud connector id",
                detail,
            );
        }
        validators::check_wait_timeout(config, diags);
    }

    async fn read(
        &self,
        clients: &ProviderClients,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let arm = clients
            .azure_if_valid(diags, |d| self.validate(config, d))
            .await?;
        let connector_id = config.get("connector_id").as_str()?.trim_end_matches('/');
        let connector = match arm.public_cloud_connector(connector_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                connector_missing(diags, connector_id);
                return None;
            }
            Err(e) => {
                errors::azure(diags, "Cannot read the multicloud connector", &e);
                return None;
            }
        };
        let name = config.get("solution_configuration_name").as_str();
        let solution = solution_id(arm, connector_id, name, diags).await?;
        let check = config.get("check_permissions").as_bool().unwrap_or(true);
        let wait = config.get("wait_for_resources").as_bool().unwrap_or(false);
        let mut wait_for = CADENCE.wait(arm.clock().clone(), config)?;
        if !wait {
            wait_for = wait_for.once();
        }
        let read = || look(arm, connector_id, &solution, check, wait);
        match wait_for.until("the connector's inventory", read).await {
            Ok(items) => {
                let mut out = state(config, &items);
                out.set_attr(
                    "aws_resource_group_name",
                    aws_resource_group(&connector.properties.aws_cloud_profile.account_id),
                );
                Some(out)
            }
            Err(WaitError::Failed(e)) => {
                errors::azure(diags, "Cannot read the connector's inventory", &e);
                None
            }
            Err(WaitError::TimedOut {
                last: why,
                elapsed,
                timeout,
            }) => {
                let waited = if wait {
                    format!(" {}", waited(elapsed, timeout))
                } else {
                    String::new()
                };
                diags.error(
                    "Multicloud connector inventory not available",
                    format!("{connector_id}{waited}:\n{why}"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::azure::hybrid_connectivity::{InventoryProperties, OperationError};

    use super::*;

    fn item(kind: &str, id: &str) -> InventoryResource {
        InventoryResource {
            properties: InventoryProperties {
                cloud_native_type: Some(kind.into()),
                cloud_native_resource_id: Some(id.into()),
                ..InventoryProperties::default()
            },
            ..InventoryResource::default()
        }
    }

    #[test]
    fn items_are_counted_by_type_and_region() {
        let items = [
            item("ec2", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"),
            item("ec2", "arn:aws:ec2:us-east-1:123456789012:instance/i-2"),
            item("ec2", "arn:aws:ec2:eu-west-1:123456789012:instance/i-3"),
            item("s3", "arn:aws:s3:::bucket"),
            item("iam", "arn:aws:iam::123456789012:role/r"),
            item("ec2", "i-4"),
        ];
        let c = counts(&items);
        let get = |k: &str, r: &str| c.get(&(k.to_owned(), r.to_owned())).copied();
        assert_eq!(get("ec2", "us-east-1"), Some(2));
        assert_eq!(get("ec2", "eu-west-1"), Some(1));
        assert_eq!(get("ec2", GLOBAL), Some(1));
        assert_eq!(get("s3", GLOBAL), Some(1));
        assert_eq!(get("iam", GLOBAL), Some(1));
        assert_eq!(c.len(), 5);
        let out = state(&Value::object::<String>([]), &items);
        assert_eq!(out.get("total_count").as_i64(), Some(6));
        assert_eq!(out.get("resources").as_list().map(<[Value]>::len), Some(5));
    }

    #[test]
    fn failed_permission_checks_name_each_missing_permission() {
        assert_eq!(
            missing_permissions(&OperationStatus {
                status: "Succeeded".into(),
                error: None
            }),
            None
        );
        let failed = OperationStatus {
            status: "Failed".into(),
            error: Some(OperationError {
                code: Some("MissingPermissions".into()),
                message: Some("lacks 2".into()),
                target: None,
                details: vec![
                    OperationError {
                        target: Some("Microsoft.AssetManagement".into()),
                        message: Some("Missing IAM role AzureArcMultiCloudInventory".into()),
                        ..OperationError::default()
                    },
                    OperationError {
                        message: Some("Missing Global Read".into()),
                        ..OperationError::default()
                    },
                ],
            }),
        };
        let text = missing_permissions(&failed).unwrap();
        assert!(
            text.contains(
                "- Microsoft.AssetManagement: Missing IAM role AzureArcMultiCloudInventory"
            ),
            "{text}"
        );
        assert!(text.contains("- Missing Global Read"), "{text}");
        let bare = OperationStatus {
            status: "Canceled".into(),
            error: None,
        };
        assert!(missing_permissions(&bare).unwrap().contains("Canceled"));
    }
}
