//! The generic ARM resource store: any `providers/{Ns}/{type}/{name}[/{child}/{name}...]` path,
//! with registration and parent checks, per-type behaviour hooks and long-running operations.

use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::errors::{
    ArmError, invalid_content, invalid_namespace, missing_registration, not_found_resource,
    rg_not_found,
};
use crate::hooks::WriteContext;
use crate::http::Resp;
use crate::lro::{LroMode, OpKind};
use crate::state::{RegState, Stored, World};

/// Where a resource path points: optional resource group, namespace, then type/name pairs.
pub(super) struct Scope<'a> {
    pub(super) rg: Option<&'a str>,
    pub(super) namespace: &'a str,
    pub(super) rest: &'a [&'a str],
}

/// Properties ARM owns; a client cannot set them.
const READ_ONLY: [&str; 4] = ["id", "name", "type", "systemData"];

/// Resolved names for one request.
pub(super) struct Resolved {
    /// `/subscriptions/{s}[/resourceGroups/{rg}]/providers/{Ns}` in canonical casing.
    pub(super) prefix: String,
    pub(super) namespace: String,
    pub(super) rg_name: Option<String>,
}

fn resolve(ctx: &Ctx<'_>, world: &World, scope: &Scope<'_>) -> Result<Resolved, ArmError> {
    let provider = world
        .providers
        .get(&scope.namespace.to_ascii_lowercase())
        .ok_or_else(|| invalid_namespace(scope.namespace))?;
    let namespace = provider.namespace.clone();
    if provider.state != RegState::Registered {
        return Err(missing_registration(&namespace));
    }
    let sub = &ctx.shared.config.subscription_id;
    let (prefix, rg_name) = match scope.rg {
        Some(rg) => {
            let body = world
                .resource_groups
                .get(&rg.to_ascii_lowercase())
                .ok_or_else(|| rg_not_found(rg))?;
            let name = body["name"].as_str().unwrap_or(rg).to_string();
            (
                format!("/subscriptions/{sub}/resourceGroups/{name}/providers/{namespace}"),
                Some(name),
            )
        }
        None => (format!("/subscriptions/{sub}/providers/{namespace}"), None),
    };
    Ok(Resolved {
        prefix,
        namespace,
        rg_name,
    })
}

pub(super) fn handle(ctx: &Ctx<'_>, world: &mut World, scope: Scope<'_>) -> Result<Resp, ArmError> {
    let r = resolve(ctx, world, &scope)?;
    let rest = scope.rest;
    let resource_type = resource_type_of(&r.namespace, rest);
    let types: Vec<&str> = resource_type.split('/').skip(1).collect();
    if let Some(b) = ctx.shared.config.behaviours.get(&resource_type) {
        let supported = b.api_versions();
        if !supported.is_empty()
            && !supported
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&ctx.api_version))
        {
            let short = types.last().copied().unwrap_or_default();
            return Err(super::unsupported_api_version(
                &ctx.api_version,
                short,
                supported,
            ));
        }
    }
    if rest.len() % 2 == 1 {
        let parent = &rest[..rest.len() - 1];
        return match ctx.req.method {
            Method::GET => list(ctx, world, &r, parent, &resource_type),
            Method::POST if rest.len() >= 3 => {
                let action = rest[rest.len() - 1];
                let parent_type = resource_type_of(&r.namespace, parent);
                post_action(ctx, world, &r, parent, &parent_type, action)
            }
            _ => Err(super::method_not_allowed(ctx.req)),
        };
    }
    if let Some(b) = ctx.shared.config.behaviours.get(&resource_type)
        && !b.supports(ctx.req.method.as_str())
    {
        return Err(super::method_not_allowed(ctx.req));
    }
    match ctx.req.method {
        Method::GET => {
            let id = id_of(&r, rest);
            world
                .resources
                .get(&id.to_ascii_lowercase())
                .map(|s| s.body.clone())
                .or_else(|| {
                    super::implicit::implicit(ctx, &r, rest, &resource_type).map(|s| s.body)
                })
                .map(Resp::ok)
                .ok_or_else(|| not_found(&r, rest, &resource_type))
        }
        Method::PUT => put(ctx, world, &r, rest, &resource_type),
        Method::PATCH => patch(ctx, world, &r, rest, &resource_type),
        Method::DELETE => delete(ctx, world, &r, rest, &resource_type),
        _ => Err(super::method_not_allowed(ctx.req)),
    }
}

