//! The connector operations that look at the AWS side, served outside the generic store
//! because they call the AWS emulator (so the world lock is not held across the calls):
//! * `POST {connector}/testPermissions` (`PublicCloudConnectors_TestPermissions`): an
//!   `OperationStatusResult`, `Failed` with one error detail per missing permission.
//! * `GET {connector}/providers/Microsoft.HybridConnectivity/solutionConfigurations/{name}/inventory[/{id}]`
//!   (`Inventory_ListBySolutionConfiguration`, `Inventory_Get`): what the inventory solution
//!   has synced, empty until its permissions are in place.

use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::permissions::{self, Missing, Scope};
use super::settings::INVENTORY;
use super::{API_VERSION, CONNECTOR_TYPE, SOLUTION_TYPE, inventory};
use crate::errors::{ArmError, not_found_resource, subscription_not_found};
use crate::http::{Req, Resp};
use crate::security::aws::{AwsClient, AwsError};
use crate::server::Shared;
use crate::state::RegState;

/// What a path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `POST .../publicCloudConnectors/{name}/testPermissions`.
    TestPermissions { connector: String },
    /// `GET .../solutionConfigurations/{name}/inventory[/{id}]`.
    Inventory {
        connector: String,
        solution: String,
        item: Option<String>,
    },
}

