//! Per-resource-type behaviour: the hook point where API-specific validation plugs in.
//!
//! The generic store accepts any body; an API that real ARM validates (securityConnectors,
//! pricings, ...) registers a [`ResourceBehaviour`] for its type so the emulator rejects what
//! ARM rejects, and serves what exists without being created.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::errors::ArmError;

/// What a hook knows about the request being served.
#[derive(Debug, Clone)]
pub struct WriteContext<'a> {
    /// Canonical resource id.
    pub id: &'a str,
    /// Full resource type, e.g. `Microsoft.Security/securityConnectors`.
    pub resource_type: &'a str,
    /// The request's `api-version`.
    pub api_version: &'a str,
    /// HTTP method (`PUT` or `PATCH`).
    pub method: &'a str,
    /// The stored body before this write, if any.
    pub existing: Option<&'a Value>,
}

/// Validation and behaviour for one resource type. Every method has a permissive default.
pub trait ResourceBehaviour: Send + Sync {
    /// The api-versions the type is served for; any other is rejected for every method, as ARM
    /// does. Empty (the default) accepts any.
    fn api_versions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether synchronous writes report `properties.provisioningState` (most ARM types do;
    /// a type whose definition has no such property answers `false`).
    fn reports_provisioning_state(&self) -> bool {
        true
    }

    /// Whether the type serves `method` (`PATCH`, `DELETE`) at all; ARM answers 405 otherwise.
    fn supports(&self, _method: &str) -> bool {
        true
    }

    /// Names of the resources of this type that every subscription has without creating them
    /// (settings such as Defender plan pricings). Subscription-scope lists include them, and
    /// GET answers [`ResourceBehaviour::implicit`] until a PUT stores another body.
    fn implicit_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// The body of implicit resource `name` (any casing) at subscription-scope id `id`, in its
    /// canonical casing, or `None` when the type has no such resource.
    fn implicit(&self, _id: &str, _name: &str) -> Option<Value> {
        None
    }

    /// Rejects a PUT/PATCH body (for PATCH: the merged result) with ARM's error.
    fn validate(&self, _ctx: &WriteContext<'_>, _body: &Value) -> Result<(), ArmError> {
        Ok(())
    }

    /// Adjusts the body about to be stored, e.g. filling read-only properties.
    fn on_write(&self, _ctx: &WriteContext<'_>, _body: &mut Value) {}

    /// Handles `POST {id}/{action}`; `None` means the action does not exist.
    fn action(
        &self,
        _ctx: &WriteContext<'_>,
        _action: &str,
        _request: &Value,
    ) -> Option<Result<Value, ArmError>> {
        None
    }
}

/// Behaviours keyed by resource type (case-insensitive, e.g. `microsoft.security/securityconnectors`).
#[derive(Clone, Default)]
pub struct BehaviourRegistry {
    by_type: HashMap<String, Arc<dyn ResourceBehaviour>>,
}

impl fmt::Debug for BehaviourRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.by_type.keys().collect();
        keys.sort();
        f.debug_struct("BehaviourRegistry")
            .field("types", &keys)
            .finish()
    }
}

impl BehaviourRegistry {
    /// Registers `behaviour` for `resource_type` (`Namespace/type[/childType...]`), replacing any.
    pub fn register(&mut self, resource_type: &str, behaviour: Arc<dyn ResourceBehaviour>) {
        self.by_type
            .insert(resource_type.to_ascii_lowercase(), behaviour);
    }

    /// The behaviour for a resource type, if one is registered.
    pub fn get(&self, resource_type: &str) -> Option<Arc<dyn ResourceBehaviour>> {
        self.by_type
            .get(&resource_type.to_ascii_lowercase())
            .cloned()
    }
}
