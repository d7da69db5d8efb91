//! Resources every subscription has without creating them (Defender plan pricings): GET and
//! subscription-scope lists answer the type's implicit bodies until a PUT stores another. See
//! [`crate::hooks::ResourceBehaviour::implicit`].

use serde_json::Value;

use super::Ctx;
use super::resources::{Resolved, id_of};
use crate::state::{Stored, World};

/// The implicit resource a subscription-scope path names, when its type has one by that name
/// (see [`crate::hooks::ResourceBehaviour::implicit`]).
pub(super) fn implicit(
    ctx: &Ctx<'_>,
    r: &Resolved,
    rest: &[&str],
    resource_type: &str,
) -> Option<Stored> {
    if r.rg_name.is_some() || rest.len() != 2 {
        return None;
    }
    let b = ctx.shared.config.behaviours.get(resource_type)?;
    let body = b.implicit(&id_of(r, rest), rest[1])?;
    let id = body.get("id").and_then(Value::as_str)?.to_string();
    Some(Stored {
        id,
        resource_type: resource_type.to_string(),
        body,
        pending: None,
    })
}

/// Adds the implicit resources not stored yet to a subscription-scope list, in the type's
/// order, honouring a `$filter=name in (A,B)` as the pricings list does.
pub(super) fn add_implicit(
    ctx: &Ctx<'_>,
    world: &World,
    r: &Resolved,
    resource_type: &str,
    items: &mut Vec<Value>,
) {
    let Some(b) = ctx.shared.config.behaviours.get(resource_type) else {
        return;
    };
    if b.implicit_names().is_empty() {
        return;
    }
    let short = resource_type.rsplit('/').next().unwrap_or_default();
    let mut all: Vec<Value> = b
        .implicit_names()
        .iter()
        .filter_map(|name| {
            let id = id_of(r, &[short, name]);
            world
                .resources
                .get(&id.to_ascii_lowercase())
                .map(|s| s.body.clone())
                .or_else(|| b.implicit(&id, name))
        })
        .collect();
    let stored_elsewhere = items.iter().filter(|i| {
        let name = i.get("name").and_then(Value::as_str).unwrap_or_default();
        !b.implicit_names()
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    });
    all.extend(stored_elsewhere.cloned());
    if let Some(names) = ctx.req.query_param("$filter").and_then(name_in_filter) {
        all.retain(|i| {
            let name = i.get("name").and_then(Value::as_str).unwrap_or_default();
            names.iter().any(|n| n.eq_ignore_ascii_case(name))
        });
    }
    *items = all;
}

/// The names of `name in (A,B,...)` (quotes and spaces allowed), or `None` for another filter.
fn name_in_filter(filter: &str) -> Option<Vec<String>> {
    let rest = filter.trim().strip_prefix("name")?.trim_start();
    let rest = rest.strip_prefix("in")?.trim_start();
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|n| n.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .filter(|n| !n.is_empty())
            .collect(),
    )
}
