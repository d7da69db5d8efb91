//! The unauthenticated test-control API under `/_emulator/` (the server binds loopback only):
//! health, faults, request log, inventory, provider states, LRO modes, clients, reset.

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::FederatedCredential;
use crate::errors::ArmError;
use crate::faults::FaultRule;
use crate::http::{Req, Resp};
use crate::lro::LroConfig;
use crate::server::Shared;
use crate::state::{Provider, RegState, World};

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
        }))),
        (_, "faults", _) => faults(req, &mut world, &segs),
        (&Method::GET, "requests", 1) => Ok(requests(req, &world)),
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

fn requests(req: &Req, world: &World) -> Resp {
    let method = req.query_param("method");
    let path = req
        .query_param("path_contains")
        .map(str::to_ascii_lowercase);
    let items: Vec<Value> = world
        .requests
        .iter()
        .filter(|r| method.is_none_or(|m| r.method.eq_ignore_ascii_case(m)))
        .filter(|r| {
            path.as_deref()
                .is_none_or(|p| r.path.to_ascii_lowercase().contains(p))
        })
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Resp::ok(json!({"count": items.len(), "value": items}))
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
struct Settings {
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    register_delay_polls: Option<u32>,
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
    Ok(Resp::ok(json!({
        "page_size": world.page_size,
        "register_delay_polls": world.register_delay_polls,
    })))
}
