//! The emulator's mutable world: credentials, provider registrations, resource groups,
//! resources, operations, faults and the request log, behind one lock.
//!
//! The lock is a plain `std::sync::Mutex`: handlers never hold it across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;

use crate::config::{Config, FederatedCredential};
use crate::faults::FaultRule;
use crate::lro::{LroConfig, Operation};

/// Registration state of a resource provider namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegState {
    NotRegistered,
    Registering,
    Registered,
    Unregistering,
}

impl RegState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RegState::NotRegistered => "NotRegistered",
            RegState::Registering => "Registering",
            RegState::Registered => "Registered",
            RegState::Unregistering => "Unregistering",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            RegState::NotRegistered,
            RegState::Registering,
            RegState::Registered,
            RegState::Unregistering,
        ]
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// One resource provider namespace.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    /// Canonical casing, e.g. `Microsoft.Security`.
    pub(crate) namespace: String,
    pub(crate) state: RegState,
    /// GETs left that still report `Registering`.
    pub(crate) polls_left: u32,
    pub(crate) resource_types: Vec<&'static str>,
}

/// Namespaces the emulator knows at start, with their initial state and a few resource types.
const KNOWN_PROVIDERS: &[(&str, RegState, &[&str])] = &[
    (
        "Microsoft.Resources",
        RegState::Registered,
        &["resourceGroups", "subscriptions", "deployments"],
    ),
    (
        "Microsoft.Security",
        RegState::NotRegistered,
        &["securityConnectors", "pricings", "locations"],
    ),
    (
        "Microsoft.HybridConnectivity",
        RegState::NotRegistered,
        &[
            "endpoints",
            "publicCloudConnectors",
            "solutionConfigurations",
            "solutionTypes",
        ],
    ),
    (
        "Microsoft.HybridCompute",
        RegState::NotRegistered,
        &["machines", "privateLinkScopes"],
    ),
    ("Microsoft.AwsConnector", RegState::NotRegistered, &[]),
    (
        "Microsoft.GuestConfiguration",
        RegState::NotRegistered,
        &["guestConfigurationAssignments"],
    ),
];

/// A stored ARM resource.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// Canonical id.
    pub(crate) id: String,
    /// Full type, e.g. `Microsoft.Security/securityConnectors`.
    pub(crate) resource_type: String,
    pub(crate) body: Value,
    /// Operation id while a long-running operation on it is unfinished.
    pub(crate) pending: Option<String>,
}

/// When a health report was first evaluated and last changed status.
#[derive(Debug, Clone)]
pub(crate) struct HealthHistory {
    pub(crate) first_evaluation: String,
    pub(crate) status_change: String,
    /// The status code last reported.
    pub(crate) code: String,
}

/// One line of the request log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    pub(crate) seq: u64,
    pub(crate) method: String,
    pub(crate) path: String,
    /// The `api-version` query parameter, when there was one.
    pub(crate) api_version: Option<String>,
    /// HTTP status, or 0 when the connection was dropped on purpose.
    pub(crate) status: u16,
    pub(crate) timestamp: String,
    /// True when an injected fault produced this response (or drop).
    pub(crate) fault: bool,
    /// True when the connection was closed without an answer (`status` is then what the
    /// request would have been answered with, or 0 when it was never processed).
    pub(crate) dropped: bool,
}