/// The index of `providers` in an extension resource path (`{parent}/providers/{Ns}/{type}/...`).
fn extension_at(rest: &[&str]) -> Option<usize> {
    (2..rest.len())
        .step_by(2)
        .rfind(|&i| rest[i].eq_ignore_ascii_case("providers"))
}

/// `Ns/type[/child...]`; an extension resource is typed by its own namespace.
fn resource_type_of(namespace: &str, rest: &[&str]) -> String {
    let (ns, tail) = match extension_at(rest) {
        Some(i) if rest.len() > i + 1 => (rest[i + 1], &rest[i + 2..]),
        _ => (namespace, rest),
    };
    let types: Vec<&str> = tail.iter().step_by(2).copied().collect();
    format!("{ns}/{}", types.join("/"))
}

/// A parent path without the trailing `providers/{Ns}` of an extension scope.
fn owner<'a>(path: &'a [&'a str]) -> &'a [&'a str] {
    match path {
        [head @ .., p, _] if !head.is_empty() && p.eq_ignore_ascii_case("providers") => head,
        _ => path,
    }
}

pub(super) fn id_of(r: &Resolved, rest: &[&str]) -> String {
    format!("{}/{}", r.prefix, rest.join("/"))
}

fn name_path(rest: &[&str]) -> String {
    rest.iter()
        .skip(1)
        .step_by(2)
        .copied()
        .collect::<Vec<_>>()
        .join("/")
}

fn not_found(r: &Resolved, rest: &[&str], resource_type: &str) -> ArmError {
    not_found_resource(resource_type, &name_path(rest), r.rg_name.as_deref())
}

fn check_parent(world: &World, r: &Resolved, rest: &[&str]) -> Result<(), ArmError> {
    if rest.len() > 2 {
        let parent = owner(&rest[..rest.len() - 2]);
        if !world
            .resources
            .contains_key(&id_of(r, parent).to_ascii_lowercase())
        {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "ParentResourceNotFound",
                format!(
                    "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                    name_path(parent)
                ),
            ));
        }
    }
    Ok(())
}

fn busy(s: &Stored) -> Result<(), ArmError> {
    if s.pending.is_some() {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "AnotherOperationInProgress",
            format!("Another operation on resource '{}' is in progress.", s.id),
        ));
    }
    Ok(())
}

fn system_data(ctx: &Ctx<'_>, previous: Option<&Value>) -> Value {
    let now = crate::clock::rfc3339_now();
    let who = &ctx.caller.client_id;
    let mut sd = json!({
        "createdBy": who, "createdByType": "Application", "createdAt": now,
        "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now,
    });
    if let Some(prev) = previous.and_then(|p| p.get("systemData")) {
        for k in ["createdBy", "createdByType", "createdAt"] {
            if let Some(v) = prev.get(k) {
                sd[k] = v.clone();
            }
        }
    }
    sd
}

fn set_state(body: &mut Value, state: &str) {
    if !body.get("properties").is_some_and(Value::is_object) {
        body["properties"] = json!({});
    }
    body["properties"]["provisioningState"] = json!(state);
}

fn object_body(ctx: &Ctx<'_>) -> Result<Map<String, Value>, ArmError> {
    match ctx
        .req
        .json()
        .map_err(|e| invalid_content(&e.to_string()))?
    {
        Value::Object(m) => Ok(m),
        Value::Null => Err(invalid_content("the request body is empty")),
        _ => Err(invalid_content("the request body must be a JSON object")),
    }
}

