//! Start-up configuration of an emulator instance, shared by the CLI and in-process tests.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::hooks::BehaviourRegistry;

/// Default tenant id (a fixed GUID so scripts and examples can hard-code it).
pub const DEFAULT_TENANT_ID: &str = "11111111-1111-4111-8111-111111111111";
/// Default subscription id.
pub const DEFAULT_SUBSCRIPTION_ID: &str = "22222222-2222-4222-8222-222222222222";
/// Client id of the built-in client, so the demo works without flags.
pub const DEFAULT_CLIENT_ID: &str = "33333333-3333-4333-8333-333333333333";
/// Secret of the built-in client. Only meaningful against this emulator.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-client-secret";

/// A client-credentials application: id and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredential {
    /// Application (client) id.
    pub client_id: String,
    /// Client secret; redacted from `Debug`.
    pub client_secret: String,
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredential")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A federated identity credential: an external OIDC issuer/subject trusted for a client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    /// Application (client) id the assertion logs in as.
    pub client_id: String,
    /// Expected `iss` claim of the assertion.
    pub issuer: String,
    /// Expected `sub` claim of the assertion.
    pub subject: String,
}

/// Everything needed to start an emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; must be loopback. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory receiving `ca.pem` and `emulator.json`.
    pub state_dir: PathBuf,
    /// The one tenant the token endpoint serves.
    pub tenant_id: String,
    /// The one subscription ARM serves.
    pub subscription_id: String,
    /// Client-credentials applications.
    pub clients: Vec<ClientCredential>,
    /// Federated (OIDC) credentials.
    pub federated: Vec<FederatedCredential>,
    /// Provider GETs that still report `Registering` after a register call.
    pub register_delay_polls: u32,
    /// Per-resource-type validation and behaviour hooks.
    pub behaviours: BehaviourRegistry,
    /// Base URL of the AWS emulator (`http://127.0.0.1:PORT`), asked when connector health is
    /// evaluated; without it health reports say `NotApplicable`.
    pub aws_endpoint: Option<String>,
    /// Resource groups that exist from the start (name, location), as in a subscription the
    /// user prepared: the demo's connector goes into one.
    pub resource_groups: Vec<(String, String)>,
    /// Where the durable part of the world is saved after every request and read back at
    /// start, so a restarted emulator still holds what clients created (see `--state-file`).
    pub state_file: Option<PathBuf>,
}

impl Config {
    /// Defaults: loopback port 0, the fixed tenant/subscription, the built-in client, and the
    /// behaviours of every API the emulator validates (security connectors).
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        let mut behaviours = BehaviourRegistry::default();
        crate::security::register(&mut behaviours);
        crate::hybrid::register(&mut behaviours);
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: state_dir.into(),
            tenant_id: DEFAULT_TENANT_ID.to_string(),
            subscription_id: DEFAULT_SUBSCRIPTION_ID.to_string(),
            clients: vec![ClientCredential {
                client_id: DEFAULT_CLIENT_ID.to_string(),
                client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            }],
            federated: Vec::new(),
            register_delay_polls: 1,
            behaviours,
            aws_endpoint: None,
            resource_groups: Vec::new(),
            state_file: None,
        }
    }
}