/// All mutable state.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) clients: HashMap<String, String>,
    pub(crate) federated: Vec<FederatedCredential>,
    /// Keyed by lower-case namespace.
    pub(crate) providers: BTreeMap<String, Provider>,
    pub(crate) register_delay_polls: u32,
    /// Keyed by lower-case name; values are full bodies.
    pub(crate) resource_groups: BTreeMap<String, Value>,
    /// Keyed by lower-case id.
    pub(crate) resources: BTreeMap<String, Stored>,
    /// Keyed by lower-case resource type.
    pub(crate) lro: HashMap<String, LroConfig>,
    pub(crate) operations: HashMap<String, Operation>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) next_fault_id: u64,
    /// ARM's subscription request limits, when a benchmark sets them.
    pub(crate) throttle: crate::throttle::Throttle,
    pub(crate) requests: Vec<LoggedRequest>,
    pub(crate) next_seq: u64,
    pub(crate) page_size: usize,
    /// The AWS emulator health checks ask; settable through the admin API.
    pub(crate) aws_endpoint: Option<String>,
    /// Keyed by health report name.
    pub(crate) health: HashMap<String, HealthHistory>,
    /// Built-in role names per lower-case client id, where the admin API set them; every other
    /// client is Owner of the subscription.
    pub(crate) roles: BTreeMap<String, Vec<String>>,
    /// Member connectors the emulated Defender created itself: lower-case member id ->
    /// lower-case id of its organization connector.
    pub(crate) auto_members: BTreeMap<String, String>,
}

/// Largest page a collection GET returns unless the admin API sets another size.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;

/// The request log is bounded so a long demo cannot grow memory without limit.
const MAX_LOGGED_REQUESTS: usize = 100_000;

impl World {
    pub(crate) fn new(config: &Config) -> Self {
        let providers = KNOWN_PROVIDERS
            .iter()
            .map(|(ns, state, types)| {
                (
                    ns.to_ascii_lowercase(),
                    Provider {
                        namespace: (*ns).to_string(),
                        state: *state,
                        polls_left: 0,
                        resource_types: types.to_vec(),
                    },
                )
            })
            .collect();
        Self {
            clients: config
                .clients
                .iter()
                .map(|c| (c.client_id.to_ascii_lowercase(), c.client_secret.clone()))
                .collect(),
            federated: config.federated.clone(),
            providers,
            register_delay_polls: config.register_delay_polls,
            resource_groups: config
                .resource_groups
                .iter()
                .map(|(name, location)| {
                    (
                        name.to_ascii_lowercase(),
                        crate::arm::resource_group_body(&config.subscription_id, name, location),
                    )
                })
                .collect(),
            resources: BTreeMap::new(),
            lro: crate::hybrid::default_lro(),
            operations: HashMap::new(),
            faults: Vec::new(),
            next_fault_id: 1,
            throttle: Default::default(),
            requests: Vec::new(),
            next_seq: 1,
            page_size: DEFAULT_PAGE_SIZE,
            aws_endpoint: config.aws_endpoint.clone(),
            health: HashMap::new(),
            roles: BTreeMap::new(),
            auto_members: BTreeMap::new(),
        }
    }

    pub(crate) fn log_request(
        &mut self,
        method: &str,
        path: &str,
        api_version: Option<&str>,
        status: u16,
        fault: bool,
    ) {
        if self.requests.len() >= MAX_LOGGED_REQUESTS {
            self.requests.remove(0);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.requests.push(LoggedRequest {
            seq,
            method: method.to_string(),
            path: path.to_string(),
            api_version: api_version.map(str::to_string),
            status,
            timestamp: crate::clock::rfc3339_now(),
            fault,
            dropped: false,
        });
    }

    /// Logs a request whose connection an injected fault closed; `status` is 0 unless the
    /// request was processed before the answer was dropped.
    pub(crate) fn log_dropped(
        &mut self,
        method: &str,
        path: &str,
        api_version: Option<&str>,
        status: u16,
    ) {
        self.log_request(method, path, api_version, status, true);
        if let Some(last) = self.requests.last_mut() {
            last.dropped = true;
        }
    }

    /// Removes a resource and everything nested under it; returns how many were removed.
    pub(crate) fn remove_tree(&mut self, id_lower: &str) -> usize {
        let prefix = format!("{id_lower}/");
        let before = self.resources.len();
        self.resources
            .retain(|k, _| k != id_lower && !k.starts_with(&prefix));
        before - self.resources.len()
    }
}

/// Shared, lockable state.
#[derive(Debug)]
pub(crate) struct SharedWorld(Mutex<World>);

impl SharedWorld {
    pub(crate) fn new(world: World) -> Self {
        Self(Mutex::new(world))
    }

    /// Locks the world; a panic in another handler must not wedge the whole emulator.
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