/// Stores `body` and answers according to the type's LRO mode.
fn commit(
    ctx: &Ctx<'_>,
    world: &mut World,
    id: String,
    resource_type: &str,
    mut body: Value,
    kind: OpKind,
    created: bool,
) -> Resp {
    let config = world
        .lro
        .get(&resource_type.to_ascii_lowercase())
        .cloned()
        .unwrap_or_default();
    let key = id.to_ascii_lowercase();
    if config.mode == LroMode::Sync {
        let reports_state = ctx
            .shared
            .config
            .behaviours
            .get(resource_type)
            .is_none_or(|b| b.reports_provisioning_state());
        if reports_state {
            set_state(&mut body, "Succeeded");
        }
        world.resources.insert(
            key,
            Stored {
                id,
                resource_type: resource_type.to_string(),
                body: body.clone(),
                pending: None,
            },
        );
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Resp::json(status, body);
    }
    set_state(&mut body, if created { "Creating" } else { "Updating" });
    let namespace = resource_type
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let (op, headers) = crate::lro::begin(world, ctx.op_site(), &namespace, kind, &key, &config);
    world.resources.insert(
        key,
        Stored {
            id,
            resource_type: resource_type.to_string(),
            body: body.clone(),
            pending: Some(op),
        },
    );
    let mut resp = match (config.mode, kind) {
        (LroMode::Async, OpKind::Put) => Resp::json(
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            body,
        ),
        _ => Resp::empty(StatusCode::ACCEPTED),
    };
    resp.headers.extend(headers);
    resp
}

fn put(
    ctx: &Ctx<'_>,
    world: &mut World,
    r: &Resolved,
    rest: &[&str],
    resource_type: &str,
) -> Result<Resp, ArmError> {
    check_parent(world, r, rest)?;
    let mut input = object_body(ctx)?;
    let id = id_of(r, rest);
    let existing = world
        .resources
        .get(&id.to_ascii_lowercase())
        .cloned()
        .or_else(|| super::implicit::implicit(ctx, r, rest, resource_type));
    if let Some(s) = &existing {
        busy(s)?;
    }
    let id = existing.as_ref().map(|s| s.id.clone()).unwrap_or(id);
    if let Some(s) = &existing {
        check_location(s, &input)?;
    }
    for k in READ_ONLY {
        input.remove(k);
    }
    if let Some(Value::Object(p)) = input.get_mut("properties") {
        p.remove("provisioningState");
    }
    let mut body = Value::Object(input);
    body["id"] = json!(id);
    body["name"] = json!(rest[rest.len() - 1]);
    body["type"] = json!(resource_type);
    body["systemData"] = system_data(ctx, existing.as_ref().map(|s| &s.body));
    run_hooks(
        ctx,
        &id,
        resource_type,
        "PUT",
        existing.as_ref().map(|s| &s.body),
        &mut body,
    )?;
    Ok(commit(
        ctx,
        world,
        id,
        resource_type,
        body,
        OpKind::Put,
        existing.is_none(),
    ))
}

/// A PUT cannot move an existing resource to another location.
fn check_location(existing: &Stored, input: &Map<String, Value>) -> Result<(), ArmError> {
    let squash = |l: &str| {
        l.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let old = existing.body.get("location").and_then(Value::as_str);
    let new = input.get("location").and_then(Value::as_str);
    if let (Some(old), Some(new)) = (old, new)
        && squash(old) != squash(new)
    {
        let name = existing.id.rsplit('/').next().unwrap_or_default();
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidResourceLocation",
            format!(
                "The resource '{name}' already exists in location '{old}'. A resource with the same name cannot be created in location '{new}'. Please select a new resource name."
            ),
        ));
    }
    Ok(())
}

fn patch(
    ctx: &Ctx<'_>,
    world: &mut World,
    r: &Resolved,
    rest: &[&str],
    resource_type: &str,
) -> Result<Resp, ArmError> {
    let mut input = object_body(ctx)?;
    let existing = world
        .resources
        .get(&id_of(r, rest).to_ascii_lowercase())
        .cloned()
        .ok_or_else(|| not_found(r, rest, resource_type))?;
    busy(&existing)?;
    for k in READ_ONLY {
        input.remove(k);
    }
    if let Some(Value::Object(p)) = input.get_mut("properties") {
        p.remove("provisioningState");
    }
    let mut body = existing.body.clone();
    merge_patch(&mut body, &Value::Object(input));
    body["systemData"] = system_data(ctx, Some(&existing.body));
    run_hooks(
        ctx,
        &existing.id,
        resource_type,
        "PATCH",
        Some(&existing.body),
        &mut body,
    )?;
    Ok(commit(
        ctx,
        world,
        existing.id,
        resource_type,
        body,
        OpKind::Patch,
        false,
    ))
}

