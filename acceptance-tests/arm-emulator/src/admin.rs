//! The unauthenticated test-control API under `/_emulator/` (the server binds loopback only):
//! health, faults, request log and write counts, inventory, provider states, LRO modes, clients,
//! client roles, Defender plan pricings, settings, throttling model, reset. (`/_emulator/connector-health/...` is served by `security::health`.)

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::FederatedCredential;
use crate::errors::ArmError;
use crate::faults::FaultRule;
use crate::http::{Req, Resp};
use crate::lro::LroConfig;
use crate::server::Shared;
use crate::state::{LoggedRequest, Provider, RegState, World};

/// Path prefix of the admin API.
pub(crate) const PREFIX: &str = "/_emulator/";

fn bad(message: impl Into<String>) -> Resp {
    ArmError::new(StatusCode::BAD_REQUEST, "BadRequest", message).into_resp()
}

fn not_found(message: impl Into<String>) -> Resp {
    ArmError::new(StatusCode::NOT_FOUND, "NotFound", message).into_resp()
}

fn parse<T: for<'de> Deserialize<'de>>(req: &Req) -> Result<T, Resp> {
    serde_json::from_slice(&req.body).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

/// Serves an admin request (the path starts with [`PREFIX`], any casing).
pub(crate) fn route(shared: &Shared, req: &Req) -> Resp {
    let segs: Vec<&str> = req.segments().into_iter().skip(1).collect();
    let first = segs
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let mut world = shared.world.lock();
    let result = match (&req.method, first.as_str(), segs.len()) {
        (&Method::GET, "health", 1) => Ok(Resp::ok(json!({
            "status": "ok",
            "url": shared.url,
            "tenant_id": shared.config.tenant_id,
            "subscription_id": shared.config.subscription_id,
            "aws_endpoint": world.aws_endpoint,
        }))),
        (_, "faults", _) => faults(req, &mut world, &segs),
        (&Method::PUT, "throttle", 1) => parse(req).and_then(|spec| {
            world.throttle.set(spec).map_err(bad)?;
            Ok(Resp::ok(world.throttle.report()))
        }),
        (&Method::GET, "throttle", 1) => Ok(Resp::ok(world.throttle.report())),
        (&Method::GET, "requests", 1) => Ok(requests(req, &world)),
        (&Method::GET, "write-counts", 1) => Ok(write_counts(req, &world)),
        (&Method::DELETE, "requests", 1) => {
            world.requests.clear();
            Ok(Resp::empty(StatusCode::NO_CONTENT))
        }
        (&Method::GET, "resources", 1) => Ok(inventory(&world)),
        (&Method::DELETE, "resources", n) if n > 1 => {
            let id = format!("/{}", segs[1..].join("/")).to_ascii_lowercase();
            Ok(delete_resource(&mut world, &id))
        }
        (&Method::GET, "providers", 1) => Ok(Resp::ok(json!({"value": world
            .providers
            .values()
            .map(|p| json!({"namespace": p.namespace, "registrationState": p.state.as_str()}))
            .collect::<Vec<_>>()}))),
        (&Method::PUT, "providers", 2) => set_provider(req, &mut world, segs[1]),
        (_, "lro", _) => lro(req, &mut world, &segs),
        (&Method::POST, "clients", 1) => add_client(req, &mut world),
        (&Method::PUT, "roles", 2) => set_roles(req, &mut world, segs[1]),
        (&Method::GET, "pricings", 2) => {
            crate::security::pricing::admin_get(&world, &shared.config.subscription_id, segs[1])
                .map(Resp::ok)
                .ok_or_else(|| not_found(format!("no Defender plan {}", segs[1])))
        }
        (&Method::PUT, "pricings", 2) => parse::<Value>(req).and_then(|body| {
            crate::security::pricing::admin_put(
                &mut world,
                &shared.config.subscription_id,
                segs[1],
                body,
            )
            .map(Resp::ok)
            .map_err(ArmError::into_resp)
        }),
        (&Method::PUT, "settings", 1) => settings(req, &mut world),
        (&Method::POST, "reset", 1) => {
            *world = World::new(&shared.config);
            Ok(Resp::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(not_found(format!(
            "no admin endpoint {} {}",
            req.method, req.path
        ))),
    };
    result.unwrap_or_else(|r| r)
}

fn faults(req: &Req, world: &mut World, segs: &[&str]) -> Result<Resp, Resp> {
    match (&req.method, segs.len()) {
        (&Method::GET, 1) => Ok(Resp::ok(json!({"value": world.faults}))),
        (&Method::POST, 1) => {
            // One rule or an array of rules.
            let body: Value = parse(req)?;
            let items = match body {
                Value::Array(a) => a,
                other => vec![other],
            };
            let mut ids = Vec::new();
            let mut rules = Vec::new();
            for item in items {
                let mut rule: FaultRule =
                    serde_json::from_value(item).map_err(|e| bad(format!("invalid fault: {e}")))?;
                rule.validate().map_err(bad)?;
                rule.id = world.next_fault_id;
                rule.fired = 0;
                world.next_fault_id += 1;
                ids.push(rule.id);
                rules.push(rule);
            }
            world.faults.extend(rules);
            Ok(Resp::json(StatusCode::CREATED, json!({"ids": ids})))
        }
        (&Method::DELETE, 1) => {
            world.faults.clear();
            Ok(Resp::empty(StatusCode::NO_CONTENT))
        }
        (&Method::DELETE, 2) => {
            let before = world.faults.len();
            world.faults.retain(|f| f.id.to_string() != segs[1]);
            if world.faults.len() == before {
                Err(not_found(format!("no fault {}", segs[1])))
            } else {
                Ok(Resp::empty(StatusCode::NO_CONTENT))
            }
        }
        _ => Err(not_found("unknown faults endpoint")),
    }
}

/// A call that changes ARM state: a PUT, PATCH, DELETE or POST on a subscription path (the
/// token endpoint's POSTs are not ARM calls).
fn is_write(r: &LoggedRequest) -> bool {
    matches!(r.method.as_str(), "PUT" | "PATCH" | "DELETE" | "POST")
        && r.path.to_ascii_lowercase().starts_with("/subscriptions/")
}

/// The log entries a query selects: `method`, `path_contains` (case-insensitive), `api_version`,
/// `writes=true` (only [`is_write`] calls) and `fault=true|false`.
fn select<'a>(req: &Req, world: &'a World) -> Vec<&'a LoggedRequest> {
    let method = req.query_param("method");
    let path = req
        .query_param("path_contains")
        .map(str::to_ascii_lowercase);
    let api = req.query_param("api_version");
    let writes = req.query_param("writes") == Some("true");
    let fault = req.query_param("fault").map(|f| f == "true");
    world
        .requests
        .iter()
        .filter(|r| method.is_none_or(|m| r.method.eq_ignore_ascii_case(m)))
        .filter(|r| {
            path.as_deref()
                .is_none_or(|p| r.path.to_ascii_lowercase().contains(p))
        })
        .filter(|r| api.is_none_or(|a| r.api_version.as_deref() == Some(a)))
        .filter(|r| !writes || is_write(r))
        .filter(|r| fault.is_none_or(|f| r.fault == f))
        .collect()
}

fn requests(req: &Req, world: &World) -> Resp {
    let items: Vec<Value> = select(req, world)
        .into_iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Resp::ok(json!({"count": items.len(), "value": items}))
}

/// Write calls per resource path and method. Calls answered by an injected fault are left out
/// unless `include_faults=true` (a throttled call changed nothing); `path_contains` narrows.
fn write_counts(req: &Req, world: &World) -> Resp {
    let include_faults = req.query_param("include_faults") == Some("true");
    let path = req
        .query_param("path_contains")
        .map(str::to_ascii_lowercase);
    let mut by_resource: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, u64>,
    > = std::collections::BTreeMap::new();
    let mut total = 0u64;
    for r in world.requests.iter().filter(|r| is_write(r)) {
        let lower = r.path.to_ascii_lowercase();
        if (r.fault && !include_faults) || path.as_deref().is_some_and(|p| !lower.contains(p)) {
            continue;
        }
        *by_resource
            .entry(lower)
            .or_default()
            .entry(r.method.clone())
            .or_default() += 1;
        total += 1;
    }
    Resp::ok(json!({"total": total, "by_resource": by_resource}))
}

fn inventory(world: &World) -> Resp {
    let resources: Vec<Value> = world
        .resources
        .values()
        .map(|s| {
            json!({
                "id": s.id,
                "type": s.resource_type,
                "provisioningState": s.body.pointer("/properties/provisioningState"),
                "pendingOperation": s.pending,
                "body": s.body,
            })
        })
        .collect();
    let groups: Vec<Value> = world.resource_groups.values().cloned().collect();
    Resp::ok(json!({"resourceGroups": groups, "value": resources}))
}

fn delete_resource(world: &mut World, id_lower: &str) -> Resp {
    // A resource group id removes the group and everything in it.
    let parts: Vec<&str> = id_lower.split('/').collect();
    let mut removed = 0;
    if let ["", "subscriptions", _, "resourcegroups", rg] = parts.as_slice()
        && world.resource_groups.remove(*rg).is_some()
    {
        removed += 1;
    }
    removed += world.remove_tree(id_lower);
    if removed == 0 {
        not_found(format!("nothing stored at {id_lower}"))
    } else {
        Resp::ok(json!({"removed": removed}))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProviderState {
    registration_state: String,
}

fn set_provider(req: &Req, world: &mut World, ns: &str) -> Result<Resp, Resp> {
    let body: ProviderState = parse(req)?;
    let state = RegState::parse(&body.registration_state).ok_or_else(|| {
        bad("registrationState must be NotRegistered, Registering, Registered or Unregistering")
    })?;
    let delay = world.register_delay_polls;
    let p = world
        .providers
        .entry(ns.to_ascii_lowercase())
        .or_insert_with(|| Provider {
            namespace: ns.to_string(),
            state,
            polls_left: 0,
            resource_types: Vec::new(),
        });
    p.state = state;
    p.polls_left = if state == RegState::Registering {
        delay
    } else {
        0
    };
    Ok(Resp::ok(
        json!({"namespace": p.namespace, "registrationState": p.state.as_str()}),
    ))
}

fn lro(req: &Req, world: &mut World, segs: &[&str]) -> Result<Resp, Resp> {
    match (&req.method, segs.len()) {
        (&Method::GET, 1) => Ok(Resp::ok(json!(world.lro))),
        (&Method::DELETE, 1) => {
            world.lro.clear();
            Ok(Resp::empty(StatusCode::NO_CONTENT))
        }
        (&Method::PUT, n) if n >= 3 => {
            let config: LroConfig = parse(req)?;
            let key = segs[1..].join("/").to_ascii_lowercase();
            world.lro.insert(key.clone(), config.clone());
            Ok(Resp::ok(json!({"type": key, "config": config})))
        }
        _ => Err(not_found(
            "use PUT /_emulator/lro/{Namespace}/{type}[/{childType}]",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Federation {
    issuer: String,
    subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    federated: Vec<Federation>,
}

fn add_client(req: &Req, world: &mut World) -> Result<Resp, Resp> {
    let c: NewClient = parse(req)?;
    if c.client_id.is_empty() || (c.client_secret.is_none() && c.federated.is_empty()) {
        return Err(bad(
            "client_id and a client_secret or federated entries are required",
        ));
    }
    if let Some(secret) = c.client_secret {
        world
            .clients
            .insert(c.client_id.to_ascii_lowercase(), secret);
    }
    for f in c.federated {
        world.federated.push(FederatedCredential {
            client_id: c.client_id.clone(),
            issuer: f.issuer,
            subject: f.subject,
        });
    }
    Ok(Resp::json(
        StatusCode::CREATED,
        json!({"client_id": c.client_id}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Roles {
    roles: Vec<String>,
}

/// Gives a client exactly these built-in roles on the subscription (an empty list: none).
fn set_roles(req: &Req, world: &mut World, client_id: &str) -> Result<Resp, Resp> {
    let r: Roles = parse(req)?;
    let unknown = crate::arm::authorization::unknown_roles(&r.roles);
    if !unknown.is_empty() {
        return Err(bad(format!("unknown roles: {}", unknown.join(", "))));
    }
    world.roles.insert(client_id.to_ascii_lowercase(), r.roles);
    Ok(Resp::empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    register_delay_polls: Option<u32>,
    /// `http://127.0.0.1:PORT` of the AWS emulator; an empty string removes it.
    #[serde(default)]
    aws_endpoint: Option<String>,
}

fn settings(req: &Req, world: &mut World) -> Result<Resp, Resp> {
    let s: Settings = parse(req)?;
    if let Some(p) = s.page_size {
        if p == 0 {
            return Err(bad("page_size must be at least 1"));
        }
        world.page_size = p;
    }
    if let Some(d) = s.register_delay_polls {
        world.register_delay_polls = d;
    }
    match s.aws_endpoint.as_deref() {
        Some("") => world.aws_endpoint = None,
        Some(url) => {
            crate::security::aws::parse_endpoint(url).map_err(bad)?;
            world.aws_endpoint = Some(url.trim_end_matches('/').to_string());
        }
        None => {}
    }
    Ok(Resp::ok(json!({
        "page_size": world.page_size,
        "register_delay_polls": world.register_delay_polls,
        "aws_endpoint": world.aws_endpoint,
    })))
}
