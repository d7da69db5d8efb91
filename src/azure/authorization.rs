//! `Microsoft.Authorization`: whether the signed-in identity may create role assignments on a
//! subscription, which some onboarding options (Arc auto-provisioning) need because the service
//! creates one on the customer's behalf.
//!
//! ARM documents no subscription-scope "my permissions" call, so the check reads the identity's
//! role assignments at or above the subscription (`atScope() and assignedTo(...)`, which includes
//! assignments to its groups) and, for roles other than the well-known built-ins, their
//! definitions.

use serde::Deserialize;

use super::api_versions::AUTHORIZATION as AUTHORIZATION_API_VERSION;
use super::client::ArmClient;
use super::error::AzureError;

/// The operation that creating a role assignment needs.
pub const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// Built-in roles (definition GUIDs, the same in every tenant) that include
/// [`ROLE_ASSIGNMENT_WRITE`]: Owner, User Access Administrator.
pub const ROLE_ASSIGNING_BUILT_IN_ROLES: [&str; 2] = [
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
];

/// A role assignment (the fields this check needs).
#[derive(Debug, Clone, Deserialize)]
pub struct RoleAssignment {
    /// Its properties.
    #[serde(default)]
    pub properties: RoleAssignmentProperties,
}

/// `properties` of a [`RoleAssignment`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// Full id of the role definition.
    #[serde(default)]
    pub role_definition_id: String,
    /// Where the assignment applies.
    #[serde(default)]
    pub scope: String,
}

/// One `permissions` entry of a role definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolePermission {
    /// Allowed operations; `*` is a wildcard.
    #[serde(default)]
    pub actions: Vec<String>,
    /// Operations taken out of `actions`.
    #[serde(default)]
    pub not_actions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RoleDefinition {
    #[serde(default)]
    properties: RoleDefinitionProperties,
}

#[derive(Debug, Default, Deserialize)]
struct RoleDefinitionProperties {
    #[serde(default)]
    permissions: Vec<RolePermission>,
}

/// Whether an operation pattern (`Microsoft.Authorization/*/Write`, `*`) covers `operation`;
/// ARM compares operations without regard to case.
fn covers(pattern: &str, operation: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let operation = operation.to_ascii_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = operation.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether a role with `permissions` allows `operation`: some entry lists it in `actions` and
/// does not take it out again in its `notActions`.
pub fn permits(permissions: &[RolePermission], operation: &str) -> bool {
    permissions.iter().any(|p| {
        p.actions.iter().any(|a| covers(a, operation))
            && !p.not_actions.iter().any(|n| covers(n, operation))
    })
}

fn definition_guid(role_definition_id: &str) -> &str {
    role_definition_id.rsplit('/').next().unwrap_or_default()
}

impl ArmClient {
    /// The role assignments of `principal_id` (and its groups) at or above the subscription.
    pub async fn role_assignments_at_subscription(
        &self,
        subscription_id: &str,
        principal_id: &str,
    ) -> Result<Vec<RoleAssignment>, AzureError> {
        let path = format!(
            "/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleAssignments\
             ?$filter=atScope()%20and%20assignedTo('{principal_id}')"
        );
        self.list_all(&path, AUTHORIZATION_API_VERSION).await
    }

    /// Whether the signed-in identity may create role assignments on the subscription.
    pub async fn may_assign_roles(&self, subscription_id: &str) -> Result<bool, AzureError> {
        let me = self.token_claims().await?.object_id;
        let assignments = self
            .role_assignments_at_subscription(subscription_id, &me)
            .await?;
        let mut custom = Vec::new();
        for a in &assignments {
            let guid = definition_guid(&a.properties.role_definition_id);
            if ROLE_ASSIGNING_BUILT_IN_ROLES
                .iter()
                .any(|r| r.eq_ignore_ascii_case(guid))
            {
                return Ok(true);
            }
            if !custom.contains(&a.properties.role_definition_id) {
                custom.push(a.properties.role_definition_id.clone());
            }
        }
        for id in custom.iter().filter(|id| !id.is_empty()) {
            let definition: Option<RoleDefinition> =
                self.get_opt(id, AUTHORIZATION_API_VERSION).await?;
            if definition.is_some_and(|d| permits(&d.properties.permissions, ROLE_ASSIGNMENT_WRITE))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(actions: &[&str], not_actions: &[&str]) -> Vec<RolePermission> {
        vec![RolePermission {
            actions: actions.iter().map(|s| (*s).to_owned()).collect(),
            not_actions: not_actions.iter().map(|s| (*s).to_owned()).collect(),
        }]
    }

    #[test]
    fn built_in_roles_are_judged_as_azure_does() {
        let owner = role(&["*"], &[]);
        let contributor = role(
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
            ],
        );
        let reader = role(&["*/read"], &[]);
        let uaa = role(
            &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
            &[],
        );
        let rbac_admin = role(
            &[
                "Microsoft.Authorization/roleAssignments/write",
                "Microsoft.Authorization/roleAssignments/delete",
            ],
            &[],
        );
        let got: Vec<bool> = [owner, contributor, reader, uaa, rbac_admin]
            .iter()
            .map(|r| permits(r, ROLE_ASSIGNMENT_WRITE))
            .collect();
        assert_eq!(got, [true, false, false, true, true]);
    }

    #[test]
    fn wildcards_match_anywhere_and_ignore_case() {
        for (pattern, operation, want) in [
            ("*", "a/b/c", true),
            ("a/*/c", "A/x/y/C", true),
            ("a/*/c", "a/x/d", false),
            ("a/b", "a/b/c", false),
            ("*/write", "a/b/WRITE", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
        ] {
            assert_eq!(covers(pattern, operation), want, "{pattern} vs {operation}");
        }
    }
}