fn run_hooks(
    ctx: &Ctx<'_>,
    id: &str,
    resource_type: &str,
    method: &str,
    existing: Option<&Value>,
    body: &mut Value,
) -> Result<(), ArmError> {
    if let Some(b) = ctx.shared.config.behaviours.get(resource_type) {
        let wctx = WriteContext {
            id,
            resource_type,
            api_version: &ctx.api_version,
            method,
            existing,
        };
        b.validate(&wctx, body)?;
        b.on_write(&wctx, body);
    }
    Ok(())
}

fn delete(
    ctx: &Ctx<'_>,
    world: &mut World,
    r: &Resolved,
    rest: &[&str],
    resource_type: &str,
) -> Result<Resp, ArmError> {
    let key = id_of(r, rest).to_ascii_lowercase();
    let Some(existing) = world.resources.get(&key).cloned() else {
        return Ok(Resp::empty(StatusCode::NO_CONTENT));
    };
    busy(&existing)?;
    let config = world
        .lro
        .get(&resource_type.to_ascii_lowercase())
        .cloned()
        .unwrap_or_default();
    if config.mode == LroMode::Sync {
        world.remove_tree(&key);
        return Ok(Resp::empty(StatusCode::OK));
    }
    let (op, headers) = crate::lro::begin(
        world,
        ctx.op_site(),
        &r.namespace,
        OpKind::Delete,
        &key,
        &config,
    );
    if let Some(s) = world.resources.get_mut(&key) {
        s.pending = Some(op);
        set_state(&mut s.body, "Deleting");
    }
    let mut resp = Resp::empty(StatusCode::ACCEPTED);
    resp.headers.extend(headers);
    Ok(resp)
}

fn list(
    ctx: &Ctx<'_>,
    world: &World,
    r: &Resolved,
    parent: &[&str],
    resource_type: &str,
) -> Result<Resp, ArmError> {
    let prefix = if parent.is_empty() {
        match r.rg_name {
            Some(_) => format!("{}/", r.prefix),
            // A subscription-wide list covers every resource group too.
            None => format!("/subscriptions/{}/", ctx.shared.config.subscription_id),
        }
    } else {
        let parent_id = id_of(r, parent);
        let owner_id = id_of(r, owner(parent));
        if !world.resources.contains_key(&owner_id.to_ascii_lowercase()) {
            let parent_type = resource_type_of(&r.namespace, owner(parent));
            return Err(not_found(r, owner(parent), &parent_type));
        }
        format!("{parent_id}/")
    }
    .to_ascii_lowercase();
    let mut items: Vec<Value> = world
        .resources
        .iter()
        .filter(|(k, s)| {
            k.starts_with(&prefix) && s.resource_type.eq_ignore_ascii_case(resource_type)
        })
        .map(|(_, s)| s.body.clone())
        .collect();
    if parent.is_empty() && r.rg_name.is_none() {
        super::implicit::add_implicit(ctx, world, r, resource_type, &mut items);
    }
    Ok(super::paged(ctx, world, items))
}

fn post_action(
    ctx: &Ctx<'_>,
    world: &mut World,
    r: &Resolved,
    target: &[&str],
    resource_type: &str,
    action: &str,
) -> Result<Resp, ArmError> {
    let unknown = || {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type '{action}' could not be found in the namespace '{}' for api version '{}'.",
                r.namespace, ctx.api_version
            ),
        )
    };
    let behaviour = ctx
        .shared
        .config
        .behaviours
        .get(resource_type)
        .ok_or_else(unknown)?;
    let stored = world
        .resources
        .get(&id_of(r, target).to_ascii_lowercase())
        .cloned()
        .ok_or_else(|| not_found(r, target, resource_type))?;
    let request = ctx
        .req
        .json()
        .map_err(|e| invalid_content(&e.to_string()))?;
    let wctx = WriteContext {
        id: &stored.id,
        resource_type,
        api_version: &ctx.api_version,
        method: "POST",
        existing: Some(&stored.body),
    };
    match behaviour.action(&wctx, action, &request) {
        Some(Ok(v)) => Ok(Resp::ok(v)),
        Some(Err(e)) => Err(e),
        None => Err(unknown()),
    }
}

/// JSON merge patch (RFC 7396): objects merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut t,
            &json!({"a": null, "b": {"c": 5}, "e": [2], "f": "x"}),
        );
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}, "e": [2], "f": "x"}));
    }
}