/// Recognises the two operations (segments compared case-insensitively, as ARM does).
pub(crate) fn parse_path(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    let connector = || format!("/{}", segs[..8].join("/"));
    match l.as_slice() {
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.hybridconnectivity",
            "publiccloudconnectors",
            _,
            rest @ ..,
        ] => match rest {
            ["testpermissions"] => Some(Target::TestPermissions {
                connector: connector(),
            }),
            [
                "providers",
                "microsoft.hybridconnectivity",
                "solutionconfigurations",
                _,
                "inventory",
                item @ ..,
            ] if item.len() <= 1 => Some(Target::Inventory {
                connector: connector(),
                solution: segs[11].to_string(),
                item: segs.get(13).map(|s| (*s).to_string()),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// The connector and its solution configurations, copied out of the store.
struct Snapshot {
    scope: Scope,
    /// (id, solution type, settings) of each solution configuration.
    solutions: Vec<(String, String, Map<String, Value>)>,
    aws: Option<AwsClient>,
}

fn snapshot(shared: &Shared, connector: &str) -> Result<Snapshot, ArmError> {
    let world = shared.world.lock();
    let segs: Vec<&str> = connector.split('/').collect();
    let sub = segs.get(2).copied().unwrap_or_default();
    if !sub.eq_ignore_ascii_case(&shared.config.subscription_id) {
        return Err(subscription_not_found(sub));
    }
    let namespace = "Microsoft.HybridConnectivity";
    if !world
        .providers
        .get(&namespace.to_ascii_lowercase())
        .is_some_and(|p| p.state == RegState::Registered)
    {
        return Err(crate::errors::missing_registration(namespace));
    }
    let key = connector.to_ascii_lowercase();
    let stored = world
        .resources
        .get(&key)
        .filter(|s| s.resource_type.eq_ignore_ascii_case(CONNECTOR_TYPE))
        .ok_or_else(|| {
            not_found_resource(
                CONNECTOR_TYPE,
                segs.get(8).copied().unwrap_or_default(),
                segs.get(4).copied(),
            )
        })?;
    let text = |pointer: &str| {
        stored
            .body
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let prefix = format!("{key}/providers/");
    let solutions = world
        .resources
        .iter()
        .filter(|(k, s)| {
            k.starts_with(&prefix) && s.resource_type.eq_ignore_ascii_case(SOLUTION_TYPE)
        })
        .map(|(_, s)| {
            let b = &s.body;
            (
                b["id"].as_str().unwrap_or_default().to_string(),
                b.pointer("/properties/solutionType")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                b.pointer("/properties/solutionSettings")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    Ok(Snapshot {
        scope: Scope {
            account: text("/properties/awsCloudProfile/accountId"),
            tenant: shared.config.tenant_id.clone(),
            identifier: text("/properties/connectorPrimaryIdentifier"),
        },
        solutions,
        aws: world
            .aws_endpoint
            .as_deref()
            .and_then(|e| AwsClient::new(e).ok()),
    })
}

fn aws_failed(e: &AwsError) -> ArmError {
    ArmError::new(
        StatusCode::BAD_GATEWAY,
        "AwsRequestFailed",
        format!("Reading the AWS account failed: {e}"),
    )
}

/// Serves an authenticated ARM request for a target.
pub(crate) async fn serve(shared: &Shared, req: &Req, target: Target) -> Resp {
    let api_version = match crate::arm::preflight(shared, req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if api_version != API_VERSION {
        return crate::arm::unsupported_api_version(
            &api_version,
            "publicCloudConnectors",
            &[API_VERSION],
        )
        .into_resp();
    }
    let expected = match target {
        Target::TestPermissions { .. } => Method::POST,
        Target::Inventory { .. } => Method::GET,
    };
    if req.method != expected {
        return ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested method '{}' is not allowed here.", req.method),
        )
        .into_resp();
    }
    let result = match target {
        Target::TestPermissions { connector } => test_permissions(shared, &connector).await,
        Target::Inventory {
            connector,
            solution,
            item,
        } => list_inventory(shared, &connector, &solution, item.as_deref()).await,
    };
    result.unwrap_or_else(ArmError::into_resp)
}

async fn test_permissions(shared: &Shared, connector: &str) -> Result<Resp, ArmError> {
    let snap = snapshot(shared, connector)?;
    let started = crate::clock::rfc3339_now();
    let name = crate::ids::random_guid();
    let types: Vec<&str> = snap.solutions.iter().map(|(_, t, _)| t.as_str()).collect();
    let missing: Vec<Missing> = match &snap.aws {
        None => vec![Missing {
            solution_type: String::new(),
            permission: "AWS access".into(),
            detail: "the emulator was started without an AWS endpoint (--aws-endpoint).".into(),
        }],
        Some(aws) => permissions::check(aws, &snap.scope, &types)
            .await
            .map_err(|e| aws_failed(&e))?,
    };
    let mut body = json!({
        "id": format!("{connector}/operationStatuses/{name}"),
        "resourceId": connector,
        "name": name,
        "status": if missing.is_empty() { "Succeeded" } else { "Failed" },
        "percentComplete": 100,
        "startTime": started,
        "endTime": crate::clock::rfc3339_now(),
    });
    if !missing.is_empty() {
        let details: Vec<Value> = missing
            .iter()
            .map(|m| {
                json!({
                    "code": "MissingPermission",
                    "target": m.solution_type,
                    "message": format!("Missing {}: {}", m.permission, m.detail),
                })
            })
            .collect();
        body["error"] = json!({
            "code": "MissingPermissions",
            "message": format!(
                "The connector lacks {} permission(s) in AWS account {}.",
                missing.len(),
                snap.scope.account
            ),
            "details": details,
        });
    }
    Ok(Resp::ok(body))
}

async fn list_inventory(
    shared: &Shared,
    connector: &str,
    solution: &str,
    item: Option<&str>,
) -> Result<Resp, ArmError> {
    let snap = snapshot(shared, connector)?;
    let Some((id, solution_type, _)) = snap
        .solutions
        .iter()
        .find(|(id, _, _)| {
            id.rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(solution))
        })
        .cloned()
    else {
        return Err(not_found_resource(SOLUTION_TYPE, solution, None));
    };
    let mut items = Vec::new();
    // Only the inventory solution projects resources; the list is what its syncs projected
    // (kept when the permissions go away later, as the service keeps them).
    if solution_type == INVENTORY {
        super::projection::sync(shared).await;
        let world = shared.world.lock();
        items = super::projection::items_of(&world, connector)
            .iter()
            .map(|(kind, arn, azure)| inventory::resource(&id, kind, arn, azure))
            .collect();
    }
    match item {
        None => Ok(Resp::ok(json!({"value": items}))),
        Some(name) => items
            .into_iter()
            .find(|i| {
                i["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(Resp::ok)
            .ok_or_else(|| {
                not_found_resource(
                    "Microsoft.HybridConnectivity/solutionConfigurations/inventory",
                    name,
                    None,
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_paths_are_recognised() {
        let c = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.HybridConnectivity/publicCloudConnectors/aws-prod";
        assert_eq!(
            parse_path(&format!("{c}/testPermissions")),
            Some(Target::TestPermissions {
                connector: c.to_string()
            })
        );
        assert_eq!(
            parse_path(&format!(
                "{}/PROVIDERS/Microsoft.HybridConnectivity/solutionConfigurations/inventory/inventory/abc",
                c
            )),
            Some(Target::Inventory {
                connector: c.to_string(),
                solution: "inventory".into(),
                item: Some("abc".into()),
            })
        );
        assert_eq!(parse_path(c), None);
        assert_eq!(
            parse_path(&format!(
                "{c}/providers/Microsoft.HybridConnectivity/solutionConfigurations/inventory"
            )),
            None
        );
    }
}
