//! `Microsoft.Authorization` at subscription scope, as much as a client needs to tell what the
//! caller may do: role assignments (with the `assignedTo('{id}')` / `principalId eq '{id}'`
//! filters) and the built-in role definitions. Every known client is Owner of the subscription
//! unless the admin API gives it other roles.

use hyper::StatusCode;
use serde_json::json;

use super::Ctx;
use crate::errors::ArmError;
use crate::http::Resp;
use crate::state::World;

/// A built-in role: name, definition GUID (the same in every tenant), actions, not-actions.
type Role = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The built-in roles the emulator knows, with their control-plane permissions.
const BUILT_IN_ROLES: &[Role] = &[
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", &["*"], &[]),
    (
        "Contributor",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        &["*"],
        &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
    ),
    (
        "Reader",
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        &["*/read"],
        &[],
    ),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        &[],
    ),
];

/// The role every client has until the admin API says otherwise.
pub(crate) const DEFAULT_ROLE: &str = "Owner";

/// The definition GUID of built-in role `name` (case-insensitive).
pub(crate) fn role_guid(name: &str) -> Option<&'static str> {
    BUILT_IN_ROLES
        .iter()
        .find(|r| r.0.eq_ignore_ascii_case(name))
        .map(|r| r.1)
}

/// The object id the token endpoint puts in a client's tokens.
fn object_id(client_id: &str) -> String {
    crate::ids::stable_guid("oid", client_id)
}

/// Every client the token endpoint knows, lower-case.
fn known_clients(world: &World) -> Vec<String> {
    let mut all: Vec<String> = world
        .clients
        .keys()
        .cloned()
        .chain(
            world
                .federated
                .iter()
                .map(|f| f.client_id.to_ascii_lowercase()),
        )
        .collect();
    all.sort();
    all.dedup();
    all
}

/// The principal a `$filter` restricts the list to: `assignedTo('id')` or `principalId eq 'id'`.
fn filtered_principal(filter: &str) -> Option<String> {
    let quoted = |after: &str| -> Option<String> {
        let start = filter.find(after)? + after.len();
        let rest = filter[start..].trim_start().strip_prefix('\'')?;
        Some(rest[..rest.find('\'')?].to_string())
    };
    quoted("assignedTo(").or_else(|| quoted("principalId eq"))
}

/// `GET /subscriptions/{s}/providers/Microsoft.Authorization/roleAssignments`.
pub(super) fn list_assignments(ctx: &Ctx<'_>, world: &World) -> Resp {
    let sub = &ctx.shared.config.subscription_id;
    let only = ctx.req.query_param("$filter").and_then(filtered_principal);
    let mut items = Vec::new();
    for client in known_clients(world) {
        let oid = object_id(&client);
        if only.as_ref().is_some_and(|p| !p.eq_ignore_ascii_case(&oid)) {
            continue;
        }
        let roles = world
            .roles
            .get(&client)
            .cloned()
            .unwrap_or_else(|| vec![DEFAULT_ROLE.to_string()]);
        for role in roles {
            let Some(guid) = role_guid(&role) else {
                continue;
            };
            let name = crate::ids::stable_guid("roleAssignment", &format!("{client}/{guid}"));
            items.push(json!({
                "id": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{name}"),
                "name": name,
                "type": "Microsoft.Authorization/roleAssignments",
                "properties": {
                    "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
                    "principalId": oid,
                    "principalType": "ServicePrincipal",
                    "scope": format!("/subscriptions/{sub}"),
                },
            }));
        }
    }
    super::paged(ctx, world, items)
}

/// `GET /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
pub(super) fn definition(ctx: &Ctx<'_>, guid: &str) -> Result<Resp, ArmError> {
    let sub = &ctx.shared.config.subscription_id;
    let (name, guid, actions, not_actions) = BUILT_IN_ROLES
        .iter()
        .find(|r| r.1.eq_ignore_ascii_case(guid))
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "RoleDefinitionDoesNotExist",
                format!("The specified role definition with ID '{guid}' does not exist."),
            )
        })?;
    Ok(Resp::ok(json!({
        "id": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "permissions": [{"actions": actions, "notActions": not_actions,
                             "dataActions": [], "notDataActions": []}],
            "assignableScopes": ["/"],
        },
    })))
}

/// The names in `roles` that are not built-in roles the emulator knows; for the admin API.
pub(crate) fn unknown_roles(roles: &[String]) -> Vec<String> {
    roles
        .iter()
        .filter(|r| role_guid(r).is_none())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_principal() {
        assert_eq!(
            filtered_principal("atScope() and assignedTo('abc')").as_deref(),
            Some("abc")
        );
        assert_eq!(
            filtered_principal("principalId eq 'def'").as_deref(),
            Some("def")
        );
        assert_eq!(filtered_principal("atScope()"), None);
        assert_eq!(
            role_guid("owner"),
            Some("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
        );
        assert_eq!(unknown_roles(&["Reader".into(), "Boss".into()]), ["Boss"]);
    }
}
