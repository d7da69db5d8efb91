//! `arm-emulator`: a local HTTPS server emulating Entra ID's token endpoint and Azure Resource
//! Manager, for the provider's acceptance tests and the demo.
//!
//! Start one in-process with [`start`], or run the `arm-emulator` binary (see [`cli`]).
//!
//! Generic ARM behaviour (resource groups, provider registration, a resource store with lists,
//! long-running operations, fault injection, the admin API) serves every type; APIs that real
//! ARM validates plug in a [`ResourceBehaviour`]. [`security`] does so for
//! `Microsoft.Security/securityConnectors` and serves connector health, computed by asking the
//! AWS emulator given with `--aws-endpoint`, and for `Microsoft.Security/pricings`, the
//! subscription's Defender plans (all `Free` until switched on). The caller's role assignments
//! and the built-in role definitions are served too: every client is Owner unless the admin API
//! gives it other roles.

mod admin;
mod arm;
pub mod cli;
mod clock;
pub mod config;
pub mod errors;
mod faults;
pub mod hooks;
mod http;
pub mod hybrid;
mod ids;
mod jwt;
mod lro;
mod persist;
mod schema;
pub mod security;
mod server;
mod state;
mod throttle;
pub mod tls;
mod token;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use config::{ClientCredential, Config, FederatedCredential};
pub use errors::{ArmError, EmulatorError};
pub use hooks::{BehaviourRegistry, ResourceBehaviour, WriteContext};

/// File name of the CA certificate inside the state directory.
pub const CA_FILE: &str = "ca.pem";
/// File name of the connection info inside the state directory.
pub const INFO_FILE: &str = "emulator.json";

/// How to reach a running emulator; the content of `emulator.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulatorInfo {
    /// Base URL, `https://127.0.0.1:PORT` (no trailing slash). Serves both Entra and ARM.
    pub url: String,
    /// Path of the PEM CA certificate clients must trust.
    pub ca_cert_file: PathBuf,
    /// The tenant the token endpoint serves.
    pub tenant_id: String,
    /// The subscription ARM serves.
    pub subscription_id: String,
}

/// A running emulator. Dropping it without [`Emulator::shutdown`] leaves the server running
/// until the runtime ends.
#[derive(Debug)]
pub struct Emulator {
    info: EmulatorInfo,
    ca_pem: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Connection details (also written to `emulator.json`).
    pub fn info(&self) -> &EmulatorInfo {
        &self.info
    }

    /// Base URL without trailing slash.
    pub fn url(&self) -> &str {
        &self.info.url
    }

    /// PEM of the CA that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Stops accepting connections, finishes open ones and removes `emulator.json`.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(dir) = self.info.ca_cert_file.parent() {
            let _ = tokio::fs::remove_file(dir.join(INFO_FILE)).await;
        }
    }
}

async fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), EmulatorError> {
    let tmp = path.with_extension("tmp");
    tokio::fs::write(&tmp, contents)
        .await
        .map_err(EmulatorError::io(format!("writing {}", tmp.display())))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(EmulatorError::io(format!("renaming to {}", path.display())))
}

/// Generates the CA, writes `ca.pem`, binds, writes `emulator.json` and starts serving.
pub async fn start(config: Config) -> Result<Emulator, EmulatorError> {
    if !config.listen.ip().is_loopback() {
        return Err(EmulatorError::NotLoopback(config.listen));
    }
    // Installing a process default lets rustls users in the same process (tests) agree on ring;
    // failure only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::fs::create_dir_all(&config.state_dir)
        .await
        .map_err(EmulatorError::io(format!(
            "creating {}",
            config.state_dir.display()
        )))?;
    let state_dir = std::path::absolute(&config.state_dir)
        .map_err(EmulatorError::io("resolving the state directory"))?;
    let restored = match &config.state_file {
        Some(path) => persist::load(path)?,
        None => None,
    };
    let tls = tls::generate_with(restored.as_ref().map(|r| r.ca_key_pem.as_str()))?;
    let signing_key = restored.as_ref().map_or_else(jwt::SigningKey::random, |r| {
        jwt::SigningKey::from_bytes(r.signing_key)
    });
    let ca_file = state_dir.join(CA_FILE);
    write_atomic(&ca_file, tls.ca_pem.as_bytes()).await?;
    let acceptor = TlsAcceptor::from(tls.server_config()?);

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(EmulatorError::io(format!("binding {}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(EmulatorError::io("reading the bound address"))?;
    let url = server::base_url(addr);
    let info = EmulatorInfo {
        url: url.clone(),
        ca_cert_file: ca_file,
        tenant_id: config.tenant_id.clone(),
        subscription_id: config.subscription_id.clone(),
    };
    let json = serde_json::to_string(&info).unwrap_or_default();
    write_atomic(&state_dir.join(INFO_FILE), json.as_bytes()).await?;

    let mut world = state::World::new(&config);
    if let Some(r) = restored {
        r.apply(&mut world);
    }
    let state_file = config.state_file.clone().map(|path| {
        let file = persist::StateFile::new(path, tls.ca_key_pem.clone(), signing_key.bytes());
        file.save(&world);
        file
    });
    let shared = Arc::new(server::Shared {
        world: state::SharedWorld::new(world),
        config,
        url,
        signing_key,
        state_file,
    });
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(server::serve(listener, acceptor, shared, stop_rx));
    Ok(Emulator {
        info,
        ca_pem: tls.ca_pem,
        stop,
        task,
    })
}
