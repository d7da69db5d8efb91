//! Subscriptions and the Microsoft.Resources Providers API (registration of namespaces).

use serde_json::{Value, json};

use super::Ctx;
use crate::errors::{ArmError, invalid_namespace};
use crate::http::Resp;
use crate::server::Shared;
use crate::state::{Provider, RegState, World};

pub(super) fn subscription_json(shared: &Shared) -> Value {
    let sub = &shared.config.subscription_id;
    json!({
        "id": format!("/subscriptions/{sub}"),
        "subscriptionId": sub,
        "tenantId": shared.config.tenant_id,
        "displayName": "Emulated subscription",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
    })
}

fn provider_json(shared: &Shared, p: &Provider) -> Value {
    let types: Vec<Value> = p
        .resource_types
        .iter()
        .map(|t| json!({"resourceType": t, "locations": ["East US", "West Europe"], "apiVersions": []}))
        .collect();
    json!({
        "id": format!("/subscriptions/{}/providers/{}", shared.config.subscription_id, p.namespace),
        "namespace": p.namespace,
        "registrationState": p.state.as_str(),
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types,
    })
}

/// A GET observes a registering namespace: the first `polls_left` observations still say
/// `Registering`, the next one flips it to `Registered`.
fn observe(p: &mut Provider) {
    if p.state == RegState::Registering {
        if p.polls_left == 0 {
            p.state = RegState::Registered;
        } else {
            p.polls_left -= 1;
        }
    }
}

pub(super) fn list(ctx: &Ctx<'_>, world: &mut World) -> Resp {
    let items: Vec<Value> = world
        .providers
        .values_mut()
        .map(|p| {
            observe(p);
            provider_json(ctx.shared, p)
        })
        .collect();
    Resp::ok(json!({"value": items}))
}

pub(super) fn get(ctx: &Ctx<'_>, world: &mut World, ns: &str) -> Result<Resp, ArmError> {
    let p = world
        .providers
        .get_mut(&ns.to_ascii_lowercase())
        .ok_or_else(|| invalid_namespace(ns))?;
    observe(p);
    Ok(Resp::ok(provider_json(ctx.shared, p)))
}

pub(super) fn register(
    ctx: &Ctx<'_>,
    world: &mut World,
    ns: &str,
    register: bool,
) -> Result<Resp, ArmError> {
    let delay = world.register_delay_polls;
    let p = world
        .providers
        .get_mut(&ns.to_ascii_lowercase())
        .ok_or_else(|| invalid_namespace(ns))?;
    if register {
        if p.state != RegState::Registered {
            p.state = RegState::Registering;
            p.polls_left = delay;
        }
    } else {
        p.state = RegState::NotRegistered;
        p.polls_left = 0;
    }
    Ok(Resp::ok(provider_json(ctx.shared, p)))
}
