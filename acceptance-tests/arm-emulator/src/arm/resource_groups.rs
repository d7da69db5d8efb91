//! Resource groups: create/read/update/delete (delete is a Location long-running operation).

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::Ctx;
use crate::errors::{ArmError, invalid_content, rg_not_found};
use crate::http::Resp;
use crate::lro::{LroConfig, LroMode, OpKind};
use crate::state::World;

/// Key of the admin LRO setting that governs resource group deletes.
const RG_TYPE: &str = "microsoft.resources/resourcegroups";

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
}

pub(super) fn list(ctx: &Ctx<'_>, world: &World) -> Result<Resp, ArmError> {
    let items: Vec<Value> = world.resource_groups.values().cloned().collect();
    Ok(super::paged(ctx, world, items))
}

/// `Resources_ListByResourceGroup`: the group's top-level resources (extension and child
/// resources are not listed), in the generic resource shape.
pub(super) fn list_resources(ctx: &Ctx<'_>, world: &World, name: &str) -> Result<Resp, ArmError> {
    let key = name.to_ascii_lowercase();
    if !world.resource_groups.contains_key(&key) {
        return Err(rg_not_found(name));
    }
    let sub = &ctx.shared.config.subscription_id;
    let prefix =
        format!("/subscriptions/{sub}/resourcegroups/{key}/providers/").to_ascii_lowercase();
    let items: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, _)| {
            k.strip_prefix(&prefix)
                .is_some_and(|rest| rest.split('/').count() == 3)
        })
        .map(|(_, s)| {
            let mut item = json!({
                "id": s.id,
                "name": s.body.get("name").cloned().unwrap_or(Value::Null),
                "type": s.resource_type,
            });
            for k in ["location", "kind", "tags"] {
                if let Some(v) = s.body.get(k) {
                    item[k] = v.clone();
                }
            }
            item
        })
        .collect();
    Ok(super::paged(ctx, world, items))
}

pub(super) fn handle(ctx: &Ctx<'_>, world: &mut World, name: &str) -> Result<Resp, ArmError> {
    let key = name.to_ascii_lowercase();
    let sub = &ctx.shared.config.subscription_id;
    match ctx.req.method {
        Method::GET => world
            .resource_groups
            .get(&key)
            .map(|b| Resp::ok(b.clone()))
            .ok_or_else(|| rg_not_found(name)),
        Method::HEAD => Ok(Resp::empty(if world.resource_groups.contains_key(&key) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        })),
        Method::PUT => {
            if !valid_name(name) {
                return Err(ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceGroup",
                    "The provided resource group name has these invalid characters or is too long.",
                ));
            }
            let body = ctx
                .req
                .json()
                .map_err(|e| invalid_content(&e.to_string()))?;
            let Some(location) = body.get("location").and_then(Value::as_str) else {
                return Err(ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "LocationRequired",
                    "The location property is required for this definition.",
                ));
            };
            if let Some(existing) = world.resource_groups.get_mut(&key) {
                let old = existing["location"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if !normalise(&old).eq(&normalise(location)) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{location}'. The Resource group already exists in location '{old}'."
                        ),
                    ));
                }
                if let Some(tags) = body.get("tags") {
                    existing["tags"] = tags.clone();
                }
                return Ok(Resp::ok(existing.clone()));
            }
            let mut rg = body_of(sub, name, location);
            for k in ["tags", "managedBy"] {
                if let Some(v) = body.get(k) {
                    rg[k] = v.clone();
                }
            }
            world.resource_groups.insert(key, rg.clone());
            Ok(Resp::json(StatusCode::CREATED, rg))
        }
        Method::PATCH => {
            let body = ctx
                .req
                .json()
                .map_err(|e| invalid_content(&e.to_string()))?;
            let rg = world
                .resource_groups
                .get_mut(&key)
                .ok_or_else(|| rg_not_found(name))?;
            if let Some(tags) = body.get("tags") {
                rg["tags"] = tags.clone();
            }
            Ok(Resp::ok(rg.clone()))
        }
        Method::DELETE => {
            if !world.resource_groups.contains_key(&key) {
                return Err(rg_not_found(name));
            }
            let target = format!("/subscriptions/{sub}/resourcegroups/{key}").to_ascii_lowercase();
            // ARM always deletes groups asynchronously; the admin API may change polls or outcome.
            let config = world.lro.get(RG_TYPE).cloned().unwrap_or(LroConfig {
                mode: LroMode::Location,
                polls: 0,
                ..LroConfig::default()
            });
            if config.mode == LroMode::Sync {
                world.resource_groups.remove(&key);
                world.remove_tree(&target);
                return Ok(Resp::empty(StatusCode::OK));
            }
            if let Some(rg) = world.resource_groups.get_mut(&key) {
                rg["properties"]["provisioningState"] = json!("Deleting");
            }
            let (_, headers) = crate::lro::begin(
                world,
                ctx.op_site(),
                "Microsoft.Resources",
                OpKind::DeleteResourceGroup,
                &target,
                &config,
            );
            let mut r = Resp::empty(StatusCode::ACCEPTED);
            r.headers.extend(headers);
            Ok(r)
        }
        _ => Err(super::method_not_allowed(ctx.req)),
    }
}

/// A resource group as ARM returns it.
pub(crate) fn body_of(subscription: &str, name: &str, location: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{subscription}/resourceGroups/{name}"),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    })
}

/// ARM treats `West Europe` and `westeurope` as the same location.
fn normalise(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}
